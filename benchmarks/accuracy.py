"""Accuracy of the warmup factors against 50-digit references.

Prints, for each schedule, the largest relative error of the library's float64 factor
(``warmup_factor`` of the public classes) over a grid of periods / beta2 values and steps
up to 10**9, in units of 2**-53, next to what the textbook formulas (as written in the
paper) give on the same grid.

Run: .venv/bin/python benchmarks/accuracy.py
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import torch

import pytorch_warmup as pw

mpmath.mp.dps = 50
U = 2.0**-53
STEPS = [1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 50, 100, 300, 1000, 3000, 10**4, 10**5, 10**6, 10**9]
PERIODS = [1, 2, 3, 10, 100, 1000, 2000, 10**5, 10**9]
BETA2S = [0.61, 0.65, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999]


def rel(value: float, ref: mpmath.mpf) -> float:
    return float(abs((mpmath.mpf(value) - ref) / ref))


def radam_ref(t: int, beta2: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    b = mpmath.mpf(beta2)
    rho_inf = 2 / (1 - b) - 1

    def rho(k: int) -> mpmath.mpf:
        return rho_inf - 2 * k * b**k / (1 - b**k)

    offset = 1
    while not rho(offset) > 4:
        offset += 1
    r = rho(t + offset - 1)
    return r, mpmath.sqrt((r - 4) * (r - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * r))


def factor(cls: type[pw.BaseWarmup], beta2: float = 0.999, **kwargs: int) -> Callable[[int], float]:
    """The factor of update t (step t - 1) of the library's warmup ``cls``."""
    param = torch.zeros(1, requires_grad=True)
    warmup = cls(torch.optim.Adam([param], betas=(0.9, beta2)), **kwargs)  # type: ignore[call-arg]
    params = warmup.warmup_params[0]
    return lambda t: float(warmup.warmup_factor(t - 1, **params))


def main() -> None:
    rows = []
    ours = naive = 0.0
    for tau in PERIODS:
        linear = factor(pw.LinearWarmup, warmup_period=tau)
        for t in STEPS:
            ref = mpmath.mpf(min(1, mpmath.mpf(t) / tau))
            ours = max(ours, rel(linear(t), ref))
            naive = max(naive, rel(min(1.0, t / tau), ref))
    rows.append(("linear min(1, t/tau)", ours, naive))

    ours = naive = 0.0
    for tau in PERIODS:
        exponential = factor(pw.ExponentialWarmup, warmup_period=tau)
        for t in STEPS:
            ref = 1 - mpmath.exp(-mpmath.mpf(t) / tau)
            ours = max(ours, rel(exponential(t), ref))
            naive = max(naive, rel(1 - math.exp(-t / tau), ref))
    rows.append(("exponential 1 - exp(-t/tau)", ours, naive))

    rho_ours = rho_naive = 0.0
    w_ours = w_naive = 0.0
    for beta2 in BETA2S:
        rho_inf = pw.rho_inf_fn(beta2)
        offset = pw.get_offset(beta2, rho_inf)
        radam = factor(pw.RAdamWarmup, beta2)
        for t in STEPS:
            k = t + offset - 1
            r_ref, w_ref = radam_ref(t, beta2)
            rho_ours = max(rho_ours, rel(pw.rho_fn(k, beta2, rho_inf), r_ref))
            r_naive = rho_inf - 2 * k * beta2**k / (1 - beta2**k)
            rho_naive = max(rho_naive, rel(r_naive, r_ref))
            w_ours = max(w_ours, rel(radam(t), w_ref))
            num = (r_naive - 4) * (r_naive - 2) * rho_inf
            den = (rho_inf - 4) * (rho_inf - 2) * r_naive
            w_naive = max(w_naive, rel(math.sqrt(num / den), w_ref))
    rows.append(("RAdam rho(t)", rho_ours, rho_naive))
    rows.append(("RAdam omega_t", w_ours, w_naive))

    print(f"grid: {len(STEPS)} steps (1 .. 1e9) x {len(PERIODS)} periods / {len(BETA2S)} beta2")
    print(f"{'factor':<30} {'ours: max rel err':>18} {'(ulp)':>8} {'textbook':>12} {'(ulp)':>12}")
    for name, a, b in rows:
        print(f"{name:<30} {a:>18.3e} {a / U:>8.2f} {b:>12.3e} {b / U:>12.3g}")

    # The RAdam factor depends on rho - 4 and rho_inf - 4; where those are small
    # (beta2 near 0.6, first steps) rounding errors are amplified by the problem itself.
    print("\nRAdam omega_t by beta2: max error in ulp (all steps / steps >= 3), rho(delta)")
    for beta2 in BETA2S:
        radam = factor(pw.RAdamWarmup, beta2)
        errs = {t: rel(radam(t), radam_ref(t, beta2)[1]) / U for t in STEPS}
        late = max(e for t, e in errs.items() if t >= 3)
        first_rho = float(radam_ref(1, beta2)[0])
        print(f"  beta2={beta2:<8} {max(errs.values()):6.1f} / {late:5.1f}   rho={first_rho:.4f}")


if __name__ == "__main__":
    main()
