r"""The effective warmup period, the paper's measure of how long a warmup lasts.

Ma & Yarats (2021) compare warmup schedules of different shapes through their
effective warmup period

.. math::

    \mathcal{T}(\omega) = \sum_{t=1}^{\infty} (1 - \omega_t),

the number of full-learning-rate steps that the warmup gives up. For the three
schedules of this package it has these values:

* linear, period :math:`\tau`: :math:`\mathcal{T} = (\tau - 1)/2` exactly;
* exponential, constant :math:`\tau`: :math:`\mathcal{T} = 1/(e^{1/\tau} - 1)`
  (computed with ``expm1``), about :math:`\tau - 1/2`;
* RAdam: no closed form. The first 1000 terms are summed one by one; when the
  series is longer than that, the rest is replaced by its Euler–Maclaurin
  expansion (see :func:`effective_warmup_period`), so any :math:`\beta_2`
  takes a few milliseconds.

The untuned periods :math:`\tau = \lfloor 2/(1-\beta_2) \rfloor` (linear) and
:math:`\lfloor 1/(1-\beta_2) \rfloor` (exponential) both give
:math:`\mathcal{T} \approx (1-\beta_2)^{-1}`. The arithmetic needs only the
standard library.
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


def effective_warmup_period(
    schedule: str | Callable[[int], float],
    beta2: float | None = None,
    *,
    warmup_period: int | None = None,
    steps: int | None = None,
) -> float:
    r"""The effective warmup period :math:`\mathcal{T}(\omega) = \sum_{t \ge 1} (1 - \omega_t)`.

    For ``"radam"`` the first 1000 terms are summed directly. If the series
    goes on (:math:`\beta_2` above about 0.97), the terms from
    :math:`s = 1000` on are replaced by
    :math:`\int_{1000}^\infty f + \sum_{k=0}^{6} c_k \Delta^k f(1000)`, where
    :math:`f(s) = 1 - \omega_{s+1}` is the same formula at real :math:`s`,
    :math:`\Delta` the forward difference and :math:`c_k` Gregory's
    coefficients; the integral is evaluated by Gauss–Legendre quadrature.
    :math:`f` varies on a scale of at least 1000 steps there, so each
    difference is smaller than the one before by a factor of about 1000: the
    first neglected term, about :math:`0.01\,\Delta^7 f(1000)`, is below
    :math:`10^{-20}` of the result, and the error is that of rounding. The
    tests find the result within :math:`10^{-13}` (relative) of the
    term-by-term sum for every :math:`\beta_2` where that sum is feasible (up
    to 0.9999), and unchanged at that precision when the switch to the
    expansion moves from 1000 to 250 or 4000 terms. Any :math:`\beta_2` takes
    a few milliseconds.

    Args:
        schedule: ``"linear"``, ``"exponential"`` or ``"radam"``; or a warmup
            factor function mapping a step index (``0`` for :math:`t = 1`) to
            :math:`\omega_t`, summed over ``steps`` steps.
        beta2: Adam's :math:`\beta_2`. For ``"linear"`` and ``"exponential"``
            it gives the untuned period (:math:`\lfloor 2/(1-\beta_2) \rfloor`
            and :math:`\lfloor 1/(1-\beta_2) \rfloor`); ``"radam"`` needs it,
            in :math:`(0.6, 1)`.
        warmup_period: The period :math:`\tau` of ``"linear"`` or
            ``"exponential"``, instead of ``beta2``.
        steps: The number of steps to sum a factor function over.

    Returns:
        :math:`\mathcal{T}(\omega)`, a float: exact up to rounding for the
        closed forms, within :math:`10^{-13}` (relative) for ``"radam"``.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an unknown schedule, a missing or superfluous argument, or a
            value out of range.

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
    """
    if callable(schedule):
        if beta2 is not None or warmup_period is not None:
            raise ValueError("a factor function takes neither beta2 nor warmup_period")
        if steps is None:
            raise ValueError("a factor function needs steps, the number of steps to sum")
        count = _checks.as_int(steps, "steps", minimum=0)
        return math.fsum(1.0 - float(schedule(step)) for step in range(count))
    if not isinstance(schedule, str):
        raise TypeError(f"schedule must be a str or a function, got {_checks.describe(schedule)}")
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
        tau = untuned_period(_checks.beta2(beta2), 2 if schedule == "linear" else 1)
    if schedule == "linear":
        return (tau - 1) / 2
    return 1.0 / math.expm1(1.0 / tau)
