"""The warmup factors against exact and high-precision references."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import pytest
import torch
from conftest import (
    expo_ref,
    radam_offset_ref,
    radam_omega2_ref,
    radam_ref,
    radam_rho_ref,
    untuned_ref,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import pytorch_warmup as pw
from pytorch_warmup._math import radam_factor as _radam_factor
from pytorch_warmup.untuned import untuned_period

BETA2S = [0.61, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999]
STEPS = [1, 2, 3, 4, 5, 7, 10, 30, 100, 300, 1000, 3000, 10_000, 10**5, 10**6, 10**9]


def _lin(step: int, period: int) -> float:
    return pw.LinearWarmup.warmup_factor(None, step, warmup_period=period)  # type: ignore[arg-type]


def _exp(step: int, period: int) -> float:
    return pw.ExponentialWarmup.warmup_factor(None, step, warmup_period=period)  # type: ignore[arg-type]


def _radam(step: int, beta2: float) -> float:
    rho_inf = pw.rho_inf_fn(beta2)
    return _radam_factor(step, beta2, rho_inf, pw.get_offset(beta2, rho_inf))


def _rel(actual: float, expected: mpmath.mpf) -> float:
    return float(abs((mpmath.mpf(actual) - expected) / expected))


# -- untuned periods -------------------------------------------------------------


@pytest.mark.parametrize(
    ("beta2", "linear", "exponential"),
    [(0.999, 2000, 1000), (0.7, 6, 3), (0.99, 200, 100), (0.9999, 20000, 10000),
     (0.99999, 200000, 100000), (0.98, 100, 50), (0.9, 20, 10), (0.0, 2, 1), (0.5, 4, 2)],
)  # fmt: skip
def test_untuned_periods_are_floored_exactly(beta2: float, linear: int, exponential: int) -> None:
    assert untuned_period(beta2, 2) == linear
    assert untuned_period(beta2, 1) == exponential
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, beta2))
    assert pw.UntunedLinearWarmup(opt).warmup_params == [{"warmup_period": linear}]
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, beta2))
    assert pw.UntunedExponentialWarmup(opt).warmup_params == [{"warmup_period": exponential}]


def test_naive_floor_would_be_wrong() -> None:
    # The reason the floor is taken on the decimal value: binary arithmetic gives 1999.
    assert int(2 / (1 - 0.999)) == 1999
    assert untuned_period(0.999, 2) == 2000


@given(st.integers(min_value=0, max_value=999_999), st.sampled_from([4, 5, 6]))
def test_untuned_period_matches_exact_decimal_floor(digits: int, places: int) -> None:
    beta2 = float(f"0.{digits:0{places}d}"[: 2 + places])
    assert untuned_period(beta2, 2) == untuned_ref(beta2, 2)
    assert untuned_period(beta2, 1) == untuned_ref(beta2, 1)


# -- linear ----------------------------------------------------------------------


@pytest.mark.parametrize("period", [1, 2, 3, 7, 2000, 10**9])
def test_linear_is_the_correctly_rounded_ratio(period: int) -> None:
    for t in [1, 2, 3, period // 2 + 1, period - 1, period, period + 1, 10 * period]:
        if t < 1:
            continue
        assert _lin(t - 1, period) == float(min(Fraction(1), Fraction(t, period)))
    assert _lin(period - 1, period) == 1.0


# -- exponential -----------------------------------------------------------------


def test_exponential_accuracy() -> None:
    worst = 0.0
    for period in [1, 2, 3, 10, 1000, 2000, 10**5, 10**9]:
        for t in STEPS:
            worst = max(worst, _rel(_exp(t - 1, period), expo_ref(t, period)))
    assert worst <= 1e-14, worst
    # the naive 1 - exp(-x) is off by up to 8e-8 relative here; ours is exact to an ulp
    assert _rel(_exp(0, 10**9), expo_ref(1, 10**9)) <= 2**-52
    assert _rel(1 - math.exp(-1e-9), expo_ref(1, 10**9)) > 1e-8


# -- RAdam -----------------------------------------------------------------------


def test_radam_offsets() -> None:
    assert pw.get_offset(0.7, pw.rho_inf_fn(0.7)) == 6
    assert pw.get_offset(0.999, pw.rho_inf_fn(0.999)) == 5
    for beta2 in BETA2S:
        assert pw.get_offset(beta2, pw.rho_inf_fn(beta2)) == radam_offset_ref(mpmath.mpf(beta2))


def test_radam_exact_rationals_at_seven_tenths() -> None:
    """beta2 = 7/10: offset 6, and omega_t^2 is a rational number for every t."""
    exact = Fraction(7, 10)
    assert radam_offset_ref(exact) == 6
    rho_inf = 2 / (1 - exact) - 1
    assert rho_inf == Fraction(17, 3)
    assert pw.rho_inf_fn(0.7) == pytest.approx(float(rho_inf), rel=1e-15)
    expected_rho6 = rho_inf - 12 * exact**6 / (1 - exact**6)
    assert radam_omega2_ref(1, exact) == (
        (expected_rho6 - 4) * (expected_rho6 - 2) * rho_inf
        / ((rho_inf - 4) * (rho_inf - 2) * expected_rho6)
    )  # fmt: skip
    for t in range(1, 11):
        omega2 = radam_omega2_ref(t, exact)
        assert isinstance(omega2, Fraction)
        reference = mpmath.sqrt(mpmath.mpf(omega2.numerator) / omega2.denominator)
        # 0.7 is not 7/10 in binary (relative difference 1.6e-17); at t = 1,
        # rho - 4 = 0.106 amplifies rounding errors by ~40: tolerance 1e-14.
        assert _rel(_radam(t - 1, 0.7), reference) <= 1e-14, t
        assert _rel(_radam(t - 1, 0.7), radam_ref(t, 0.7)) <= 1e-14, t


def test_radam_rho_accuracy() -> None:
    worst = 0.0
    for beta2 in BETA2S:
        rho_inf = pw.rho_inf_fn(beta2)
        b = mpmath.mpf(beta2)
        for t in STEPS:
            ref = 2 / (1 - b) - 1 - 2 * t * b**t / (1 - b**t)
            worst = max(worst, _rel(pw.rho_fn(t, beta2, rho_inf), ref))
    assert worst <= 4 * 2**-53, worst


def test_radam_factor_accuracy() -> None:
    worst = 0.0
    for beta2 in BETA2S:
        for t in STEPS:
            worst = max(worst, _rel(_radam(t - 1, beta2), radam_ref(t, beta2)))
    assert worst <= 1e-14, worst


def test_naive_rho_loses_digits() -> None:
    # What the textbook formula gives at beta2 = 0.99999: wrong in the 11th digit.
    beta2, t = 0.99999, 5
    rho_inf = pw.rho_inf_fn(beta2)
    b = mpmath.mpf(beta2)
    ref = 2 / (1 - b) - 1 - 2 * t * b**t / (1 - b**t)
    naive = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    assert _rel(naive, ref) > 1e-12
    assert _rel(pw.rho_fn(t, beta2, rho_inf), ref) <= 2**-52


def test_rho_fn_matches_textbook_formula_where_it_is_well_conditioned() -> None:
    beta2, rho_inf = 0.7, pw.rho_inf_fn(0.7)
    for t in range(1, 30):
        naive = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        assert pw.rho_fn(t, beta2, rho_inf) == pytest.approx(naive, rel=1e-14)


def test_radam_helpers_validate() -> None:
    with pytest.raises(ValueError, match=r"greater than 0\.6.*0\.6"):
        pw.get_offset(0.6, 4.0)
    with pytest.raises(ValueError, match=r"beta2 must be in \(0, 1\), got 1\.0"):
        pw.rho_inf_fn(1.0)
    with pytest.raises(TypeError, match="beta2 must be a float"):
        pw.rho_inf_fn("0.9")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="t must be a positive number, got 0"):
        pw.rho_fn(0, 0.9, pw.rho_inf_fn(0.9))


# -- properties ------------------------------------------------------------------

big_steps = st.integers(min_value=0, max_value=10**9 - 1)
periods = st.integers(min_value=1, max_value=10**9)
radam_beta2 = st.floats(min_value=0.6, max_value=0.99999, exclude_min=True)


@settings(max_examples=300)
@given(big_steps, periods)
def test_linear_properties(step: int, period: int) -> None:
    w, w_next = _lin(step, period), _lin(step + 1, period)
    assert 0.0 < w <= 1.0
    assert w <= w_next
    assert _lin(period - 1, period) == 1.0
    assert (w == 1.0) == (step + 1 >= period)


@settings(max_examples=300)
@given(big_steps, periods)
def test_exponential_properties(step: int, period: int) -> None:
    w, w_next = _exp(step, period), _exp(step + 1, period)
    assert math.isfinite(w)
    assert 0.0 < w <= 1.0
    assert w <= w_next


@settings(max_examples=300, deadline=None)
@given(big_steps, radam_beta2)
def test_radam_properties(step: int, beta2: float) -> None:
    w, w_next = _radam(step, beta2), _radam(step + 1, beta2)
    assert math.isfinite(w)
    assert 0.0 < w <= 1.0
    assert w <= w_next


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), radam_beta2)
def test_radam_matches_reference_anywhere(step: int, beta2: float) -> None:
    ref = radam_ref(step + 1, beta2)
    b = mpmath.mpf(beta2)
    rho_inf = 2 / (1 - b) - 1
    rho = radam_rho_ref(step + radam_offset_ref(b), b)
    # omega depends on rho - 4 and rho_inf - 4. Where those are small (the first
    # steps for some beta2, beta2 near 0.6) an error of an ulp or two in rho is
    # amplified by kappa = rho / (rho - 4) + rho_inf / (rho_inf - 4); so is a change
    # of beta2 by one ulp, which moves the exact omega by more than that. Bound:
    # 4 ulp * kappa, and never looser than needed: 1e-14 relative where kappa is small.
    kappa = float(rho / (rho - 4) + rho_inf / (rho_inf - 4))
    tol = max(1e-14, 4 * 2**-53 * kappa)
    assert _rel(_radam(step, beta2), ref) <= tol


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_exponential_matches_reference_anywhere(step: int, period: int) -> None:
    assert _rel(_exp(step, period), expo_ref(step + 1, period)) <= 2 * 2**-52


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["linear", "exponential", "radam"]),
    st.integers(min_value=0, max_value=10**9),
    st.floats(min_value=0.0, max_value=10.0),
)
def test_dampened_lr_never_exceeds_undampened(kind: str, step: int, lr: float) -> None:
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=lr, betas=(0.9, 0.99999))
    warmup = {
        "linear": lambda: pw.LinearWarmup(opt, 10**6),
        "exponential": lambda: pw.ExponentialWarmup(opt, 10**6),
        "radam": lambda: pw.RAdamWarmup(opt),
    }[kind]()
    opt.param_groups[0]["lr"] = lr  # a closed-form scheduler sets the rate, then dampen()
    warmup.dampen(step)
    assert 0.0 <= opt.param_groups[0]["lr"] <= lr
    assert warmup.lrs == [lr]  # dampen() records the rate it multiplies as undampened
