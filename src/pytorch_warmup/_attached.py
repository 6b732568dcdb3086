r"""The attached mode: the warmup applied inside ``optimizer.step()``.

:meth:`~pytorch_warmup.BaseWarmup.attach` replaces the optimizer instance's
``step`` with a function that applies the warmup's terms, runs the step it
replaced, and puts the groups' own values back, whether that step returns or
raises. The states of an attached warmup, and what the param groups hold:

==========  ============================================  ===============================
state       the groups hold                               left by
==========  ============================================  ===============================
BETWEEN     ``own``: the schedulers' values               an update begins: INSIDE
INSIDE      ``own * m + a`` of update ``last_step``       the step returns (counted) or
            (``own`` kept in ``lrs``, ``own`` per key)    raises (not counted): BETWEEN
QUIET       ``own``: every term is the identity; the      a step outside the quiet run
            update is only counted
DETACHED    ``own``; the function passes the call on      (final)
==========  ============================================  ===============================

Why a wrapper of the instance's ``step`` rather than step hooks: a post-hook
does not run when the step raises (the factor would stay behind), and a
subclass whose ``step()`` calls ``super().step()`` runs the hooks of both
classes (the update would count twice). torch's own LR schedulers wrap the
instance's ``step`` the same way, so the two compose in either order. Step
hooks the user registers run inside the wrapper and see the applied values.

An update is not counted when the step raises, or when ``GradScaler`` ran a
fused optimizer's step with ``found_inf`` set (the kernel skipped the update;
reading the flag syncs a GPU once per such update: the in-graph mode adds it
to its counter on the device instead).

:class:`Attached` decides at attach time what can be decided then (float or
tensor values, fused or not); the quiet run (``lo <= last_step < hi``) is the
only thing looked at on most updates. :class:`InGraph` is
``attach(in_graph=True)``: torch operations only, on a step counter tensor.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from . import _checks, _lr
from ._owners import Warmup
from ._schedule import INF, Plan

_is_tracing: Callable[[], bool] = getattr(
    torch.compiler, "is_dynamo_compiling", torch.compiler.is_compiling
)
"""False when run, True while dynamo traces the call."""

_compiling: Callable[[], object] = torch._C._dynamo.eval_frame.get_eval_frame_callback
"""``None`` in eager code; dynamo's callback while a ``torch.compile``'d function runs."""


class _Inert:
    """What a detached wrapper counts into: nothing anyone reads."""

    __slots__ = ("last_step",)

    def __init__(self) -> None:
        self.last_step = 0


def _skipped(optimizer: Optimizer) -> bool:
    """A fused step that GradScaler ran with ``found_inf`` set: the update did not happen."""
    found = getattr(optimizer, "found_inf", None)
    return found is not None and bool(found)


class _Driver:
    """What both attached drivers share: installing and removing the wrapper."""

    __slots__ = ("fused", "inner", "inside", "installed", "n", "plan", "previous", "w")

    def __init__(self, warmup: Warmup) -> None:
        self.w: Any = warmup
        self.plan: Plan = warmup._plan()
        self.n = len(warmup.lrs)
        self.inside = False
        opt = warmup.optimizer
        self.fused = bool(getattr(opt, "_step_supports_amp_scaling", False))
        previous = self.previous = opt.__dict__.get("step")
        self.inner: Callable[..., Any] = opt.step
        if hasattr(previous, "_wrapped_by_lr_sched"):
            # An LR scheduler's wrapper (it only marks the optimizer as stepped): the
            # wrapper below does that itself around the step it wraps, one call less.
            self.inner = getattr(previous, "__wrapped__").__get__(opt, type(opt))  # noqa: B009
        self.installed: Callable[..., Any] | None = None

    def install(self) -> None:
        opt = self.w.optimizer
        fn = self.make_step()
        target = getattr(self.inner, "__func__", self.inner)
        functools.update_wrapper(fn, target)  # GradScaler reads the step's signature
        if hasattr(self.previous, "_wrapped_by_lr_sched"):
            fn._wrapped_by_lr_sched = True  # type: ignore[attr-defined]
        self.installed = fn
        opt.step = types.MethodType(fn, opt)

    def make_step(self) -> Callable[..., Any]:
        raise NotImplementedError

    def detach(self) -> None:
        if self.inside:  # detached from inside an update: its values go back now
            self.put_back(self.w.optimizer.param_groups[: self.n], self.plan)
        self.uninstall()

    def put_back(self, groups: list[dict[str, Any]], plan: Plan) -> None:
        raise NotImplementedError

    def uninstall(self) -> None:
        """Put the optimizer's ``step`` back, or make the wrapper pass calls on.

        When something wrapped the optimizer's ``step`` again since (an LR scheduler
        built after ``attach()``), the wrapper stays in that chain but applies
        nothing any more, and counts into nothing.
        """
        opt = self.w.optimizer
        here = opt.__dict__.get("step")
        if getattr(here, "__func__", None) is self.installed:
            if self.previous is None:
                del opt.step
            else:
                opt.step = self.previous
        self.w = _Inert()
        self.pass_on()

    def pass_on(self) -> None:
        """From now on the wrapper only calls the step it wraps."""
        raise NotImplementedError

    def groups(self, optimizer: Optimizer) -> list[dict[str, Any]]:
        groups = optimizer.param_groups
        if len(groups) != self.n:
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but {type(self.w).__name__} "
                f"was built for {self.n}: a param group was added or removed after the "
                "warmup was created. Create the warmup after the last "
                "optimizer.add_param_group() call (or detach() and build a new warmup)."
            )
        return groups

    def current_plan(self) -> Plan:
        if self.plan.source is not self.w.warmup_params:
            self.replan()
        return self.plan

    def replan(self) -> None:
        self.plan = self.w._plan()


class Attached(_Driver):
    """``attach()``: the terms applied in Python around the optimizer's step.

    What can be decided once is decided when attaching (and when the terms
    change): whether every lr is a float or every lr a tensor of one device
    and dtype, and whether one factor function serves every group (one warmup,
    the same parameters, nothing else applied). Then an update during the
    warmup is one call of that function and one pass over the groups (floats)
    or three batched torch operations (tensors); any other case takes the
    general path through :mod:`pytorch_warmup._lr`.
    """

    __slots__ = ("cells", "fn", "hi", "layout_", "lo", "own")

    def __init__(self, warmup: Warmup) -> None:
        super().__init__(warmup)
        self.cells: _lr.Cells = {}
        self.own: dict[str, list[Any]] = {}
        self.lo: float = 0  # a run of quiet steps: lo <= last_step < hi
        self.hi: float = 0
        self.layout()

    def replan(self) -> None:
        super().replan()
        self.lo = self.hi = 0
        self.layout()

    def pass_on(self) -> None:
        self.lo, self.hi = -INF, INF  # quiet for good: nothing applies

    def layout(self) -> None:
        """Decide the path of the updates to come (see the class docstring)."""
        self.fn: Callable[[int], float] | None = self.plan.single
        lrs = list(map(_lr.get, self.w.optimizer.param_groups))
        self.layout_ = _lr.Layout(lrs, self.cells)
        if self.layout_.kind == "tensors":
            _lr.stores_like(self.w.lrs, lrs)

    def make_step(self) -> Callable[..., Any]:
        d = self
        inner = self.inner
        compiling = _compiling
        # Inside a torch.compile'd function the Python work runs eagerly (nothing
        # specialises on a step or a factor) and the optimizer's own step is compiled as
        # usual. The first optimizer.step() imports dynamo anyway: creating these now
        # costs nothing later.
        begin = torch.compiler.disable(d.begin, recursive=True)  # type: ignore[no-untyped-call]
        end = torch.compiler.disable(d.end, recursive=True)  # type: ignore[no-untyped-call]

        def step(optimizer: Optimizer, /, *args: Any, **kwargs: Any) -> Any:
            if compiling() is not None:
                optimizer._opt_called = True  # type: ignore[attr-defined]
                begin(optimizer)
                try:
                    out = inner(*args, **kwargs)
                except BaseException:
                    end(optimizer, False)
                    raise
                end(optimizer, True)
                return out
            optimizer._opt_called = True  # type: ignore[attr-defined]  # as LR schedulers' wrappers
            w = d.w
            s = w.last_step
            if type(s) is not int or s < 0:  # set by hand: checked on the general path
                return d.update(optimizer, s, args, kwargs)
            if d.lo <= s < d.hi:  # nothing applies: count the update
                out = inner(*args, **kwargs)
            else:
                fn = d.fn
                groups = optimizer.param_groups
                own = w.lrs
                if fn is None or len(groups) != len(own):
                    return d.update(optimizer, s, args, kwargs)
                f = fn(s)
                if f == 1.0 or d.layout_.kind != "floats":
                    return d.update(optimizer, s, args, kwargs, f)
                i = 0
                for group in groups:  # one pass: keep the rate, apply the factor
                    lr = own[i] = group["lr"]
                    group["lr"] = lr * f
                    i += 1  # noqa: SIM113 (cheaper than enumerate)
                d.inside = True
                try:
                    out = inner(*args, **kwargs)
                finally:
                    i = 0
                    for lr in own:
                        groups[i]["lr"] = lr
                        i += 1  # noqa: SIM113
                    d.inside = False
            if not (d.fused and _skipped(optimizer)):
                w.last_step = s + 1
            return out

        return step

    def checked_step(self, s: object) -> int:
        """``last_step`` as set by hand: -1 starts over, anything else but a step is refused."""
        step = _checks.last_step(s, "warmup.last_step")
        if step == -1:
            step = self.w.last_step = 0
        return step

    def update(self, optimizer: Optimizer, s: Any, args: Any, kwargs: Any, f: float = 1.0) -> Any:
        """One update outside the quiet run: apply, step, put back, count.

        ``f``: the one factor of every group, when the wrapper has computed it.
        """
        layout = self.layout_
        if f != 1.0 and layout.kind == "tensors":
            lrs = list(map(_lr.get, optimizer.param_groups))
            if layout.same(lrs):  # three batched ops: keep, multiply, put back
                own = self.w.lrs
                torch._foreach_copy_(own, lrs)
                layout.scale(f)
                self.inside = True
                try:
                    out = self.inner(*args, **kwargs)
                finally:
                    torch._foreach_copy_(lrs, own)
                    self.inside = False
                if not (self.fused and _skipped(optimizer)):
                    self.w.last_step = s + 1
                return out
        self.begin(optimizer, s)
        try:
            out = self.inner(*args, **kwargs)
        except BaseException:
            self.end(optimizer, False)
            raise
        self.end(optimizer, True)
        return out

    def begin(self, optimizer: Optimizer, s: Any = None) -> None:
        """Before the step: apply the terms of update ``last_step`` (unless all are 1)."""
        if s is None:
            s = self.w.last_step
        if type(s) is not int or s < 0:
            s = self.checked_step(s)
        groups = self.groups(optimizer)
        plan = self.current_plan()
        m = plan.lr_factors(s)
        if plan.quiet(s, m):
            self.lo, self.hi = plan.lo, plan.hi
        else:
            self.apply(groups, plan, s, m)

    def end(self, optimizer: Optimizer, counted: bool) -> None:
        """After the step, or when it raised: put the own values back, count the update."""
        if self.inside:
            self.put_back(optimizer.param_groups[: self.n], self.plan)
        if counted and not (self.fused and _skipped(optimizer)):
            self.w.last_step += 1

    def apply(self, groups: list[dict[str, Any]], plan: Plan, s: int, m: list[float]) -> None:
        _lr.record(groups, self.w.lrs, m, self.cells)
        for term in plan.values:
            store = self.own.setdefault(term.key, [])
            _lr.record(groups, store, term.factors(s), self.cells, term.key, term.offsets(s))
        self.inside = True

    def put_back(self, groups: list[dict[str, Any]], plan: Plan) -> None:
        self.inside = False
        _lr.write(groups, self.w.lrs)
        for term in plan.values:
            _lr.write(groups, self.own[term.key], term.key)

    def last_lr(self) -> list[Any]:
        """The rates the next update uses (or, inside one, this update uses)."""
        groups = self.w.optimizer.param_groups
        current = _lr.read(groups)
        if self.inside:
            return current
        s = self.w.last_step
        if type(s) is not int or s < 0:
            s = max(_checks.last_step(s, "warmup.last_step"), 0)
        m = self.current_plan().lr_factors(s)
        return [lr * f if f != 1.0 else lr for lr, f in zip(current, m, strict=True)]


class InGraph(_Driver):
    """``attach(in_graph=True)``: the terms as torch operations on a step counter tensor.

    Nothing on the step path reads a tensor on the host or depends on the step
    as a Python number, so a compiled step does not recompile and an update can
    be captured in a CUDA graph. One factor per distinct set of parameters,
    one cast per (factor, dtype) and one batched multiply: the number of torch
    operations per update does not grow with the number of groups.
    ``last_step`` is brought up to date from the counter when read through
    :meth:`~pytorch_warmup.BaseWarmup.state_dict` (and the other readers).
    """

    __slots__ = (
        "ids",
        "index",
        "passing",
        "step_t",
        "store",
        "synced",
        "targets",
        "value_stores",
    )

    def __init__(self, warmup: Warmup) -> None:
        super().__init__(warmup)
        groups = warmup.optimizer.param_groups
        lrs = [g["lr"] for g in groups]
        if not _lr.tensors(lrs):
            raise TypeError(
                "attach(in_graph=True) needs every param group's lr to be a 0-dim tensor "
                f"(got {[type(lr).__name__ for lr in lrs]}); create the optimizer with "
                "lr=torch.tensor(...)"
            )
        devices = {lr.device for lr in lrs}
        if len(devices) != 1:
            raise ValueError(f"attach(in_graph=True) needs the lrs on one device, got {devices}")
        # An int64 counter: torch.compile drops in-place updates of a 0-dim float64 CPU
        # tensor that is not an input (torch 2.13).
        step = max(int(warmup.last_step), 0)
        self.passing = False
        self.step_t = torch.tensor(step, dtype=torch.int64, device=devices.pop())
        self.synced = step
        self.store: list[Tensor] = []
        self.ids: list[int] = []
        self.targets: list[Tensor] = []
        self.index: list[int] = []
        self.value_stores: dict[str, list[Any]] = {}
        self.layout(lrs)
        self.check_values()

    def layout(self, lrs: list[Tensor]) -> None:
        """The distinct lr tensors (a shared one is multiplied once) and copies of them."""
        self.ids = list(map(id, lrs))
        self.store = [lr.detach().clone() for lr in lrs]
        seen: dict[int, int] = {}
        self.targets = []
        self.index = []
        for g, lr in enumerate(lrs):
            if id(lr) not in seen:
                seen[id(lr)] = g
                self.targets.append(lr)
                self.index.append(g)

    def check_values(self) -> None:
        """Every term has its torch form, and warmed values are tensors."""
        step = self.step_t.to(torch.float64)
        try:
            self.plan.lr_tensor_factors(step)
        except NotImplementedError as error:
            raise TypeError(str(error)) from None
        groups = self.w.optimizer.param_groups
        for term in self.plan.values:
            values = list(map(_lr.getter(term.key), groups))
            if not _lr.tensors(values):
                raise TypeError(
                    f"attach(in_graph=True) warms {term.key!r}, which needs to be a 0-dim "
                    f"tensor in every param group (got {[type(v).__name__ for v in values]})"
                )
            self.value_stores[term.key] = [v.detach().clone() for v in values]

    def replan(self) -> None:
        super().replan()
        self.check_values()

    def pass_on(self) -> None:
        self.passing = True

    def make_step(self) -> Callable[..., Any]:
        d = self
        inner = self.inner

        def step(optimizer: Optimizer, /, *args: Any, **kwargs: Any) -> Any:
            optimizer._opt_called = True  # type: ignore[attr-defined]
            if d.passing:  # detached, but still called by a wrapper built on top of it
                return inner(*args, **kwargs)
            d.begin(optimizer)
            try:
                out = inner(*args, **kwargs)
            except BaseException:
                d.end(optimizer, counted=False)
                raise
            d.end(optimizer, counted=True)
            return out

        return step

    def check(self, groups: list[dict[str, Any]], lrs: list[Any]) -> None:
        """Refuse, before anything changes, what the in-graph mode cannot do right."""
        self.groups(self.w.optimizer)
        for i, lr in enumerate(lrs):
            if not isinstance(lr, Tensor):
                raise TypeError(
                    f"param group {i}'s lr is {_checks.describe(lr)}, but the warmup is "
                    "attached in-graph and needs it to stay a tensor: change it in place "
                    f"(group['lr'].fill_({lr!r})) or detach() and attach() again"
                )
        self.layout(lrs)  # an lr tensor was replaced by another

    def begin(self, optimizer: Optimizer) -> None:
        groups = optimizer.param_groups
        lrs = [g["lr"] for g in groups]
        if not _is_tracing():
            if len(lrs) != self.n or list(map(id, lrs)) != self.ids:
                self.check(groups, lrs)
            if self.w.last_step != self.synced:
                self.take_last_step()
        torch._foreach_copy_(self.store, lrs)
        step = self.step_t.to(torch.float64)
        self.multiply(self.targets, self.lr_factors(step))
        for term in self.plan.values:
            values = [_lr.getter(term.key)(g) for g in groups]
            torch._foreach_copy_(self.value_stores[term.key], values)
            mults, index = term.tensor_factors(step)
            starts = [term.start * (1.0 - f) for f in mults]
            self.multiply(values, [mults[i] for i in (index or [0] * len(values))])
            torch._foreach_add_(values, [starts[i] for i in (index or [0] * len(values))])
        self.inside = True

    def lr_factors(self, step: Tensor) -> list[Tensor]:
        """One factor tensor per target lr."""
        factors, index = self.plan.lr_tensor_factors(step)
        if index is None:
            return [factors[0]] * len(self.targets)
        return [factors[index[g]] for g in self.index]

    @staticmethod
    def multiply(targets: list[Tensor], factors: list[Tensor]) -> None:
        """``t *= f`` with one cast per (factor, dtype), as ``t * float`` would compute."""
        cast: dict[tuple[int, torch.dtype], Tensor] = {}
        per = []
        for t, f in zip(targets, factors, strict=True):
            key = (id(f), t.dtype)
            if key not in cast:
                cast[key] = f.to(_lr.cast_dtype(t.dtype))
            per.append(cast[key])
        torch._foreach_mul_(targets, per)

    def put_back(self, groups: list[dict[str, Any]], plan: Plan) -> None:
        torch._foreach_copy_([g["lr"] for g in groups], self.store)
        for term in plan.values:
            values = [_lr.getter(term.key)(g) for g in groups]
            torch._foreach_copy_(values, self.value_stores[term.key])
        self.inside = False

    def end(self, optimizer: Optimizer, counted: bool) -> None:
        self.put_back(optimizer.param_groups[: self.n], self.plan)
        if counted:
            found = getattr(optimizer, "found_inf", None) if self.fused else None
            if found is None:
                self.step_t.add_(1)
            else:
                self.step_t.add_((found == 0).to(torch.int64))

    def take_last_step(self) -> None:
        """Honour a ``last_step`` set by hand (validated; -1 starts over)."""
        step = max(_checks.last_step(self.w.last_step, "warmup.last_step"), 0)
        self.w.last_step = step
        self.step_t.fill_(step)
        self.synced = step

    def sync(self) -> None:
        """Bring ``last_step`` up to date from the counter (reads it)."""
        if self.w.last_step != self.synced:
            self.take_last_step()
            return
        self.synced = self.w.last_step = int(self.step_t.item())

    def last_lr(self) -> list[Any]:
        groups = self.w.optimizer.param_groups
        current = _lr.read(groups)
        if self.inside:
            return current
        factors, index = self.plan.lr_tensor_factors(self.step_t.to(torch.float64))
        per = [factors[0]] * len(current) if index is None else [factors[i] for i in index]
        self.multiply(current, per)  # type: ignore[arg-type]
        return current


def attach(warmup: Warmup, in_graph: bool) -> _Driver:
    """A driver for ``warmup``'s optimizer, installed."""
    driver: _Driver = InGraph(warmup) if in_graph else Attached(warmup)
    driver.install()
    return driver


__all__ = ["INF", "Attached", "InGraph", "attach"]
