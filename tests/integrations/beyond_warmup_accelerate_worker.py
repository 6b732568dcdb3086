"""Worker of the accelerate test of a cooldown and warmed values under ``Accelerator.prepare``.

Run directly (one process) or by ``torch.distributed.run`` (several CPU processes, gloo).
The warmup is attached with a linear cooldown and ``betas[0]`` and ``weight_decay`` warmed.
Each rank writes what it saw to ``<outdir>/rank<r>.pt``: for each update, observed by a
step pre-hook inside it, its number t, the rate, ``betas[0]`` and ``weight_decay`` it
used and the scheduler's own rate; the values the group held between updates; then the
parameters, the warmup's count and its state.
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
BETA1 = 0.9
WEIGHT_DECAY = 0.01
UPDATES = 12  # per rank
ACCUMULATE = 3
BATCH = 2
WARMUP_PERIOD = 3
COOL = {"after_update": 5, "over_updates": 5, "shape": "linear", "final": 0.2}
WARM_BETA1 = {"start": 0.6, "warmup_period": 4}
WARM_DECAY = {"start": 0.0, "warmup_period": 2}


def main(outdir: Path) -> None:
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=ACCUMULATE)
    world = accelerator.num_processes
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=BASE_LR, betas=(BETA1, 0.999), weight_decay=WEIGHT_DECAY
    )
    # accelerate steps a prepared scheduler num_processes times per update
    # (split_batches=False): the schedule is written in those units
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=UPDATES * world)
    warmup = pw.LinearWarmup(optimizer, warmup_period=WARMUP_PERIOD).attach()
    warmup.cool_down(**COOL)
    warmup.warm("beta1", **WARM_BETA1).warm("weight_decay", **WARM_DECAY)
    used: list[tuple[int, float, float, float, float]] = []

    def look(o: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        g = o.param_groups[0]
        rate = warmup.state_dict()["lrs"][0]  # inside the update: the scheduler's rate
        used.append((warmup.last_step + 1, g["lr"], g["betas"][0], g["weight_decay"], rate))

    optimizer.register_step_pre_hook(look)

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH * ACCUMULATE * UPDATES * world, 3, generator=gen)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=False)
    model, optimizer, scheduler, loader = accelerator.prepare(model, optimizer, scheduler, loader)

    micro_batches = 0
    between: list[tuple[float, float, float]] = []
    for xb, yb in loader:
        with accelerator.accumulate(model):
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        micro_batches += 1
        g = optimizer.param_groups[0]
        between.append((g["lr"], g["betas"][0], g["weight_decay"]))

    result: dict[str, Any] = {
        "world": world,
        "micro_batches": micro_batches,
        "used": used,
        "between": between,
        "last_step": warmup.last_step,
        "factors": [warmup.lr_factors(step)[0] for step in range(UPDATES)],
        "state": warmup.state_dict(),
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
