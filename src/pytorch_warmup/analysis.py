"""The effective warmup period, the paper's measure of how long a warmup lasts.

Ma & Yarats (2021) compare warmup schedules of different shapes through their
effective warmup period

    T(ω) = Σ (1 − ω_t), summed over t = 1, 2, 3, ...

the number of full-learning-rate steps that the warmup gives up. For the three
schedules of this package it has these values:

* linear, period τ: T = (τ − 1)/2 exactly;
* exponential, constant τ: T = 1/(e^(1/τ) − 1) (computed with ``expm1``),
  about τ − 1/2;
* RAdam: no closed form. The first 1000 terms are summed one by one; when the
  series is longer than that (β2 above about 0.97), the rest is replaced by
  its Euler–Maclaurin expansion, so any β2 takes a few milliseconds.

The untuned periods τ = ⌊2/(1 − β2)⌋ (linear) and ⌊1/(1 − β2)⌋ (exponential)
both give T ≈ 1/(1 − β2).

The RAdam tail. Write f(s) = 1 − ω_(s+1) for the same formula at a real
step s. From s = 1000 on, the sum of f(s) is replaced by Gregory's form of the
Euler–Maclaurin formula: the integral of f from 1000 to infinity, plus
c_k Δ^k f(1000) for k = 0 to 6, where Δ is the forward difference and c_k are
Gregory's coefficients (1/2, −1/12, 1/24, ...). The integral is evaluated by
Gauss–Legendre quadrature on panels. f varies on a scale of at least 1000
steps there, so each difference is about 1000 times smaller than the one
before: the first neglected term, about 0.01 Δ^7 f(1000), is below 1e-20 of
the result, and the error is that of rounding. The tests find the result
within 1e-13 (relative) of the term-by-term sum for every β2 where that sum is
feasible (up to 0.9999), and unchanged at that precision when the switch to
the expansion moves from 1000 to 250 or 4000 terms. The arithmetic needs only
the standard library.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import lru_cache

from . import _checks
from ._math import radam_gap, radam_offset, rho_inf, untuned_period

__all__ = ["SCHEDULES", "effective_warmup_period"]

SCHEDULES: tuple[str, ...] = ("linear", "exponential", "radam")
"""The schedule names that :func:`effective_warmup_period` accepts."""

_DIRECT_TERMS = 1000
"""RAdam terms summed one by one before the Euler–Maclaurin tail takes over."""

_GREGORY = (1 / 2, -1 / 12, 1 / 24, -19 / 720, 3 / 160, -863 / 60480, 275 / 24192)
r"""Coefficients :math:`c_k` of :math:`x/\ln(1+x) = \sum_k c_k x^{k+1}` (Gregory's formula)."""

_NODES = 20
"""Gauss–Legendre nodes per quadrature panel."""

_TAIL_END = 48.0
r"""The integral stops at :math:`t \ln(1/\beta_2) = 48`, where the rest is below 1e-18 of it."""


@lru_cache(maxsize=1)
def _gauss_legendre(n: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Nodes and weights of the ``n``-point Gauss–Legendre rule on ``[-1, 1]``."""
    nodes, weights = [], []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x  # Legendre recurrence up to P_n(x)
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            derivative = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / derivative
            x -= dx
            if abs(dx) < 1e-16:
                break
        nodes.append(x)
        weights.append(2 / ((1 - x * x) * derivative * derivative))
    return tuple(nodes), tuple(weights)


def _integral(f: Callable[[float], float], a: float, b: float) -> float:
    r""":math:`\int_a^b f`, by Gauss–Legendre quadrature on one panel."""
    nodes, weights = _gauss_legendre(_NODES)
    half, middle = (b - a) / 2, (a + b) / 2
    return half * math.fsum(w * f(middle + half * x) for x, w in zip(nodes, weights, strict=True))


def _radam_period(beta2: float) -> float:
    rho_inf_value = rho_inf(beta2)
    offset = radam_offset(beta2, rho_inf_value)

    def gap(step: float) -> float:
        return radam_gap(step, beta2, rho_inf_value, offset)

    # Near the end the terms shrink at least like (1 - (1 - beta2)/2)**t, so the
    # tail after a term g is below 2g/(1 - beta2): stop when that is negligible.
    tail_factor = 2.0 / (1.0 - beta2)
    terms: list[float] = []
    total = 0.0
    for step in range(_DIRECT_TERMS):
        term = gap(step)
        terms.append(term)
        total += term
        if term * tail_factor < 1e-17 * total:
            return math.fsum(terms)
    return math.fsum(terms) + _radam_tail(gap, _DIRECT_TERMS, -math.log(beta2))


def _radam_tail(gap: Callable[[float], float], start: int, log_inv: float) -> float:
    r""":math:`\sum_{s \ge \mathrm{start}} f(s)` for the smooth, decaying ``f = gap``.

    Gregory's form of the Euler–Maclaurin formula,
    :math:`\sum_{s \ge n} f(s) = \int_n^\infty f + \sum_k c_k \Delta^k f(n)`,
    with forward differences :math:`\Delta` up to the sixth. The integral is
    taken on panels that double in length while :math:`t L < 1`
    (:math:`L = \ln(1/\beta_2)`; there the terms vary on the scale of
    :math:`t`) and are :math:`2/L` long after that (the terms decay like
    :math:`tLe^{-tL}`), up to :math:`tL = 48`.
    """
    values = [gap(float(start + k)) for k in range(len(_GREGORY))]
    corrections = []
    for c in _GREGORY:
        corrections.append(c * values[0])
        values = [b - a for a, b in itertools.pairwise(values)]
    pieces = []
    a = float(start)
    while a * log_inv < 1.0:
        pieces.append(_integral(gap, a, 2 * a))
        a *= 2
    while a * log_inv < _TAIL_END:
        b = a + 2.0 / log_inv
        pieces.append(_integral(gap, a, b))
        a = b
    return math.fsum(pieces) + math.fsum(corrections)


_SUM_HORIZON = 50
"""Steps per 1/(1 − β2) after which the untuned and RAdam factors are 1 to the last digit."""

_MOST_SUGGESTED_STEPS = 10**7
"""The largest number of steps an error message suggests summing."""


def _refuse_for_a_function(beta2: object, warmup_period: object) -> ValueError:
    """The error for a factor function given ``beta2`` or ``warmup_period``: the right calls."""
    name, value = ("beta2", beta2) if beta2 is not None else ("warmup_period", warmup_period)
    call = "effective_warmup_period(factor, steps=N), N past the end of the warmup"
    named = ""
    try:  # with a value that a named schedule takes, suggest a number of steps and the name
        if beta2 is not None:
            horizon = math.ceil(_SUM_HORIZON / (1.0 - _checks.beta2(beta2)))
            if horizon <= _MOST_SUGGESTED_STEPS:
                call = (
                    f"effective_warmup_period(factor, steps={horizon}) ({_SUM_HORIZON}/(1 - beta2)"
                    " steps, past the end of the untuned and RAdam warmups of that beta2)"
                )
            others = "'exponential' or 'radam'"
        else:
            tau = _checks.as_int(warmup_period, name, minimum=1)
            call = (
                f"effective_warmup_period(factor, steps={40 * tau}) (40 periods, past the end "
                "of a linear or an exponential warmup of that period)"
            )
            others = "'exponential'"
        named = f", or name a schedule: effective_warmup_period('linear', {name}={value!r})"
        named += f" (or {others})"
    except (TypeError, ValueError):
        pass
    return ValueError(
        f"a factor function takes no {name} (got {name}={value!r}): it is summed over a "
        f"number of steps that you give. Call {call}{named}"
    )


def effective_warmup_period(
    schedule: str | Callable[[int], float],
    beta2: float | None = None,
    *,
    warmup_period: int | None = None,
    steps: int | None = None,
) -> float:
    """The effective warmup period T(ω) = Σ (1 − ω_t) over t = 1, 2, 3, ...

    The number of full-learning-rate steps that a warmup gives up, the measure
    by which Ma & Yarats (2021) compare warmups of different shapes. There are
    three ways to call it::

        effective_warmup_period("linear", beta2=0.999)        # the untuned period
        effective_warmup_period("linear", warmup_period=500)  # a period you chose
        effective_warmup_period(factor, steps=50_000)         # any factor function

    Named schedules: ``"linear"`` and ``"exponential"`` take either ``beta2``
    (the untuned periods ⌊2/(1 − β2)⌋ and ⌊1/(1 − β2)⌋) or ``warmup_period``;
    ``"radam"`` takes ``beta2``. Their values are exact: (τ − 1)/2 for the
    linear warmup, 1/(e^(1/τ) − 1) ≈ τ − 1/2 for the exponential one; the RAdam
    series has no closed form and is summed to within 1e-13 (relative), in a
    few milliseconds for any β2 (how: the notes of ``pytorch_warmup.analysis``).

    A factor function maps a step index (0 for t = 1) to ω_t, as
    ``BaseWarmup.warmup_factor`` does, and is summed over the first ``steps``
    steps, a number that must reach past the end of its warmup. It takes no
    ``beta2`` (the function already holds whatever it depends on): such a call
    is refused with a message that shows the call to make instead.

    Args:
        schedule: ``"linear"``, ``"exponential"`` or ``"radam"``, or a warmup
            factor function of the step index.
        beta2: Adam's β2: for ``"linear"`` and ``"exponential"`` it gives the
            untuned period; ``"radam"`` needs it, in (0.6, 1).
        warmup_period: The period τ of ``"linear"`` or ``"exponential"``, in
            updates, instead of ``beta2``.
        steps: The number of steps to sum a factor function over (keyword
            only, and only for a function).

    Returns:
        T(ω), a float: exact up to rounding for the closed forms, within 1e-13
        (relative) for ``"radam"``, the plain sum for a factor function.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an unknown schedule, a missing or superfluous argument, or a
            value out of range; the message says which call works.

    Example:
        >>> from pytorch_warmup import effective_warmup_period
        >>> effective_warmup_period("linear", warmup_period=200)
        99.5
        >>> effective_warmup_period("linear", beta2=0.999)  # tau = 2000
        999.5
        >>> round(effective_warmup_period("exponential", beta2=0.999), 9)  # tau = 1000
        999.500083333
        >>> round(effective_warmup_period("radam", beta2=0.999), 6)
        1029.324679
        >>> round(effective_warmup_period("radam", beta2=0.99999999) * (1 - 0.99999999), 9)
        1.029162164
        >>> effective_warmup_period(lambda step: min(1.0, (step + 1) / 4), steps=10)
        1.5
        >>> def linear(step):  # the untuned linear warmup of beta2 = 0.999
        ...     return min(1.0, (step + 1) / 2000)
        >>> effective_warmup_period(linear, 0.999)  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
        Traceback (most recent call last):
            ...
        ValueError: a factor function takes no beta2 (got beta2=0.999): ... Call
        effective_warmup_period(factor, steps=50000) ...
    """
    if callable(schedule):
        if beta2 is not None or warmup_period is not None:
            raise _refuse_for_a_function(beta2, warmup_period)
        if steps is None:
            raise ValueError(
                "a factor function needs steps, the number of steps to sum: "
                "effective_warmup_period(factor, steps=N), N past the end of the warmup"
            )
        count = _checks.as_int(steps, "steps", minimum=0)
        return math.fsum(1.0 - float(schedule(step)) for step in range(count))
    if not isinstance(schedule, str):
        hint = ""
        if hasattr(schedule, "warmup_factor") and hasattr(schedule, "warmup_params"):
            hint = (
                "; for a warmup object w, pass its factor: effective_warmup_period(lambda "
                "step: w.warmup_factor(step, **w.warmup_params[0]), steps=N)"
            )
        raise TypeError(
            f"schedule must be a str or a function, got {_checks.describe(schedule)}{hint}"
        )
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    if steps is not None:
        raise ValueError(f"steps only applies to a factor function, not to {schedule!r}")
    if schedule == "radam":
        if warmup_period is not None:
            raise ValueError("the RAdam warmup has no warmup_period: give beta2")
        if beta2 is None:
            raise ValueError("the RAdam warmup needs beta2")
        return _radam_period(_checks.beta2(beta2, low=0.6))
    if (beta2 is None) == (warmup_period is None):
        raise ValueError(
            f"the {schedule} warmup needs exactly one of beta2 and warmup_period, got "
            f"beta2={beta2!r}, warmup_period={warmup_period!r}"
        )
    if warmup_period is not None:
        tau = _checks.as_int(warmup_period, "warmup_period", minimum=1)
    else:
        if isinstance(beta2, int) and not isinstance(beta2, bool) and beta2 >= 1:
            raise ValueError(
                f"beta2 must be in [0, 1), got {beta2!r}; for a warmup period of {beta2} "
                f"updates call effective_warmup_period({schedule!r}, warmup_period={beta2})"
            )
        tau = untuned_period(_checks.beta2(beta2), 2 if schedule == "linear" else 1)
    if schedule == "linear":
        return (tau - 1) / 2
    return 1.0 / math.expm1(1.0 / tau)
