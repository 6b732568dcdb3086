r"""Untuned warmup: the warmup period follows from Adam's :math:`\beta_2`.

Adam's second-moment estimate averages over about :math:`1/(1-\beta_2)` steps;
Ma & Yarats (2021) show that warming up over a period of that order needs no
tuning. The periods are

.. math::

    \tau_{\mathrm{linear}} = \left\lfloor \frac{2}{1-\beta_2} \right\rfloor, \qquad
    \tau_{\mathrm{expo}} = \left\lfloor \frac{1}{1-\beta_2} \right\rfloor .
"""

from __future__ import annotations

from torch.optim import Optimizer

from . import _checks, _math
from ._checks import beta2_of
from .base import ExponentialWarmup, LinearWarmup

__all__ = ["UntunedExponentialWarmup", "UntunedLinearWarmup", "untuned_period"]


def untuned_period(beta2: float, scale: int) -> int:
    r"""The untuned warmup period :math:`\lfloor \mathrm{scale} / (1-\beta_2) \rfloor`.

    The floor is taken in exact arithmetic on the decimal value the user wrote
    (the shortest decimal that round-trips to ``beta2``), so ``beta2=0.999``
    gives exactly 2000 and 1000 rather than the 1999 that
    ``int(2 / (1 - 0.999))`` gives in binary floating point. For a ``beta2``
    held in a float32 tensor the warmups use the shortest decimal in float32.

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
    return _math.untuned_period(_checks.beta2(beta2), scale)


def _untuned_periods(optimizer: object, scale: int, cls: str) -> list[int]:
    opt = _checks.optimizer(optimizer, cls)
    periods = []
    for i, group in enumerate(opt.param_groups):
        beta2, decimal = beta2_of(group, i, cls)
        periods.append(_math.untuned_period(beta2, scale, decimal))
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

    def _default_periods(self) -> list[int]:
        return _untuned_periods(self.optimizer, 2, type(self).__name__)


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

    def _default_periods(self) -> list[int]:
        return _untuned_periods(self.optimizer, 1, type(self).__name__)
