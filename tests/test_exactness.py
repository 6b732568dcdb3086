"""The end of the warmup is exact, and untuned periods read tensor betas as written.

Every factor is exactly ``1.0`` from the first iteration whose exact value rounds
to 1.0, that is the first ``t`` with ``1 - omega_t <= 2**-54`` (the midpoint
between 1 and the double below it rounds to 1, ties going to even). That ``t`` is
found here in 60-digit arithmetic (mpmath), independently of the package.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import pytest
import torch
from conftest import radam_omega2_ref

import pytorch_warmup as pw

HALF_ULP = mpmath.mpf(2) ** -54
"""An exact factor at most this far below 1 rounds to 1.0."""

BETA2S = [0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999]
PERIODS = [1, 2, 3, 7, 10, 64, 100, 1000, 2000, 12345, 10**6]


def _first_step_rounding_to_one(gap: Callable[[int], Any]) -> int:
    """The smallest t >= 1 with ``gap(t) <= 2**-54``, for a non-increasing ``gap``."""
    hi = 1
    while gap(hi) > HALF_ULP:
        hi *= 2
    lo = hi // 2  # gap(lo) > HALF_ULP, or lo == 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if gap(mid) > HALF_ULP:
            lo = mid
        else:
            hi = mid
    return hi


def _linear_gap(period: int) -> Callable[[int], Any]:
    return lambda t: max(mpmath.mpf(0), 1 - mpmath.mpf(t) / period)


def _exponential_gap(period: int) -> Callable[[int], Any]:
    return lambda t: mpmath.exp(-mpmath.mpf(t) / period)


def _radam_gap(beta2: float) -> Callable[[int], Any]:
    exact_beta2 = mpmath.mpf(beta2)  # the binary value the optimizer holds

    def gap(t: int) -> Any:
        with mpmath.workdps(60):
            return 1 - mpmath.sqrt(radam_omega2_ref(t, exact_beta2))

    return gap


@functools.cache
def _first_radam_step(beta2: float) -> int:
    return _first_step_rounding_to_one(_radam_gap(beta2))


def _untuned(beta2: float, scale: int) -> int:
    return math.floor(scale / (1 - Fraction(repr(beta2))))


def _adamw(beta2: float, lr: float | torch.Tensor = 0.1) -> torch.optim.AdamW:
    param = torch.nn.Parameter(torch.zeros(3))
    param.grad = torch.full_like(param, 0.5)
    return torch.optim.AdamW([param], lr=lr, betas=(0.9, beta2), foreach=False)


# Each case: the warmup, built on an AdamW with the given beta2, and the exact gap
# 1 - omega_t as a function of t.
CASES: list[Any] = []
for period in PERIODS:
    CASES.append(
        pytest.param(
            lambda o, p=period: pw.LinearWarmup(o, p),
            0.999,
            _linear_gap(period),
            id=f"LinearWarmup-{period}",
        )
    )
    CASES.append(
        pytest.param(
            lambda o, p=period: pw.ExponentialWarmup(o, p),
            0.999,
            _exponential_gap(period),
            id=f"ExponentialWarmup-{period}",
        )
    )
for beta2 in BETA2S:
    CASES.append(
        pytest.param(
            pw.UntunedLinearWarmup,
            beta2,
            _linear_gap(_untuned(beta2, 2)),
            id=f"UntunedLinearWarmup-{beta2}",
        )
    )
    CASES.append(
        pytest.param(
            pw.UntunedExponentialWarmup,
            beta2,
            _exponential_gap(_untuned(beta2, 1)),
            id=f"UntunedExponentialWarmup-{beta2}",
        )
    )
    CASES.append(pytest.param(pw.RAdamWarmup, beta2, _radam_gap(beta2), id=f"RAdamWarmup-{beta2}"))


@pytest.mark.parametrize(("make", "beta2", "gap"), CASES)
def test_factor_is_one_from_the_first_step_that_rounds_to_one(
    make: Callable[[Any], pw.BaseWarmup], beta2: float, gap: Callable[[int], Any]
) -> None:
    w = make(_adamw(beta2))
    params = w.warmup_params[0]

    def factor(t: int) -> float:
        return w.warmup_factor(t - 1, **params)

    first = _first_step_rounding_to_one(gap)
    if first > 1:
        assert factor(first - 1) < 1.0, f"t={first - 1}: exact gap {gap(first - 1)}"
    for t in (first, first + 1, first + 2, first + 17, 2 * first, 10 * first, first + 10**7):
        assert factor(t) == 1.0, f"t={t} (first t rounding to 1: {first}): {factor(t)!r}"


@pytest.mark.parametrize("lr_kind", ["float", "tensor64", "tensor32"])
@pytest.mark.parametrize("beta2", [0.7, 0.85, 0.99, 0.9995])
def test_radam_lr_is_exactly_the_base_rate_once_the_factor_rounds_to_one(
    beta2: float, lr_kind: str
) -> None:
    """Through the optimizer, jumping to the decisive iteration with ``last_step``."""
    dtype = {"tensor64": torch.float64, "tensor32": torch.float32}.get(lr_kind)
    base = torch.tensor(0.1, dtype=dtype) if dtype is not None else 0.1
    opt = _adamw(beta2, base if dtype is None else base.clone())
    w = pw.RAdamWarmup(opt)
    first = _first_radam_step(beta2)

    def lr_at(t: int) -> float:
        w.last_step = t - 2  # the block below sets iteration t's learning rate
        with w.dampening():
            pass
        return float(opt.param_groups[0]["lr"])

    if lr_kind != "tensor32":  # float32 rounds lr * (1 - 2**-53) to lr itself
        assert lr_at(first - 1) < 0.1
    for t in (first, first + 1, 3 * first):
        assert lr_at(t) == float(base)


def test_radam_reaches_exactly_the_base_rate_in_a_real_run() -> None:
    """The issue's run: AdamW, lr 0.1, beta2 0.99, 6000 iterations of a real model."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.99))
    w = pw.RAdamWarmup(opt)
    x = torch.linspace(-1, 1, 6).reshape(2, 3)
    first = _first_radam_step(0.99)
    assert first < 6000
    used = []
    for _ in range(6000):
        used.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        with w.dampening():
            pass
    used.append(opt.param_groups[0]["lr"])
    assert used[first - 2] < 0.1  # iteration first - 1
    assert all(lr == 0.1 for lr in used[first - 1 :]), used[first - 1]  # iterations first..6001
    assert opt.param_groups[0]["lr"] == 0.1


