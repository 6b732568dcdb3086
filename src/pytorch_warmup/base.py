r"""The warmup mechanism and the manual warmup schedules.

A warmup multiplies the learning rate :math:`\alpha_t` that the user's own LR
scheduler sets by a warmup factor :math:`\omega_t \in (0, 1]`, so that the
optimizer uses

.. math::

    \hat\alpha_t = \alpha_t \, \omega_t

at iteration :math:`t = \text{step} + 1`. :class:`BaseWarmup` holds the
mechanism (which learning rates are undampened, which step comes next, how the
state is saved, the attached mode); subclasses only provide the pure function
:meth:`BaseWarmup.warmup_factor`.
"""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from collections.abc import Mapping, Sequence
from fractions import Fraction
from types import TracebackType
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.utils.hooks import RemovableHandle

from . import _checks, _lr, _math
from ._lr import LR

__all__ = ["BaseWarmup", "ExponentialWarmup", "LinearWarmup", "WarmupWarning"]

_STATE_KEYS = ("lrs", "warmup_params", "last_step")

_OWNERS: weakref.WeakKeyDictionary[Optimizer, weakref.ref[BaseWarmup]] = weakref.WeakKeyDictionary()
"""The live warmup of each optimizer: one optimizer, one warmup."""


class WarmupWarning(UserWarning):
    """Issued for a misuse that still runs but gives learning rates the user did not mean."""


def _user_stacklevel() -> int:
    """The ``stacklevel`` of :func:`warnings.warn` that points at the caller's code."""
    here = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == here:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _claim(optimizer: Optimizer, warmup: BaseWarmup) -> None:
    """Register ``warmup`` as the optimizer's warmup, or refuse a second live one."""
    ref = _OWNERS.get(optimizer)
    other = ref() if ref is not None else None
    if other is not None and other is not warmup:
        raise ValueError(
            f"{type(optimizer).__name__} already has a warmup, {other!r}; a second one "
            f"({type(warmup).__name__}) would take its dampened learning rates for undampened "
            "ones. Use one warmup per optimizer, or call detach() on the first one."
        )
    _OWNERS[optimizer] = weakref.ref(warmup)


class _Dampening:
    """The context manager returned by :meth:`BaseWarmup.dampening`."""

    __slots__ = ("_warmup",)

    def __init__(self, warmup: BaseWarmup) -> None:
        self._warmup = warmup

    def __enter__(self) -> None:
        self._warmup._enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._warmup._leave(exc_type is None)


