r"""Learning-rate warmup for PyTorch.

A warmup multiplies the learning rate set by any LR scheduler by a factor
:math:`\omega_t \in (0, 1]` during the first iterations of training. This
package implements the schedules of Ma & Yarats, "On the adequacy of untuned
warmup for adaptive optimization" (AAAI 2021):

* :class:`LinearWarmup` and :class:`ExponentialWarmup`, with a chosen period;
* :class:`UntunedLinearWarmup` and :class:`UntunedExponentialWarmup`, whose
  period follows from Adam's :math:`\beta_2`;
* :class:`RAdamWarmup`, the warmup implied by RAdam.

Attached to the optimizer (:meth:`BaseWarmup.attach`), a warmup applies its
factor inside ``optimizer.step()`` and counts the updates that really happen;
the original API steps LR schedulers inside :meth:`BaseWarmup.dampening`.

Example:
    >>> import torch
    >>> import pytorch_warmup as warmup
    >>> model = torch.nn.Linear(4, 1)
    >>> opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    >>> cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10_000)
    >>> warmup_scheduler = warmup.UntunedLinearWarmup(opt).attach()  # 2000 updates
    >>> for _ in range(3):
    ...     opt.step()
    ...     cosine.step()
    >>> warmup_scheduler.last_step
    3
"""

from typing import TYPE_CHECKING, Any

from .base import BaseWarmup, ExponentialWarmup, LinearWarmup, WarmupWarning
from .radam import RAdamWarmup, get_offset, rho_fn, rho_inf_fn
from .untuned import UntunedExponentialWarmup, UntunedLinearWarmup

if TYPE_CHECKING:
    from .analysis import effective_warmup_period
    from .scheduler import WarmupLR

_LAZY = {"effective_warmup_period": "analysis", "WarmupLR": "scheduler"}
"""Names whose modules load when first used, so that importing the package stays cheap."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytorch_warmup' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "1.0.0"

__all__ = [
    "BaseWarmup",
    "ExponentialWarmup",
    "LinearWarmup",
    "RAdamWarmup",
    "UntunedExponentialWarmup",
    "UntunedLinearWarmup",
    "WarmupLR",
    "WarmupWarning",
    "__version__",
    "effective_warmup_period",
    "get_offset",
    "rho_fn",
    "rho_inf_fn",
]
