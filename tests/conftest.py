"""Shared helpers for the test suite."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import mpmath
import pytest
import torch

import pytorch_warmup as pw

mpmath.mp.dps = 50


def _release(version: str) -> tuple[int, int, int]:
    """``"2.4.1+cu121"`` -> ``(2, 4, 1)``: the numeric release, local and dev tags dropped."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    assert match is not None, version
    return int(match[1]), int(match[2]), int(match[3] or 0)


TORCH_VERSION = _release(torch.__version__)
"""The installed torch release, for tests of promises that hold from some torch version on.

The versions, and what each promise needs (see docs/compat.md):

* ``(2, 10)``: every built-in LR scheduler updates a tensor lr in place (before it,
  ``CosineAnnealingWarmRestarts.step()`` assigns a new tensor, ``ReduceLROnPlateau``
  a float, and the ``SequentialLR`` constructor its ``initial_lr`` tensor), and a
  scheduler's ``get_last_lr()`` returns copies (before it, the live lr tensors).
"""
SCHEDULERS_KEEP_LR_TENSORS = TORCH_VERSION >= (2, 10)
"""Built-in LR schedulers keep a tensor lr's object and ``get_last_lr()`` returns copies."""

CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="needs CUDA"))]

# Learning-rate kinds: a Python float, or a 0-dim tensor of a given dtype.
LR_KINDS = ["float", "tensor64", "tensor32"]


def make_lr(value: float, kind: str, device: str = "cpu") -> float | torch.Tensor:
    if kind == "float":
        return value
    dtype = {"tensor64": torch.float64, "tensor32": torch.float32}[kind]
    return torch.tensor(value, dtype=dtype, device=device)


def make_optimizer(
    kind: str = "float",
    n_groups: int = 2,
    *,
    opt_cls: type[torch.optim.Optimizer] = torch.optim.AdamW,
    betas: tuple[tuple[float, float], ...] = ((0.9, 0.7), (0.9, 0.8)),
    lrs: tuple[float, ...] = (0.1, 0.03),
    device: str = "cpu",
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """An optimizer with ``n_groups`` param groups with different lrs and betas."""
    groups = []
    for i in range(n_groups):
        p = torch.nn.Parameter(torch.zeros(3, device=device))
        p.grad = torch.full_like(p, 0.5)
        group: dict[str, Any] = {"params": [p], "lr": make_lr(lrs[i], kind, device)}
        if opt_cls is not torch.optim.SGD:
            group["betas"] = betas[i]
        groups.append(group)
    defaults: dict[str, Any] = {"lr": 1e-3, **kwargs}
    if kind != "float" and opt_cls is not torch.optim.SGD:
        defaults.setdefault("foreach", False)
    return opt_cls(groups, **defaults)


def lr_of(group: dict[str, Any]) -> float:
    lr = group["lr"]
    return float(lr.item()) if isinstance(lr, torch.Tensor) else float(lr)


def lrs_of(opt: torch.optim.Optimizer) -> list[float]:
    return [lr_of(g) for g in opt.param_groups]


# -- independent references for the warmup factors ------------------------------


def linear_ref(t: int, tau: int) -> Fraction:
    return min(Fraction(1), Fraction(t, tau))


def expo_ref(t: int, tau: int) -> mpmath.mpf:
    return 1 - mpmath.exp(-mpmath.mpf(t) / tau)


def radam_rho_ref(t: int, beta2: Any) -> Any:
    """rho(t) in exact (Fraction beta2) or mpmath arithmetic."""
    one = Fraction(1) if isinstance(beta2, Fraction) else mpmath.mpf(1)
    rho_inf = 2 / (one - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (one - beta2**t)


def radam_offset_ref(beta2: Any) -> int:
    t = 1
    while not radam_rho_ref(t, beta2) > 4:
        t += 1
    return t


def radam_omega2_ref(t: int, beta2: Any) -> Any:
    """omega_t squared, exact for a Fraction beta2."""
    one = Fraction(1) if isinstance(beta2, Fraction) else mpmath.mpf(1)
    rho_inf = 2 / (one - beta2) - 1
    rho = radam_rho_ref(t + radam_offset_ref(beta2) - 1, beta2)
    return (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)


def radam_ref(t: int, beta2: float) -> mpmath.mpf:
    """omega_t of RAdamWarmup for the binary value of ``beta2``, to 50 digits."""
    return mpmath.sqrt(radam_omega2_ref(t, mpmath.mpf(beta2)))


def untuned_ref(beta2: float, scale: int) -> int:
    return math.floor(scale / (1 - Fraction(repr(beta2))))


# Each warmup kind: how to build it, and the reference factor of a param group
# with the betas used by make_optimizer.
def _ref_for(kind: str) -> Callable[[int, dict[str, Any]], Any]:
    def ref(t: int, group: dict[str, Any]) -> Any:
        beta2 = group["betas"][1] if "betas" in group else None
        if kind == "linear":
            return linear_ref(t, 5)
        if kind == "exponential":
            return expo_ref(t, 5)
        if kind == "untuned_linear":
            return linear_ref(t, untuned_ref(beta2, 2))
        if kind == "untuned_exponential":
            return expo_ref(t, untuned_ref(beta2, 1))
        return radam_ref(t, beta2)

    return ref


WARMUPS: dict[str, Callable[[torch.optim.Optimizer], pw.BaseWarmup]] = {
    "linear": lambda opt: pw.LinearWarmup(opt, warmup_period=5),
    "exponential": lambda opt: pw.ExponentialWarmup(opt, warmup_period=5),
    "untuned_linear": pw.UntunedLinearWarmup,
    "untuned_exponential": pw.UntunedExponentialWarmup,
    "radam": pw.RAdamWarmup,
}
REFS = {kind: _ref_for(kind) for kind in WARMUPS}


def assert_close(actual: float, expected: Any, lr_kind: str, what: str = "") -> None:
    """Exact for float64 paths where the reference is exact, else a stated tolerance.

    float64 learning rates: relative error <= 1e-14. float32 tensor learning rates:
    relative error <= 2**-22 (the scheduler and the product round to float32).
    """
    expected_f = float(expected)
    tol = 2.0**-22 if lr_kind == "tensor32" else 1e-14
    if expected_f == 0.0:
        assert actual == 0.0, what
        return
    rel = abs(actual - expected_f) / abs(expected_f)
    assert rel <= tol, f"{what}: got {actual!r}, expected {expected_f!r} (rel {rel:.3g})"


@pytest.fixture
def no_warnings() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
