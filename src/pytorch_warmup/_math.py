r"""The warmup factors as pure functions of the step: no torch, no state.

Every function maps numbers to a number. The warmup classes, the analysis
functions and the command line call these; nothing here checks its arguments
(the callers do, in :mod:`pytorch_warmup._checks`).

Accuracy: each factor is within a few ulp of its exact value, and each is
exactly ``1.0`` from the first step whose exact value rounds to ``1.0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

_HALF_ULP_BELOW_ONE = 2.0**-54
"""A factor whose distance to 1 is at most this rounds to 1.0 (ties go to even, 1.0)."""


def linear_factor(step: int, period: int) -> float:
    r""":math:`\min\{1, t/\tau\}` at :math:`t = \text{step} + 1` (correctly rounded)."""
    return min(1.0, (step + 1) / period)


def exponential_factor(step: int, period: int) -> float:
    r""":math:`1 - e^{-t/\tau}` at :math:`t = \text{step} + 1`, as ``-expm1(-t/tau)``."""
    return -math.expm1(-(step + 1) / period)


def linear_of(period: int) -> Callable[[int], float]:
    """:func:`linear_factor` with its period bound: one cheap call per step, the same value."""

    def factor(step: int) -> float:
        t = step + 1
        return t / period if t < period else 1.0

    return factor


def exponential_of(period: int) -> Callable[[int], float]:
    """:func:`exponential_factor` with its period bound: one cheap call per step."""
    expm1 = math.expm1

    def factor(step: int) -> float:
        return -expm1(-(step + 1) / period)

    return factor


def untuned_period(beta2: float, scale: int, decimal: str | None = None) -> int:
    r""":math:`\max\{1, \lfloor \mathrm{scale}/(1-\beta_2) \rfloor\}` in exact arithmetic.

    The floor is taken on the decimal the user wrote: ``decimal`` when given
    (the shortest decimal that round-trips in the dtype ``beta2`` came from),
    else ``repr(beta2)``. So 0.999 gives exactly 2000 for ``scale=2``.
    """
    from fractions import Fraction  # loaded when first needed

    exact = Fraction(decimal if decimal is not None else repr(float(beta2)))
    return max(1, math.floor(scale / (1 - exact)))


def rho_inf(beta2: float) -> float:
    r""":math:`\rho_\infty = 2/(1-\beta_2) - 1`."""
    return 2.0 / (1.0 - beta2) - 1.0


@lru_cache(maxsize=256)
def rho_constants(beta2: float) -> tuple[float, float, float]:
    r"""Constants of :math:`\rho(t)` for one :math:`\beta_2`.

    With :math:`\varepsilon = 1-\beta_2` and :math:`L = -\ln\beta_2`, returns
    :math:`L`, :math:`2/L` and
    :math:`c = 2/\varepsilon - 2/L - 1 = N / (\varepsilon L)` where
    :math:`N = \sum_{n\ge3} \frac{n-2}{n(n-1)} \varepsilon^n` (all terms positive).
    """
    eps = 1.0 - beta2  # exact for beta2 in [0.5, 1) (Sterbenz)
    log_inv = -math.log1p(-eps)
    if eps <= 0.5:
        total = 0.0
        power = eps * eps
        n = 3
        while True:
            power *= eps
            term = (n - 2) / (n * (n - 1)) * power
            total += term
            if term <= 1e-18 * total or n > 400:
                break
            n += 1
        c = total / (eps * log_inv)
    else:  # beta2 < 0.5, outside RAdam's range: mild cancellation only
        c = 2.0 / eps - 2.0 / log_inv - 1.0
    return log_inv, 2.0 / log_inv, c


def _one_minus_x_over_expm1(x: float) -> float:
    r""":math:`1 - x/(e^x - 1)` for :math:`x > 0`, accurate to a few ulp."""
    if x < 1.0:
        # E / (x + E) with E = e^x - 1 - x summed as a series of positive terms.
        term = x * x / 2.0
        e = term
        n = 2
        while term > 1e-18 * e:
            n += 1
            term *= x / n
            e += term
        return e / math.expm1(x)
    # x e^-x / (1 - e^-x) never overflows and has no cancellation here.
    return 1.0 - x * math.exp(-x) / -math.expm1(-x)


def rho(t: float, beta2: float, rho_inf_value: float) -> float:
    r""":math:`\rho(t) = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, without cancellation.

    Computed as :math:`c + (2/L)(1 - tL/(e^{tL}-1))` plus the difference between
    ``rho_inf_value`` and :math:`\rho_\infty(\beta_2)` (exactly 0 in normal use).
    """
    log_inv, two_over_log, c = rho_constants(beta2)
    correction = rho_inf_value - (2.0 / (1.0 - beta2) - 1.0)
    return correction + c + two_over_log * _one_minus_x_over_expm1(t * log_inv)


def radam_offset(beta2: float, rho_inf_value: float) -> int:
    r"""The smallest positive int :math:`\delta` with :math:`\rho(\delta) > 4`."""
    offset = 1
    while not rho(float(offset), beta2, rho_inf_value) > 4.0:
        offset += 1
    return offset


def radam_gap(step: float, beta2: float, rho_inf_value: float, offset: int) -> float:
    r""":math:`1 - \omega_t` of the RAdam warmup, keeping every digit of the difference.

    With :math:`g = \rho_\infty - \rho = 2t\beta_2^t / (1 - \beta_2^t)`,
    :math:`a = (\rho-4)/(\rho_\infty-4)` and :math:`b = (1-2/\rho)/(1-2/\rho_\infty)`:

    .. math::

        1 - a = \frac{g}{\rho_\infty - 4}, \qquad
        1 - b = \frac{2g}{\rho(\rho_\infty - 2)}, \qquad
        1 - \omega = \frac{(1-a) + a(1-b)}{1 + \sqrt{ab}}.
    """
    t = float(step + offset)
    x = t * -math.log(beta2)
    gap = 2.0 * t * math.exp(-x) / -math.expm1(-x)
    if gap > rho_inf_value / 2:
        # Early steps: rho is small, and rho(t) is the accurate one there.
        r = min(rho(t, beta2, rho_inf_value), rho_inf_value)
        gap = rho_inf_value - r
    else:
        r = rho_inf_value - gap
    one_minus_a = gap / (rho_inf_value - 4.0)
    one_minus_b = 2.0 * gap / (r * (rho_inf_value - 2.0))
    a = (r - 4.0) / (rho_inf_value - 4.0)
    b = (1.0 - 2.0 / r) / (1.0 - 2.0 / rho_inf_value)
    return (one_minus_a + a * one_minus_b) / (1.0 + math.sqrt(a * b))


def radam_factor(step: int, beta2: float, rho_inf_value: float, offset: int) -> float:
    r"""The RAdam warmup factor :math:`\omega_t` at :math:`t = \text{step} + 1`.

    :math:`\sqrt{ab}` with :math:`a = (\rho-4)/(\rho_\infty-4)` and
    :math:`b = (1-2/\rho)/(1-2/\rho_\infty)`, :math:`\rho = \rho(t+\delta-1)`:
    each ratio is in :math:`(0, 1]` and never decreases, so neither does the
    rounded factor. Once the factor is above 1/2 it is computed as
    :math:`1 - (1-\omega)` from :func:`radam_gap` instead, so that it is exactly
    ``1.0`` from the first step whose exact value rounds to 1.
    """
    r = min(rho(float(step + offset), beta2, rho_inf_value), rho_inf_value)
    a = (r - 4.0) / (rho_inf_value - 4.0)
    b = (1.0 - 2.0 / r) / (1.0 - 2.0 / rho_inf_value)
    omega = math.sqrt(a * b)
    if omega <= 0.5:
        return omega
    gap = radam_gap(step, beta2, rho_inf_value, offset)
    return 1.0 if gap <= _HALF_ULP_BELOW_ONE else 1.0 - gap


# -- after the warmup: cooldown shapes ----------------------------------------------------

COOLDOWN_SHAPES = ("linear", "cosine", "1-sqrt", "exponential")
"""The shapes of a cooldown, each going from 1 (before it) to ``final`` (at its end)."""


def cooldown_factor(step: int, after: int, over: int, shape: str, final: float) -> float:
    r"""The cooldown factor of update :math:`t = \text{step} + 1`.

    The cooldown runs over updates ``after + 1`` to ``after + over``; with
    :math:`u = t - \text{after}` updates into it and :math:`p = u/\text{over}`,
    the factor is :math:`f + (1 - f)\,g(p)` where :math:`f` is ``final`` and
    :math:`g` falls from 1 to 0: :math:`1-p` (linear), :math:`(1+\cos\pi p)/2`
    (cosine, computed as :math:`\cos^2(\pi p/2)`, or :math:`\sin^2(\pi q/2)`
    with the exact :math:`q = 1-p` past the middle), :math:`1-\sqrt p` (1−sqrt,
    as :math:`q/(1+\sqrt p)`); exponential is :math:`f^{\,p}`. Each form avoids
    cancellation. Exactly 1.0 up to update ``after``, exactly ``final`` from
    update ``after + over`` on.
    """
    u = step + 1 - after
    if u <= 0:
        return 1.0
    if u >= over:
        return final
    p = u / over
    if shape == "exponential":
        return math.pow(final, p)
    if shape == "linear":
        g = (over - u) / over
    elif shape == "cosine":
        half = math.pi / 2.0
        g = math.cos(half * p) ** 2 if 2 * u <= over else math.sin(half * (over - u) / over) ** 2
    else:  # "1-sqrt"
        g = (over - u) / over / (1.0 + math.sqrt(p))
    return final + (1.0 - final) * g


def value_fraction(k: int, period: int, shape: str) -> float:
    r"""How far a warmed value has come after ``k`` updates of its warmup: :math:`\sigma_k`.

    Linear :math:`\min\{1, k/\tau\}` or exponential :math:`1 - e^{-k/\tau}`:
    exactly 0 at the first update (``k = 0``, the start value), exactly 1 from
    ``k = period`` (linear) or once :math:`e^{-k/\tau}` rounds away (exponential).
    """
    if shape == "linear":
        return min(1.0, k / period)
    return -math.expm1(-k / period)
