"""Warmup-stable-decay two ways, compared update by update.

Once from this library's factors alone (the untuned linear warmup of beta2 = 0.99, i.e.
200 updates, the constant rate, and a 1-sqrt cooldown to 0 over the last 20 % of 1000
updates: no torch scheduler), once as the hand-written ``LambdaLR`` it replaces. Prints
how many of the 1000 rates are bit-identical, the worst relative difference, and the
rates at the phase boundaries, beside a 50-digit reference when mpmath is installed.

    python examples/wsd_vs_lambda_lr.py
"""

from __future__ import annotations

import math

import torch

import pytorch_warmup as pw

TOTAL, WARMUP, COOLDOWN_START = 1000, 200, 800


def ours() -> list[float]:
    """The rate each update used, read inside the update by a step pre-hook."""
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    warmup = pw.UntunedLinearWarmup(optimizer).attach()
    warmup.cool_down(last_fraction=0.2, total_updates=TOTAL, shape="1-sqrt")
    used: list[float] = []
    optimizer.register_step_pre_hook(lambda o, a, k: used.append(o.param_groups[0]["lr"]))
    for _ in range(TOTAL):
        optimizer.step()
    return used


def wsd_factor(index: int) -> float:
    """LambdaLR calls this with the index k of update k + 1."""
    t = index + 1
    if t <= WARMUP:
        return t / WARMUP
    if t <= COOLDOWN_START:
        return 1.0
    return 1.0 - math.sqrt((t - COOLDOWN_START) / (TOTAL - COOLDOWN_START))


def by_hand() -> list[float]:
    optimizer = torch.optim.AdamW(torch.nn.Linear(2, 1).parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, wsd_factor)
    used = []
    for _ in range(TOTAL):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return used


def reference(t: int) -> str:
    """The exact rate of update ``t`` to 17 digits (mpmath), or "" without mpmath."""
    try:
        import mpmath
    except ImportError:
        return ""
    mpmath.mp.dps = 50
    lr = mpmath.mpf("1e-3")
    if t <= WARMUP:
        return mpmath.nstr(lr * t / WARMUP, 17)
    p = mpmath.mpf(max(0, t - COOLDOWN_START)) / (TOTAL - COOLDOWN_START)
    return mpmath.nstr(lr * (1 - mpmath.sqrt(p)), 17)


def main() -> None:
    a, b = ours(), by_hand()
    same = sum(x == y for x, y in zip(a, b, strict=True))
    worst = max(abs(x - y) / y for x, y in zip(a, b, strict=True) if y)
    print(f"{TOTAL} updates: {same} bit-identical, worst relative difference {worst:.2e}")
    print(f"{'update':>6}  {'cool_down()':>24}  {'LambdaLR':>24}  {'50-digit reference':>24}")
    for t in (1, 200, 201, 800, 801, 802, 900, 950, 999, 1000):
        print(f"{t:>6}  {a[t - 1]!r:>24}  {b[t - 1]!r:>24}  {reference(t):>24}")


if __name__ == "__main__":
    main()
