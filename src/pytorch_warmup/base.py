r"""The warmup mechanism and the manual warmup schedules.

A warmup multiplies the learning rate :math:`\alpha_t` that the user's own LR
scheduler sets by a warmup factor :math:`\omega_t \in (0, 1]`, so that the
optimizer uses

.. math::

    \hat\alpha_t = \alpha_t \, \omega_t

at iteration :math:`t = \text{step} + 1`. :class:`BaseWarmup` holds the
mechanism (which learning rates are undampened, which step comes next, how the
state is saved); subclasses only provide the pure function
:meth:`BaseWarmup.warmup_factor`.
"""

from __future__ import annotations

import math
import operator
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar

from torch import Tensor
from torch.optim import Optimizer

from . import _lr
from ._lr import LR

__all__ = ["BaseWarmup", "ExponentialWarmup", "LinearWarmup", "WarmupWarning"]

_STATE_KEYS = ("lrs", "warmup_params", "last_step")


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


def _describe(value: object) -> str:
    return f"{value!r} of type {type(value).__name__}"


def _as_int(value: object, name: str) -> int:
    """``value`` as a Python int, or a ``TypeError`` naming ``name``.

    Accepts anything with ``__index__`` (Python and numpy integers, integer
    0-dim tensors); refuses bools and floats, even integral ones.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {_describe(value)}") from None


def _check_last_step(last_step: object, name: str = "last_step") -> int:
    step = _as_int(last_step, name)
    if step < -1:
        raise ValueError(f"{name} must be >= -1, got {step}")
    return step


def _check_optimizer(optimizer: object, cls: str) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{cls} needs a torch.optim.Optimizer, got {_describe(optimizer)}")
    return optimizer


def check_warmup_period(warmup_period: object, num_groups: int) -> list[int]:
    """Validate a warmup period and expand it to one int per param group.

    Args:
        warmup_period: A positive int, or a list or tuple with one positive int
            per param group. numpy integers count as ints; bools and floats do not.
        num_groups: The number of param groups of the optimizer.

    Returns:
        One Python int per param group.

    Raises:
        TypeError: ``warmup_period`` is neither an int nor a sequence of ints.
        ValueError: a period is not positive, or the sequence has the wrong length.
    """
    if isinstance(warmup_period, (list, tuple)):
        if len(warmup_period) != num_groups:
            raise ValueError(
                f"warmup_period must have one entry per param group: the optimizer has "
                f"{num_groups} param group(s), warmup_period={warmup_period!r} has "
                f"{len(warmup_period)}"
            )
        periods = [_as_int(p, f"warmup_period[{i}]") for i, p in enumerate(warmup_period)]
        names = [f"warmup_period[{i}]" for i in range(num_groups)]
    else:
        try:
            period = _as_int(warmup_period, "warmup_period")
        except TypeError:
            raise TypeError(
                "warmup_period must be an int or a list of ints (one per param group), "
                f"got {_describe(warmup_period)}"
            ) from None
        periods = [period] * num_groups
        names = ["warmup_period"] * num_groups
    for name, period in zip(names, periods, strict=True):
        if period < 1:
            raise ValueError(f"{name} must be a positive int, got {period}")
    return periods


def _stepper(warmup: BaseWarmup) -> _lr.Stepper:
    """The warmup's cache for the step path, created on first use."""
    stepper = warmup.__dict__.get("_lr_stepper")
    if not isinstance(stepper, _lr.Stepper):
        stepper = warmup.__dict__["_lr_stepper"] = _lr.Stepper()
    return stepper