class BaseWarmup:
    r"""Base class of the warmup schedules.

    At each iteration :math:`t` the learning rate :math:`\alpha_t` set by the
    user (or by LR schedulers) is multiplied by a warmup factor
    :math:`\omega_t \in (0, 1]`:

    .. math::

        \hat\alpha_t = \alpha_t \, \omega_t .

    There are two ways to apply it:

    * **attached** (:meth:`attach`): the factor is applied inside
      ``optimizer.step()`` and counts the updates that really happen; LR
      schedulers never see a dampened rate. Nothing else changes in the loop.
    * **dampening** (the original API): construction records each param
      group's learning rate as its undampened value and dampens it once, for
      the first iteration; afterwards, step the LR schedulers inside
      :meth:`dampening` once per iteration.

    Subclasses implement :meth:`warmup_factor`; everything that touches the
    optimizer lives here. One optimizer has at most one live warmup.

    Args:
        optimizer: The wrapped optimizer.
        warmup_params: One dict of keyword arguments of :meth:`warmup_factor`
            per param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Attributes:
        optimizer: The wrapped optimizer.
        lrs: The undampened learning rate of each param group (copies).
            Once every factor is 1, and between updates in attached mode, the
            optimizer itself holds them; :meth:`state_dict` refreshes this list
            from there.
        warmup_params: The warmup parameters of each param group.
        last_step: The index of the step whose factor applies to the next
            update (``0`` after construction; in attached mode, the number of
            updates done).

    Raises:
        TypeError: ``optimizer`` is not an optimizer, ``warmup_params`` is not a
            list of dicts, or ``last_step`` is not an int.
        ValueError: ``warmup_params`` has the wrong length, ``last_step < -1``,
            or the optimizer already has a live warmup.
    """

    # The mechanism's own state, kept out of __dict__ so that __dict__ holds the
    # optimizer and the state's keys only.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_cells",  # CPU factor tensors, one per dtype (see _lr.scale)
        "_detached",  # detach() was called: no longer drives the optimizer
        "_free",  # every factor applied last was 1: the groups hold the undampened rates
        "_hooks",  # the step hook handles while attached, else None
        "_inside",  # inside dampening(), or between the hooks of one update
        "_kept",  # inside dampening() after the warmup: the rates to put back on failure
        "_late_groups",  # groups without 'initial_lr' at construction, watched
        "_ones_from",  # a step from which every factor is known to be 1
        "_step_t",  # attach(in_graph=True): the step as an int64 tensor, the hooks' counter
        "_written",  # the float lrs written last, to notice changes made outside
    )

    _requires: ClassVar[tuple[str, ...]] = ()
    """The keys every dict of ``warmup_params`` must have (checked on load)."""

    _never_decreases: ClassVar[bool] = False
    """True when :meth:`warmup_factor` never decreases with the step, so once every
    factor is 1 no later one needs computing. A subclass that overrides
    :meth:`warmup_factor` goes back to False unless it sets this itself."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "warmup_factor" in cls.__dict__ and "_never_decreases" not in cls.__dict__:
            cls._never_decreases = False

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_params: list[dict[str, Any]],
        last_step: int = -1,
    ) -> None:
        optimizer = _checks.optimizer(optimizer, type(self).__name__)
        groups = optimizer.param_groups
        params = self._check_params(warmup_params, len(groups))
        step = _checks.last_step(last_step) + 1
        owners: dict[int, int] = {}
        for i, group in enumerate(groups):
            lr = group.get("lr")
            _checks.lr(lr, f"optimizer.param_groups[{i}]['lr']")
            # A tensor shared by several groups (an optimizer-wide default lr
            # tensor) is dampened once, so its groups must share one factor.
            j = owners.setdefault(id(lr), i) if isinstance(lr, Tensor) else i
            if params[j] != params[i]:
                raise ValueError(
                    f"optimizer.param_groups[{j}] and [{i}] hold the same lr tensor but "
                    f"get different warmup parameters ({params[j]} and {params[i]}); give "
                    "each group its own lr tensor"
                )
        factors = self._factors(params, step)  # fails before anything changes
        _claim(optimizer, self)
        self.optimizer = optimizer
        self.warmup_params = params
        self.last_step = step
        self.lrs: list[LR] = _lr.read(groups)
        self._cells: _lr.Cells = {}
        self._detached = False
        self._hooks: tuple[RemovableHandle, RemovableHandle] | None = None
        self._inside = False
        self._kept: list[LR] = self.lrs
        self._ones_from: int | None = None
        self._free = False
        self._written: list[float | None] | None = None
        self._step_t: Tensor | None = None
        self._apply(groups, step, factors)
        # Schedulers built before the warmup have set 'initial_lr'; one that
        # appears later belongs to a scheduler built after the warmup.
        late = [i for i, g in enumerate(groups) if "initial_lr" not in g]
        self._late_groups: list[int] | None = late or None

    # -- the maths ----------------------------------------------------------------

    def warmup_factor(self, step: int, **params: Any) -> float:
        r"""The warmup factor :math:`\omega_t` at iteration :math:`t = \text{step} + 1`.

        A pure function of its arguments, called once per distinct set of
        parameters at each step.

        Args:
            step: The index of the step (``0`` for the first iteration).
            **params: The warmup parameters of one param group.

        Returns:
            The factor, in :math:`(0, 1]`.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement warmup_factor()")

    def warmup_factor_tensor(self, step: Tensor, **params: Any) -> Tensor:
        r"""The warmup factor computed with torch ops, for :meth:`attach` with ``in_graph=True``.

        Args:
            step: The index of the step, a 0-dim float64 tensor.
            **params: The warmup parameters of one param group.

        Returns:
            A 0-dim float64 tensor on ``step``'s device.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no warmup_factor_tensor(): the in-graph mode needs "
            "the factor as torch operations on a step tensor"
        )

    def _factors(self, params: Sequence[Mapping[str, Any]], step: int) -> list[float]:
        """One factor per group, each distinct set of parameters computed once."""
        if not params:
            return []
        first = params[0]
        if params.count(first) == len(params):  # the usual case, compared in C
            return [self.warmup_factor(step, **first)] * len(params)
        known: list[tuple[Mapping[str, Any], float]] = []
        factors = []
        for p in params:
            factor = next((f for q, f in known if q == p), None)
            if factor is None:
                factor = self.warmup_factor(step, **p)
                known.append((p, factor))
            factors.append(factor)
        return factors

    # -- the one step of the mechanism ---------------------------------------------

    def _apply(self, groups: list[dict[str, Any]], step: int, factors: list[float]) -> None:
        """Make ``factors`` (those of ``step``) the applied ones; groups hold undampened rates."""
        ones = factors.count(1.0) == len(factors)
        if ones:
            if self._never_decreases and (self._ones_from is None or step < self._ones_from):
                self._ones_from = step
            if not self._free:
                _lr.record(groups, self.lrs)  # the last time until a factor drops below 1
            self._written = None
        else:
            written = _lr.record(groups, self.lrs, factors, self._cells)
            self._written = None if self._hooks is not None else written
        self._free = ones
        self.last_step = step

    def _advance(self, step: int | None) -> None:
        """Record the groups' rates as undampened and apply the factors of ``step``."""
        if step is None:
            step = self.last_step
            if type(step) is not int or step < -1:  # set by hand: say what is wrong
                step = _checks.last_step(step, "warmup.last_step")
            step += 1
        else:
            step = _checks.as_int(step, "step", minimum=0)
        groups = self._groups()
        if self._free and self._ones_from is not None and step >= self._ones_from:
            self.last_step = step  # every factor is 1: nothing to do
            return
        self._apply(groups, step, self._factors(self.warmup_params, step))

    def _groups(self) -> list[dict[str, Any]]:
        """The param groups, after the checks that must pass before a step changes anything."""
        if self._detached:
            raise RuntimeError(
                f"this {type(self).__name__} was detached from its optimizer; build a new "
                "warmup (or call attach()) to warm up again"
            )
        groups = self.optimizer.param_groups
        if len(groups) != len(self.lrs):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but {type(self).__name__} "
                f"was built for {len(self.lrs)}: a param group was added or removed after "
                "the warmup was created. Create the warmup after the last "
                "optimizer.add_param_group() call."
            )
        if self._late_groups is not None:
            self._check_late_schedulers(groups, self._late_groups)
        return groups

    def _check_late_schedulers(self, groups: list[dict[str, Any]], watched: list[int]) -> None:
        late = [i for i in watched if "initial_lr" in groups[i]]
        if not late:
            return
        rest = [i for i in watched if i not in late]
        self._late_groups = rest or None
        warnings.warn(
            f"an LR scheduler was created after {type(self).__name__} (it set 'initial_lr' "
            f"of param group(s) {late} at step {self.last_step}): it took the dampened "
            "learning rate as its base learning rate, so a warmup factor stays in every "
            "later learning rate. Create the LR scheduler before the warmup, or use the "
            "attached mode (warmup.attach()), where schedulers never see a dampened rate.",
            WarmupWarning,
            stacklevel=_user_stacklevel(),
        )

    def _check_written(self, lrs: list[Any]) -> None:
        """Warn when a float lr is not the one the warmup wrote last (``lrs``: the groups')."""
        written = self._written
        if written is None:
            return
        now = lrs
        if None in written:  # some groups hold tensors: compare the floats only
            now = [None if isinstance(lr, Tensor) else lr for lr in now]
        if now == written:
            return
        i = next(i for i, (a, b) in enumerate(zip(now, written, strict=True)) if a != b)
        warnings.warn(
            f"the learning rate of param group {i} changed outside "
            f"{type(self).__name__}.dampening() since the last step ({written[i]!r} -> "
            f"{now[i]!r}); dampening() puts back the undampened {self.lrs[i]!r}, so that "
            "change is lost. Step LR schedulers inside `with warmup.dampening():`, call "
            "warmup.dampen() after closed-form schedulers, or use warmup.attach().",
            WarmupWarning,
            stacklevel=_user_stacklevel(),
        )

    def _not_attached(self, what: str) -> None:
        if self._hooks is not None:
            raise RuntimeError(
                f"{what} is for a warmup that is not attached; this {type(self).__name__} "
                "is attached to its optimizer and applies its factor inside "
                "optimizer.step(): step the LR schedulers directly"
            )

    # -- dampening: the original API -----------------------------------------------

    def _enter(self) -> None:
        if self._hooks is not None:
            self._not_attached("dampening()")
        if self._inside:
            raise RuntimeError(
                f"{type(self).__name__}.dampening() is already active: a dampening() block "
                "cannot be entered again inside itself (it would count the step twice)"
            )
        groups = self._groups()
        if self._free:
            # The groups hold the undampened rates: keep them for a block that fails.
            self._kept = _lr.keep(groups, self.lrs)
        else:
            lrs = list(map(_lr.get, groups))
            self._check_written(lrs)  # may raise when warnings are errors
            # Let the schedulers see (and chain on) the undampened rates.
            _lr.write(groups, self.lrs, lrs)
        self._inside = True

    def _leave(self, ok: bool) -> None:
        self._inside = False
        if ok:
            try:
                self._advance(None)
            except BaseException:
                self._restore()
                raise
        else:
            self._restore()

    def _restore(self) -> None:
        """Put back the rates the groups held before a failed dampening() block."""
        groups = self.optimizer.param_groups[: len(self.lrs)]  # a group may have been added
        _lr.write(groups, self._kept if self._free else self.lrs)
        if not self._free:
            _lr.scale(groups, self._factors(self.warmup_params, self.last_step), self._cells)

    def dampen(self, step: int | None = None) -> None:
        r"""Multiply each group's current learning rate by its warmup factor.

        Records the current learning rates as the undampened ones, sets
        :attr:`last_step` to ``step`` and multiplies ``group['lr']`` by
        :math:`\omega_{\text{step}+1}`. Prefer :meth:`dampening` (or
        :meth:`attach`); calling :meth:`dampen` directly is for schedulers that
        compute the learning rate in closed form (``scheduler.step(epoch)``).

        Args:
            step: The index of the step; defaults to ``last_step + 1``.

        Raises:
            TypeError: ``step`` is not an int.
            ValueError: ``step`` is negative, or the optimizer's param groups
                changed since the warmup was built.
            RuntimeError: the warmup is attached, or inside :meth:`dampening`.
        """
        self._not_attached("dampen()")
        if self._inside:
            raise RuntimeError("dampen() cannot be called inside dampening()")
        self._advance(step)

    def dampening(self) -> _Dampening:
        r"""Context manager that steps LR schedulers on undampened learning rates.

        On entry the undampened learning rates are put back into the optimizer,
        so the LR schedulers stepped inside see (and chain on) the learning rates
        they set themselves. On exit the resulting learning rates are recorded as
        the new undampened values and :meth:`dampen` is applied for the next
        step. If the block raises during the warmup, the optimizer keeps the
        dampened learning rates it had before, :attr:`last_step` is unchanged,
        and the exception propagates. Entering the block again inside itself
        raises ``RuntimeError`` before anything changes.

        Once every factor is exactly 1 the block only keeps the groups' rates
        (references for floats, one batched copy per device and dtype for
        tensors) so that a block that raises can put them back.

        Example:
            >>> import torch
            >>> from pytorch_warmup import LinearWarmup
            >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.1)
            >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
            >>> warmup = LinearWarmup(opt, warmup_period=4)
            >>> lrs = [opt.param_groups[0]["lr"]]
            >>> for _ in range(4):
            ...     opt.step()
            ...     with warmup.dampening():
            ...         sched.step()
            ...     lrs.append(opt.param_groups[0]["lr"])
            >>> [round(lr, 6) for lr in lrs]  # StepLR times min(1, t/4)
            [0.025, 0.05, 0.0375, 0.05, 0.025]
        """
        return _Dampening(self)

    # -- attached mode --------------------------------------------------------------

    def attach(self, *, in_graph: bool = False) -> BaseWarmup:
        r"""Apply the warmup inside ``optimizer.step()`` from now on; returns the warmup.

        Puts the undampened learning rates back into the optimizer and
        registers a step pre-hook and post-hook. Update number :math:`t`
        (counting completed ``optimizer.step()`` calls from :attr:`last_step`)
        then uses :math:`\alpha\,\omega_t`, where :math:`\alpha` is
        ``group['lr']`` as the LR schedulers left it; right after the update
        ``group['lr']`` is :math:`\alpha` again, bit for bit (a tensor lr stays
        the same object, updated in place). A step that ``GradScaler`` skips,
        or a micro-batch of gradient accumulation, does not call
        ``optimizer.step()`` and is not counted; LR schedulers can be built and
        stepped in any order and number. After the warmup the hooks only count.

        With ``in_graph=True`` (tensor learning rates on one device) the hooks
        are torch operations only: the factor is computed by
        :meth:`warmup_factor_tensor` from a step counter tensor that the hooks
        advance in place, so a compiled training step does not recompile and a
        whole update, warmup included, can be captured in a CUDA graph. The
        factors then match the exact ones to a few ulp (linear: bit for bit),
        the hooks never skip their work after the warmup, and
        :attr:`last_step` is brought up to date by :meth:`state_dict`,
        :meth:`get_last_lr` and :meth:`detach` (reading the counter).

        Args:
            in_graph: Compute the factor with torch operations on the device.

        Returns:
            The warmup itself, so that ``warmup = LinearWarmup(opt, 100).attach()``.

        Raises:
            ValueError: the warmup is already attached, another live warmup
                drives the optimizer, a param group was added since the warmup
                was built, or (``in_graph``) the lrs are on several devices.
            TypeError: ``in_graph`` with a float learning rate, or a warmup
                without :meth:`warmup_factor_tensor`.
            RuntimeError: inside :meth:`dampening`.

        Example:
            >>> import torch
            >>> from pytorch_warmup import LinearWarmup
            >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.1)
            >>> warmup = LinearWarmup(opt, warmup_period=4).attach()
            >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
            >>> used = []
            >>> for _ in range(5):
            ...     used += warmup.get_last_lr()  # the rate of the coming update
            ...     opt.step()
            ...     sched.step()
            >>> [round(lr, 6) for lr in used]  # StepLR times min(1, t/4)
            [0.025, 0.05, 0.0375, 0.05, 0.025]
            >>> opt.param_groups[0]["lr"]  # between updates: the scheduler's rate
            0.025
        """
        if self._hooks is not None:
            raise ValueError(f"this {type(self).__name__} is already attached to its optimizer")
        if self._inside:
            raise RuntimeError("attach() cannot be called inside dampening()")
        was_detached = self._detached
        self._detached = False
        try:
            groups = self._groups()
            _claim(self.optimizer, self)
        except BaseException:
            self._detached = was_detached
            raise
        try:
            step_t = self._step_counter(groups) if in_graph else None
        except BaseException:
            self._detached = was_detached
            raise
        if not (self._free or was_detached):
            _lr.write(groups, self.lrs)  # undo the dampening of the current step
        if in_graph:
            self.lrs = _lr.read(groups)  # tensors like the groups' own
        self._late_groups = None
        self._written = None
        self._free = False
        self._step_t = step_t
        self._register_hooks()
        return self

    def _step_counter(self, groups: list[dict[str, Any]]) -> Tensor:
        """The in-graph step counter, after checking that the in-graph mode can work."""
        lrs = [g["lr"] for g in groups]
        if not all(isinstance(lr, Tensor) for lr in lrs):
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
        step = torch.tensor(self.last_step, dtype=torch.int64, device=devices.pop())
        for params in self.warmup_params:
            try:
                self.warmup_factor_tensor(step.to(torch.float64), **params)
            except NotImplementedError as error:
                raise TypeError(str(error)) from None
        return step

    def _register_hooks(self) -> None:
        if self._step_t is None:
            before, after = self._before_update, self._after_update
        else:
            before, after = self._before_update_in_graph, self._after_update_in_graph
        self._hooks = (
            self.optimizer.register_step_pre_hook(before),
            self.optimizer.register_step_post_hook(after),
        )
        if self._step_t is None and "torch._dynamo" in sys.modules:
            self._keep_out_of_graphs()

    def _sync_step(self) -> None:
        """In-graph mode: bring ``last_step`` up to date from the counter (reads it)."""
        if self._step_t is not None:
            self.last_step = int(self._step_t.item())

    def detach(self) -> None:
        """Stop driving the optimizer and leave it as if it had never been warmed up.

        Removes the hooks of the attached mode, or (dampening mode) puts the
        undampened learning rates back. Another warmup can then be built on the
        optimizer; this one can be attached again with :meth:`attach`.
        """
        if self._detached:
            return
        self._sync_step()
        self._step_t = None
        if self._inside:
            if self._hooks is None:
                raise RuntimeError("detach() cannot be called inside dampening()")
            _lr.write(self.optimizer.param_groups[: len(self.lrs)], self.lrs)
            self._inside = False
        if self._hooks is not None:
            for handle in self._hooks:
                handle.remove()
            self._hooks = None
        elif not self._free:
            _lr.write(self.optimizer.param_groups[: len(self.lrs)], self.lrs)
        self._free = True
        self._written = None
        self._detached = True
        ref = _OWNERS.get(self.optimizer)
        if ref is not None and ref() is self:
            del _OWNERS[self.optimizer]

    @property
    def attached(self) -> bool:
        """Whether the warmup is applied inside ``optimizer.step()`` (see :meth:`attach`)."""
        return self._hooks is not None

    def _before_update(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if "torch._dynamo" in sys.modules:
            self._keep_out_of_graphs()
        self._before_update_eager(optimizer, args, kwargs)

    def _keep_out_of_graphs(self) -> None:
        """Once torch.compile is in use, run the Python hooks eagerly, never traced.

        Traced, they would specialise on every new step and factor and recompile
        at each update. The entries of the hook dicts are replaced in place (the
        optimizer may be iterating over them): compiled code then calls the
        optimizer step's hooks as opaque functions.
        """
        assert self._hooks is not None
        pre, post = self._hooks
        disable = torch.compiler.disable
        self.optimizer._optimizer_step_pre_hooks[pre.id] = disable(self._before_update_eager)  # type: ignore[no-untyped-call]
        self.optimizer._optimizer_step_post_hooks[post.id] = disable(self._after_update)  # type: ignore[no-untyped-call]

    def _before_update_eager(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if self._inside:  # the previous update raised: its rates were left dampened
            _lr.write(optimizer.param_groups[: len(self.lrs)], self.lrs)
            self._inside = False
        step = self.last_step
        if self._free and self._ones_from is not None and step >= self._ones_from:
            return
        groups = self._groups()
        self._apply(groups, step, self._factors(self.warmup_params, step))
        self._inside = not self._free

    def _after_update(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if self._inside:
            _lr.write(optimizer.param_groups, self.lrs)
            self._inside = False
        self.last_step += 1

    def _before_update_in_graph(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        groups = optimizer.param_groups
        tensors: list[Tensor] = [g["lr"] for g in groups]
        torch._foreach_copy_(self.lrs, tensors)  # type: ignore[arg-type]
        assert self._step_t is not None
        step = self._step_t.to(torch.float64)
        seen: set[int] = set()
        targets, factors = [], []
        for lr, params in zip(tensors, self.warmup_params, strict=True):
            if id(lr) not in seen:
                seen.add(id(lr))
                targets.append(lr)
                factors.append(self.warmup_factor_tensor(step, **params))
        _lr.mul_tensors(targets, factors)

    def _after_update_in_graph(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        torch._foreach_copy_([g["lr"] for g in optimizer.param_groups], self.lrs)  # type: ignore[arg-type]
        assert self._step_t is not None
        self._step_t.add_(1)

    def get_last_lr(self) -> list[LR]:
        """The learning rates the next ``optimizer.step()`` uses, dampened.

        Like an LR scheduler's ``get_last_lr()``: the rates in force now. In
        dampening mode they are the optimizer's own; attached, the optimizer
        holds the schedulers' rates and these are those times the factor of the
        next update. Log them before ``optimizer.step()`` (Lightning:
        ``on_before_optimizer_step``; Hugging Face: a callback's
        ``on_pre_optimizer_step``) to record the rate each update used. Computed
        when called: nothing is recorded at each step. Floats, or 0-dim tensors
        (new ones, never the optimizer's).
        """
        self._sync_step()
        current = _lr.read(self.optimizer.param_groups)
        if self._hooks is None or self._detached or self._inside:
            return current
        if self._step_t is not None:  # the hooks' own torch-op factors, bit for bit
            step_t = self._step_t.to(torch.float64)
            tensor_factors = [self.warmup_factor_tensor(step_t, **p) for p in self.warmup_params]
            _lr.mul_tensors(current, tensor_factors)  # type: ignore[arg-type]
            return current
        step = self.last_step
        if self._ones_from is not None and step >= self._ones_from:
            return current
        factors = self._factors(self.warmup_params, step)
        return [lr * f if f != 1.0 else lr for lr, f in zip(current, factors, strict=True)]

    def _factors_in_use(self) -> list[float]:
        """The learning-rate multiplier of each group for the update in progress.

        Called inside ``optimizer.step()`` (a step pre-hook registered after the
        warmup): the factors that update uses. In dampening mode, between
        updates: the factors applied now.
        """
        self._sync_step()
        return self._factors(self.warmup_params, self.last_step)

    # -- state -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The warmup's state: ``lrs``, ``warmup_params`` and ``last_step``.

        The same keys as the original package, holding only ints, floats,
        lists, dicts and 0-dim tensors (copies), so ``torch.load`` with
        ``weights_only=True`` reads it back. The state is the same in both
        modes: ``lrs`` are the undampened rates.
        """
        self._sync_step()
        if (self._free or self._hooks is not None) and not self._detached:
            # The optimizer holds the undampened rates: refresh the copies.
            _lr.record(self.optimizer.param_groups[: len(self.lrs)], self.lrs)
        return {
            "lrs": [_lr.copy_lr(lr) for lr in self.lrs],
            "warmup_params": [dict(p) for p in self.warmup_params],
            "last_step": self.last_step,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state returned by :meth:`state_dict`.

        The state is checked against the optimizer (keys, types, one entry per
        param group, valid warmup parameters) before anything changes: a state
        that is refused leaves the warmup and the optimizer exactly as they were.

        Loading also sets each group's learning rate to the one a run that
        never stopped holds at this point (tensors in place): ``lrs[i]`` times
        the factor of ``last_step``, or, attached, ``lrs[i]`` itself. So
        resuming is exact whatever the order of ``optimizer.load_state_dict``,
        building the schedulers and the warmup, and loading their states.

        Args:
            state_dict: A state from :meth:`state_dict` of this class (or from the
                original ``pytorch_warmup`` package).

        Raises:
            TypeError: ``state_dict`` or one of its entries has the wrong type.
            ValueError: keys are missing or unknown, or lengths or values are wrong.
        """
        cls = type(self).__name__
        state = _checks.state_keys(state_dict, _STATE_KEYS, cls)
        groups = self.optimizer.param_groups
        n = len(groups)
        lrs = _checks.sequence(state["lrs"], "state 'lrs'", n, "param group")
        for i, lr in enumerate(lrs):
            _checks.lr(lr, f"state 'lrs'[{i}]")
        params = self._check_params(state["warmup_params"], n, "state 'warmup_params'")
        step = max(_checks.last_step(state["last_step"], "state 'last_step'"), 0)
        factors = self._factors(params, step)  # the parameters must give a factor
        if self._inside:
            raise RuntimeError("load_state_dict() cannot be called inside dampening()")
        self.lrs = [_lr.to_like(lr, g["lr"]) for lr, g in zip(lrs, groups, strict=True)]
        self.warmup_params = params
        self.last_step = step
        self._late_groups = None
        self._ones_from = None
        self._free = False
        if self._step_t is not None:
            self._step_t.fill_(step)
        if not self._detached:
            _lr.write(groups, self.lrs)
            if self._hooks is None:
                self._apply(groups, step, factors)

    # -- copies -------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        self._sync_step()
        state = dict(self.__dict__)
        state["_pytorch_warmup_mechanism"] = {
            "detached": self._detached,
            "attached": self._hooks is not None,
            "in_graph": self._step_t is not None,
            "free": self._free,
            "inside": self._inside,
            "late_groups": self._late_groups,
            "ones_from": self._ones_from,
            "written": self._written,
        }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        mechanism = state.pop("_pytorch_warmup_mechanism")
        self.__dict__.update(state)
        self._cells = {}
        self._kept = self.lrs
        self._detached = mechanism["detached"]
        self._free = mechanism["free"]
        self._inside = mechanism["inside"]
        self._late_groups = mechanism["late_groups"]
        self._ones_from = mechanism["ones_from"]
        self._written = mechanism["written"]
        self._hooks = None
        self._step_t = None
        if mechanism["in_graph"]:
            device = self.lrs[0].device if isinstance(self.lrs[0], Tensor) else None
            self._step_t = torch.tensor(self.last_step, dtype=torch.int64, device=device)
        if not self._detached:
            _claim(self.optimizer, self)
            if mechanism["attached"]:
                self._register_hooks()

    # -- validation -------------------------------------------------------------------

    def _check_params(
        self, warmup_params: object, num_groups: int, name: str = "warmup_params"
    ) -> list[dict[str, Any]]:
        """Check the shape of ``warmup_params`` and return a deep-enough copy."""
        entries = _checks.sequence(warmup_params, name, num_groups, "param group")
        params: list[dict[str, Any]] = []
        for i, p in enumerate(entries):
            if not isinstance(p, Mapping) or not all(isinstance(k, str) for k in p):
                raise TypeError(
                    f"{name}[{i}] must be a dict with str keys, got {_checks.describe(p)}"
                )
            if self._requires and set(p) != set(self._requires):
                raise ValueError(
                    f"{name}[{i}] must have exactly the keys {list(self._requires)} for "
                    f"{type(self).__name__}, got {sorted(p)}"
                )
            params.append(self._check_group_params(dict(p), f"{name}[{i}]"))
        return params

    def _check_group_params(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        """Validate (and normalise) one group's warmup parameters; subclasses extend."""
        return params

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(last_step={self.last_step}, "
            f"warmup_params={self.warmup_params!r})"
        )


def _resolve_period(
    warmup_period: object,
    warmup_fraction: object,
    total_steps: object,
    warmup_epochs: object,
    steps_per_epoch: object,
) -> object:
    """The period in updates from whichever unit was given (exactly one)."""
    given = [
        name
        for name, value in (
            ("warmup_period", warmup_period),
            ("warmup_fraction", warmup_fraction),
            ("warmup_epochs", warmup_epochs),
        )
        if value is not None
    ]
    if len(given) != 1:
        got = " and ".join(given) if given else "None"
        raise TypeError(
            "give exactly one of warmup_period (an int or a list of ints, in updates), "
            "warmup_fraction (with total_steps) and warmup_epochs (with steps_per_epoch); "
            f"got {got}"
        )
    if warmup_period is not None:
        for name, value in (("total_steps", total_steps), ("steps_per_epoch", steps_per_epoch)):
            if value is not None:
                raise TypeError(f"{name} only goes with warmup_fraction or warmup_epochs")
        return warmup_period
    if warmup_fraction is not None:
        if steps_per_epoch is not None:
            raise TypeError("steps_per_epoch goes with warmup_epochs, not warmup_fraction")
        if total_steps is None:
            raise TypeError("warmup_fraction needs total_steps, the number of updates of training")
        fraction = _checks.as_float(warmup_fraction, "warmup_fraction")
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"warmup_fraction must be in (0, 1], got {warmup_fraction!r}")
        total = _checks.as_int(total_steps, "total_steps", minimum=1)
        exact, what = Fraction(repr(fraction)) * total, f"{fraction!r} of {total} updates"
    else:
        if total_steps is not None:
            raise TypeError("total_steps goes with warmup_fraction, not warmup_epochs")
        if steps_per_epoch is None:
            raise TypeError("warmup_epochs needs steps_per_epoch, the number of updates per epoch")
        epochs = _checks.as_float(warmup_epochs, "warmup_epochs")
        if not epochs > 0:
            raise ValueError(f"warmup_epochs must be positive, got {warmup_epochs!r}")
        per_epoch = _checks.as_int(steps_per_epoch, "steps_per_epoch", minimum=1)
        exact = Fraction(repr(epochs)) * per_epoch
        what = f"{epochs!r} epochs of {per_epoch} updates"
    period = round(exact)  # to the nearest int, ties to even
    if period < 1:
        raise ValueError(f"a warmup over {what} rounds to a period of 0 updates")
    return period


class _PeriodWarmup(BaseWarmup):
    """A warmup with one int period per param group: the linear and exponential ones."""

    _requires = ("warmup_period",)
    _never_decreases = True

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_period: int | Sequence[int] | None = None,
        last_step: int = -1,
        *,
        warmup_fraction: float | None = None,
        total_steps: int | None = None,
        warmup_epochs: float | None = None,
        steps_per_epoch: int | None = None,
    ) -> None:
        optimizer = _checks.optimizer(optimizer, type(self).__name__)
        n = len(optimizer.param_groups)
        period = _resolve_period(
            warmup_period, warmup_fraction, total_steps, warmup_epochs, steps_per_epoch
        )
        if isinstance(period, (list, tuple)):
            entries = _checks.sequence(period, "warmup_period", n, "param group")
            periods = [
                _checks.as_int(p, f"warmup_period[{i}]", minimum=1) for i, p in enumerate(entries)
            ]
        else:
            try:
                value = _checks.as_int(period, "warmup_period")
            except TypeError:
                raise TypeError(
                    "warmup_period must be an int or a list of ints (one per param group), "
                    f"got {_checks.describe(period)}"
                ) from None
            periods = [_checks.as_int(value, "warmup_period", minimum=1)] * n
        super().__init__(optimizer, [{"warmup_period": p} for p in periods], last_step)

    def _check_group_params(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        key = f"{name}['warmup_period']"
        params["warmup_period"] = _checks.as_int(params["warmup_period"], key, minimum=1)
        return params


class LinearWarmup(_PeriodWarmup):
    r"""Linear warmup over a given period.

    .. math::

        \omega_t^{\mathrm{linear},\tau} = \min\left\{1, \frac{t}{\tau}\right\}

    The factor reaches exactly 1 at :math:`t = \tau` and stays there. The period
    can be given in updates, as a fraction of the training, or in epochs; a
    fraction or a number of epochs is rounded to the nearest int (ties to even)
    at construction, and the state holds that int period.

    Args:
        optimizer: The wrapped optimizer (an Adam-family optimizer; RAdam already
            contains a warmup of its own).
        warmup_period: The warmup period :math:`\tau` in updates, an int or one
            int per param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.
        warmup_fraction: Instead of ``warmup_period``: the fraction of
            ``total_steps`` in :math:`(0, 1]` (Lightning:
            ``trainer.estimated_stepping_batches``; Hugging Face ``Trainer``:
            ``max_steps``).
        total_steps: The number of updates of the whole training.
        warmup_epochs: Instead of ``warmup_period``: a number of epochs of
            ``steps_per_epoch`` updates each.
        steps_per_epoch: The number of updates per epoch.

    Raises:
        TypeError: ``warmup_period`` is not an int or a list of ints, or not
            exactly one of the three ways of giving the period is used.
        ValueError: a period is not positive, the list has the wrong length, a
            fraction is outside :math:`(0, 1]`, or the period rounds to 0.

    Example:
        >>> import torch
        >>> from pytorch_warmup import LinearWarmup
        >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1e-3)
        >>> cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
        >>> warmup = LinearWarmup(opt, warmup_period=100)
        >>> opt.param_groups[0]["lr"]  # 1e-3 * 1/100
        1e-05
        >>> for _ in range(99):
        ...     opt.step()
        ...     with warmup.dampening():
        ...         cosine.step()
        >>> opt.param_groups[0]["lr"] == cosine.get_last_lr()[0]  # t = 100: factor 1
        True
    """

    _never_decreases = True

    def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
        r"""The factor :math:`\min\{1, t/\tau\}` with :math:`t = \text{step} + 1`.

        Args:
            step: The index of the step.
            warmup_period: The warmup period :math:`\tau`.
        """
        return _math.linear_factor(step, warmup_period)

    def warmup_factor_tensor(self, step: Tensor, warmup_period: int) -> Tensor:  # type: ignore[override]
        """:meth:`warmup_factor` with torch ops (bit for bit the same value)."""
        return torch.clamp((step + 1.0) / warmup_period, max=1.0)


class ExponentialWarmup(_PeriodWarmup):
    r"""Exponential warmup with a given time constant.

    .. math::

        \omega_t^{\mathrm{expo},\tau} = 1 - \exp\left(-\frac{t}{\tau}\right)

    computed as ``-expm1(-t/tau)``, accurate to an ulp or two even when
    :math:`t/\tau` is tiny (where ``1 - exp(-x)`` loses every digit). The
    factor is exactly 1 once :math:`e^{-t/\tau} \le 2^{-54}`, that is from
    :math:`t \approx 54 \ln 2 \, \tau \approx 37.4\,\tau` on; after that
    the warmup costs nothing. The period can be given as for
    :class:`LinearWarmup`.

    Args:
        optimizer: The wrapped optimizer (an Adam-family optimizer; RAdam already
            contains a warmup of its own).
        warmup_period: The constant :math:`\tau` in updates (like a linear warmup
            period), an int or
            one int per param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.
        warmup_fraction: Instead of ``warmup_period``: the fraction of
            ``total_steps`` in :math:`(0, 1]` (Lightning:
            ``trainer.estimated_stepping_batches``; Hugging Face ``Trainer``:
            ``max_steps``).
        total_steps: The number of updates of the whole training.
        warmup_epochs: Instead of ``warmup_period``: a number of epochs of
            ``steps_per_epoch`` updates each.
        steps_per_epoch: The number of updates per epoch.

    Raises:
        TypeError: ``warmup_period`` is not an int or a list of ints, or not
            exactly one of the three ways of giving the period is used.
        ValueError: a period is not positive, the list has the wrong length, a
            fraction is outside :math:`(0, 1]`, or the period rounds to 0.

    Example:
        >>> import torch
        >>> from pytorch_warmup import ExponentialWarmup
        >>> opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> warmup = ExponentialWarmup(opt, warmup_period=10**9)
        >>> opt.param_groups[0]["lr"]  # 1 - exp(-1e-9), all digits correct
        9.999999995e-10
    """

    _never_decreases = True

    def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
        r"""The factor :math:`1 - \exp(-t/\tau)` with :math:`t = \text{step} + 1`.

        Args:
            step: The index of the step.
            warmup_period: The constant :math:`\tau`.
        """
        return _math.exponential_factor(step, warmup_period)

    def warmup_factor_tensor(self, step: Tensor, warmup_period: int) -> Tensor:  # type: ignore[override]
        """:meth:`warmup_factor` with torch ops (within an ulp of it)."""
        return -torch.expm1(-(step + 1.0) / warmup_period)
