"""Tests of pytorch_warmup.analysis: the effective warmup period against exact references."""

from __future__ import annotations

import itertools
import math
import time
from fractions import Fraction

import mpmath
import pytest
import torch

import pytorch_warmup
from pytorch_warmup import (
    ExponentialWarmup,
    LinearWarmup,
    analysis,
    effective_warmup_period,
    get_offset,
    rho_inf_fn,
)
from pytorch_warmup._math import exponential_factor, linear_factor, radam_factor
from pytorch_warmup.untuned import untuned_period


def _radam_factor_sum(beta2: float, steps: int) -> float:
    """The plain sum of ``1 - omega`` over ``steps`` steps, from the core's factor."""
    rho_inf = rho_inf_fn(beta2)
    offset = get_offset(beta2, rho_inf)
    return math.fsum(1.0 - radam_factor(s, beta2, rho_inf, offset) for s in range(steps))


# --- closed forms ---------------------------------------------------------------


@pytest.mark.parametrize("tau", [1, 2, 3, 7, 10, 200, 2000, 12345])
def test_linear_equals_exact_rational_sum(tau: int) -> None:
    exact = sum((1 - Fraction(min(t, tau), tau) for t in range(1, tau + 1)), Fraction(0))
    assert exact == Fraction(tau - 1, 2)
    assert effective_warmup_period("linear", warmup_period=tau) == float(exact)


@pytest.mark.parametrize(
    ("beta2", "tau"), [(0.999, 2000), (0.99, 200), (0.7, 6), (0.9, 20), (0.0001, 2)]
)
def test_linear_untuned_uses_floor_of_two_over_one_minus_beta2(beta2: float, tau: int) -> None:
    assert effective_warmup_period("linear", beta2=beta2) == (tau - 1) / 2


