r"""The warmup schedules, and what every warmup shares.

A warmup multiplies the learning rate :math:`\alpha_t` that the user's own LR
scheduler sets by a warmup factor :math:`\omega_t \in (0, 1]`, so that the
optimizer uses

.. math::

    \hat\alpha_t = \alpha_t \, \omega_t

at iteration :math:`t = \text{step} + 1`. :class:`BaseWarmup` holds what a
warmup *is*: the pure function :meth:`BaseWarmup.warmup_factor` of each
subclass, the warmup's state (``lrs``, ``warmup_params``, ``last_step``) and
its public API. How the factor reaches the optimizer lives elsewhere:
``_dampen.py`` (the original ``dampening()`` protocol) and ``_attached.py``
(:meth:`BaseWarmup.attach`), both writing the param groups through ``_lr.py``;
the factors themselves are terms of ``_schedule.py``, and what goes beyond the
warmup (a cooldown, a rewarm, warmed group values) is in ``_plans.py``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.optim import Optimizer

from . import _checks, _lr, _math, _owners
from ._checks import WarmupWarning, user_stacklevel
from ._dampen import Dampening
from ._lr import LR
from ._plans import EXTRA_KEYS, Plans
from ._schedule import Factor, Plan, WarmupTerm, distinct

__all__ = ["BaseWarmup", "ExponentialWarmup", "LinearWarmup", "WarmupWarning", "get_warmup_params"]

_STATE_KEYS = ("lrs", "warmup_params", "last_step")


class _NotAScheduler:
    """A scheduler's attribute on a warmup: an ``AttributeError`` that says what to do.

    (A descriptor rather than ``__getattr__``, which would slow every attribute
    access of the step path.) A subclass or an instance may still set it.
    """

    def __init__(self, hint: str) -> None:
        self.hint = hint

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            pass
        raise AttributeError(
            f"{type(instance).__name__} has no {self.name!r}: {self.hint}. Attached "
            "(warmup.attach()), nothing needs calling: step the optimizer and the LR "
            "schedulers. Original API: `with warmup.dampening(): scheduler.step()` after "
            "optimizer.step(). A framework that needs one LR scheduler object: "
            "WarmupLR(scheduler, warmup)."
        )

    def __set__(self, instance: object, value: Any) -> None:
        instance.__dict__[self.name] = value


def get_warmup_params(warmup_period: int | Sequence[int], group_count: int) -> list[dict[str, int]]:
    """The ``warmup_params`` of a linear or exponential warmup: one dict per param group.

    Args:
        warmup_period: An int period for every group, or a list of one int per group.
        group_count: The number of param groups.

    Raises:
        TypeError: ``warmup_period`` is not an int or a list of ints.
        ValueError: the list has the wrong length, or a period is not positive.

    Example:
        >>> from pytorch_warmup.base import get_warmup_params
        >>> get_warmup_params(10, 2)
        [{'warmup_period': 10}, {'warmup_period': 10}]
    """
    n = _checks.as_int(group_count, "group_count", minimum=0)
    return [{"warmup_period": p} for p in _checks.periods(warmup_period, n)]


class _Dampening:
    """The context manager returned by :meth:`BaseWarmup.dampening`."""

    __slots__ = ("_driver", "_entered")

    def __init__(self, driver: Dampening) -> None:
        self._driver = driver
        self._entered = False

    def __enter__(self) -> None:
        self._entered = True
        self._driver.enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._driver.leave(exc_type is None)

    def __del__(self) -> None:
        if self._entered:
            return
        w = self._driver.warmup
        try:
            warnings.warn(
                f"{type(w).__name__}.dampening() was called without `with`: it returns a "
                "context manager and does nothing by itself, so the warmup did not advance "
                f"(last_step stays {w.last_step}). Write `with warmup.dampening(): "
                "scheduler.step()`, or call warmup.dampen().",
                WarmupWarning,
                stacklevel=user_stacklevel(),
            )
        except Exception:  # warnings turned into errors: nothing can be raised from here
            return


class BaseWarmup(Plans):
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

    Subclasses implement :meth:`warmup_factor`. One optimizer is driven by one
    warmup: building another on the same optimizer *takes over* (the new one
    starts from the undampened rates, even when the old one was dropped without
    :meth:`detach`; the old one is detached, and driving it afterwards raises an
    error that names the new one).

    Args:
        optimizer: The wrapped optimizer.
        warmup_params: One dict of keyword arguments of :meth:`warmup_factor`
            per param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Attributes:
        optimizer: The wrapped optimizer.
        lrs: The undampened learning rate of each param group (copies). In
            dampening mode they are updated at every step; attached, the
            optimizer holds them between updates and :meth:`state_dict`
            refreshes this list from there.
        warmup_params: The warmup parameters of each param group.
        last_step: The index of the step whose factor applies to the next
            update (``0`` after construction; in attached mode, the number of
            updates done).

    Raises:
        TypeError: ``optimizer`` is not an optimizer, ``warmup_params`` is not a
            list of dicts, or ``last_step`` is not an int.
        ValueError: ``warmup_params`` has the wrong length, or ``last_step < -1``.
    """

    # The mechanism, kept out of __dict__ so that __dict__ holds the optimizer and
    # the state's keys only.
    __slots__ = ("__dict__", "__weakref__", "_driver", "_replaced_by")

    _requires: ClassVar[tuple[str, ...]] = ()
    """The keys every dict of ``warmup_params`` must have (checked on load)."""

    step = _NotAScheduler("a warmup is not an LR scheduler and has no step()")
    get_lr = _NotAScheduler("a warmup is not an LR scheduler; get_last_lr() gives the rates")
    last_epoch = _NotAScheduler("a warmup counts steps in last_step")
    base_lrs = _NotAScheduler("a warmup keeps the undampened rates in lrs")

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
        _check_lrs(groups, params)
        self._driver: Dampening | Any = None
        self._replaced_by: str | None = None
        self.optimizer = optimizer
        self.warmup_params = params
        self.last_step = step
        self.lrs: list[LR] = []
        self._plan().lr_factors(step)  # fails before anything changes
        claim = _owners.claim(optimizer, self)  # a warmup already there hands over
        self.lrs[:] = _lr.read(groups)
        self._driver = Dampening(self, claim)
        self._driver.apply(step)

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

    def _factor_fn(self, params: Mapping[str, Any]) -> Factor:
        """:meth:`warmup_factor` of one set of parameters (subclasses give a faster equal)."""
        return functools.partial(self.warmup_factor, **params)

    def _plan(self) -> Plan:
        """The terms this warmup applies: its own factor (and what is added to it)."""
        params = self.warmup_params
        n = len(params)
        found, index = distinct(params)
        term = WarmupTerm(
            fns=[self._factor_fn(p) for p in found],
            tensor_fns=[functools.partial(self.warmup_factor_tensor, **p) for p in found],
            index=index,
            n=n,
            origin=int(self.__dict__.get("rewarmed_at", 0)),
            monotone=self._never_decreases,
        )
        lr, values = self._extra_terms(n)
        return Plan([term, *lr], values, n, params)

    def lr_factors(self, step: int) -> list[float]:
        r"""The factor each param group's learning rate gets at update ``step + 1``.

        Args:
            step: The index of the step (``0`` for the first update).

        Returns:
            One factor per param group (:math:`\omega_t`).
        """
        step = _checks.as_int(step, "step", minimum=0)
        driver = self._driver
        plan = driver.current_plan() if driver is not None else self._plan()
        return plan.lr_factors(step)

    def _period_in_steps(self, params: list[dict[str, Any]] | None = None) -> int | None:
        """About how many steps the warmup lasts with ``params`` (default: its own), when
        known: for the misuse checks and the cooldown's overlap."""
        return None

    def _factors_in_use(self) -> list[float]:
        """The learning-rate factor of each group for the update in progress.

        Called inside ``optimizer.step()`` (a step pre-hook of the preview): the
        factors that update uses. In dampening mode, between updates: the
        factors applied now.
        """
        driver = self._driver
        if hasattr(driver, "sync"):
            driver.sync()
        return self.lr_factors(max(int(self.last_step), 0))

    # -- dampening: the original API -----------------------------------------------

    def _dampening_driver(self, what: str) -> Dampening:
        """The driver of the original protocol, or an error saying why there is none."""
        driver = self._driver
        if isinstance(driver, Dampening):
            return driver
        self._check_live()
        raise RuntimeError(
            f"{what} is for a warmup that is not attached; this {type(self).__name__} is "
            "attached to its optimizer and applies its factor inside optimizer.step(): step "
            "the LR schedulers directly"
        )

    def _check_live(self) -> None:
        if self._driver is not None:
            return
        if self._replaced_by is not None:
            raise RuntimeError(
                f"this {type(self).__name__} no longer drives its optimizer: "
                f"{self._replaced_by} was built on the same optimizer and took over. Use that "
                "one."
            )
        raise RuntimeError(
            f"this {type(self).__name__} was detached from its optimizer; build a new "
            "warmup (or call attach()) to warm up again"
        )

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
            RuntimeError: the warmup is attached, detached, or inside
                :meth:`dampening`.
        """
        driver = self._dampening_driver("dampen()")
        if driver.inside:
            raise RuntimeError("dampen() cannot be called inside dampening()")
        driver.advance(step)

    def dampening(self) -> _Dampening:
        r"""Context manager that steps LR schedulers on undampened learning rates.

        On entry the undampened learning rates are put back into the optimizer,
        so the LR schedulers stepped inside see (and chain on) the learning rates
        they set themselves. On exit the resulting learning rates are recorded as
        the new undampened values and :meth:`dampen` is applied for the next
        step. If the block raises, the optimizer keeps the learning rates it had
        before, :attr:`last_step` is unchanged, and the exception propagates.
        Entering the block again inside itself raises ``RuntimeError`` before
        anything changes. Calling ``dampening()`` without ``with`` does nothing
        and is reported with a :class:`WarmupWarning`.

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
        driver = self._driver
        if type(driver) is not Dampening:
            driver = self._dampening_driver("dampening()")
        return _Dampening(driver)

    # -- attached mode --------------------------------------------------------------

    def attach(self, *, in_graph: bool = False) -> BaseWarmup:
        r"""Apply the warmup inside ``optimizer.step()`` from now on; returns the warmup.

        Puts the undampened learning rates back into the optimizer and wraps
        the optimizer's ``step``. Update number :math:`t` (counting completed
        ``optimizer.step()`` calls from :attr:`last_step`) then uses
        :math:`\alpha\,\omega_t`, where :math:`\alpha` is ``group['lr']`` as the
        LR schedulers left it; right after the update ``group['lr']`` is
        :math:`\alpha` again, bit for bit (a tensor lr stays the same object,
        updated in place), and so it is at once when the step raises (that
        update is not counted). A step that ``GradScaler`` skips, or a
        micro-batch of gradient accumulation, is not counted; LR schedulers can
        be built and stepped in any order and number. Step hooks registered on
        the optimizer run inside the update and see the rate it uses.

        With ``in_graph=True`` (tensor learning rates on one device) the factor
        is computed with torch operations by :meth:`warmup_factor_tensor` from
        a step counter tensor, so a compiled training step does not recompile
        and a whole update, warmup included, can be captured in a CUDA graph.
        The factors then match the exact ones to a few ulp (linear: bit for
        bit), and :attr:`last_step` is brought up to date by the readers
        (:meth:`state_dict`, :meth:`get_last_lr`, :meth:`detach`).

        Attach before ``torch.compile(optimizer.step)`` or anything else that
        keeps a reference to ``optimizer.step``.

        Args:
            in_graph: Compute the factor with torch operations on the device.

        Returns:
            The warmup itself, so that ``warmup = LinearWarmup(opt, 100).attach()``.

        Raises:
            ValueError: the warmup is already attached, a param group was added
                since the warmup was built, or (``in_graph``) the lrs are on
                several devices.
            TypeError: ``in_graph`` with a float learning rate, or a warmup
                without :meth:`warmup_factor_tensor`.
            RuntimeError: inside :meth:`dampening`, or the warmup was replaced
                by another one.

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
        from . import _attached

        old = self._driver
        if old is not None and not isinstance(old, Dampening):
            raise ValueError(f"this {type(self).__name__} is already attached to its optimizer")
        if self._replaced_by is not None:
            self._check_live()
        if isinstance(old, Dampening):
            if old.inside:
                raise RuntimeError("attach() cannot be called inside dampening()")
            old.groups()
        elif len(self.optimizer.param_groups) != len(self.lrs):
            raise ValueError(
                f"the optimizer has {len(self.optimizer.param_groups)} param groups but "
                f"{type(self).__name__} was built for {len(self.lrs)}"
            )
        if isinstance(old, Dampening):
            old.detach()  # the groups hold the undampened rates again
        else:
            _owners.claim(self.optimizer, self)
        try:
            driver = _attached.attach(self, in_graph)
        except BaseException:
            if isinstance(old, Dampening):
                old.apply(self.last_step)  # as it was
            raise
        if in_graph:
            self.lrs[:] = _lr.read(self.optimizer.param_groups)  # tensors like the groups'
        self._driver = driver
        return self

    def detach(self) -> None:
        """Stop driving the optimizer and leave it as if it had never been warmed up.

        Removes the attached mode's wrapper, or (dampening mode) puts the
        undampened learning rates back. Another warmup can then be built on the
        optimizer; this one can be attached again with :meth:`attach`. A no-op
        on a warmup that is detached or was replaced by another one.
        """
        driver = self._driver
        if driver is None:
            return
        if hasattr(driver, "sync"):
            driver.sync()
        driver.detach()
        self._driver = None
        _owners.release(self.optimizer, self)

    def _extras_now(self) -> dict[str, Any]:
        return {k: self.__dict__[k] for k in EXTRA_KEYS if k in self.__dict__}

    def _taken_over(self, new: BaseWarmup) -> None:
        """Another warmup was built on the optimizer: step aside for it."""
        self.detach()
        self._replaced_by = f"{type(new).__name__} (id {id(new):#x})"

    @property
    def attached(self) -> bool:
        """Whether the warmup is applied inside ``optimizer.step()`` (see :meth:`attach`)."""
        return self._driver is not None and not isinstance(self._driver, Dampening)

    def get_last_lr(self) -> list[LR]:
        """The learning rates the next ``optimizer.step()`` uses, dampened.

        Like an LR scheduler's ``get_last_lr()``: the rates in force now. In
        dampening mode they are the optimizer's own; attached, the optimizer
        holds the schedulers' rates and these are those times the factor of the
        next update (inside an update, e.g. in a closure or a step hook: the
        rates that update uses). Log them before ``optimizer.step()``
        (Lightning: ``on_before_optimizer_step``; Hugging Face: a callback's
        ``on_pre_optimizer_step``) to record the rate each update used. Computed
        when called: nothing is recorded at each step. Floats, or 0-dim tensors
        (new ones, never the optimizer's).
        """
        driver = self._driver
        if driver is None or isinstance(driver, Dampening):
            return _lr.read(self.optimizer.param_groups)
        if hasattr(driver, "sync"):
            driver.sync()
        return driver.last_lr()  # type: ignore[no-any-return]

    # -- state -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The warmup's state: ``lrs``, ``warmup_params`` and ``last_step``.

        The same keys as the original package, holding only ints, floats,
        lists, dicts and 0-dim tensors (copies), so ``torch.load`` with
        ``weights_only=True`` reads it back. The state is the same in both
        modes: ``lrs`` are the undampened rates. Reading it changes nothing,
        wherever it is called from (inside a closure or a step hook too).
        """
        driver = self._driver
        if driver is not None and not isinstance(driver, Dampening):
            if hasattr(driver, "sync"):
                driver.sync()
            if not driver.inside:  # the optimizer holds the undampened rates
                _lr.record(self.optimizer.param_groups[: len(self.lrs)], self.lrs)
        return {
            "lrs": [_lr.copy_lr(lr) for lr in self.lrs],
            "warmup_params": [dict(p) for p in self.warmup_params],
            "last_step": self.last_step,
            **self._extras_state(),
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
            RuntimeError: inside :meth:`dampening` or an update.
        """
        cls = type(self).__name__
        state = _checks.state_keys(state_dict, _STATE_KEYS, cls, optional=EXTRA_KEYS)
        groups = self.optimizer.param_groups
        n = len(groups)
        extras = self._check_extras(state, n)
        lrs = _checks.sequence(state["lrs"], "state 'lrs'", n, "param group")
        for i, lr in enumerate(lrs):
            _checks.lr(lr, f"state 'lrs'[{i}]")
        params = self._check_params(state["warmup_params"], n, "state 'warmup_params'")
        step = max(_checks.last_step(state["last_step"], "state 'last_step'"), 0)
        driver = self._driver
        if driver is not None and driver.inside:
            raise RuntimeError("load_state_dict() cannot be called inside dampening() or an update")
        saved = (self.warmup_params, self.last_step, self._extras_now())
        self.warmup_params, self.last_step = params, step
        self._set_extras(extras)
        try:
            self._plan().lr_factors(step)  # the parameters must give a factor
        finally:
            self.warmup_params, self.last_step = saved[:2]
            self._set_extras(saved[2])
        self.lrs[:] = [_lr.to_like(lr, g["lr"]) for lr, g in zip(lrs, groups, strict=True)]
        self.warmup_params = params
        self.last_step = step
        self._set_extras(extras)
        if driver is None:
            return
        _lr.write(groups, self.lrs)
        for w in extras.get("warmed", []):  # the groups' own values of what is warmed
            own = [
                _lr.to_like(v, now)
                for v, now in zip(w["own"], _lr.read(groups, w["key"]), strict=True)
            ]
            _lr.write(groups, own, w["key"])
        driver.replan()
        if isinstance(driver, Dampening):
            driver.late = None
            driver.applied = False
            driver.apply(step)
        elif hasattr(driver, "take_last_step"):
            driver.take_last_step()

    # -- copies -------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        driver = self._driver
        if hasattr(driver, "sync"):
            driver.sync()
        state = dict(self.__dict__)
        mode = "detached" if driver is None else "dampening"
        if driver is not None and not isinstance(driver, Dampening):
            mode = "in_graph" if hasattr(driver, "sync") else "attached"
        state["_pytorch_warmup_mechanism"] = {
            "mode": mode,
            "replaced_by": self._replaced_by,
            "applied": getattr(driver, "applied", False),
            "written": getattr(driver, "written", None),
            "own": {k: v for k, v in getattr(driver, "own", {}).items() if k != "lr"},
        }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        mechanism = state.pop("_pytorch_warmup_mechanism")
        self.__dict__.update(state)
        self._driver = None
        self._replaced_by = mechanism["replaced_by"]
        mode = mechanism["mode"]
        if mode == "detached":
            return
        claim = _owners.claim(self.optimizer, self)
        if mode == "dampening":
            driver = Dampening(self, claim)
            driver.own.update(mechanism["own"])
            driver.applied = mechanism["applied"]
            driver.written = mechanism["written"]
            driver.late = None
            claim.own, claim.dampened = driver.own, driver.applied
            claim.written["lr"] = driver.written
            self._driver = driver
        else:
            from . import _attached

            self._driver = _attached.attach(self, mode == "in_graph")

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


def _check_lrs(groups: list[dict[str, Any]], params: list[dict[str, Any]]) -> None:
    """Every group's lr is a rate; groups that share an lr tensor share their parameters."""
    owners: dict[int, int] = {}
    for i, group in enumerate(groups):
        lr = group.get("lr")
        _checks.lr(lr, f"optimizer.param_groups[{i}]['lr']")
        # A tensor shared by several groups (an optimizer-wide default lr tensor)
        # is dampened once, so its groups must share one factor.
        j = owners.setdefault(id(lr), i) if isinstance(lr, Tensor) else i
        if params[j] != params[i]:
            raise ValueError(
                f"optimizer.param_groups[{j}] and [{i}] hold the same lr tensor but get "
                f"different warmup parameters ({params[j]} and {params[i]}); give each "
                "group its own lr tensor"
            )


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
        period = _checks.period(
            warmup_period, warmup_fraction, total_steps, warmup_epochs, steps_per_epoch
        )
        periods = _checks.periods(period, len(optimizer.param_groups))
        super().__init__(optimizer, [{"warmup_period": p} for p in periods], last_step)

    def _check_group_params(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        key = f"{name}['warmup_period']"
        params["warmup_period"] = _checks.as_int(params["warmup_period"], key, minimum=1)
        return params

    def _period_in_steps(self, params: list[dict[str, Any]] | None = None) -> int | None:
        params = self.warmup_params if params is None else params
        return max((p["warmup_period"] for p in params), default=None)

    def rewarm(  # type: ignore[override]
        self,
        warmup_period: int | Sequence[int] | None = None,
        *,
        warmup_fraction: float | None = None,
        total_steps: int | None = None,
        warmup_epochs: float | None = None,
        steps_per_epoch: int | None = None,
    ) -> BaseWarmup:
        """Restart the warmup at the current update (see :meth:`BaseWarmup.rewarm`).

        With no argument, the same period (the untuned warmups read
        :math:`\beta_2` from the optimizer again); or a new period, in updates,
        as a fraction of ``total_steps``, or in epochs, as at construction.

        Example:
            >>> import torch
            >>> from pytorch_warmup import LinearWarmup
            >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1.0)
            >>> warmup = LinearWarmup(opt, warmup_period=2).attach()
            >>> for _ in range(3):
            ...     opt.step()
            >>> warmup = warmup.rewarm(warmup_period=4)
            >>> used = []
            >>> for _ in range(5):
            ...     used += warmup.get_last_lr()
            ...     opt.step()
            >>> used
            [0.25, 0.5, 0.75, 1.0, 1.0]
        """
        given = (warmup_period, warmup_fraction, total_steps, warmup_epochs, steps_per_epoch)
        if all(v is None for v in given):
            periods = self._default_periods()
        else:
            period = _checks.period(*given)
            periods = _checks.periods(period, len(self.optimizer.param_groups))
        self._restart([{"warmup_period": p} for p in periods])
        return self

    def _default_periods(self) -> list[int]:
        """The periods a rewarm without arguments uses: the current ones."""
        return [p["warmup_period"] for p in self.warmup_params]


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

    def _factor_fn(self, params: Mapping[str, Any]) -> Factor:
        if type(self).warmup_factor is not LinearWarmup.warmup_factor:
            return super()._factor_fn(params)
        return _math.linear_of(params["warmup_period"])

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

    def _factor_fn(self, params: Mapping[str, Any]) -> Factor:
        if type(self).warmup_factor is not ExponentialWarmup.warmup_factor:
            return super()._factor_fn(params)
        return _math.exponential_of(params["warmup_period"])

    def warmup_factor_tensor(self, step: Tensor, warmup_period: int) -> Tensor:  # type: ignore[override]
        """:meth:`warmup_factor` with torch ops (within an ulp of it)."""
        return -torch.expm1(-(step + 1.0) / warmup_period)
