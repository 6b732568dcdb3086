"""DDP with WarmupLR: two CPU processes (gloo on 127.0.0.1) and distributed checkpoints."""

from __future__ import annotations

import math
import time
from pathlib import Path

import ddp_worker
import pytest
import torch
import torch.multiprocessing as mp
from integration_utils import EXAMPLES, free_port, run_example

pytestmark = pytest.mark.integration


def reference_lrs(steps: int) -> list[float]:
    """Cosine annealing times a linear warmup, computed independently."""
    return [
        ddp_worker.BASE_LR
        * (1 + math.cos(math.pi * t / ddp_worker.T_MAX))
        / 2
        * min(1.0, (t + 1) / ddp_worker.WARMUP_PERIOD)
        for t in range(steps)
    ]


def spawn_and_wait(phase: str, workdir: str, timeout: float = 120) -> None:
    """Run ``ddp_worker.run`` on two processes; kill them and fail if they hang."""
    context = mp.start_processes(
        ddp_worker.run,
        args=(2, free_port(), workdir, phase),
        nprocs=2,
        join=False,
        start_method="spawn",
    )
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the DDP workers ({phase}) did not finish in {timeout} s")


def test_ddp_ranks_agree_and_dcp_resume_reproduces_the_run(tmp_path: Path) -> None:
    workdir = str(tmp_path)
    for phase in ("full", "resume"):
        spawn_and_wait(phase, workdir)
    full = [torch.load(tmp_path / f"full-rank{r}.pt", weights_only=True) for r in (0, 1)]
    resumed = [torch.load(tmp_path / f"resume-rank{r}.pt", weights_only=True) for r in (0, 1)]

    # identical learning rates (and, through DDP, parameters) on both ranks
    assert full[0]["lrs"] == full[1]["lrs"]
    assert full[0]["params"] == full[1]["params"]
    assert len(full[0]["lrs"]) == ddp_worker.STEPS
    assert full[0]["lrs"] == pytest.approx(reference_lrs(ddp_worker.STEPS), rel=1e-12, abs=1e-18)
    # the rest of the run from the DCP checkpoint, exactly
    k = ddp_worker.CHECKPOINT_STEP
    for rank in (0, 1):
        assert resumed[rank]["first"] == k
        assert resumed[rank]["lrs"] == full[rank]["lrs"][k:]
        assert resumed[rank]["params"] == full[rank]["params"][k:]


def test_ddp_example_with_torchrun(tmp_path: Path) -> None:
    out = run_example(
        [
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(free_port()),
            str(EXAMPLES / "ddp.py"),
        ],
        tmp_path,
    )
    lines = [line for line in out.splitlines() if line.startswith("step ")]
    assert len(lines) == 10
    # each line: step, the lr on rank 0, the lr on rank 1
    for t, line in enumerate(lines):
        _, step, lr0, lr1 = line.split()
        assert int(step) == t
        assert lr0 == lr1
        expected = 0.01 * 0.5 ** (t // 4) * min(1.0, (t + 1) / 5)
        assert float(lr0) == pytest.approx(expected, rel=1e-15, abs=0)
    assert "ranks agree" in out
