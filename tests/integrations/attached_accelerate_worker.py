"""Worker of the accelerate test: an attached warmup under ``Accelerator.prepare``.

Run directly (one process) or by ``torch.distributed.run`` (several CPU processes, gloo).
Each rank writes what it saw to ``<outdir>/rank<r>.pt``: for each update its number t,
the scheduler's rate and the rate it used, then the parameters and the warmup's count.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from accelerate import Accelerator

import pytorch_warmup as pw

BASE_LR = 0.05
UPDATES = 8  # per rank
ACCUMULATE = 4
BATCH = 2
WARMUP_PERIOD = 5


def main(outdir: Path) -> None:
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=ACCUMULATE)
    world = accelerator.num_processes
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR)
    # accelerate steps a prepared scheduler num_processes times per update
    # (split_batches=False): the schedule is written in those units
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=UPDATES * world)
    scheduler_rates: list[float] = []
    warmup = pw.LinearWarmup(optimizer, warmup_period=WARMUP_PERIOD).attach()
    # inside an update the warmup's state holds the scheduler's rate
    optimizer.register_step_pre_hook(
        lambda o, a, k: scheduler_rates.append(warmup.state_dict()["lrs"][0])
    )
    used: list[tuple[int, float]] = []
    optimizer.register_step_pre_hook(
        lambda o, a, k: used.append((warmup.last_step + 1, o.param_groups[0]["lr"]))
    )

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH * ACCUMULATE * UPDATES * world, 3, generator=gen)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=False)
    model, optimizer, scheduler, loader = accelerator.prepare(model, optimizer, scheduler, loader)

    micro_batches = 0
    for xb, yb in loader:
        with accelerator.accumulate(model):
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        micro_batches += 1

    result: dict[str, Any] = {
        "world": world,
        "micro_batches": micro_batches,
        "used": used,
        "scheduler_rates": scheduler_rates,
        "last_step": warmup.last_step,
        "scheduler_last_epoch": scheduler.scheduler.last_epoch,
        "params": [v for p in model.parameters() for v in p.detach().flatten().tolist()],
    }
    torch.save(result, outdir / f"rank{accelerator.process_index}.pt")
    if world > 1:
        # torch 2.13 with gloo: let every rank arrive and the communication threads
        # settle before the process group goes (see ddp_worker.py)
        accelerator.wait_for_everyone()
        time.sleep(0.2)
        dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
