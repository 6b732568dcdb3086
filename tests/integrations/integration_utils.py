"""Helpers shared by the framework integration tests (imported by them)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# The integration tests never reach the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def trainer_arguments(output_dir: Path, **overrides: Any) -> Any:
    """``transformers.TrainingArguments`` for a small, quiet, offline CPU run on one process.

    Checkpoints every ``save_steps``, logs every step, no reporting, no progress bar,
    no data-loader workers, seed 0; ``overrides`` set the rest (``max_steps``, ...).
    """
    from transformers import TrainingArguments

    settings: dict[str, Any] = {
        "per_device_train_batch_size": 2,
        "save_strategy": "steps",
        "logging_steps": 1,
        "report_to": "none",
        "use_cpu": True,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "seed": 0,
    }
    return TrainingArguments(output_dir=str(output_dir), **{**settings, **overrides})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_example(args: list[str], tmp_path: Path, timeout: float = 180) -> str:
    """Run an example script (``args`` after the Python interpreter) and return its stdout."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "GLOO_SOCKET_IFNAME": "lo",
    }
    # A session of its own, so that on timeout the script and its workers go together.
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{' '.join(args)} did not finish in {timeout} s\n{stdout}\n{stderr}")
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited with {proc.returncode}\n"
            f"--- stdout\n{stdout}\n--- stderr\n{stderr}"
        )
    return stdout