class _Dampening:
    """The context manager returned by :meth:`BaseWarmup.dampening`."""

    __slots__ = ("_warmup",)

    def __init__(self, warmup: BaseWarmup) -> None:
        self._warmup = warmup

    def __enter__(self) -> None:
        warmup = self._warmup
        groups = warmup.optimizer.param_groups
        lrs = warmup.lrs
        if len(groups) != len(lrs) or warmup._had_initial_lr is not None:
            groups = warmup._param_groups()  # raises, or runs the one-time check
        # Keep what the optimizer uses now, to put it back if the suite fails,
        # then let the schedulers see the undampened learning rates.
        kept = _lr.enter_plain(groups, lrs)
        if kept is None:
            kept = _stepper(warmup).enter(groups, lrs, warmup._dampened)
        elif warmup._written is not None and kept != warmup._written:
            try:
                warmup._report_change_outside(kept)
            except BaseException:  # warnings turned into errors: change nothing
                _lr.write(groups, kept)
                raise
        warmup._dampened = kept

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        warmup = self._warmup
        if exc_type is None:
            try:
                groups, step, factors = warmup._plan(None)
            except BaseException:
                self._restore()
                raise
            warmup.last_step = step
            lrs = warmup.lrs
            written = _lr.leave_plain(groups, lrs, factors)
            if written is None:
                _stepper(warmup).leave(groups, lrs, warmup._dampened, factors)
            warmup._written = written if warmup._watch else None
        else:
            self._restore()

    def _restore(self) -> None:
        """Put back the dampened learning rates the optimizer had before entry."""
        dampened = self._warmup._dampened
        # If the block added a param group, the groups that existed are restored.
        _lr.write(self._warmup.optimizer.param_groups[: len(dampened)], dampened)


