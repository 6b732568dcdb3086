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

import math
from functools import lru_cache
from typing import Any

from torch.optim import Optimizer

from .base import BaseWarmup, _as_int, _check_optimizer, _describe
from .untuned import _beta2_of

__all__ = ["RAdamWarmup", "get_offset", "rho_fn", "rho_inf_fn"]


def _check_beta2(beta2: object, name: str = "beta2") -> float:
    if isinstance(beta2, bool) or not isinstance(beta2, (int, float)):
        raise TypeError(f"{name} must be a float, got {_describe(beta2)}")
    value = float(beta2)
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {beta2!r}")
    return value


def rho_inf_fn(beta2: float) -> float:
    r"""The limit :math:`\rho_\infty = 2/(1-\beta_2) - 1` of the SMA length.

    Args:
        beta2: Adam's :math:`\beta_2`, in :math:`(0, 1)`.

    Example:
        >>> from pytorch_warmup import rho_inf_fn
        >>> rho_inf_fn(0.999)
        1998.9999999999982
    """
    return 2.0 / (1.0 - _check_beta2(beta2)) - 1.0


@lru_cache(maxsize=256)
def _constants(beta2: float) -> tuple[float, float, float]:
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
    else:  # outside RAdamWarmup's range: mild cancellation only
        c = 2.0 / eps - 2.0 / log_inv - 1.0
    return log_inv, 2.0 / log_inv, c


def _one_minus_x_over_expm1(x: float) -> float:
    r""":math:`q(x) = 1 - x/(e^x - 1)` for :math:`x > 0`, accurate to a few ulp."""
    if x < 1.0:
        # q = E / (x + E) with E = e^x - 1 - x summed as a series of positive terms.
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


def _rho(t: float, beta2: float, rho_inf: float) -> float:
    log_inv, two_over_log, c = _constants(beta2)
    # rho_inf - rho_inf_fn(beta2) is exactly 0 for the usual rho_inf.
    correction = rho_inf - (2.0 / (1.0 - beta2) - 1.0)
    return correction + c + two_over_log * _one_minus_x_over_expm1(t * log_inv)


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
    beta2 = _check_beta2(beta2)
    return _rho(float(t), beta2, float(rho_inf))


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
    beta2 = _check_beta2(beta2)
    if not beta2 > 0.6:
        raise ValueError(f"beta2 must be greater than 0.6 for the RAdam warmup, got {beta2!r}")
    rho_inf = float(rho_inf)
    if not (math.isfinite(rho_inf) and rho_inf > 4.0):
        raise ValueError(f"rho_inf must be finite and greater than 4, got {rho_inf!r}")
    offset = 1
    while not _rho(float(offset), beta2, rho_inf) > 4.0:
        offset += 1
    return offset


def _radam_factor(step: int, beta2: float, rho_inf: float, offset: int) -> float:
    rho = min(_rho(float(step + offset), beta2, rho_inf), rho_inf)
    # Each ratio is in (0, 1] and non-decreasing in rho, so the rounded result is
    # too: omega stays in (0, 1] and never decreases from one step to the next.
    a = (rho - 4.0) / (rho_inf - 4.0)
    b = (1.0 - 2.0 / rho) / (1.0 - 2.0 / rho_inf)
    return math.sqrt(a * b)


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

    def __init__(self, optimizer: Optimizer, last_step: int = -1) -> None:
        cls = type(self).__name__
        opt = _check_optimizer(optimizer, cls)
        params = []
        for i, group in enumerate(opt.param_groups):
            beta2 = _beta2_of(group, i, cls)
            if not (math.isfinite(beta2) and 0.6 < beta2 < 1.0):
                raise ValueError(
                    f"{cls} needs beta2 in (0.6, 1); optimizer.param_groups[{i}] has "
                    f"betas[1]={beta2!r}"
                )
            rho_inf = rho_inf_fn(beta2)
            params.append(
                {"beta2": beta2, "rho_inf": rho_inf, "offset": get_offset(beta2, rho_inf)}
            )
        super().__init__(opt, params, last_step)

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
        return _radam_factor(step, beta2, rho_inf, offset)

    def _check_group_params(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        beta2 = _check_beta2(params["beta2"], f"{name}['beta2']")
        if not beta2 > 0.6:
            raise ValueError(f"{name}['beta2'] must be greater than 0.6, got {beta2!r}")
        rho_inf = params["rho_inf"]
        if isinstance(rho_inf, bool) or not isinstance(rho_inf, (int, float)):
            raise TypeError(f"{name}['rho_inf'] must be a float, got {_describe(rho_inf)}")
        if not (math.isfinite(rho_inf) and rho_inf > 4.0):
            raise ValueError(f"{name}['rho_inf'] must be finite and > 4, got {rho_inf!r}")
        offset = _as_int(params["offset"], f"{name}['offset']")
        if offset < 1:
            raise ValueError(f"{name}['offset'] must be a positive int, got {offset}")
        return {"beta2": beta2, "rho_inf": float(rho_inf), "offset": offset}
