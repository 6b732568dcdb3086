"""Attached warmup with a gradient scaler and gradient accumulation (runs on the CPU).

The scaler starts with a loss scale so large that the first scaled gradients overflow:
it skips those steps and halves the scale each time, as mixed-precision training does
at its start. The skipped steps never call ``optimizer.step()``, so the attached warmup
does not count them; it also counts one update per 4 micro-batches. Prints a line per
skipped iteration, then a table with one row per update: its number t, the learning rate
it used (the scheduler's rate times the warmup factor, read with ``warmup.get_last_lr()``
right before the update) and the scheduler's own rate (``group['lr']``, undampened).

Run with ``python examples/attached_amp_accumulation.py``.
"""

from __future__ import annotations

import torch

import pytorch_warmup

ITERATIONS = 12  # iterations of the outer loop, skipped ones included
ACCUMULATION = 4  # micro-batches per update


def main() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=ITERATIONS)
    warmup = pytorch_warmup.LinearWarmup(optimizer, warmup_period=4).attach()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**122)  # overflows at first

    x = torch.randn(ITERATIONS * ACCUMULATION, 16, 8)
    y = 100 * x.sum(dim=2, keepdim=True)
    skipped = 0
    header = f"{'update t':>9}  {'lr used by the update':>24}  {'scheduler lr':>24}"
    for i in range(ITERATIONS):
        for j in range(ACCUMULATION):
            k = i * ACCUMULATION + j
            loss = torch.nn.functional.mse_loss(model(x[k]), y[k]) / ACCUMULATION
            scaler.scale(loss).backward()
        rate = optimizer.param_groups[0]["lr"]  # the scheduler's rate
        used = warmup.get_last_lr()[0]  # the rate the coming update uses, if it happens
        done = warmup.last_step
        scaler.step(optimizer)  # skips optimizer.step() if a gradient is inf or NaN
        scaler.update()
        optimizer.zero_grad()
        if warmup.last_step == done:
            skipped += 1
            print(f"iteration {i} skipped (loss scale too large)")
            continue  # like the Trainer and accelerate: no scheduler step either
        if header:  # the table starts at the first real update
            print(header)
            header = ""
        print(f"update {warmup.last_step:>2}  {used!r:>24}  {rate!r:>24}")
        scheduler.step()
    print(f"{warmup.last_step} updates, {skipped} skipped iterations")


if __name__ == "__main__":
    main()
