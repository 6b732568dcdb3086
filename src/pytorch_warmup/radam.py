r"""The warmup implied by RAdam (Liu et al., 2020), as a warmup factor for Adam.

RAdam rectifies the variance of Adam's adaptive learning rate with

.. math::

    \rho_\infty = \frac{2}{1-\beta_2} - 1, \qquad
    \rho(t) = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t},

and skips the adaptive step while :math:`\rho(t) \le 4`. Ma & Yarats (2021)
show that this amounts to Adam with the warmup factor

.. math::

    \omega_t = \sqrt{\frac{(\rho-4)(\rho-2)\,\rho_\infty}
                          {(\rho_\infty-4)(\rho_\infty-2)\,\rho}},
    \qquad \rho = \rho(t + \delta - 1),

where the offset :math:`\delta` is the first iteration with
:math:`\rho(\delta) > 4`, so the first step is not skipped.

:math:`\rho(t)` is a small number computed from two large ones (about
:math:`2/(1-\beta_2)` each), which loses about :math:`\log_{10}\rho_\infty`
digits when written as above. Here it is computed as a sum of positive terms
that are each accurate to an ulp or two (see :func:`rho_fn`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from . import _checks, _math
from ._checks import beta2_of
from ._schedule import Factor
from .base import BaseWarmup

__all__ = ["RAdamWarmup", "get_offset", "rho_fn", "rho_inf_fn"]


def rho_inf_fn(beta2: float) -> float:
    r"""The limit :math:`\rho_\infty = 2/(1-\beta_2) - 1` of the SMA length.

    Args:
        beta2: Adam's :math:`\beta_2`, in :math:`(0, 1)`.

    Example:
        >>> from pytorch_warmup import rho_inf_fn
        >>> rho_inf_fn(0.999)
        1998.9999999999982
    """
    return _math.rho_inf(_open_beta2(beta2))


def rho_fn(t: int, beta2: float, rho_inf: float) -> float:
    r"""The length of the approximated SMA, :math:`\rho(t)`.

    Computed without cancellation as

    .. math::

        \rho(t) = c + \frac{2}{L}\left(1 - \frac{tL}{e^{tL}-1}\right),
        \qquad L = -\ln\beta_2,\quad c = \frac{2}{1-\beta_2} - \frac{2}{L} - 1,

    with :math:`c` and :math:`1 - x/(e^x-1)` summed as series of positive terms,
    so the result is within a few ulp of the exact value even for
    :math:`\beta_2` close to 1, where the textbook formula loses up to
    :math:`\log_{10}\rho_\infty` digits.

    Args:
        t: The iteration, a positive number.
        beta2: Adam's :math:`\beta_2`, in :math:`(0, 1)`.
        rho_inf: :math:`\rho_\infty`, normally ``rho_inf_fn(beta2)``.

    Raises:
        ValueError: ``t`` is not positive or ``beta2`` is not in :math:`(0, 1)`.

    Example:
        >>> from pytorch_warmup import rho_fn, rho_inf_fn
        >>> round(rho_fn(5, 0.999, rho_inf_fn(0.999)), 12)
        4.995998000402
    """
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        raise ValueError(f"t must be a positive number, got {t!r}")
    return _math.rho(float(t), _open_beta2(beta2), float(rho_inf))


def get_offset(beta2: float, rho_inf: float) -> int:
    r"""The offset :math:`\delta`: the smallest positive int with :math:`\rho(\delta) > 4`.

    Args:
        beta2: Adam's :math:`\beta_2`, greater than 0.6 (otherwise
            :math:`\rho_\infty \le 4` and RAdam never takes an adaptive step).
        rho_inf: :math:`\rho_\infty`, normally ``rho_inf_fn(beta2)``.

    Raises:
        ValueError: ``beta2`` is not in :math:`(0.6, 1)`.

    Example:
        >>> from pytorch_warmup import get_offset, rho_inf_fn
        >>> get_offset(0.999, rho_inf_fn(0.999)), get_offset(0.7, rho_inf_fn(0.7))
        (5, 6)
    """
    beta2 = _checks.beta2(beta2, low=0.6)
    value = float(rho_inf)
    if not (math.isfinite(value) and value > 4.0):
        raise ValueError(f"rho_inf must be finite and greater than 4, got {rho_inf!r}")
    return _math.radam_offset(beta2, value)


_SERIES_TERMS = 22
"""Terms of the series of e^x - 1 - x used by the in-graph factor (x < 1: 1/22! < 1e-21)."""


def _open_beta2(beta2: object) -> float:
    """A beta2 in (0, 1), the range of the RAdam helpers."""
    value = _checks.as_float(beta2, "beta2")
    if not 0.0 < value < 1.0:
        raise ValueError(f"beta2 must be in (0, 1), got {beta2!r}")
    return value


def _radam_params(opt: Optimizer, cls: str) -> list[dict[str, Any]]:
    """The warmup parameters of each param group, from its ``betas``."""
    params = []
    for i, group in enumerate(opt.param_groups):
        beta2, _ = beta2_of(group, i, cls, low=0.6)
        rho_inf = _math.rho_inf(beta2)
        params.append(
            {"beta2": beta2, "rho_inf": rho_inf, "offset": _math.radam_offset(beta2, rho_inf)}
        )
    return params


class RAdamWarmup(BaseWarmup):
    r"""The warmup equivalent to RAdam's rectification, for Adam-family optimizers.

    .. math::

        \omega_t = \sqrt{\frac{(\rho-4)(\rho-2)\,\rho_\infty}
                              {(\rho_\infty-4)(\rho_\infty-2)\,\rho}},
        \qquad \rho = \rho(t + \delta - 1)

    with :math:`\beta_2` read from each param group's ``betas`` (see
    :mod:`pytorch_warmup.radam`). Use it with Adam or AdamW, not with
    ``torch.optim.RAdam``, which already applies this factor.

    Args:
        optimizer: An Adam-family optimizer (param groups with ``betas``).
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Raises:
        TypeError: the optimizer's param groups have no ``betas``.
        ValueError: a :math:`\beta_2` is not in :math:`(0.6, 1)`.

    Example:
        >>> import torch
        >>> from pytorch_warmup import RAdamWarmup
        >>> opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 0.999))
        >>> warmup = RAdamWarmup(opt)
        >>> warmup.warmup_params[0]["offset"]
        5
        >>> round(warmup.warmup_factor(0, **warmup.warmup_params[0]), 9)
        0.017311503
    """

    _requires = ("beta2", "rho_inf", "offset")
    _never_decreases = True

    def __init__(self, optimizer: Optimizer, last_step: int = -1) -> None:
        opt = _checks.optimizer(optimizer, type(self).__name__)
        super().__init__(opt, _radam_params(opt, type(self).__name__), last_step)

    def rewarm(self, warmup_params: Any = None) -> RAdamWarmup:
        """Restart the warmup at the current update, with :math:`\beta_2` read again.

        See :meth:`BaseWarmup.rewarm`; explicit ``warmup_params`` are taken as given.
        """
        if warmup_params is None:
            warmup_params = _radam_params(self.optimizer, type(self).__name__)
        super().rewarm(warmup_params)
        return self

    def warmup_factor(  # type: ignore[override]
        self, step: int, beta2: float, rho_inf: float, offset: int
    ) -> float:
        r"""The factor :math:`\omega_t` at :math:`t = \text{step} + 1`.

        Args:
            step: The index of the step.
            beta2: Adam's :math:`\beta_2`.
            rho_inf: :math:`\rho_\infty`.
            offset: The offset :math:`\delta`.
        """
        return _math.radam_factor(step, beta2, rho_inf, offset)

    def _factor_fn(self, params: Mapping[str, Any]) -> Factor:
        if type(self).warmup_factor is not RAdamWarmup.warmup_factor:
            return super()._factor_fn(params)
        return functools.partial(
            _math.radam_factor,
            beta2=params["beta2"],
            rho_inf_value=params["rho_inf"],
            offset=params["offset"],
        )

    def _period_in_steps(self, params: list[dict[str, Any]] | None = None) -> int | None:
        params = self.warmup_params if params is None else params
        return max((round(p["rho_inf"]) for p in params), default=None)

    def warmup_factor_tensor(  # type: ignore[override]
        self, step: Tensor, beta2: float, rho_inf: float, offset: int
    ) -> Tensor:
        r""":meth:`warmup_factor` with torch ops, the same formulas term for term.

        The series of :math:`1 - x/(e^x-1)` is evaluated by Horner's rule with
        a fixed number of terms, so the result is within a few ulp of
        :meth:`warmup_factor` rather than equal to it bit for bit.
        """
        log_inv, two_over_log, c = _math.rho_constants(beta2)
        correction = rho_inf - _math.rho_inf(beta2)
        t = step + float(offset)
        x = t * log_inv
        # E = e^x - 1 - x = x^2 (1/2! + x (1/3! + ...)), truncation below 1e-19 for x < 1
        inner = torch.full_like(x, 1.0 / math.factorial(_SERIES_TERMS))
        for n in range(_SERIES_TERMS - 1, 1, -1):
            inner = inner * x + 1.0 / math.factorial(n)
        small = inner * x * x / torch.expm1(x)
        large = 1.0 - x * torch.exp(-x) / -torch.expm1(-x)
        rho = torch.clamp(
            correction + c + two_over_log * torch.where(x < 1.0, small, large), max=rho_inf
        )
        a = (rho - 4.0) / (rho_inf - 4.0)
        b = (1.0 - 2.0 / rho) / (1.0 - 2.0 / rho_inf)
        omega = torch.sqrt(a * b)
        # 1 - omega without cancellation, as in pytorch_warmup._math.radam_gap
        g = 2.0 * t * torch.exp(-x) / -torch.expm1(-x)
        early = g > rho_inf / 2
        g = torch.where(early, rho_inf - rho, g)
        r = torch.where(early, rho, rho_inf - g)
        a2 = (r - 4.0) / (rho_inf - 4.0)
        b2 = (1.0 - 2.0 / r) / (1.0 - 2.0 / rho_inf)
        gap = (g / (rho_inf - 4.0) + a2 * 2.0 * g / (r * (rho_inf - 2.0))) / (
            1.0 + torch.sqrt(a2 * b2)
        )
        return torch.where(omega <= 0.5, omega, 1.0 - gap)

    def _check_group_params(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        beta2 = _checks.beta2(params["beta2"], f"{name}['beta2']", low=0.6)
        rho_inf = _checks.as_float(params["rho_inf"], f"{name}['rho_inf']")
        if not rho_inf > 4.0:
            raise ValueError(f"{name}['rho_inf'] must be finite and > 4, got {rho_inf!r}")
        offset = _checks.as_int(params["offset"], f"{name}['offset']", minimum=1)
        return {"beta2": beta2, "rho_inf": rho_inf, "offset": offset}
