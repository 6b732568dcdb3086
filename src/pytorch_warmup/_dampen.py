r"""The original protocol: the param groups hold dampened values between updates.

A warmup that is not attached is driven by a :class:`Dampening`. Its states,
and what the param groups hold in each:

==========  ==========================================  ==============================
state       the groups hold                             left by
==========  ==========================================  ==============================
APPLIED     ``own * m + a`` of ``last_step``            construction, ``dampen()``,
                                                        a ``dampening()`` block
QUIET       ``own``: every term is the identity         the same, once nothing applies
INSIDE      ``own``, stepped by the LR schedulers       entering ``dampening()``
DETACHED    ``own``                                     ``detach()``, a takeover
==========  ==========================================  ==============================

``own`` is what the schedulers set: the warmup's ``lrs`` for ``lr``, a list
per key for warmed values. Leaving a block records the groups' values as
``own`` and applies the next step (APPLIED or QUIET); a block that raises puts
back what the groups held on entry. Entering a block looks for an LR scheduler
built after the warmup, a rate changed outside the blocks, and (while a warmup
is to come) several optimizer updates since the last block, read from the
optimizer's own step count where it keeps one (Adam and its family): a warmup
stepped once per epoch with a period in updates. Nothing is added to the
optimizer: no hook, no cost per update.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable
from operator import ne
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from . import _checks, _lr
from ._checks import WarmupWarning, user_stacklevel
from ._owners import Claim, Warmup, undampen
from ._schedule import Plan


class Dampening:
    """Drives a warmup that is not attached (see the module docstring)."""

    __slots__ = (
        "__weakref__",
        "applied",
        "cells",
        "claim",
        "counted",
        "fn",
        "inside",
        "jumped",
        "late",
        "layout",
        "own",
        "plan",
        "reported",
        "warmup",
        "written",
    )

    def __init__(self, warmup: Warmup, claim: Claim) -> None:
        self.warmup = warmup
        self.claim = claim
        self.cells: _lr.Cells = {}
        self.applied = False
        self.inside = False
        self.own: dict[str, list[Any]] = {"lr": warmup.lrs}
        self.replan()
        self.written: list[Any] | None = None
        # (the step, the optimizer's own step count) at the last check (see check_updates)
        self.counted: tuple[int, float | None] = (
            warmup.last_step - 1,
            _steps_taken(warmup.optimizer),
        )
        self.jumped = False  # several updates per block ran between the last two checks
        self.reported: set[str] = set()
        groups = warmup.optimizer.param_groups
        # Schedulers built before the warmup have set 'initial_lr'; one that
        # appears later belongs to a scheduler built after the warmup.
        self.late: list[int] | None = [i for i, g in enumerate(groups) if "initial_lr" not in g]
        self.late = self.late or None

    # -- the one step: record what the groups hold, apply a step --------------------

    def apply(self, step: int, checked: bool = False) -> None:
        """Record the groups' values as ``own`` and apply the terms of ``step``.

        ``checked``: the groups have just been checked (a block's exit).
        """
        w = self.warmup
        groups = w.optimizer.param_groups if checked else self.groups()
        if self.plan.source is not w.warmup_params:
            self.replan()
        plan = self.plan
        if plan.lo <= step < plan.hi:  # nothing applies: keep lrs following the schedulers
            self.record_own(groups, plan)
            self.applied_at(step, False, None)
            return
        fn = self.fn
        if fn is not None:
            f = fn(step)
            now = list(map(_lr.get, groups))
            if f != 1.0 and _lr.floats(now):  # during a warmup, float rates: one pass
                w.lrs[:] = now
                written = []
                for group in groups:
                    group["lr"] = lr = group["lr"] * f
                    written.append(lr)
                self.applied_at(step, True, written)
                return
            layout = self.layout
            if f != 1.0 and layout.kind == "tensors" and layout.same(now):  # two batched ops
                torch._foreach_copy_(w.lrs, now)
                layout.scale(f)
                self.applied_at(step, True, None)
                return
        m = plan.lr_factors(step)  # fails before anything changes
        if plan.quiet(step, m):
            self.record_own(groups, plan)
            self.applied_at(step, False, None)
            return
        own = self.own
        written = _lr.record(groups, w.lrs, m, self.cells)
        for term in plan.values:
            store = own.setdefault(term.key, [])
            _lr.record(groups, store, term.factors(step), self.cells, term.key, term.offsets(step))
        self.applied_at(step, True, written)

    def record_own(self, groups: list[dict[str, Any]], plan: Plan) -> None:
        """The groups hold their own values (nothing applies): record them."""
        lrs = self.warmup.lrs
        now = list(map(_lr.get, groups))
        if _lr.floats(now):
            lrs[:] = now
        elif self.layout.kind == "tensors" and self.layout.same(now):
            torch._foreach_copy_(lrs, now)
        else:
            _lr.record(groups, lrs)
        for term in plan.values:
            _lr.record(groups, self.own.setdefault(term.key, []), key=term.key)

    def applied_at(self, step: int, applied: bool, written: list[Any] | None) -> None:
        """Bookkeeping after a step: the state and the registry."""
        self.warmup.last_step = step
        self.applied = applied
        if written is not None and written.count(None) == len(written):
            written = None  # tensor rates only: no float to compare
        self.written = written
        claim = self.claim
        claim.dampened = applied
        claim.written["lr"] = written

    def current_plan(self) -> Plan:
        """The plan, rebuilt when ``warmup_params`` was replaced by hand."""
        if self.plan.source is not self.warmup.warmup_params:
            self.replan()
        return self.plan

    def replan(self) -> None:
        self.plan = plan = self.warmup._plan()
        self.own["lr"] = self.warmup.lrs
        self.claim.own = self.own
        self.fn: Callable[[int], float] | None = plan.single
        lrs = list(map(_lr.get, self.warmup.optimizer.param_groups))
        self.layout = _lr.Layout(lrs, self.cells)
        if self.layout.kind == "tensors":
            _lr.stores_like(self.warmup.lrs, lrs)

    def reapply(self) -> None:
        """The terms changed: apply those of the current step afresh."""
        if self.inside:
            return  # the block's exit applies them
        if self.applied:
            self.put_back()
        self.applied = False
        self.apply(max(int(self.warmup.last_step), 0))

    def put_back(self) -> None:
        """Make the groups hold ``own`` (leaving APPLIED)."""
        groups = self.warmup.optimizer.param_groups[: len(self.warmup.lrs)]
        for key, values in self.own.items():
            _lr.write(groups, values, key)

    def restore(self) -> None:
        """Put back what the groups held before a block that failed."""
        w = self.warmup
        self.put_back()
        if self.applied:
            groups = w.optimizer.param_groups[: len(w.lrs)]
            step = w.last_step
            _lr.scale(groups, self.plan.lr_factors(step), self.cells)
            for term in self.plan.values:
                _lr.scale(groups, term.factors(step), self.cells, term.key, term.offsets(step))

    # -- dampening() and dampen() -------------------------------------------------------

    def enter(self) -> None:
        if self.inside:
            raise RuntimeError(
                f"{type(self.warmup).__name__}.dampening() is already active: a dampening() "
                "block cannot be entered again inside itself (it would count the step twice)"
            )
        w = self.warmup
        groups = w.optimizer.param_groups
        if len(groups) != len(w.lrs) or self.late is not None:
            self.groups()
        if self.applied:
            now = list(map(_lr.get, groups))
            floats = _lr.floats(now)
            if self.written is not None and (not floats or now != self.written):
                self.check_written(now)  # (a tensor is never compared)
            last = w.last_step
            if "updates" not in self.reported and type(last) is int and not last & (last + 1):
                self.check_updates(last)  # at steps 0, 1, 3, 7, 15, ...: nearly free
            if floats and len(self.own) == 1:
                i = 0
                for lr in w.lrs:  # the schedulers see (and chain on) the undampened rates
                    groups[i]["lr"] = lr
                    i += 1  # noqa: SIM113 (cheaper than enumerate)
            elif len(self.own) == 1 and self.layout.kind == "tensors" and self.layout.same(now):
                torch._foreach_copy_(now, w.lrs)
            else:
                self.put_back()
        self.inside = True

    def leave(self, ok: bool) -> None:
        self.inside = False
        if not ok:
            self.restore()
            return
        w = self.warmup
        last = w.last_step
        plan = self.plan
        if (
            type(last) is int
            and plan.lo <= last + 1 < plan.hi
            and not self.applied
            and self.late is None
            and plan.source is w.warmup_params
        ):  # nothing applies (after the warmup): keep lrs following the schedulers
            now = list(map(_lr.get, w.optimizer.param_groups))
            if len(now) == len(w.lrs):
                if _lr.floats(now):
                    w.lrs[:] = now
                    w.last_step = last + 1
                    return
                if self.layout.kind == "tensors" and self.layout.same(now):
                    torch._foreach_copy_(w.lrs, now)
                    w.last_step = last + 1
                    return
        try:
            if type(last) is not int or last < -1:  # set by hand: say what is wrong
                last = _checks.last_step(last, "warmup.last_step")
            checked = self.late is None and len(self.warmup.optimizer.param_groups) == self.plan.n
            self.apply(last + 1, checked)
        except BaseException:
            self.restore()
            raise

    def advance(self, step: int | None) -> None:
        """Apply ``step`` (default: the one after ``last_step``)."""
        if step is None:
            last = self.warmup.last_step
            if type(last) is not int or last < -1:  # set by hand: say what is wrong
                last = _checks.last_step(last, "warmup.last_step")
            step = last + 1
        else:
            step = _checks.as_int(step, "step", minimum=0)
        self.apply(step)

    def detach(self) -> None:
        """Put the undampened values back (a float changed since the last step stays)."""
        if self.inside:
            raise RuntimeError("detach() cannot be called inside dampening()")
        if self.applied:
            undampen(self.warmup.optimizer, self.claim)
            self.applied = False

    # -- the checks ----------------------------------------------------------------------

    def groups(self) -> list[dict[str, Any]]:
        """The param groups, after the checks that must pass before a step changes anything."""
        w = self.warmup
        groups = w.optimizer.param_groups
        if len(groups) != len(w.lrs):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but {type(w).__name__} was "
                f"built for {len(w.lrs)}: a param group was added or removed after the "
                "warmup was created. Create the warmup after the last "
                "optimizer.add_param_group() call."
            )
        if self.late is not None:
            self.check_late(groups)
        return groups

    def check_late(self, groups: list[dict[str, Any]]) -> bool:
        """Report an LR scheduler built after the warmup (it set 'initial_lr')."""
        late = [i for i in self.late or () if i < len(groups) and "initial_lr" in groups[i]]
        if not late:
            return False
        rest = [i for i in self.late or () if i not in late]
        self.late = rest or None
        warnings.warn(
            late_scheduler_message(self.warmup, late),
            WarmupWarning,
            stacklevel=user_stacklevel(),
        )
        return True

    def check_written(self, now: list[Any]) -> None:
        """Warn (once) when a float rate is not the one the warmup wrote last."""
        written = self.written
        if written is None or "outside" in self.reported:
            return
        if None in written:  # some groups hold tensors: compare the floats only
            now = [None if isinstance(lr, Tensor) else lr for lr in now]
        if now == written:
            return
        i = next(i for i, changed in enumerate(map(ne, now, written)) if changed)
        self.reported.add("outside")
        w = self.warmup
        warnings.warn(
            f"the learning rate of param group {i} changed outside "
            f"{type(w).__name__}.dampening() since the last step ({written[i]!r} -> "
            f"{now[i]!r}); dampening() puts back the undampened {w.lrs[i]!r}, so that "
            "change is lost. Step LR schedulers inside `with warmup.dampening():`, call "
            "warmup.dampen() after closed-form schedulers, or use warmup.attach().",
            WarmupWarning,
            stacklevel=user_stacklevel(),
        )

    def check_updates(self, step: int) -> None:
        """Warn (once) when several optimizer updates ran per block.

        The updates are read from the optimizer's own step count (``state['step']``
        of its first parameter, kept by Adam and its family; read only where it
        is a CPU number, never synchronising a GPU), at the blocks that enter
        steps 0, 1, 3, 7, 15, ...: nothing runs per update, next to nothing per
        block. Two checks in a row must show several updates per block: one
        jump alone is an optimizer state loaded to resume.
        """
        now = _steps_taken(self.warmup.optimizer)
        (at, last), self.counted = self.counted, (step, now)
        blocks = step - at
        jumped, self.jumped = (
            self.jumped,
            (now is not None and last is not None and blocks > 0 and now - last >= 2 * blocks),
        )
        if not (jumped and self.jumped):
            return
        k = round((now - last) / blocks)  # type: ignore[operator]
        w = self.warmup
        period = w._period_in_steps()
        if period is None or period < k:
            return  # a short period stepped once per epoch: a warmup in epochs
        self.reported.add("updates")
        name = type(w).__name__
        warnings.warn(
            f"{k} optimizer updates ran between two {name}.dampening() blocks, but the "
            f"warmup advances once per block: its period of about {period} steps then lasts "
            f"about {period * k} updates. If the period is in updates, attach the warmup "
            "(warmup.attach(): it counts optimizer updates and needs no block) or enter "
            "dampening() after every optimizer.step(); if it is meant in epochs, give it in "
            "epochs (warmup_epochs=..., steps_per_epoch=...) and step every update.",
            WarmupWarning,
            stacklevel=user_stacklevel(),
        )


def _steps_taken(optimizer: Optimizer) -> float | None:
    """The optimizer's own count of its updates, where it keeps one on the CPU (0: none yet)."""
    if not optimizer.state:
        return 0.0
    for group in optimizer.param_groups:
        for p in group["params"]:
            step = optimizer.state.get(p, {}).get("step")
            if isinstance(step, Tensor):
                return float(step) if step.device.type == "cpu" and step.numel() == 1 else None
            return float(step) if isinstance(step, (int, float)) else None
    return None


