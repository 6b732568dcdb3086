"""Which warmup drives an optimizer, and how a new one takes over from the last.

One optimizer is driven by one warmup at a time. Building a warmup on an
optimizer that already has one *takes over*: the old warmup is detached (its
groups get their undampened values back) and the new one starts from those.
That holds even when the old warmup was dropped without ``detach()``: what it
needs to undo its dampening is kept here, with the optimizer (weakly: the
registry keeps neither the optimizer nor the warmup alive).
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

from torch.optim import Optimizer

from ._schedule import Plan


class Warmup(Protocol):
    """What the drivers and the registry use of a warmup (a :class:`~pytorch_warmup.BaseWarmup`)."""

    optimizer: Optimizer
    lrs: list[Any]
    warmup_params: list[dict[str, Any]]
    last_step: int

    def _plan(self) -> Plan: ...

    def _period_in_steps(self) -> int | None: ...

    def _taken_over(self, new: Any) -> None: ...


class Claim:
    """What the registry knows of the warmup that drives one optimizer.

    ``own``: per group key, the list of undampened values (the warmup's own
    lists, so the claim sees every update of them and outlives the warmup);
    ``dampened``: whether the groups hold dampened values now; ``written``: per
    key, the floats written last (``None`` for a tensor), so that a value
    changed since is left alone.
    """

    __slots__ = ("dampened", "own", "warmup", "written")

    def __init__(self, warmup: Warmup) -> None:
        self.warmup = weakref.ref(warmup)
        self.own: dict[str, list[Any]] = {}
        self.dampened = False
        self.written: dict[str, list[Any] | None] = {}


_CLAIMS: weakref.WeakKeyDictionary[Optimizer, Claim] = weakref.WeakKeyDictionary()


def warmup_of(optimizer: Optimizer) -> Warmup | None:
    """The warmup that drives ``optimizer`` now (not detached), or ``None``."""
    claim = _CLAIMS.get(optimizer)
    return claim.warmup() if claim is not None else None


def claim(optimizer: Optimizer, warmup: Warmup) -> Claim:
    """Register ``warmup`` as the optimizer's driver, taking over from the previous one."""
    previous = _CLAIMS.get(optimizer)
    if previous is not None:
        old = previous.warmup()
        if old is warmup:
            return previous
        if old is not None:
            old._taken_over(warmup)  # detaches it: puts its undampened values back
        elif previous.dampened:
            undampen(optimizer, previous)
    new = _CLAIMS[optimizer] = Claim(warmup)
    return new


def release(optimizer: Optimizer, warmup: Warmup) -> None:
    """Forget ``warmup`` as the optimizer's driver (it was detached)."""
    claim = _CLAIMS.get(optimizer)
    if claim is not None and claim.warmup() is warmup:
        del _CLAIMS[optimizer]


def undampen(optimizer: Optimizer, claim: Claim) -> None:
    """Put back the undampened values a dropped warmup left dampened.

    A float that differs from the one the warmup wrote was changed since (by
    the user or a scheduler) and is left as it is.
    """
    from . import _lr

    groups = optimizer.param_groups
    for key, own in claim.own.items():
        written = claim.written.get(key)
        read = _lr.getter(key)
        now = [read(g) for g in groups[: len(own)]]
        keep = [
            w is not None and n != w
            for n, w in zip(now, written or [None] * len(own), strict=False)
        ]
        values = [n if k else o for n, o, k in zip(now, own, keep, strict=False)]
        _lr.write(groups[: len(values)], values, key)
    claim.dampened = False
