"""Worker processes of the DDP test: training with WarmupLR and checkpoints with DCP.

Run by ``torch.multiprocessing`` from ``test_ddp.py``; each rank writes what it saw
(learning rates and parameters) to ``<workdir>/<phase>-rank<r>.pt``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.nn.parallel import DistributedDataParallel

import pytorch_warmup as pw

STEPS = 16
CHECKPOINT_STEP = 6
BASE_LR = 0.05
T_MAX = 12
WARMUP_PERIOD = 8


class ModelAndOptimizer:
    """Model and optimizer state as one DCP ``Stateful``."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.optimizer = optimizer

    def state_dict(self) -> dict[str, Any]:
        model_state, optim_state = get_state_dict(self.model, self.optimizer)
        return {"model": model_state, "optim": optim_state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        set_state_dict(
            self.model,
            self.optimizer,
            model_state_dict=state_dict["model"],
            optim_state_dict=state_dict["optim"],
        )


def batch(rank: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The data of ``rank`` at ``step``: different on each rank, the same on every run."""
    gen = torch.Generator().manual_seed(1000 * step + rank)
    x = torch.randn(4, 3, generator=gen)
    return x, x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(4, 1, generator=gen)


def run(rank: int, world_size: int, port: int, workdir: str, phase: str) -> None:
    """Train on ``rank``: ``full`` runs all steps and saves at CHECKPOINT_STEP,
    ``resume`` loads that checkpoint into fresh objects and runs the rest."""
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        torch.manual_seed(0)
        model = DistributedDataParallel(torch.nn.Linear(3, 1))
        optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR)
        scheduler = pw.WarmupLR(
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_MAX),
            pw.LinearWarmup(optimizer, warmup_period=WARMUP_PERIOD),
        )
        checkpoint = os.path.join(workdir, "dcp")
        state = {"app": ModelAndOptimizer(model, optimizer), "scheduler": scheduler}
        first = 0
        if phase == "resume":
            dcp.load(state, checkpoint_id=checkpoint)
            first = CHECKPOINT_STEP
            assert scheduler.last_epoch == CHECKPOINT_STEP, scheduler.last_epoch
        lrs: list[float] = []
        params: list[list[float]] = []
        for step in range(first, STEPS):
            if phase == "full" and step == CHECKPOINT_STEP:
                dcp.save(state, checkpoint_id=checkpoint)
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            x, y = batch(rank, step)
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            params.append([v for p in model.parameters() for v in p.detach().flatten().tolist()])
        torch.save(
            {"first": first, "lrs": lrs, "params": params},
            os.path.join(workdir, f"{phase}-rank{rank}.pt"),
        )
        # torch 2.13 with gloo: a communication thread may still be releasing the last
        # backward's all-reduce (which needs the GIL) when the process group is destroyed
        # (which holds it), and the process hangs. Wait for every rank, then give those
        # threads a moment.
        dist.barrier()
        time.sleep(0.2)
    finally:
        dist.destroy_process_group()
