"""DDP on CPU with a warmup: run with ``torchrun --nproc-per-node 2 examples/ddp.py``.

Each rank builds the same optimizer, LR scheduler and warmup, attached to the optimizer
(the recommended mode), so every rank uses the same learning rates without any
communication. Rank 0 prints, for each step, the rate that step's update uses on every
rank (read with ``warmup.get_last_lr()`` before the update: ``group['lr']`` holds the
scheduler's own rate). Stepping ``pytorch_warmup.WarmupLR(StepLR(...), LinearWarmup(...))``
in place of the scheduler gives the same rates (see docs/integrations.md).
"""

import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import pytorch_warmup as warmup


def main() -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Linear(3, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    warmup_scheduler = warmup.LinearWarmup(optimizer, warmup_period=5).attach()
    gen = torch.Generator().manual_seed(rank)
    if rank == 0:
        print("step, then the learning rate its update uses on each rank")
    for step in range(10):
        lr = torch.tensor([warmup_scheduler.get_last_lr()[0]], dtype=torch.float64)
        lrs = [torch.zeros_like(lr) for _ in range(dist.get_world_size())]
        dist.all_gather(lrs, lr)
        if rank == 0:
            print("step", step, *(repr(x.item()) for x in lrs))
        x = torch.randn(8, 3, generator=gen)
        loss = torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    if rank == 0:
        print("ranks agree; final lr", warmup_scheduler.get_last_lr()[0])
    # Let every rank finish, and (a torch 2.13 gloo quirk) give the communication threads a
    # moment to release the last all-reduce, before the process group goes away.
    dist.barrier()
    time.sleep(0.2)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
