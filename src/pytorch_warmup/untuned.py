r"""Untuned warmup: the warmup period follows from Adam's :math:`\beta_2`.

Adam's second-moment estimate averages over about :math:`1/(1-\beta_2)` steps;
Ma & Yarats (2021) show that warming up over a period of that order needs no
tuning. The periods are

.. math::

    \tau_{\mathrm{linear}} = \left\lfloor \frac{2}{1-\beta_2} \right\rfloor, \qquad
    \tau_{\mathrm{expo}} = \left\lfloor \frac{1}{1-\beta_2} \right\rfloor .
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from torch import Tensor
from torch.optim import Optimizer

from .base import ExponentialWarmup, LinearWarmup, _check_optimizer

__all__ = ["UntunedExponentialWarmup", "UntunedLinearWarmup", "untuned_period"]


def _beta2_of(group: dict[str, Any], index: int, cls: str) -> float:
    """Read, check and return ``betas[1]`` of a param group as a float."""
    betas = group.get("betas")
    if betas is None:
        raise TypeError(
            f"{cls} needs an Adam-family optimizer whose param groups have 'betas'; "
            f"optimizer.param_groups[{index}] has none (keys: {sorted(group)}). "
            "Use LinearWarmup or ExponentialWarmup with an explicit warmup_period instead."
        )
    try:
        beta2 = betas[1]
    except (TypeError, IndexError, KeyError):
        raise TypeError(
            f"optimizer.param_groups[{index}]['betas'] must be a pair (beta1, beta2), got {betas!r}"
        ) from None
    if isinstance(beta2, Tensor):
        if beta2.numel() != 1:
            raise TypeError(
                f"optimizer.param_groups[{index}]['betas'][1] must be a number, got a "
                f"tensor of shape {tuple(beta2.shape)}"
            )
        beta2 = beta2.item()
    if isinstance(beta2, bool) or not isinstance(beta2, (int, float)):
        raise TypeError(
            f"optimizer.param_groups[{index}]['betas'][1] must be a float, got {beta2!r} "
            f"of type {type(beta2).__name__}"
        )
    return float(beta2)


def untuned_period(beta2: float, scale: int) -> int:
    r"""The untuned warmup period :math:`\lfloor \mathrm{scale} / (1-\beta_2) \rfloor`.

    The floor is taken in exact arithmetic on the decimal value the user wrote
    (the shortest decimal that round-trips to ``beta2``), so ``beta2=0.999``
    gives exactly 2000 and 1000 rather than the 1999 that
    ``int(2 / (1 - 0.999))`` gives in binary floating point.

    Args:
        beta2: Adam's :math:`\beta_2`, in :math:`[0, 1)`.
        scale: 2 for the linear warmup, 1 for the exponential warmup.

    Returns:
        The period, an int >= 1.

    Raises:
        ValueError: ``beta2`` is not in :math:`[0, 1)`.

    Example:
        >>> from pytorch_warmup.untuned import untuned_period
        >>> untuned_period(0.999, 2), untuned_period(0.999, 1), int(2 / (1 - 0.999))
        (2000, 1000, 1999)
        >>> untuned_period(0.7, 2), untuned_period(0.7, 1)
        (6, 3)
    """
    if not (math.isfinite(beta2) and 0.0 <= beta2 < 1.0):
        raise ValueError(f"beta2 must be in [0, 1) for an untuned warmup, got {beta2!r}")
    exact = Fraction(repr(float(beta2)))
    return max(1, math.floor(scale / (1 - exact)))


def _untuned_periods(optimizer: object, scale: int, cls: str) -> list[int]:
    opt = _check_optimizer(optimizer, cls)
    periods = []
    for i, group in enumerate(opt.param_groups):
        beta2 = _beta2_of(group, i, cls)
        try:
            periods.append(untuned_period(beta2, scale))
        except ValueError:
            raise ValueError(
                f"{cls} needs beta2 in [0, 1); optimizer.param_groups[{i}] has betas[1]={beta2!r}"
            ) from None
    return periods


class UntunedLinearWarmup(LinearWarmup):
    r"""Linear warmup over :math:`\tau = \lfloor 2/(1-\beta_2) \rfloor` steps.

    .. math::

        \omega_t = \min\left\{1, \frac{t}{\tau}\right\}, \qquad
        \tau = \left\lfloor \frac{2}{1-\beta_2} \right\rfloor

    with :math:`\beta_2` read from each param group's ``betas`` (2000 steps for
    the usual :math:`\beta_2 = 0.999`).

    Args:
        optimizer: An Adam-family optimizer (param groups with ``betas``).
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Raises:
        TypeError: the optimizer's param groups have no ``betas``.
        ValueError: a :math:`\beta_2` is not in :math:`[0, 1)`.

    Example:
        >>> import torch
        >>> from pytorch_warmup import UntunedLinearWarmup
        >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], betas=(0.9, 0.999))
        >>> UntunedLinearWarmup(opt).warmup_params
        [{'warmup_period': 2000}]
    """

    def __init__(self, optimizer: Optimizer, last_step: int = -1) -> None:
        periods = _untuned_periods(optimizer, 2, type(self).__name__)
        super().__init__(optimizer, periods, last_step)


class UntunedExponentialWarmup(ExponentialWarmup):
    r"""Exponential warmup with constant :math:`\tau = \lfloor 1/(1-\beta_2) \rfloor`.

    .. math::

        \omega_t = 1 - \exp\left(-\frac{t}{\tau}\right), \qquad
        \tau = \left\lfloor \frac{1}{1-\beta_2} \right\rfloor

    with :math:`\beta_2` read from each param group's ``betas`` (1000 for the
    usual :math:`\beta_2 = 0.999`).

    Args:
        optimizer: An Adam-family optimizer (param groups with ``betas``).
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Raises:
        TypeError: the optimizer's param groups have no ``betas``.
        ValueError: a :math:`\beta_2` is not in :math:`[0, 1)`.

    Example:
        >>> import torch
        >>> from pytorch_warmup import UntunedExponentialWarmup
        >>> opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 0.999))
        >>> UntunedExponentialWarmup(opt).warmup_params
        [{'warmup_period': 1000}]
    """

    def __init__(self, optimizer: Optimizer, last_step: int = -1) -> None:
        periods = _untuned_periods(optimizer, 1, type(self).__name__)
        super().__init__(optimizer, periods, last_step)