def _exponential_reference(tau: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        q = mpmath.exp(-mpmath.mpf(1) / tau)
        return q / (1 - q)  # sum_{t>=1} q^t


@pytest.mark.parametrize("tau", [1, 2, 3, 10, 100, 1000, 10**6, 10**9])
def test_exponential_matches_high_precision_geometric_series(tau: int) -> None:
    value = effective_warmup_period("exponential", warmup_period=tau)
    # 1/expm1(1/tau): expm1 and the division are each correctly rounded to within
    # an ulp, so 4 ulp of relative tolerance is ample.
    assert value == pytest.approx(float(_exponential_reference(tau)), rel=4 * 2**-52)


def test_exponential_series_summed_term_by_term() -> None:
    with mpmath.workdps(30):
        summed = mpmath.nsum(lambda t: mpmath.exp(-t / mpmath.mpf(7)), [1, mpmath.inf])
    assert effective_warmup_period("exponential", warmup_period=7) == pytest.approx(
        float(summed), rel=1e-15
    )


@pytest.mark.parametrize(("beta2", "tau"), [(0.999, 1000), (0.99, 100), (0.7, 3)])
def test_exponential_untuned_period(beta2: float, tau: int) -> None:
    assert effective_warmup_period("exponential", beta2=beta2) == 1 / math.expm1(1 / tau)


def test_exponential_is_about_tau_minus_half() -> None:
    # 1/(e^x - 1) = 1/x - 1/2 + x/12 - ...
    assert effective_warmup_period("exponential", warmup_period=1000) == pytest.approx(
        1000 - 0.5 + 1 / 12000, abs=1e-9
    )


# --- RAdam: a series without closed form -------------------------------------------


def _radam_reference(beta2: float) -> mpmath.mpf:
    """sum_t (1 - omega_t) at 40 digits, beta2 taken as its exact binary value."""
    with mpmath.workdps(40):
        b = mpmath.mpf(beta2)
        rho_inf = 2 / (1 - b) - 1
        t = get_offset(beta2, rho_inf_fn(beta2))
        total = mpmath.mpf(0)
        while True:
            bt = b**t
            rho = rho_inf - 2 * t * bt / (1 - bt)
            omega = mpmath.sqrt(
                (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
            )
            total += 1 - omega
            if 1 - omega < mpmath.mpf(10) ** -30 * total:
                return total
            t += 1


@pytest.mark.parametrize(
    ("beta2", "expected"),
    [(0.7, "2.91225170205826096"), (0.9, "9.89348564670587837"), (0.99, "102.862847102183262")],
)
def test_radam_matches_high_precision_sum(beta2: float, expected: str) -> None:
    reference = _radam_reference(beta2)
    assert float(reference) == pytest.approx(float(expected), rel=1e-17)
    # Measured error is below 1 ulp; allow about 4.5.
    assert effective_warmup_period("radam", beta2=beta2) == pytest.approx(
        float(reference), rel=1e-15
    )


# Below about 0.97 the series converges within the 1000 terms summed directly;
# above, the Euler-Maclaurin tail takes over: the stated bound is 1e-13 (relative).
@pytest.mark.parametrize("beta2", [0.61, 0.8, 0.97, 0.975, 0.99, 0.995, 0.999])
def test_radam_agrees_with_the_core_factor_summed_directly(beta2: float) -> None:
    steps = int(60 / (1 - beta2))  # far past convergence
    assert effective_warmup_period("radam", beta2=beta2) == pytest.approx(
        _radam_factor_sum(beta2, steps), rel=1e-13
    )


@pytest.mark.slow
def test_radam_tail_agrees_with_the_direct_sum_at_0_9999() -> None:
    # 600 000 terms summed one by one (about 2 s), against 1000 terms and the tail.
    assert effective_warmup_period("radam", beta2=0.9999) == pytest.approx(
        _radam_factor_sum(0.9999, 600_000), rel=1e-13
    )


@pytest.mark.parametrize("beta2", [0.98, 0.9999, 0.99999, 0.9999999, 0.99999999, 1 - 1e-12])
def test_radam_tail_does_not_depend_on_where_it_starts(
    beta2: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = []
    for start in (1000, 250, 4000):
        monkeypatch.setattr(analysis, "_DIRECT_TERMS", start)
        values.append(effective_warmup_period("radam", beta2=beta2))
    assert values[1:] == pytest.approx([values[0]] * 2, rel=1e-13)


def test_radam_tail_of_a_known_sum() -> None:
    # sum_{s>=n} q^s = q^n / (1 - q): the tail formula on a geometric series.
    q = 0.999
    value = analysis._radam_tail(lambda s: q**s, 1000, -math.log(q))
    assert value == pytest.approx(q**1000 / (1 - q), rel=1e-14)


def test_radam_period_is_fast_for_every_beta2() -> None:
    betas = [0.6 + 0.4 * (1 - 10.0**-k) for k in range(1, 16)]
    betas += [1 - 10.0**-k for k in range(3, 13)]
    for beta2 in betas:
        start = time.perf_counter()
        effective_warmup_period("radam", beta2=beta2)
        assert time.perf_counter() - start < 0.5, beta2


def test_radam_period_ratio_settles() -> None:
    # T(1 - beta2) tends to a limit as beta2 -> 1: successive decades agree more and more.
    betas = [1 - 10.0**-k for k in range(4, 10)]
    ratios = [effective_warmup_period("radam", beta2=b) * (1 - b) for b in betas]
    gaps = [abs(b - a) for a, b in itertools.pairwise(ratios)]
    assert all(b < a for a, b in itertools.pairwise(gaps))
    assert ratios[-1] == pytest.approx(1.02916216, abs=1e-8)


def test_radam_period_is_close_to_one_over_one_minus_beta2() -> None:
    assert effective_warmup_period("radam", beta2=0.999) == pytest.approx(1029.3246785494426)
    ratios = [effective_warmup_period("radam", beta2=b) * (1 - b) for b in (0.999, 0.9999)]
    assert ratios == pytest.approx([1.0293246785, 1.0291864975], abs=1e-9)


# --- factor functions ---------------------------------------------------------------


def test_factor_function_of_the_maths() -> None:
    value = effective_warmup_period(lambda s: linear_factor(s, 50), steps=100)
    assert value == 24.5
    summed = effective_warmup_period(lambda s: exponential_factor(s, 10), steps=2000)
    assert summed == pytest.approx(effective_warmup_period("exponential", warmup_period=10))


def test_factor_function_of_a_warmup_object() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    linear = LinearWarmup(optimizer, 50)
    value = effective_warmup_period(lambda s: linear.warmup_factor(s, 50), steps=100)
    assert value == 24.5
    linear.detach()
    expo = ExponentialWarmup(optimizer, 10)
    summed = effective_warmup_period(lambda s: expo.warmup_factor(s, 10), steps=2000)
    assert summed == pytest.approx(effective_warmup_period("exponential", warmup_period=10))


def test_factor_function_with_zero_steps() -> None:
    assert effective_warmup_period(lambda s: 0.0, steps=0) == 0.0


def test_public_name() -> None:
    assert pytorch_warmup.effective_warmup_period is effective_warmup_period
    assert "effective_warmup_period" in pytorch_warmup.__all__


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("cosine",), {"beta2": 0.99}, ValueError, r"schedule must be one of .*'cosine'"),
        ((3,), {"beta2": 0.99}, TypeError, "schedule must be a str or a function, got 3"),
        (("linear",), {}, ValueError, "exactly one of beta2 and warmup_period"),
        (("linear",), {"beta2": 0.9, "warmup_period": 5}, ValueError, "exactly one of"),
        (("exponential",), {"warmup_period": 0}, ValueError, "positive int, got 0"),
        (("linear",), {"warmup_period": True}, TypeError, "warmup_period must be an int"),
        (("linear",), {"warmup_period": 2.0}, TypeError, "warmup_period must be an int"),
        (("linear",), {"beta2": 1.0}, ValueError, r"beta2 must be in \[0, 1\), got 1.0"),
        (("linear",), {"beta2": -0.5}, ValueError, r"beta2 must be in \[0, 1\), got -0.5"),
        (("linear",), {"beta2": "0.9"}, TypeError, "beta2 must be a float"),
        (("radam",), {}, ValueError, "needs beta2"),
        (("radam",), {"beta2": 0.5}, ValueError, r"beta2 must be in \(0.6, 1\).*got 0.5"),
        (("radam",), {"beta2": 1.0}, ValueError, r"beta2 must be in \(0.6, 1\).*got 1.0"),
        (("radam",), {"beta2": 0.99, "warmup_period": 3}, ValueError, "no warmup_period"),
        (("radam",), {"beta2": 0.99, "steps": 3}, ValueError, "steps only applies"),
        ((lambda s: 1.0,), {}, ValueError, "needs steps"),
        ((lambda s: 1.0,), {"steps": -1}, ValueError, "steps must be >= 0, got -1"),
        ((lambda s: 1.0,), {"steps": 3, "beta2": 0.9}, ValueError, "takes no beta2"),
        ((lambda s: 1.0, 0.9), {}, ValueError, "takes no beta2"),
        ((lambda s: 1.0,), {"warmup_period": 5}, ValueError, "takes no warmup_period"),
    ],
)
def test_bad_arguments(
    args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        effective_warmup_period(*args, **kwargs)  # type: ignore[arg-type]


# --- the first call a user tries, and what the refusal suggests -------------------------


def _untuned_factors(beta2: float) -> dict[str, object]:
    """The factor functions of the untuned and RAdam warmups of ``beta2``."""
    rho_inf = rho_inf_fn(beta2)
    offset = get_offset(beta2, rho_inf)
    linear, expo = untuned_period(beta2, 2), untuned_period(beta2, 1)
    return {
        "linear": lambda s: linear_factor(s, linear),
        "exponential": lambda s: exponential_factor(s, expo),
        "radam": lambda s: radam_factor(s, beta2, rho_inf, offset),
    }


@pytest.mark.parametrize("beta2", [0.9, 0.99, 0.999])
def test_a_function_with_beta2_is_refused_with_the_calls_that_work(beta2: float) -> None:
    steps = math.ceil(50 / (1 - beta2))
    for name, factor in _untuned_factors(beta2).items():
        with pytest.raises(ValueError) as refused:
            effective_warmup_period(factor, beta2)  # type: ignore[arg-type]
        message = str(refused.value)
        assert message.startswith(f"a factor function takes no beta2 (got beta2={beta2!r})")
        assert f"effective_warmup_period(factor, steps={steps})" in message
        assert f"effective_warmup_period('linear', beta2={beta2!r})" in message
        # the suggested sum is the named schedule's value: it reaches past the warmup
        summed = effective_warmup_period(factor, steps=steps)  # type: ignore[arg-type]
        assert summed == pytest.approx(effective_warmup_period(name, beta2=beta2), rel=1e-13)


def test_a_function_with_beta2_by_keyword_is_refused_the_same_way() -> None:
    with pytest.raises(ValueError) as refused:
        effective_warmup_period(lambda s: 1.0, beta2=0.999)
    assert "effective_warmup_period(factor, steps=50000)" in str(refused.value)


def test_a_function_with_a_period_is_refused_with_the_calls_that_work() -> None:
    with pytest.raises(ValueError) as refused:
        effective_warmup_period(lambda s: exponential_factor(s, 25), warmup_period=25)
    message = str(refused.value)
    assert "effective_warmup_period(factor, steps=1000)" in message
    assert "effective_warmup_period('linear', warmup_period=25) (or 'exponential')" in message
    summed = effective_warmup_period(lambda s: exponential_factor(s, 25), steps=1000)
    assert summed == pytest.approx(effective_warmup_period("exponential", warmup_period=25))


def test_no_sum_is_suggested_that_would_take_too_long() -> None:
    with pytest.raises(ValueError) as refused:
        effective_warmup_period(lambda s: 1.0, 1 - 1e-9)
    message = str(refused.value)
    assert "steps=N), N past the end of the warmup" in message
    assert "effective_warmup_period('linear', beta2=0.999999999)" in message


@pytest.mark.parametrize("beta2", [1.5, -0.1, "0.9"])
def test_no_schedule_is_suggested_for_a_beta2_that_none_takes(beta2: object) -> None:
    with pytest.raises(ValueError) as refused:
        effective_warmup_period(lambda s: 1.0, beta2)  # type: ignore[arg-type]
    message = str(refused.value)
    assert message.endswith(
        "Call effective_warmup_period(factor, steps=N), N past the end of the warmup"
    )


def test_a_function_without_steps_shows_the_call() -> None:
    with pytest.raises(ValueError, match=r"effective_warmup_period\(factor, steps=N\)"):
        effective_warmup_period(lambda s: 1.0)


@pytest.mark.parametrize("schedule", ["linear", "exponential"])
def test_a_period_given_as_beta2_suggests_warmup_period(schedule: str) -> None:
    expected = (
        f"beta2 must be in [0, 1), got 2000; for a warmup period of 2000 updates call "
        f"effective_warmup_period({schedule!r}, warmup_period=2000)"
    )
    with pytest.raises(ValueError) as refused:
        effective_warmup_period(schedule, 2000)
    assert str(refused.value) == expected


def test_a_warmup_object_is_refused_with_the_call_that_works() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    linear = LinearWarmup(optimizer, 50)
    with pytest.raises(TypeError, match=r"w\.warmup_factor\(step, \*\*w\.warmup_params\[0\]\)"):
        effective_warmup_period(linear)  # type: ignore[arg-type]
    w = linear
    value = effective_warmup_period(
        lambda step: w.warmup_factor(step, **w.warmup_params[0]), steps=50
    )
    assert value == effective_warmup_period("linear", warmup_period=50)
    linear.detach()


def test_docstrings_read_as_plain_text() -> None:
    # help() shows docstrings as they are written: no reST roles or TeX there
    for doc in (effective_warmup_period.__doc__, analysis.__doc__):
        assert doc is not None
        for markup in (":math:", ".. math::", "\\", ":func:", ":meth:", ":class:"):
            assert markup not in doc, markup
    assert 'effective_warmup_period("linear", beta2=0.999)' in effective_warmup_period.__doc__
    assert "effective_warmup_period(factor, steps=" in effective_warmup_period.__doc__
