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
* RAdam: no closed form; the series is summed until its tail is below the
  rounding error of the sum.

The untuned periods :math:`\tau = \lfloor 2/(1-\beta_2) \rfloor` (linear) and
:math:`\lfloor 1/(1-\beta_2) \rfloor` (exponential) both give
:math:`\mathcal{T} \approx (1-\beta_2)^{-1}`. This module only needs the
standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .base import _as_int, _describe
from .radam import _check_beta2, _radam_factor, _rho, get_offset, rho_inf_fn
from .untuned import untuned_period

__all__ = ["SCHEDULES", "effective_warmup_period"]

SCHEDULES: tuple[str, ...] = ("linear", "exponential", "radam")
"""The schedule names that :func:`effective_warmup_period` accepts."""


def _linear_period(tau: int) -> float:
    return (tau - 1) / 2


def _exponential_period(tau: int) -> float:
    return 1.0 / math.expm1(1.0 / tau)


def _radam_gap(step: int, beta2: float, rho_inf: float, offset: int) -> float:
    r""":math:`1 - \omega_t` of the RAdam warmup at ``step``, without cancellation.

    With :math:`g = \rho_\infty - \rho = 2t\beta_2^t / (1 - \beta_2^t)`,
    :math:`a = (\rho-4)/(\rho_\infty-4)` and :math:`b = (1-2/\rho)/(1-2/\rho_\infty)`,

    .. math::

        1 - a = \frac{g}{\rho_\infty - 4}, \qquad
        1 - b = \frac{2g}{\rho(\rho_\infty - 2)}, \qquad
        1 - \omega = \frac{(1-a) + a(1-b)}{1 + \sqrt{ab}},

    which keeps every digit of the small differences that ``1 - omega`` loses.
    """
    t = float(step + offset)
    x = -t * math.log(beta2)  # t * ln(1/beta2) > 0
    gap = 2.0 * t * math.exp(-x) / -math.expm1(-x)
    if gap > rho_inf / 2:
        # Early steps: rho is small, and the core's rho(t) is accurate there.
        rho = min(_rho(t, beta2, rho_inf), rho_inf)
        gap = rho_inf - rho
    else:
        rho = rho_inf - gap
    one_minus_a = gap / (rho_inf - 4.0)
    one_minus_b = 2.0 * gap / (rho * (rho_inf - 2.0))
    a = (rho - 4.0) / (rho_inf - 4.0)
    b = (1.0 - 2.0 / rho) / (1.0 - 2.0 / rho_inf)
    return (one_minus_a + a * one_minus_b) / (1.0 + math.sqrt(a * b))


def _radam_period(beta2: float) -> float:
    rho_inf = rho_inf_fn(beta2)
    offset = get_offset(beta2, rho_inf)
    # Near the end the terms shrink at least like (1 - (1 - beta2)/2)**t, so the
    # tail after a term g is below 2g/(1 - beta2): stop when that is negligible.
    tail_factor = 2.0 / (1.0 - beta2)
    total = 0.0
    compensation = 0.0  # Neumaier summation: many terms, of very different sizes
    step = 0
    while True:
        term = _radam_gap(step, beta2, rho_inf, offset)
        new = total + term
        if abs(total) >= abs(term):
            compensation += (total - new) + term
        else:
            compensation += (term - new) + total
        total = new
        step += 1
        if term * tail_factor < 1e-17 * total:
            return total + compensation


def effective_warmup_period(
    schedule: str | Callable[[int], float],
    beta2: float | None = None,
    *,
    warmup_period: int | None = None,
    steps: int | None = None,
) -> float:
    r"""The effective warmup period :math:`\mathcal{T}(\omega) = \sum_{t \ge 1} (1 - \omega_t)`.

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
        closed forms, within a few ulp of the series for ``"radam"``.

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
        >>> effective_warmup_period(lambda step: min(1.0, (step + 1) / 4), steps=10)
        1.5
    """
    if callable(schedule):
        if beta2 is not None or warmup_period is not None:
            raise ValueError("a factor function takes neither beta2 nor warmup_period")
        if steps is None:
            raise ValueError("a factor function needs steps, the number of steps to sum")
        count = _as_int(steps, "steps")
        if count < 0:
            raise ValueError(f"steps must be >= 0, got {count}")
        return math.fsum(1.0 - float(schedule(step)) for step in range(count))
    if not isinstance(schedule, str):
        raise TypeError(f"schedule must be a str or a function, got {_describe(schedule)}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    if steps is not None:
        raise ValueError(f"steps only applies to a factor function, not to {schedule!r}")
    if schedule == "radam":
        if warmup_period is not None:
            raise ValueError("the RAdam warmup has no warmup_period: give beta2")
        if beta2 is None:
            raise ValueError("the RAdam warmup needs beta2")
        value = _check_beta2(beta2)
        if not value > 0.6:
            raise ValueError(f"beta2 must be greater than 0.6 for the RAdam warmup, got {beta2!r}")
        return _radam_period(value)
    if (beta2 is None) == (warmup_period is None):
        raise ValueError(
            f"the {schedule} warmup needs exactly one of beta2 and warmup_period, got "
            f"beta2={beta2!r}, warmup_period={warmup_period!r}"
        )
    if warmup_period is not None:
        tau = _as_int(warmup_period, "warmup_period")
        if tau < 1:
            raise ValueError(f"warmup_period must be a positive int, got {tau}")
    else:
        value = _check_beta2(beta2)
        tau = untuned_period(value, 2 if schedule == "linear" else 1)
    return _linear_period(tau) if schedule == "linear" else _exponential_period(tau)


def _radam_factor_sum(beta2: float, steps: int) -> float:
    """The plain sum of ``1 - omega`` over ``steps`` steps (a cross-check for tests)."""
    rho_inf = rho_inf_fn(beta2)
    offset = get_offset(beta2, rho_inf)
    return math.fsum(1.0 - _radam_factor(s, beta2, rho_inf, offset) for s in range(steps))
