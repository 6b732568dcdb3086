r"""An LR scheduler object that combines LR schedulers with a warmup.

Training frameworks (PyTorch Lightning, the Hugging Face ``Trainer``, anything
that takes "an LR scheduler") step one scheduler object, read its
``get_last_lr()`` and checkpoint its ``state_dict()``. :class:`WarmupLR` gives
them exactly that: one :class:`torch.optim.lr_scheduler.LRScheduler` whose
:meth:`~WarmupLR.step` is

.. code-block:: python

    with warmup.dampening():
        for scheduler in schedulers:
            scheduler.step()

so the learning rate of iteration :math:`t` is :math:`\alpha_t\,\omega_t`,
where :math:`\alpha_t` is what the wrapped schedulers set and
:math:`\omega_t` the warmup factor.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from . import _checks, _lr
from ._lr import LR
from .base import BaseWarmup

__all__ = ["WarmupLR"]

_STATE_KEYS = ("warmup", "warmup_class", "schedulers", "scheduler_classes")

_PLATEAU_HINT = (
    "ReduceLROnPlateau cannot be wrapped by WarmupLR: its step() needs a metric, once per "
    "evaluation rather than once per iteration. Step it yourself inside the warmup's "
    "dampening() block of the iteration that follows the evaluation, e.g. "
    "`with warmup.dampening(): plateau.step(val_loss)`, and use the plain "
    "`with warmup.dampening(): ...` pattern for the other iterations."
)


def _as_scheduler_list(lr_scheduler: object) -> list[LRScheduler]:
    """The wrapped schedulers as a list, or a ``TypeError`` naming ``lr_scheduler``."""
    if lr_scheduler is None:
        return []
    if isinstance(lr_scheduler, (list, tuple)):
        items = list(lr_scheduler)
        names = [f"lr_scheduler[{i}]" for i in range(len(items))]
    else:
        items = [lr_scheduler]
        names = ["lr_scheduler"]
    for name, item in zip(names, items, strict=True):
        if isinstance(item, ReduceLROnPlateau):
            raise TypeError(f"{name} is a ReduceLROnPlateau. {_PLATEAU_HINT}")
        if isinstance(item, WarmupLR):
            raise TypeError(
                f"{name} is already a WarmupLR: pass the LR schedulers it wraps instead, "
                "so that one warmup dampens them"
            )
        if not isinstance(item, LRScheduler):
            raise TypeError(
                f"{name} must be a torch.optim.lr_scheduler.LRScheduler (or lr_scheduler a "
                f"list of them, or None), got {_checks.describe(item)}"
            )
    return items


def _base_lrs(scheduler: LRScheduler) -> list[LR] | None:
    """A scheduler's ``base_lrs``; for ``SequentialLR``/``ChainedScheduler``, its first one's."""
    base = getattr(scheduler, "base_lrs", None)
    if base is None:
        inner = getattr(scheduler, "_schedulers", None)
        return _base_lrs(inner[0]) if inner else None
    return list(base)


class WarmupLR(LRScheduler):
    r"""An LR scheduler that steps other LR schedulers under a warmup.

    Each :meth:`step` runs the wrapped schedulers, in order, inside
    ``warmup.dampening()``: the schedulers see and chain on the undampened
    learning rates :math:`\alpha_t`, and the optimizer then uses
    :math:`\hat\alpha_t = \alpha_t\,\omega_t`. With ``lr_scheduler=None`` the
    learning rate is the optimizer's own one times :math:`\omega_t`.

    Construction changes nothing: the schedulers and the warmup have already
    set the learning rates of the first iteration when they were built. Build
    the schedulers before the warmup; writing both in the call,
    ``WarmupLR(CosineAnnealingLR(opt, ...), LinearWarmup(opt, ...))``, does that
    naturally, since Python evaluates the arguments from left to right.

    :class:`~torch.optim.lr_scheduler.ReduceLROnPlateau` is refused: it needs
    a metric, not a step per iteration. Step it inside the warmup's
    :meth:`~pytorch_warmup.BaseWarmup.dampening` block yourself.

    Args:
        lr_scheduler: One LR scheduler, a list of LR schedulers stepped in
            order (chained), or ``None``. All must drive ``warmup.optimizer``.
        warmup: A warmup of this package (:class:`~pytorch_warmup.BaseWarmup`).

    Attributes:
        optimizer: The optimizer of the warmup and of the schedulers.
        warmup: The wrapped warmup.
        schedulers: The wrapped LR schedulers, in the order they are stepped.
        base_lrs: The initial learning rate of each param group (that of the
            first scheduler, else the warmup's undampened rates at construction).

    Raises:
        TypeError: ``warmup`` is not a warmup, or ``lr_scheduler`` is not an LR
            scheduler, a list of them or ``None`` (``ReduceLROnPlateau`` and
            ``WarmupLR`` included).
        ValueError: a scheduler drives another optimizer than the warmup, or the
            same scheduler appears twice.

    Example:
        >>> import torch
        >>> from pytorch_warmup import LinearWarmup, WarmupLR
        >>> opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.1)
        >>> scheduler = WarmupLR(
        ...     torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
        ...     LinearWarmup(opt, warmup_period=4),
        ... )
        >>> lrs = scheduler.get_last_lr()
        >>> for _ in range(4):
        ...     opt.step()
        ...     scheduler.step()
        ...     lrs += scheduler.get_last_lr()
        >>> [round(lr, 6) for lr in lrs]  # StepLR times min(1, t/4)
        [0.025, 0.05, 0.0375, 0.05, 0.025]
        >>> scheduler.last_epoch
        4
    """

    def __init__(
        self,
        lr_scheduler: LRScheduler | Sequence[LRScheduler] | None,
        warmup: BaseWarmup,
    ) -> None:
        # LRScheduler.__init__ is not called on purpose: it would set
        # 'initial_lr' on the param groups and step once.
        if not isinstance(warmup, BaseWarmup):
            raise TypeError(
                "warmup must be a pytorch_warmup warmup (a BaseWarmup), got "
                + _checks.describe(warmup)
            )
        if warmup.attached:
            raise TypeError(
                f"warmup ({type(warmup).__name__}) is attached to its optimizer: it needs no "
                "WarmupLR. Give the framework the LR scheduler itself."
            )
        schedulers = _as_scheduler_list(lr_scheduler)
        optimizer = warmup.optimizer
        seen: set[int] = set()
        for i, scheduler in enumerate(schedulers):
            name = (
                f"lr_scheduler[{i}]" if isinstance(lr_scheduler, (list, tuple)) else "lr_scheduler"
            )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{name} ({type(scheduler).__name__}) drives another optimizer than the "
                    f"warmup ({type(warmup).__name__}): both must be built on the same optimizer"
                )
            if id(scheduler) in seen:
                raise ValueError(
                    f"{name} ({type(scheduler).__name__}) appears more than once in "
                    "lr_scheduler: it would be stepped several times per iteration"
                )
            seen.add(id(scheduler))
        self.optimizer: Optimizer = optimizer
        self.warmup = warmup
        self.schedulers: list[LRScheduler] = schedulers
        source = _base_lrs(schedulers[0]) if schedulers else None
        if source is None:
            source = warmup.lrs
        self.base_lrs: list[float | Tensor] = [_lr.copy_lr(lr) for lr in source]
        self._step_count = warmup.last_step + 1

    # -- stepping ----------------------------------------------------------------

    def step(self, epoch: int | None = None) -> None:
        """Step the wrapped schedulers inside the warmup's ``dampening()`` block.

        Call it once per iteration, after ``optimizer.step()``.

        Args:
            epoch: Not supported; must be ``None``. (For the closed-form
                ``scheduler.step(epoch)`` pattern, use the warmup's ``dampen``.)

        Raises:
            TypeError: an argument was given (a metric, meant for
                ``ReduceLROnPlateau``, or an epoch).
        """
        if epoch is not None:
            raise TypeError(
                f"WarmupLR.step() takes no argument, got {_checks.describe(epoch)}. It steps its "
                "schedulers once per call; a metric belongs to ReduceLROnPlateau, which "
                "WarmupLR does not wrap. " + _PLATEAU_HINT
            )
        with self.warmup.dampening():
            for scheduler in self.schedulers:
                scheduler.step()
        self._step_count += 1

    @property
    def last_epoch(self) -> int:
        """The number of :meth:`step` calls so far: the warmup's ``last_step``."""
        return self.warmup.last_step

    @last_epoch.setter
    def last_epoch(self, value: int) -> None:
        raise AttributeError(
            f"WarmupLR.last_epoch follows the warmup's last_step and cannot be set (got "
            f"{value!r}); restore a state with load_state_dict() instead"
        )

    def get_last_lr(self) -> list[LR]:
        """The learning rates the next ``optimizer.step()`` uses (the dampened ones).

        Returns:
            One entry per param group, of the kind of ``group["lr"]``: a float,
            or a copy of the 0-dim tensor.
        """
        return _lr.read(self.optimizer.param_groups)

    def get_lr(self) -> list[LR]:
        """The same as :meth:`get_last_lr`: the learning rates set by the last step."""
        return self.get_last_lr()

    # -- state ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The warmup's and every scheduler's state, nested.

        Keys: ``warmup`` (the warmup's state), ``warmup_class`` (its class name),
        ``schedulers`` (one state per scheduler) and ``scheduler_classes``. Only
        strings, numbers, lists, dicts and tensors, so ``torch.load`` with
        ``weights_only=True`` reads it back.
        """
        return {
            "warmup": self.warmup.state_dict(),
            "warmup_class": type(self.warmup).__name__,
            "schedulers": [copy.deepcopy(s.state_dict()) for s in self.schedulers],
            "scheduler_classes": [type(s).__name__ for s in self.schedulers],
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state returned by :meth:`state_dict`.

        The layout (keys, warmup class, number and classes of the schedulers) is
        checked first; if it does not match, or any part fails to load, the
        warmup and every scheduler are left exactly as they were. The caller's
        dict is never modified. The optimizer's learning rates are not touched:
        restore them with the optimizer's own ``load_state_dict``.

        Args:
            state_dict: A state from :meth:`state_dict`.

        Raises:
            TypeError: ``state_dict`` or one of its entries has the wrong type.
            ValueError: keys are missing or unknown, or the state belongs to
                another warmup class or other schedulers.
        """
        state_dict = _checks.state_keys(state_dict, _STATE_KEYS, "WarmupLR")
        warmup_class = state_dict["warmup_class"]
        if warmup_class != type(self.warmup).__name__:
            raise ValueError(
                f"the state belongs to a warmup of class {warmup_class!r}, but this WarmupLR "
                f"wraps a {type(self.warmup).__name__}"
            )
        states = state_dict["schedulers"]
        classes = state_dict["scheduler_classes"]
        for key, value in (("schedulers", states), ("scheduler_classes", classes)):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"state {key!r} must be a list, got {_checks.describe(value)}")
            if len(value) != len(self.schedulers):
                raise ValueError(
                    f"state {key!r} has {len(value)} entries but this WarmupLR wraps "
                    f"{len(self.schedulers)} scheduler(s)"
                )
        for i, (scheduler, cls, state) in enumerate(
            zip(self.schedulers, classes, states, strict=True)
        ):
            if cls != type(scheduler).__name__:
                raise ValueError(
                    f"state 'scheduler_classes'[{i}] is {cls!r}, but the scheduler at "
                    f"position {i} is a {type(scheduler).__name__}"
                )
            if not isinstance(state, Mapping):
                raise TypeError(
                    f"state 'schedulers'[{i}] must be a dict, got {_checks.describe(state)}"
                )
        if not isinstance(state_dict["warmup"], Mapping):
            raise TypeError(
                f"state 'warmup' must be a dict, got {_checks.describe(state_dict['warmup'])}"
            )

        saved_warmup = self.warmup.state_dict()
        saved_schedulers = [copy.deepcopy(s.state_dict()) for s in self.schedulers]
        try:
            self.warmup.load_state_dict(state_dict["warmup"])  # validates before changing
            for scheduler, state in zip(self.schedulers, states, strict=True):
                scheduler.load_state_dict(copy.deepcopy(dict(state)))
        except BaseException:
            self.warmup.load_state_dict(saved_warmup)
            for scheduler, state in zip(self.schedulers, saved_schedulers, strict=True):
                scheduler.load_state_dict(state)
            raise
        self._step_count = self.warmup.last_step + 1

    def __repr__(self) -> str:
        inner = ", ".join(type(s).__name__ for s in self.schedulers)
        return f"WarmupLR([{inner}], {self.warmup!r})"
