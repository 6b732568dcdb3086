"""Which warmup drives an optimizer (the registry of live warmups, by optimizer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch.optim import Optimizer

if TYPE_CHECKING:
    from .base import BaseWarmup


def warmup_of(optimizer: Optimizer) -> BaseWarmup | None:
    """The warmup that drives ``optimizer`` now (not detached), or ``None``."""
    from .base import _OWNERS

    ref = _OWNERS.get(optimizer)
    return ref() if ref is not None else None