# -- untuned periods from tensor betas -------------------------------------------------

TENSOR_BETAS = [
    (torch.float32, 0.9), (torch.float32, 0.95), (torch.float32, 0.98), (torch.float32, 0.99),
    (torch.float32, 0.999), (torch.float32, 0.9999), (torch.float32, 0.7),
    (torch.float64, 0.9), (torch.float64, 0.999),
    (torch.float16, 0.9), (torch.float16, 0.99), (torch.float16, 0.999),
    (torch.bfloat16, 0.9), (torch.bfloat16, 0.99), (torch.bfloat16, 0.95),
]  # fmt: skip


def _shortest_decimal(value: torch.Tensor) -> Fraction:
    """The shortest decimal in [0.1, 1] that rounds to ``value`` in its own dtype."""
    exact = Fraction(float(value))
    for digits in range(1, 18):
        unit = Fraction(1, 10**digits)
        nearest = round(exact / unit)
        for k in (nearest - 1, nearest, nearest + 1):
            if torch.tensor(float(k * unit), dtype=value.dtype) == value:
                return k * unit
    raise AssertionError(value)  # pragma: no cover


def _untuned_periods(cls: Any, betas: tuple[Any, Any]) -> list[dict[str, Any]]:
    param = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.AdamW([param], betas=betas, foreach=False)
    return cls(opt).warmup_params  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("dtype", "beta2"), TENSOR_BETAS, ids=[f"{str(d)[6:]}-{b}" for d, b in TENSOR_BETAS]
)
def test_untuned_periods_from_tensor_betas_are_those_of_the_written_float(
    dtype: torch.dtype, beta2: float
) -> None:
    as_tensor = torch.tensor(beta2, dtype=dtype)
    # the decimal the user wrote is the shortest one that round-trips in the dtype
    assert _shortest_decimal(as_tensor) == Fraction(repr(beta2))
    for cls, scale in ((pw.UntunedLinearWarmup, 2), (pw.UntunedExponentialWarmup, 1)):
        expected = [{"warmup_period": _untuned(beta2, scale)}]
        assert _untuned_periods(cls, (0.9, beta2)) == expected
        got = _untuned_periods(cls, (torch.tensor(0.9, dtype=dtype), as_tensor))
        assert got == expected, f"{cls.__name__} with {as_tensor!r}"
        assert type(got[0]["warmup_period"]) is int


def test_float32_tensor_betas_of_the_issue() -> None:
    betas = (torch.tensor(0.9), torch.tensor(0.9))
    assert _untuned_periods(pw.UntunedLinearWarmup, betas) == [{"warmup_period": 20}]
    assert _untuned_periods(pw.UntunedExponentialWarmup, betas) == [{"warmup_period": 10}]