class BaseWarmup:
    r"""Base class of the warmup schedules.

    At each iteration :math:`t` the learning rate :math:`\alpha_t` set by the
    user (or by LR schedulers) is multiplied by a warmup factor
    :math:`\omega_t \in (0, 1]`:

    .. math::

        \hat\alpha_t = \alpha_t \, \omega_t .

    Construction records each param group's learning rate as its undampened
    value and dampens it once, for the first iteration. Afterwards, step the LR
    schedulers inside :meth:`dampening` once per iteration.

    Subclasses implement :meth:`warmup_factor`; everything that touches the
    optimizer lives here.

    Args:
        optimizer: The wrapped optimizer.
        warmup_params: One dict of keyword arguments of :meth:`warmup_factor`
            per param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Attributes:
        optimizer: The wrapped optimizer.
        lrs: The undampened learning rate of each param group (copies).
        warmup_params: The warmup parameters of each param group.
        last_step: The index of the last step (``0`` after construction).

    Raises:
        TypeError: ``optimizer`` is not an optimizer, ``warmup_params`` is not a
            list of dicts, or ``last_step`` is not an int.
        ValueError: ``warmup_params`` has the wrong length or ``last_step < -1``.
    """

    _requires: ClassVar[tuple[str, ...]] = ()
    """The keys every dict of ``warmup_params`` must have (checked on load)."""

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_params: list[dict[str, Any]],
        last_step: int = -1,
    ) -> None:
        cls = type(self).__name__
        optimizer = _check_optimizer(optimizer, cls)
        groups = optimizer.param_groups
        params = self._check_params(warmup_params, len(groups))
        step = _check_last_step(last_step)
        owners: dict[int, int] = {}
        for i, group in enumerate(groups):
            lr = group.get("lr")
            _lr.check_lr(lr, f"optimizer.param_groups[{i}]['lr']")
            # A tensor shared by several groups (an optimizer-wide default lr
            # tensor) is dampened once, so its groups must share one factor.
            j = owners.setdefault(id(lr), i) if isinstance(lr, Tensor) else i
            if params[j] != params[i]:
                raise ValueError(
                    f"optimizer.param_groups[{j}] and [{i}] hold the same lr tensor but "
                    f"get different warmup parameters ({params[j]} and {params[i]}); give "
                    "each group its own lr tensor"
                )
        factors = self._factors(params, step + 1)  # fails before anything changes
        self.optimizer = optimizer
        self.warmup_params = params
        self.last_step = step + 1
        self.lrs: list[LR] = _lr.read(groups)
        self._dampened: list[LR] = _lr.read(groups)  # scratch space for dampening()
        _lr.scale(groups, factors)
        # The float learning rates last written, to notice a change made between
        # steps outside dampening() (an LR scheduler stepped after the block).
        self._watch = True
        self._written: list[float] | None = _lr.plain_values(groups)
        # Schedulers constructed before the warmup have set 'initial_lr'; one that
        # appears later belongs to a scheduler built after the warmup.
        self._had_initial_lr: list[bool] | None = ["initial_lr" in g for g in groups]

    # -- the maths --------------------------------------------------------------

    def warmup_factor(self, step: int, **params: Any) -> float:
        r"""The warmup factor :math:`\omega_t` at iteration :math:`t = \text{step} + 1`.

        A pure function of its arguments; :meth:`dampen` calls it once per
        distinct set of parameters at each step.

        Args:
            step: The index of the step (``0`` for the first iteration).
            **params: The warmup parameters of one param group.

        Returns:
            The factor, in :math:`(0, 1]`.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement warmup_factor()")

    def _factors(self, params: Sequence[Mapping[str, Any]], step: int) -> list[float]:
        # Param groups usually share their warmup parameters: compute each
        # distinct factor once. The common case, every group equal to the first,
        # is one comparison per group in C.
        n = len(params)
        if n == 1:
            return [self.warmup_factor(step, **params[0])]
        if n == 0:
            return []
        first = params[0]
        if params.count(first) == n:
            return [self.warmup_factor(step, **first)] * n
        factors: list[float] = []
        last: Mapping[str, Any] | None = None
        factor = 1.0
        for p in params:
            if p is not last and p != last:
                factor = self.warmup_factor(step, **p)
                last = p
            factors.append(factor)
        return factors

    # -- the mechanism ----------------------------------------------------------

    def _param_groups(self) -> list[dict[str, Any]]:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.lrs):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but {type(self).__name__} "
                f"was built for {len(self.lrs)}: a param group was added or removed after "
                "the warmup was created. Create the warmup after the last "
                "optimizer.add_param_group() call."
            )
        if self._had_initial_lr is not None:
            self._check_scheduler_order(groups)
        return groups

    def _check_scheduler_order(self, groups: list[dict[str, Any]]) -> None:
        had = self._had_initial_lr
        self._had_initial_lr = None
        assert had is not None
        late = [i for i, g in enumerate(groups) if "initial_lr" in g and not had[i]]
        if late:
            warnings.warn(
                f"an LR scheduler was created after {type(self).__name__}: it took the "
                "dampened learning rate as its base learning rate, so the warmup factor "
                "of the first step stays in every later learning rate. Create the LR "
                "scheduler before the warmup (or use pytorch_warmup.WarmupLR).",
                WarmupWarning,
                stacklevel=_user_stacklevel(),
            )

    def _report_change_outside(self, current: Sequence[LR]) -> None:
        written = self._written
        assert written is not None
        self._watch = False
        self._written = None
        i = next(i for i, (a, b) in enumerate(zip(current, written, strict=True)) if a != b)
        warnings.warn(
            f"the learning rate of param group {i} changed outside "
            f"{type(self).__name__}.dampening() since the last step ({written[i]!r} -> "
            f"{current[i]!r}); dampening() puts back the undampened {self.lrs[i]!r}, so "
            "that change is lost. Step LR schedulers inside `with warmup.dampening():` "
            "(or, for schedulers computed in closed form, call warmup.dampen() after them).",
            WarmupWarning,
            stacklevel=_user_stacklevel(),
        )

    def dampen(self, step: int | None = None) -> None:
        r"""Multiply each group's current learning rate by its warmup factor.

        Sets :attr:`last_step` to ``step`` and multiplies ``group['lr']`` by
        :math:`\omega_{\text{step}+1}`. Prefer :meth:`dampening`, which also
        puts the undampened learning rates back before the LR schedulers step;
        calling :meth:`dampen` directly is for schedulers that compute the
        learning rate in closed form (``scheduler.step(epoch)``, ``LambdaLR``).

        Args:
            step: The index of the step; defaults to ``last_step + 1``.

        Raises:
            TypeError: ``step`` is not an int.
            ValueError: ``step`` is negative, or the optimizer's param groups
                changed since the warmup was built.
        """
        groups, step, factors = self._plan(step)
        self.last_step = step
        written = _lr.scale_plain(groups, factors)
        if written is None:
            _stepper(self).scale(groups, self.lrs, self._dampened, factors)
        self._written = written if self._watch else None

    def _plan(self, step: int | None) -> tuple[list[dict[str, Any]], int, list[float]]:
        """Check everything a step needs, before anything changes."""
        if step is None:
            step = self.last_step + 1
            if type(step) is not int or step < 0:
                step = _check_last_step(self.last_step, "warmup.last_step") + 1
        else:
            step = _as_int(step, "step")
            if step < 0:
                raise ValueError(f"step must be >= 0, got {step}")
        groups = self.optimizer.param_groups
        if len(groups) != len(self.lrs) or self._had_initial_lr is not None:
            groups = self._param_groups()  # raises, or runs the one-time check
        params = self.warmup_params
        if len(params) == 1:  # saves a call on the most common path
            return groups, step, [self.warmup_factor(step, **params[0])]
        return groups, step, self._factors(params, step)

    def dampening(self) -> _Dampening:
        r"""Context manager that steps LR schedulers on undampened learning rates.

        On entry the undampened learning rates are put back into the optimizer,
        so the LR schedulers stepped inside see (and chain on) the learning rates
        they set themselves. On exit the resulting learning rates are recorded as
        the new undampened values and :meth:`dampen` is applied for the next
        step. If the block raises, the optimizer keeps the dampened learning
        rates it had before, :attr:`last_step` is unchanged, and the exception
        propagates.

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

    # -- state ------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The warmup's state: ``lrs``, ``warmup_params`` and ``last_step``.

        The same keys as the original package, holding only ints, floats,
        lists, dicts and 0-dim tensors (copies), so ``torch.load`` with
        ``weights_only=True`` reads it back.
        """
        return {
            "lrs": [_lr.copy_lr(lr) for lr in self.lrs],
            "warmup_params": [dict(p) for p in self.warmup_params],
            "last_step": self.last_step,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state returned by :meth:`state_dict`.

        The state is checked against the optimizer (keys, types, one entry per
        param group, valid warmup parameters) before anything changes: a state
        that is refused leaves the warmup exactly as it was. The optimizer's
        learning rates are not touched; restore them with the optimizer's own
        ``load_state_dict``.

        Args:
            state_dict: A state from :meth:`state_dict` of this class (or from the
                original ``pytorch_warmup`` package).

        Raises:
            TypeError: ``state_dict`` or one of its entries has the wrong type.
            ValueError: keys are missing or unknown, or lengths or values are wrong.
        """
        cls = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{cls}.load_state_dict expects a dict, got {_describe(state_dict)}")
        keys = set(state_dict)
        missing = [k for k in _STATE_KEYS if k not in keys]
        unknown = sorted(str(k) for k in keys - set(_STATE_KEYS))
        if missing or unknown:
            raise ValueError(
                f"{cls} state must have exactly the keys {list(_STATE_KEYS)}; "
                f"missing {missing}, unknown {unknown}"
            )
        groups = self.optimizer.param_groups
        n = len(groups)
        lrs = state_dict["lrs"]
        if not isinstance(lrs, (list, tuple)):
            raise TypeError(f"state 'lrs' must be a list, got {_describe(lrs)}")
        if len(lrs) != n:
            raise ValueError(
                f"state 'lrs' has {len(lrs)} entries but the optimizer has {n} param groups"
            )
        for i, lr in enumerate(lrs):
            _lr.check_lr(lr, f"state 'lrs'[{i}]")
        params = self._check_params(state_dict["warmup_params"], n, "state 'warmup_params'")
        step = _check_last_step(state_dict["last_step"], "state 'last_step'")
        self._factors(params, max(step, 0))  # the parameters must give a factor
        new_lrs = [_lr.to_like(lr, g["lr"]) for lr, g in zip(lrs, groups, strict=True)]
        self.lrs = new_lrs
        self._dampened = _lr.read(groups)
        self.warmup_params = params
        self.last_step = step
        self._had_initial_lr = None
        self._written = None  # the optimizer's state may be loaded after this

    # -- validation -------------------------------------------------------------

    def _check_params(
        self, warmup_params: object, num_groups: int, name: str = "warmup_params"
    ) -> list[dict[str, Any]]:
        """Check the shape of ``warmup_params`` and return a deep-enough copy."""
        if not isinstance(warmup_params, (list, tuple)):
            raise TypeError(
                f"{name} must be a list with one dict per param group, got "
                f"{_describe(warmup_params)}"
            )
        if len(warmup_params) != num_groups:
            raise ValueError(
                f"{name} must have one dict per param group: the optimizer has "
                f"{num_groups}, {name} has {len(warmup_params)}"
            )
        params: list[dict[str, Any]] = []
        for i, p in enumerate(warmup_params):
            if not isinstance(p, Mapping) or not all(isinstance(k, str) for k in p):
                raise TypeError(f"{name}[{i}] must be a dict with str keys, got {_describe(p)}")
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


