r"""Preview a learning-rate schedule without training, and check it for common mistakes.

:func:`preview` takes the user's own construction code (a function that builds
the optimizer, the LR schedulers and the warmup) and runs the schedule for a
given number of updates with no data and no gradients: every parameter's
``grad`` is ``None``, so ``optimizer.step()`` updates nothing, yet the
optimizer's step hooks (and with them an attached warmup) run as in training.
It records the learning rate of every param group at every update *as the
optimizer uses it*, whichever way the warmup is applied (``dampening()``,
:class:`~pytorch_warmup.WarmupLR` or the attached mode), and with LR schedulers
stepped once per update or once per epoch.

:func:`check_schedule` then looks at the trajectory for the mistakes that make a
schedule differ from the one meant: a first update at rate 0, a jump at the end
of the warmup, a warmup longer than the training, a rate still rising at the
last update, a warmup that stays flat for whole epochs, a decay that ends before
the training does, and the misuse the warmups themselves report (an LR scheduler
built after the warmup). Each finding is a :class:`ScheduleWarning`: one line
that names the update and the numbers.

Nothing here imports matplotlib until :meth:`SchedulePreview.plot` is called.
"""

from __future__ import annotations

import csv
import gc
import importlib
import importlib.util
import math
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from . import _checks
from .base import BaseWarmup, WarmupWarning
from .scheduler import WarmupLR

__all__ = [
    "CHECKS",
    "SCHEDULERS",
    "WARMUPS",
    "SchedulePreview",
    "ScheduleWarning",
    "check_schedule",
    "composition",
    "format_report",
    "load_build",
    "preview",
]

CHECKS: tuple[str, ...] = (
    "zero-first-update",
    "jump-at-warmup-end",
    "warmup-longer-than-training",
    "still-rising",
    "flat-epochs",
    "decay-ended",
    "scheduler-after-warmup",
    "warmup-warning",
)
"""The codes of the findings of :func:`check_schedule` and :func:`preview`."""

JUMP = 0.05
"""A rise of the rate by more than this fraction in one update counts as a jump."""

_RISE = 1e-9
"""Relative change below which two consecutive rates count as equal (rounding)."""

_BUILD_KEYS = ("optimizer", "step", "epoch_step", "lr_scheduler", "warmup")

_PERIOD_CAP = 1_000_000
"""At most this many factors are summed for the effective period of a warmup."""