# -- what a late scheduler does -------------------------------------------------------

_FROM_BASE_EVERY_STEP = ("LambdaLR", "CyclicLR", "CosineAnnealingWarmRestarts")
"""Schedulers whose every step computes the rate from ``base_lrs``."""

_CHAINABLE = (
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "MultiplicativeLR",
)
"""Schedulers whose ``step()`` multiplies the current rate (``base_lrs``: in ``step(epoch)``)."""


def _schedulers_of(optimizer: Optimizer) -> list[Any]:
    """The LR schedulers that drive ``optimizer`` (a misuse path: scans the referrers)."""
    from torch.optim.lr_scheduler import LRScheduler

    found: list[Any] = []
    for ref in gc.get_referrers(optimizer):
        for obj in gc.get_referrers(ref) if isinstance(ref, dict) else [ref]:
            if isinstance(obj, LRScheduler) and obj.optimizer is optimizer and obj not in found:
                found.append(obj)
    return found


def _effect(scheduler: Any) -> str:
    """What a scheduler built on dampened rates does with them, in one clause."""
    name = type(scheduler).__name__
    if name in _FROM_BASE_EVERY_STEP:
        return f"{name} computes every rate from its base_lrs, so the factor stays in every rate"
    if name == "CosineAnnealingLR":
        return (
            "CosineAnnealingLR multiplies the current rate at each step (unaffected inside "
            "dampening()), but uses its base_lrs where the cosine restarts (every 2*T_max "
            "steps) and in step(epoch), where the factor comes back"
        )
    if name == "OneCycleLR":
        return "OneCycleLR sets its rates from max_lr and is unaffected"
    if name in _CHAINABLE:
        return (
            f"{name} multiplies the current rate at each step, so it is unaffected when "
            "stepped inside dampening(); only step(epoch) (and SequentialLR's milestones) "
            "use its base_lrs and bring the factor back"
        )
    if name in ("SequentialLR", "ChainedScheduler"):
        inner = "; ".join(_effect(s) for s in getattr(scheduler, "_schedulers", ()))
        return f"{name}: {inner}" if inner else f"{name} depends on the schedulers it holds"
    return (
        f"{name}: if it computes rates from its base_lrs the factor stays in them; if it "
        "multiplies the current rate and is stepped inside dampening() it is unaffected"
    )


def late_scheduler_message(warmup: Warmup, late: list[int]) -> str:
    """The warning for an LR scheduler built after ``warmup``, for the schedulers at hand."""
    lrs = [_lr.to_like(lr, 0.0) for lr in warmup.lrs]
    at_hand = []
    for s in _schedulers_of(warmup.optimizer):
        base = getattr(s, "base_lrs", None)
        if base is None or any(_lr.to_like(base[i], 0.0) != lrs[i] for i in late if i < len(base)):
            at_hand.append(s)
    effects = ". ".join(_effect(s) for s in at_hand) or (
        "A scheduler that computes rates from its base_lrs keeps the factor in every rate; "
        "one that multiplies the current rate inside dampening() is unaffected"
    )
    return (
        f"an LR scheduler was created after {type(warmup).__name__} (it set 'initial_lr' of "
        f"param group(s) {late} at step {warmup.last_step}): its base_lrs are the dampened "
        f"rates, not the undampened {[lrs[i] for i in late]}. {effects}. Create the LR "
        "scheduler before the warmup, or attach the warmup (warmup.attach()), where "
        "schedulers never see a dampened rate."
    )