class _PeriodWarmup(BaseWarmup):
    """A warmup with one int period per param group: the linear and exponential ones."""

    _requires = ("warmup_period",)

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_period: int | Sequence[int],
        last_step: int = -1,
    ) -> None:
        optimizer = _check_optimizer(optimizer, type(self).__name__)
        periods = check_warmup_period(warmup_period, len(optimizer.param_groups))
        super().__init__(optimizer, [{"warmup_period": p} for p in periods], last_step)

    def _check_group_params(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        key = f"{name}['warmup_period']"
        period = _as_int(params["warmup_period"], key)
        if period < 1:
            raise ValueError(f"{key} must be a positive int, got {period}")
        params["warmup_period"] = period
        return params


class LinearWarmup(_PeriodWarmup):
    r"""Linear warmup over a given period.

    .. math::

        \omega_t^{\mathrm{linear},\tau} = \min\left\{1, \frac{t}{\tau}\right\}

    The factor reaches exactly 1 at :math:`t = \tau` and stays there.

    Args:
        optimizer: The wrapped optimizer (an Adam-family optimizer; RAdam already
            contains a warmup of its own).
        warmup_period: The warmup period :math:`\tau`, an int or one int per
            param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Raises:
        TypeError: ``warmup_period`` is not an int or a list of ints.
        ValueError: a period is not positive or the list has the wrong length.

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

    def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
        r"""The factor :math:`\min\{1, t/\tau\}` with :math:`t = \text{step} + 1`.

        Args:
            step: The index of the step.
            warmup_period: The warmup period :math:`\tau`.
        """
        return min(1.0, (step + 1) / warmup_period)


class ExponentialWarmup(_PeriodWarmup):
    r"""Exponential warmup with a given time constant.

    .. math::

        \omega_t^{\mathrm{expo},\tau} = 1 - \exp\left(-\frac{t}{\tau}\right)

    computed as ``-expm1(-t/tau)``, accurate to an ulp or two even when
    :math:`t/\tau` is tiny (where ``1 - exp(-x)`` loses every digit).

    Args:
        optimizer: The wrapped optimizer (an Adam-family optimizer; RAdam already
            contains a warmup of its own).
        warmup_period: The constant :math:`\tau`, analogous to a linear warmup
            period; an int or one int per param group.
        last_step: The index of the last step; ``-1`` starts a new warmup.

    Raises:
        TypeError: ``warmup_period`` is not an int or a list of ints.
        ValueError: a period is not positive or the list has the wrong length.

    Example:
        >>> import torch
        >>> from pytorch_warmup import ExponentialWarmup
        >>> opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> warmup = ExponentialWarmup(opt, warmup_period=10**9)
        >>> opt.param_groups[0]["lr"]  # 1 - exp(-1e-9), all digits correct
        9.999999995e-10
    """

    def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
        r"""The factor :math:`1 - \exp(-t/\tau)` with :math:`t = \text{step} + 1`.

        Args:
            step: The index of the step.
            warmup_period: The constant :math:`\tau`.
        """
        return -math.expm1(-(step + 1) / warmup_period)