@dataclass(frozen=True)
class ScheduleWarning:
    """One finding about a schedule.

    Attributes:
        code: Which check found it, one of :data:`CHECKS`.
        update: The update (1-based) it is about; ``0`` for the construction.
        message: One line that names the update and the numbers.
    """

    code: str
    update: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class SchedulePreview:
    r"""The learning rates of a previewed schedule, and what the checks found.

    Attributes:
        lrs: ``lrs[g][t - 1]`` is the learning rate param group ``g`` used at
            update ``t`` (``t = 1 .. num_updates``), read inside
            ``optimizer.step()``.
        factors: The warmup factor :math:`\omega_t` each update used, in the same
            layout, or ``None`` when the schedule has no warmup of this package.
        warmup: The class name of the warmup, or ``None``.
        warmup_periods: For each param group, the warmup period to mark on a
            plot (:math:`\tau`, or the effective warmup period
            :math:`\sum_t (1 - \omega_t)` of a warmup without one), or ``None``.
        updates_per_epoch: The number of updates per epoch, or ``None``.
        warnings: What :func:`check_schedule` found, in update order.
    """

    lrs: list[list[float]]
    factors: list[list[float]] | None = None
    warmup: str | None = None
    warmup_periods: list[float] | None = None
    updates_per_epoch: int | None = None
    warnings: list[ScheduleWarning] = field(default_factory=list)

    @property
    def num_updates(self) -> int:
        """The number of updates previewed."""
        return len(self.lrs[0]) if self.lrs else 0

    def write_csv(self, path: str | Path) -> None:
        r"""Write one row per update: ``update``, ``epoch``, ``lr[g]``, ``omega[g]``.

        ``epoch`` (1-based) is there when ``updates_per_epoch`` is known and
        ``omega[g]`` when the schedule has a warmup. Values are written with
        ``repr``, so reading them back gives the same floats.

        Args:
            path: The output file.
        """
        groups = range(len(self.lrs))
        header = ["update"]
        if self.updates_per_epoch is not None:
            header.append("epoch")
        header += [f"lr[{g}]" for g in groups]
        if self.factors is not None:
            header += [f"omega[{g}]" for g in groups]
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(header)
            for i in range(self.num_updates):
                row = [str(i + 1)]
                if self.updates_per_epoch is not None:
                    row.append(str(i // self.updates_per_epoch + 1))
                row += [repr(lrs[i]) for lrs in self.lrs]
                if self.factors is not None:
                    row += [repr(factors[i]) for factors in self.factors]
                writer.writerow(row)

    def plot(self, path: str | Path, title: str | None = None) -> None:
        """Draw the learning rates against the update, warmup and findings marked.

        One line per param group; with a warmup, a thin dotted line shows the
        rate of the LR schedulers alone (the rate divided by :math:`\\omega_t`),
        and the warmup period is shaded. Each finding is a red mark at its
        update. Needs matplotlib (``pip install "pytorch-warmup[cli]"``).

        Args:
            path: The output file, ``.png``, ``.pdf`` or ``.svg``.
            title: The figure title (default: a summary of the findings).
        """
        _plot(self, Path(path), title)


# -- running a schedule ---------------------------------------------------------------


@dataclass
class _Plan:
    """What the loop steps, read from the value returned by ``build``."""

    optimizer: Optimizer
    per_update: list[tuple[Callable[[], Any], int]]
    per_epoch: list[tuple[Callable[[], Any], int]]
    warmup: BaseWarmup | None
    lightning_epoch: bool  # an lr_scheduler left at Lightning's default interval


def _callable(value: object, name: str) -> Callable[[], Any]:
    if not callable(value):
        raise TypeError(
            f"{name} must be a callable taking no argument, got {_checks.describe(value)}"
        )
    return value


def _scheduler_entry(value: object, name: str) -> tuple[Any, str, int]:
    """A Lightning ``lr_scheduler`` entry as ``(scheduler, interval, frequency)``."""
    if not isinstance(value, Mapping):
        return _callable_scheduler(value, name), "epoch", 1
    unknown = sorted(
        str(k) for k in value if k not in ("scheduler", "interval", "frequency", "name", "strict")
    )
    if "monitor" in value:
        raise ValueError(
            f"{name} has a 'monitor': a scheduler driven by a metric (ReduceLROnPlateau) "
            "cannot be previewed without training"
        )
    if unknown:
        raise ValueError(f"{name} has unknown keys {unknown}")
    if "scheduler" not in value:
        raise ValueError(f"{name} must have a 'scheduler' key")
    interval = value.get("interval", "epoch")
    if interval not in ("step", "epoch"):
        raise ValueError(f"{name}['interval'] must be 'step' or 'epoch', got {interval!r}")
    frequency = _checks.as_int(value.get("frequency", 1), f"{name}['frequency']", minimum=1)
    return _callable_scheduler(value["scheduler"], f"{name}['scheduler']"), interval, frequency


def _callable_scheduler(value: object, name: str) -> Any:
    step = getattr(value, "step", None)
    if not callable(step):
        raise TypeError(
            f"{name} must be an LR scheduler (with a step() method), got {_checks.describe(value)}"
        )
    return value


def _plan(result: object, updates_per_epoch: int | None) -> _Plan:
    """Read what ``build`` returned: an optimizer, or a dict (see :func:`preview`)."""
    if isinstance(result, Optimizer):
        result = {"optimizer": result}
    if not isinstance(result, Mapping):
        raise TypeError(
            "build must return a torch.optim.Optimizer or a dict with an 'optimizer' key "
            f"(and 'step', 'epoch_step', 'lr_scheduler', 'warmup'), got {_checks.describe(result)}"
        )
    unknown = sorted(str(k) for k in result if k not in _BUILD_KEYS)
    if unknown:
        raise ValueError(
            f"the dict returned by build has unknown keys {unknown}; known: {list(_BUILD_KEYS)}"
        )
    optimizer = result.get("optimizer")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "the dict returned by build needs 'optimizer': a torch.optim.Optimizer, got "
            f"{_checks.describe(optimizer)}"
        )
    per_update: list[tuple[Callable[[], Any], int]] = []
    per_epoch: list[tuple[Callable[[], Any], int]] = []
    if result.get("step") is not None:
        per_update.append((_callable(result["step"], "build()['step']"), 1))
    if result.get("epoch_step") is not None:
        per_epoch.append((_callable(result["epoch_step"], "build()['epoch_step']"), 1))
    lightning_epoch = False
    scheduler_owner: WarmupLR | None = None
    entry = result.get("lr_scheduler")
    if entry is not None:
        scheduler, interval, frequency = _scheduler_entry(entry, "build()['lr_scheduler']")
        (per_update if interval == "step" else per_epoch).append((scheduler.step, frequency))
        lightning_epoch = interval == "epoch"
        if isinstance(scheduler, WarmupLR):
            scheduler_owner = scheduler
    if per_epoch and updates_per_epoch is None:
        what = "'lr_scheduler' steps once per epoch (Lightning's default interval 'epoch')"
        if result.get("epoch_step") is not None:
            what = "'epoch_step' is given"
        raise ValueError(f"updates_per_epoch is needed: {what}")
    warmup = result.get("warmup")
    if warmup is not None and not isinstance(warmup, BaseWarmup):
        raise TypeError(
            f"build()['warmup'] must be a warmup of this package, got {_checks.describe(warmup)}"
        )
    if warmup is None:
        warmup = _find_warmup(optimizer, scheduler_owner, [f for f, _ in per_update + per_epoch])
    if warmup is not None and warmup.optimizer is not optimizer:
        raise ValueError(
            "build()['warmup'] is built on another optimizer than build()['optimizer']"
        )
    return _Plan(optimizer, per_update, per_epoch, warmup, lightning_epoch)


def _find_warmup(
    optimizer: Optimizer, owner: WarmupLR | None, steps: Sequence[Callable[[], Any]]
) -> BaseWarmup | None:
    """The warmup built on ``optimizer``, found through the objects that refer to it."""
    if owner is not None:
        return owner.warmup
    for step in steps:
        holder = getattr(step, "__self__", None)
        if isinstance(holder, WarmupLR) and holder.optimizer is optimizer:
            return holder.warmup
    found: list[BaseWarmup] = []
    for ref in gc.get_referrers(optimizer):
        candidates = [ref]
        if isinstance(ref, dict):  # an instance __dict__ (older Pythons)
            candidates = gc.get_referrers(ref)
        for obj in candidates:
            if isinstance(obj, BaseWarmup) and obj.optimizer is optimizer and obj not in found:
                found.append(obj)
    if len(found) > 1:
        names = ", ".join(type(w).__name__ for w in found)
        raise ValueError(
            f"build made {len(found)} warmups on the optimizer ({names}): return the one in "
            "use as build()['warmup']"
        )
    return found[0] if found else None


def _effective_period(warmup: BaseWarmup, params: Mapping[str, Any]) -> float:
    r"""The period to mark: ``warmup_period``, else :math:`\sum_t (1-\omega_t)`."""
    period = params.get("warmup_period")
    if isinstance(period, int) and not isinstance(period, bool):
        return float(period)
    total = 0.0
    for step in range(_PERIOD_CAP):
        omega = warmup.warmup_factor(step, **params)
        if omega >= 1.0:
            break
        total += 1.0 - omega
    return total


def _warning_code(message: str) -> str:
    """The finding code of a :class:`WarmupWarning`'s message."""
    return "scheduler-after-warmup" if "created after" in message else "warmup-warning"


def _as_float(lr: object) -> float:
    return float(lr.item()) if isinstance(lr, Tensor) else float(lr)  # type: ignore[arg-type]


def preview(
    build: Callable[[torch.nn.Module], Any],
    num_updates: int,
    *,
    updates_per_epoch: int | None = None,
    model: torch.nn.Module | None = None,
) -> SchedulePreview:
    r"""Run a schedule without training and return the learning rates the optimizer uses.

    ``build(model)`` is the user's own construction code: it builds the
    optimizer on ``model``'s parameters, then the LR schedulers and the warmup,
    and returns either the optimizer (an attached warmup with no scheduler) or
    a dict:

    ``"optimizer"``
        The optimizer (required).
    ``"step"``
        A callable run after every ``optimizer.step()``: what the training loop
        does there, e.g. ``lambda: scheduler.step()`` for :class:`WarmupLR` or
        the attached mode, or a function with the ``dampening()`` block.
    ``"epoch_step"``
        A callable run after the last update of every epoch (needs
        ``updates_per_epoch``), for schedulers stepped once per epoch.
    ``"lr_scheduler"``
        A scheduler configured as PyTorch Lightning's ``configure_optimizers``
        returns it: an LR scheduler (stepped once per epoch, Lightning's default)
        or a dict with ``"scheduler"``, ``"interval"`` (``"epoch"`` or ``"step"``)
        and ``"frequency"``.
    ``"warmup"``
        The warmup, when it cannot be found from the optimizer (it is found
        automatically when it is the only one built on the optimizer).

    The loop is ``optimizer.step()``, then the per-update callables, then at
    the end of each epoch the per-epoch ones. No gradient is computed:
    parameters keep ``grad=None``, so ``optimizer.step()`` changes nothing but
    still runs its hooks. The rates are read by a step pre-hook registered
    after ``build``, which runs after an attached warmup's own hook.

    Warnings of this package (:class:`~pytorch_warmup.WarmupWarning`) issued
    while building and running become findings, once per place in the code:
    ``scheduler-after-warmup`` for an LR scheduler built after the warmup,
    ``warmup-warning`` for the others (a learning rate changed outside
    ``dampening()``, ...). Other warnings pass through.

    Args:
        build: The construction code, called once with ``model``.
        num_updates: The number of updates (``optimizer.step()`` calls) to run.
        updates_per_epoch: The number of updates per epoch; needed for
            schedulers stepped per epoch and for the ``flat-epochs`` check.
        model: The module whose parameters ``build`` gets (default: a small
            ``torch.nn.Linear(4, 2)``, two parameter tensors).

    Returns:
        A :class:`SchedulePreview`, its ``warnings`` filled by :func:`check_schedule`.

    Raises:
        TypeError: an argument, or what ``build`` returned, has the wrong type.
        ValueError: an argument is out of range, ``build`` returned an unknown
            key, or the loop's callables call ``optimizer.step()`` themselves.

    Example:
        >>> import torch
        >>> from pytorch_warmup import LinearWarmup
        >>> from pytorch_warmup.preview import preview
        >>> def build(model):
        ...     opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        ...     cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
        ...     warmup = LinearWarmup(opt, warmup_period=10)
        ...     def step():
        ...         with warmup.dampening():
        ...             cosine.step()
        ...     return {"optimizer": opt, "step": step}
        >>> result = preview(build, 100)
        >>> [f"{lr:.2e}" for lr in result.lrs[0][:3]]  # 1e-3 * cos. * t/10
        ['1.00e-04', '2.00e-04', '3.00e-04']
        >>> result.factors[0][9], result.warmup, result.warnings
        (1.0, 'LinearWarmup', [])
    """
    if not callable(build):
        raise TypeError(f"build must be a callable taking the model, got {_checks.describe(build)}")
    num_updates = _checks.as_int(num_updates, "num_updates", minimum=1)
    if updates_per_epoch is not None:
        updates_per_epoch = _checks.as_int(updates_per_epoch, "updates_per_epoch", minimum=1)
    if model is None:
        model = torch.nn.Linear(4, 2)
    elif not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {_checks.describe(model)}")

    rows: list[list[float]] = []
    factor_rows: list[list[float]] = []
    library: list[tuple[int, str]] = []
    others: list[warnings.WarningMessage] = []
    places: set[tuple[str, str, int]] = set()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", WarmupWarning)
            update = 0
            seen = 0

            def collect() -> None:
                nonlocal seen
                for item in caught[seen:]:
                    if issubclass(item.category, WarmupWarning):
                        # Once per place, as the default filter would (but also when an
                        # earlier run in this process has already shown it).
                        text = str(item.message)
                        where = (_warning_code(text), item.filename, item.lineno)
                        if where not in places:
                            places.add(where)
                            library.append((update, text))
                    else:
                        others.append(item)
                seen = len(caught)

            try:
                plan = _plan(build(model), updates_per_epoch)
            finally:
                collect()
            optimizer, warmup = plan.optimizer, plan.warmup

            def record(opt: Optimizer, args: Any, kwargs: Any) -> None:
                rows.append([_as_float(group["lr"]) for group in opt.param_groups])
                if warmup is not None:
                    step = warmup.last_step
                    factor_rows.append(
                        [warmup.warmup_factor(step, **p) for p in warmup.warmup_params]
                    )

            handle = optimizer.register_step_pre_hook(record)
            try:
                for update in range(1, num_updates + 1):
                    optimizer.step()
                    for step_fn, every in plan.per_update:
                        if update % every == 0:
                            step_fn()
                    if updates_per_epoch is not None and update % updates_per_epoch == 0:
                        epoch = update // updates_per_epoch
                        for step_fn, every in plan.per_epoch:
                            if epoch % every == 0:
                                step_fn()
                    if len(rows) != update:
                        raise ValueError(
                            f"optimizer.step() ran {len(rows)} times in {update} updates: the "
                            "callables returned by build must not call optimizer.step() themselves"
                        )
                    collect()
            finally:
                handle.remove()
                collect()
    finally:
        for item in others:  # outside the recording block, so they reach the caller
            warnings.warn_explicit(
                item.message, item.category, item.filename, item.lineno, source=item.source
            )

    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(
            f"the number of param groups changed during the preview ({sorted(widths)})"
        )
    lrs = [list(column) for column in zip(*rows, strict=True)]
    factors = None
    periods = None
    if warmup is not None:
        factors = [list(column) for column in zip(*factor_rows, strict=True)]
        if len(factors) != len(lrs):
            factors = None
        periods = [_effective_period(warmup, p) for p in warmup.warmup_params]
    found = check_schedule(
        lrs,
        factors=factors,
        warmup_periods=periods,
        updates_per_epoch=updates_per_epoch,
        warmup=type(warmup).__name__ if warmup is not None else None,
        lightning_epoch=plan.lightning_epoch,
    )
    for at, message in library:
        code = _warning_code(message)
        where = "while building" if at == 0 else f"update {at}"
        found.append(ScheduleWarning(code, at, f"{where}: {message}"))
    found.sort(key=lambda w: w.update)
    return SchedulePreview(
        lrs=lrs,
        factors=factors,
        warmup=type(warmup).__name__ if warmup is not None else None,
        warmup_periods=periods,
        updates_per_epoch=updates_per_epoch,
        warnings=found,
    )


# -- the checks -----------------------------------------------------------------------


def _rises(a: float, b: float) -> bool:
    """``b`` is above ``a`` by more than rounding."""
    return b > a + _RISE * abs(a)


def _group_label(g: int, groups: int) -> str:
    return f" of param group {g}" if groups > 1 else ""


def check_schedule(
    lrs: Sequence[float] | Sequence[Sequence[float]],
    *,
    factors: Sequence[Sequence[float]] | None = None,
    warmup_periods: Sequence[float | None] | None = None,
    updates_per_epoch: int | None = None,
    warmup: str | None = None,
    lightning_epoch: bool = False,
) -> list[ScheduleWarning]:
    r"""Look for the common mistakes in a learning-rate trajectory.

    The checks, each reported at most once per param group:

    ``zero-first-update``
        The first update uses rate 0 (a hand-made warmup ``t / N`` that starts at 0).
    ``jump-at-warmup-end``
        Where the warmup ends (the first update with :math:`\omega_t = 1`, or
        the first peak of the rate), the rate rises by more than :data:`JUMP`
        in one update, and by more than twice the rise just before.
    ``warmup-longer-than-training``
        The warmup period exceeds the number of updates.
    ``still-rising``
        The rate still rises at the last update (not reported when one of the
        two checks above or below already explains it).
    ``flat-epochs``
        While the warmup is still rising, the rate (or :math:`\omega_t`) stays
        the same for a whole epoch of ``updates_per_epoch`` updates: the warmup
        is stepped once per epoch.
    ``decay-ended``
        After its peak, the schedulers' rate (the rate divided by
        :math:`\omega_t` when the factors are known) falls to 0 before the last
        update, or falls and then rises again smoothly over two updates or more
        (a cosine whose ``T_max`` is shorter than the training; a warm restart,
        which jumps back in one update, does not count).

    Args:
        lrs: The rate of each update, for one param group (a list of floats)
            or for several (one list per group).
        factors: The warmup factors :math:`\omega_t` in the same layout, if known.
        warmup_periods: The warmup period of each group, if known.
        updates_per_epoch: The number of updates per epoch, for ``flat-epochs``.
        warmup: The warmup's name, for the messages.
        lightning_epoch: The warmup is stepped by an LR scheduler left at
            Lightning's default interval ``"epoch"`` (changes the hint).

    Returns:
        The findings, in update order.

    Raises:
        TypeError: ``lrs`` is not a list of numbers or of lists of numbers.
        ValueError: the lists are empty or of different lengths.

    Example:
        >>> from pytorch_warmup.preview import check_schedule
        >>> lrs = [t / 4 for t in range(4)] + [1.0] * 4  # starts at 0
        >>> [w.code for w in check_schedule(lrs)]
        ['zero-first-update']
        >>> print(check_schedule(lrs)[0])
        update 1: the first update uses learning rate 0.0; start the warmup above 0 ((t + 1) / N)
    """
    groups = _as_groups(lrs)
    n = len(groups[0])
    if updates_per_epoch is not None:
        updates_per_epoch = _checks.as_int(updates_per_epoch, "updates_per_epoch", minimum=1)
    omegas = _as_groups(factors, "factors") if factors is not None else None
    if omegas is not None and (len(omegas) != len(groups) or len(omegas[0]) != n):
        raise ValueError("factors must have the same layout as lrs")
    if warmup_periods is not None and len(warmup_periods) != len(groups):
        raise ValueError("warmup_periods must have one entry per param group")
    name = warmup or "the warmup"
    found: list[ScheduleWarning] = []
    for g, lr in enumerate(groups):
        label = _group_label(g, len(groups))
        omega = omegas[g] if omegas is not None else None
        period = warmup_periods[g] if warmup_periods is not None else None
        peak = _first_peak(lr)
        explained = False

        if lr[0] == 0.0:
            found.append(
                ScheduleWarning(
                    "zero-first-update",
                    1,
                    f"update 1: the first update{label} uses learning rate 0.0; start the "
                    "warmup above 0 ((t + 1) / N)",
                ),
            )

        flat = _flat_epoch(lr, omega, peak, updates_per_epoch)
        if flat is not None:
            start, stop, value = flat
            what = (
                f"the warmup factor{label} stays at {value:.4g}"
                if omega is not None
                else f"the learning rate{label} stays at {value:.6g}"
            )
            hint = (
                "the lr_scheduler has interval 'epoch' (Lightning's default): set "
                "'interval': 'step'"
                if lightning_epoch
                else "step the warmup after every optimizer.step() (a period in epochs is "
                "warmup_epochs=E, steps_per_epoch=K, still stepped per update)"
            )
            found.append(
                ScheduleWarning(
                    "flat-epochs",
                    start + 1,
                    f"updates {start + 1}-{stop}: {what} for a whole epoch "
                    f"({stop - start} updates) while the warmup is still rising: {hint}",
                )
            )

        ends = set() if flat is not None else {peak}
        if omega is not None and flat is None:
            ends.add(next((i for i in range(n) if omega[i] == 1.0), peak))
        for end in sorted(ends):
            if end < 2 or lr[end - 2] <= 0.0 or lr[end - 1] <= 0.0:
                continue
            rise = lr[end] / lr[end - 1] - 1.0
            before = lr[end - 1] / lr[end - 2] - 1.0
            if rise > JUMP and rise > 2.0 * max(before, 0.0):
                found.append(
                    ScheduleWarning(
                        "jump-at-warmup-end",
                        end + 1,
                        f"update {end + 1}: the learning rate{label} jumps by {rise:.1%} at the "
                        f"end of the warmup ({lr[end - 1]:.6g} -> {lr[end]:.6g}; the update "
                        f"before rose by {before:.1%}): the warmup ends below the rate that "
                        "follows",
                    )
                )
                break

        if period is not None and period > n:
            explained = True
            last = f", the last update uses omega = {omega[-1]:.4g}" if omega is not None else ""
            found.append(
                ScheduleWarning(
                    "warmup-longer-than-training",
                    n,
                    f"update {n}: {name}{label} has a warmup period of {period:g} updates, "
                    f"longer than the {n} updates of the training{last}: the rate never "
                    "reaches the schedule's own value",
                )
            )

        # The decay is the schedulers' own: with a known warmup, look at lr / omega, so
        # that a warmup still rising after a scheduler's first step is not a turn back up.
        plain = lr
        if omega is not None and all(w > 0.0 for w in omega):
            plain = [v / w for v, w in zip(lr, omega, strict=True)]
        ended = _decay_end(plain, _first_peak(plain))
        if ended is not None:
            explained = True
            found.append(ScheduleWarning("decay-ended", ended[0], ended[1].format(label=label)))

        if n >= 2 and _rises(lr[-2], lr[-1]) and not explained:
            found.append(
                ScheduleWarning(
                    "still-rising",
                    n,
                    f"update {n}: the learning rate{label} is still rising at the last update "
                    f"({lr[-2]:.6g} -> {lr[-1]:.6g}): the warmup (or a cycle) is longer than the "
                    "training",
                )
            )
    found.sort(key=lambda w: w.update)
    return found


def _first_peak(lr: Sequence[float]) -> int:
    """The index where the initial rise ends: the first maximum of the non-decreasing start."""
    stop = 1
    while stop < len(lr) and lr[stop] >= lr[stop - 1]:
        stop += 1
    return max(range(stop), key=lambda i: (lr[i], -i))


def _as_groups(
    values: Sequence[float] | Sequence[Sequence[float]], name: str = "lrs"
) -> list[list[float]]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(
            f"{name} must be a list of floats or of lists of floats, got {_checks.describe(values)}"
        )
    if len(values) == 0:
        raise ValueError(f"{name} is empty")
    nested = isinstance(values[0], Sequence) and not isinstance(values[0], (str, bytes))
    rows = list(values) if nested else [values]
    out: list[list[float]] = []
    for g, row in enumerate(rows):
        if not isinstance(row, Sequence) or isinstance(row, (str, bytes)):
            raise TypeError(f"{name}[{g}] must be a list of floats, got {_checks.describe(row)}")
        out.append(
            [
                _checks.as_float(v, f"{name}[{g}][{i}]" if nested else f"{name}[{i}]")
                for i, v in enumerate(row)
            ]
        )
    if len(out[0]) == 0 or any(len(r) != len(out[0]) for r in out):
        raise ValueError(f"{name} must hold lists of one and the same positive length")
    return out


def _flat_epoch(
    lr: Sequence[float], omega: Sequence[float] | None, peak: int, k: int | None
) -> tuple[int, int, float] | None:
    """The first whole epoch of equal rates (or factors) in the warmup: ``(start, stop, value)``."""
    if k is None or k < 2:
        return None
    values = omega if omega is not None else lr
    # Inside the warmup: omega below 1, or (without factors) before the first peak.
    limit = (
        next((i for i in range(len(values)) if values[i] == 1.0), len(values))
        if omega is not None
        else peak
    )
    start = 0
    while start < limit:
        stop = start + 1
        while stop < limit and values[stop] == values[start]:
            stop += 1
        if stop - start >= k:
            return start, stop, values[start]
        start = stop
    return None


def _decay_end(lr: Sequence[float], peak: int) -> tuple[int, str] | None:
    """Where the decay after the peak ends too early: ``(update, message template)``."""
    n = len(lr)
    top = lr[peak]
    if top <= 0.0:
        return None
    fell = False
    for i in range(peak + 1, n):
        if lr[i] < lr[i - 1]:
            fell = True
        if lr[i] <= 1e-12 * top and fell and all(v <= 1e-12 * top for v in lr[i:]):
            span = f"update {i + 1}" if i == n - 1 else f"updates {i + 1}-{n}"
            return (
                i + 1,
                f"update {i + 1}: the decay{{label}} reaches 0 before the training ends: "
                f"{span} ({n - i} of {n}) use learning rate 0.0; make the decay span "
                f"all {n} updates (T_max / total_iters / num_training_steps)",
            )
        if fell and i + 1 < n and _rises(lr[i - 1], lr[i]) and _rises(lr[i], lr[i + 1]):
            low = lr[i - 1]
            return (
                i,
                f"update {i}: the decay{{label}} ends before the training and turns back up "
                f"(down to {low:.6g} at update {i}, {lr[-1]:.6g} at update {n}); make the "
                f"decay span all {n} updates (T_max / total_iters / num_training_steps)",
            )
    return None


# -- for the command line -------------------------------------------------------------


def load_build(spec: str) -> Callable[[torch.nn.Module], Any]:
    """The function named by ``"module:function"`` (or ``"path/to/file.py:function"``).

    A module name is imported with the current directory first on
    ``sys.path``, as ``python -m`` does; a path ending in ``.py`` is loaded
    from that file.

    Args:
        spec: ``MODULE:FUNCTION``; ``FUNCTION`` may be dotted (``Class.method``).

    Returns:
        The callable.

    Raises:
        ValueError: the spec is malformed, the module cannot be imported, or it
            has no such callable (one line naming what is wrong).
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected MODULE:FUNCTION (e.g. my_training:build), got {spec!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise ValueError(f"{spec!r}: no such file {module_name!r}")
            loader_spec = importlib.util.spec_from_file_location(path.stem, path)
            if loader_spec is None or loader_spec.loader is None:
                raise ValueError(f"{spec!r}: cannot load {module_name!r}")
            module = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(module)
        else:
            added = "" not in sys.path and os.getcwd() not in sys.path
            if added:
                sys.path.insert(0, os.getcwd())
            try:
                module = importlib.import_module(module_name)
            finally:
                if added:
                    sys.path.remove(os.getcwd())
    except ValueError:
        raise
    except Exception as e:  # the user's module failed to import: say why in one line
        raise ValueError(
            f"cannot import {module_name!r}: {type(e).__name__}: {_first_line(e)}"
        ) from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ValueError(f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{spec!r} is not callable: {_checks.describe(target)}")
    return target  # type: ignore[no-any-return]


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "(no message)"


SCHEDULERS: tuple[str, ...] = ("cosine", "linear", "constant", "step")
"""The LR schedulers that :func:`composition` builds."""

WARMUPS: tuple[str, ...] = (
    "untuned-linear",
    "untuned-exponential",
    "radam",
    "linear",
    "exponential",
)
"""The warmups that :func:`composition` builds."""


def composition(
    scheduler: str,
    total_steps: int,
    warmup: str = "untuned-linear",
    *,
    warmup_period: int | None = None,
    beta2: float = 0.999,
    lr: float = 1.0,
) -> Callable[[torch.nn.Module], Any]:
    r"""A ``build`` function for :func:`preview`: a torch LR scheduler under a warmup.

    AdamW with ``lr`` and ``betas=(0.9, beta2)``, one of these schedulers over
    ``total_steps`` updates, and the warmup applied with :class:`WarmupLR`:

    * ``"cosine"``: ``CosineAnnealingLR(T_max=total_steps)``;
    * ``"linear"``: ``LinearLR`` from 1 to 0 over ``total_steps``;
    * ``"constant"``: no scheduler;
    * ``"step"``: ``MultiStepLR``, times 0.1 at 50 % and 75 % of ``total_steps``.

    Args:
        scheduler: One of :data:`SCHEDULERS`.
        total_steps: The number of updates of the training.
        warmup: One of :data:`WARMUPS`.
        warmup_period: The period :math:`\tau` of ``"linear"`` and
            ``"exponential"`` (required there, refused for the others).
        beta2: Adam's :math:`\beta_2` (sets the untuned and RAdam periods).
        lr: The peak learning rate.

    Returns:
        The build function.

    Raises:
        ValueError: an unknown name, or a period missing or given where it
            has no meaning.
    """
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
    if warmup not in WARMUPS:
        raise ValueError(f"warmup must be one of {', '.join(WARMUPS)}, got {warmup!r}")
    total_steps = _checks.as_int(total_steps, "total_steps", minimum=1)
    tuned = warmup in ("linear", "exponential")
    if tuned and warmup_period is None:
        raise ValueError(f"the {warmup} warmup needs a warmup period")
    if not tuned and warmup_period is not None:
        raise ValueError(
            f"the {warmup} warmup takes its period from beta2; a warmup period is only for "
            "the linear and exponential warmups"
        )
    if warmup_period is not None:
        warmup_period = _checks.as_int(warmup_period, "warmup_period", minimum=1)

    def build(model: torch.nn.Module) -> dict[str, Any]:
        from torch.optim import lr_scheduler as schedulers

        from . import radam, untuned
        from .base import ExponentialWarmup, LinearWarmup

        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, beta2))
        inner: list[Any] = []
        if scheduler == "cosine":
            inner.append(schedulers.CosineAnnealingLR(optimizer, T_max=total_steps))
        elif scheduler == "linear":
            inner.append(
                schedulers.LinearLR(
                    optimizer, start_factor=1.0, end_factor=0.0, total_iters=total_steps
                )
            )
        elif scheduler == "step":
            milestones = sorted({max(1, total_steps // 2), max(1, 3 * total_steps // 4)})
            inner.append(schedulers.MultiStepLR(optimizer, milestones=milestones, gamma=0.1))
        made: BaseWarmup
        if warmup == "untuned-linear":
            made = untuned.UntunedLinearWarmup(optimizer)
        elif warmup == "untuned-exponential":
            made = untuned.UntunedExponentialWarmup(optimizer)
        elif warmup == "radam":
            made = radam.RAdamWarmup(optimizer)
        elif warmup == "linear":
            made = LinearWarmup(optimizer, warmup_period=warmup_period)
        else:
            made = ExponentialWarmup(optimizer, warmup_period=warmup_period)
        return {"optimizer": optimizer, "step": WarmupLR(inner, made).step, "warmup": made}

    return build


def format_report(result: SchedulePreview, name: str) -> str:
    """A few lines about a preview: what ran, a few learning rates, the findings.

    Args:
        result: The preview.
        name: What was previewed, for the first line.

    Returns:
        The text, one finding per line, each starting with ``warning:``.
    """
    n = result.num_updates
    groups = len(result.lrs)
    head = f"{name}: {n} updates, {groups} param group{'s' if groups > 1 else ''}"
    if result.updates_per_epoch is not None:
        head += f", {result.updates_per_epoch} updates per epoch"
    if result.warmup is not None and result.warmup_periods is not None:
        periods = sorted(set(result.warmup_periods), key=lambda p: -1.0 if p is None else p)
        shown = ", ".join(f"{p:g}" for p in periods if p is not None)
        head += f", {result.warmup} (warmup period {shown} updates)"
    else:
        head += ", no warmup of this package"
    lines = [head]
    marks = {1, n}
    for period in result.warmup_periods or []:
        if period is not None and 1 <= round(period) <= n:
            marks.add(round(period))
    for g, lrs in enumerate(result.lrs):
        peak = _first_peak(lrs) + 1
        points = sorted(marks | {peak})
        text = ", ".join(f"{t}{' (peak)' if t == peak else ''}: {lrs[t - 1]:.6g}" for t in points)
        prefix = f"param group {g} " if groups > 1 else ""
        lines.append(f"{prefix}learning rate at update {text}")
    if result.warnings:
        lines += [f"warning: {w.message}" for w in result.warnings]
    else:
        lines.append("no finding")
    return "\n".join(lines)


# -- the figure -----------------------------------------------------------------------


def _plot(result: SchedulePreview, path: Path, title: str | None) -> None:
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(8.0, 5.0), dpi=dpi, layout="constrained")
    ax = fig.subplots()
    t = range(1, result.num_updates + 1)
    several = len(result.lrs) > 1
    for g, lrs in enumerate(result.lrs):
        label = f"param group {g}" if several else "learning rate used"
        ax.plot(t, lrs, color=f"C{g}", linewidth=1.8, label=label)
        if result.factors is not None:
            plain = [
                lr / w if w > 0 else math.nan for lr, w in zip(lrs, result.factors[g], strict=True)
            ]
            ax.plot(
                t,
                plain,
                color=f"C{g}",
                linewidth=1.0,
                linestyle=":",
                label="without the warmup" if g == 0 else None,
            )
    if result.warmup_periods is not None:
        periods = sorted({p for p in result.warmup_periods if p is not None})
        for i, p in enumerate(periods):
            ax.axvspan(
                0,
                min(p, result.num_updates),
                color="0.85",
                alpha=0.5,
                zorder=0,
                label=f"{result.warmup} period" if i == 0 else None,
            )
    if (
        result.updates_per_epoch is not None
        and result.num_updates // result.updates_per_epoch <= 40
    ):
        for e in range(result.updates_per_epoch, result.num_updates, result.updates_per_epoch):
            ax.axvline(e + 0.5, color="0.6", linewidth=0.5, linestyle="--", zorder=0)
    marked = False
    for index, w in enumerate(result.warnings):
        x = max(w.update, 1)
        ax.axvline(
            x, color="tab:red", linewidth=1.0, alpha=0.7, label="finding" if not marked else None
        )
        ax.annotate(
            w.code,
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12 - 11 * (index % 3)),
            textcoords="offset points",
            color="tab:red",
            fontsize=8,
        )
        marked = True
    ax.set_xlim(0, result.num_updates + 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("update")
    ax.set_ylabel("learning rate")
    if title is None:
        count = len(result.warnings)
        title = (
            "no finding"
            if count == 0
            else f"{count} finding{'s' if count > 1 else ''}: "
            + ", ".join(dict.fromkeys(w.code for w in result.warnings))
        )
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    suffix = path.suffix.lower()
    metadata: dict[str, Any] | None = None
    if suffix == ".png":
        metadata = {"Software": None}
    elif suffix == ".pdf":
        metadata = {"Creator": None, "Producer": None, "CreationDate": None}
    elif suffix == ".svg":
        metadata = {"Date": None, "Creator": None}
    fig.savefig(path, dpi=dpi, metadata=metadata)
