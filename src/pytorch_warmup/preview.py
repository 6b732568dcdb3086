r"""Preview a learning-rate schedule without training, and check it for common mistakes.

:func:`preview` takes the user's own construction code (a function that builds
the optimizer, the LR schedulers and the warmup) and runs the schedule for a
given number of updates with no data and no gradients: every parameter's
``grad`` is ``None``, so ``optimizer.step()`` updates nothing, yet the
optimizer's step hooks (and with them an attached warmup) run as in training.
It records the learning rate of every param group at every update *as the
optimizer uses it*, and the warmup factor applied to it, whichever way the
warmup is applied (``dampening()``, :class:`~pytorch_warmup.WarmupLR`, the
attached mode, in-graph or not), and with LR schedulers stepped once per
update or once per epoch.

:func:`check_schedule` then looks at the trajectory for the mistakes that make a
schedule differ from the one meant, one small check per mistake (the list is
:data:`CHECKS`), plus the misuse the warmups themselves report (an LR scheduler
built after the warmup). Each finding is a :class:`ScheduleWarning`: one line
that names the update and the numbers.

Nothing here imports matplotlib until :meth:`SchedulePreview.plot` is called,
and the command line (:mod:`pytorch_warmup.cli`) is not imported at all.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import _checks, _preview_run
from .base import BaseWarmup

__all__ = [
    "CHECKS",
    "JUMP",
    "STILL_RISING",
    "SchedulePreview",
    "ScheduleWarning",
    "check_schedule",
    "preview",
]

CHECKS: tuple[str, ...] = (
    "zero-first-update",
    "warmup-never-advances",
    "flat-epochs",
    "jump-at-warmup-end",
    "warmup-longer-than-training",
    "decay-ended",
    "still-rising",
    "scheduler-after-warmup",
    "warmup-warning",
)
r"""The codes of the findings of :func:`check_schedule` and :func:`preview`.

``zero-first-update``
    The first update uses rate 0 (a hand-made warmup ``t / N`` that starts at 0).
``warmup-never-advances``
    The warmup factor stays at its first value :math:`\omega_1 < 1` for every
    update (``warmup.dampening()`` called without ``with``).
``flat-epochs``
    While the warmup is still rising, the rate (or :math:`\omega_t`) stays the
    same for a whole epoch of ``updates_per_epoch`` updates: the warmup is
    stepped once per epoch.
``jump-at-warmup-end``
    Where the warmup ends (the first update with :math:`\omega_t = 1`, or the
    first peak of the rate), the rate rises by more than :data:`JUMP` in one
    update, and by more than twice the rise just before.
``warmup-longer-than-training``
    The warmup period exceeds the number of updates.
``decay-ended``
    After its peak, the schedulers' rate (the rate divided by :math:`\omega_t`
    when the factors are known) falls to 0 before the last update, or falls
    and then rises again smoothly over two updates or more (a cosine whose
    ``T_max`` is shorter than the training; a warm restart, which jumps back
    in one update, does not count).
``still-rising``
    The rate still rises at the last update, by more than :data:`STILL_RISING`
    over the last tenth of the updates.
``scheduler-after-warmup``, ``warmup-warning``
    Found by :func:`preview` only: the :class:`~pytorch_warmup.WarmupWarning`
    of an LR scheduler built after the warmup, and the other ones (a rate
    changed outside ``dampening()``, ...).
"""

JUMP = 0.05
"""A rise of the rate by more than this fraction in one update counts as a jump."""

STILL_RISING = 1e-3
r"""The rise that counts for ``still-rising``: 0.1 % over the last tenth of the updates.

A rate that rose by less than this fraction of its last value over the last
tenth of the training has settled for every practical purpose: learning rates
are tuned on grids whose steps are factors of 2 to 10, and 0.1 % is far inside
that. The exponential and RAdam warmups approach 1 without reaching it (at ten
periods :math:`\omega \approx 0.99995`, still rising by some 1e-8 per update),
so a check on the last update alone would report every such run; with this
threshold they count as settled from about seven periods (the exponential
warmup rises by :math:`e^{-6.3} - e^{-7} \approx 0.09\,\%` over the last
0.7 of them; RAdam's, which approaches 1 more slowly, from about 8.5), while a
warmup or cycle cut by the end of the training (rises of several percent) is
still reported."""

_RISE = 1e-9
"""Relative change below which two consecutive rates count as equal (rounding)."""

_PERIOD_CAP = 1_000_000
"""At most this many factors are summed for the effective period of a warmup."""

_SHARP_END = 4.0
r"""A warmup whose factor reaches exactly 1 within this many effective periods is
marked by its end :math:`\tau` (a linear warmup ends at about 2 of them); one that
only gets there much later (the exponential warmup, after about 37 in double
precision; RAdam's) is marked by its effective period :math:`\sum_t (1-\omega_t)`."""


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
        warmup_periods: For each param group, how long the warmup lasts when
            stepped once per update: the update :math:`\tau` where its factor
            reaches 1 (linear warmups), or, when ``period_is_effective``, its
            effective warmup period :math:`\sum_t (1 - \omega_t)` (exponential
            and RAdam warmups, which approach 1 without reaching it); ``None``
            without a warmup.
        updates_per_epoch: The number of updates per epoch, or ``None``.
        warnings: What :func:`check_schedule` found, in update order.
        name: What was previewed, for titles and reports (``module:function``).
        period_is_effective: Whether ``warmup_periods`` are effective periods.
    """

    lrs: list[list[float]]
    factors: list[list[float]] | None = None
    warmup: str | None = None
    warmup_periods: list[float] | None = None
    updates_per_epoch: int | None = None
    warnings: list[ScheduleWarning] = field(default_factory=list)
    name: str | None = None
    period_is_effective: bool = False

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
        r"""Draw the learning rates against the update, the warmup and the findings marked.

        One line per param group (one panel per group when their rates differ
        tenfold or more); with a warmup, a thin dotted line shows the rate of the
        LR schedulers alone (the rate divided by :math:`\omega_t`). The warmup is
        shaded where it really is, in updates: up to the update where
        :math:`\omega_t` reaches 1, or, for the exponential and RAdam warmups,
        over their effective period :math:`\sum_t (1-\omega_t)`, with the
        updates where :math:`\omega_t` reaches 0.9 and 0.99 marked. A rate that
        stays ten times or more below the dotted line is drawn on a log scale.
        Each finding is a red mark at its update. Needs matplotlib
        (``pip install ".[cli]"``).

        Args:
            path: The output file, ``.png``, ``.pdf`` or ``.svg``.
            title: The figure title (default: the name, the number of updates
                and the findings).
        """
        from .cli._preview_figure import plot_preview

        plot_preview(self, Path(path), title)


# -- preview ----------------------------------------------------------------------------


def preview(
    build: Callable[..., Any],
    num_updates: int,
    *,
    updates_per_epoch: int | None = None,
    model: torch.nn.Module | None = None,
) -> SchedulePreview:
    r"""Run a schedule without training and return the learning rates the optimizer uses.

    ``build`` is the user's construction code, called once: ``build(model)``,
    or ``build()`` when it takes no argument (code that makes its own
    parameters). It builds the optimizer, then the LR schedulers and the
    warmup, and returns the optimizer (an attached warmup, no scheduler) or a
    dict with the keys ``"optimizer"`` (required); ``"step"``, a callable run
    after every ``optimizer.step()`` (``scheduler.step``, a function with the
    ``dampening()`` block, ...); ``"epoch_step"``, run after the last update
    of every epoch (needs ``updates_per_epoch``); ``"lr_scheduler"``, a
    scheduler as Lightning's ``configure_optimizers`` returns it (alone:
    stepped once per epoch; or a dict with ``"scheduler"``, ``"interval"``
    and ``"frequency"``); and ``"warmup"``, optional, as the warmup that
    drives the optimizer is found by itself.

    The loop is ``optimizer.step()`` (parameters keep ``grad=None``: it changes
    nothing but runs its hooks, where a pre-hook reads each group's rate and
    the warmup's factor), then the per-update callables, then at the end of
    each epoch the per-epoch ones. torch's global random generators are left
    as found. This package's warnings become findings, once per place in the
    code (``scheduler-after-warmup``, ``warmup-warning``); others pass through.

    Args:
        build: The construction code, called once, with ``model`` or without
            an argument.
        num_updates: The number of updates (``optimizer.step()`` calls) to run.
        updates_per_epoch: The number of updates per epoch; needed for
            schedulers stepped per epoch and for the ``flat-epochs`` check.
        model: The module whose parameters ``build`` gets (default: a small
            ``torch.nn.Linear(4, 2)``); not for a ``build`` without argument.

    Returns:
        A :class:`SchedulePreview`, its ``warnings`` filled by :func:`check_schedule`.

    Raises:
        TypeError: an argument, or what ``build`` returned, has the wrong type,
            or ``build`` takes more than one argument.
        ValueError: an argument is out of range, ``build`` returned an unknown
            key, or the loop's callables call ``optimizer.step()`` themselves.

    Example:
        >>> import torch
        >>> from pytorch_warmup import LinearWarmup
        >>> from pytorch_warmup.preview import preview
        >>> def build(model):
        ...     opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        ...     cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
        ...     LinearWarmup(opt, warmup_period=10).attach()
        ...     return {"optimizer": opt, "step": cosine.step}
        >>> result = preview(build, 100)
        >>> [f"{lr:.2e}" for lr in result.lrs[0][:3]]  # 1e-3 * cos. * t/10
        ['1.00e-04', '2.00e-04', '3.00e-04']
        >>> result.factors[0][9], result.warmup, result.warnings
        (1.0, 'LinearWarmup', [])
    """
    num_updates = _checks.as_int(num_updates, "num_updates", minimum=1)
    if updates_per_epoch is not None:
        updates_per_epoch = _checks.as_int(updates_per_epoch, "updates_per_epoch", minimum=1)
    recording = _preview_run.run(build, num_updates, updates_per_epoch, model)
    return _result(recording, updates_per_epoch, _name_of(build))


def _name_of(build: Callable[..., Any]) -> str:
    """``module:function`` for a function, else its type's name."""
    module = getattr(build, "__module__", None)
    qualname = getattr(build, "__qualname__", None)
    if module and qualname:
        return f"{module}:{qualname}"
    return type(build).__name__


def _result(
    recording: _preview_run.Recording, updates_per_epoch: int | None, name: str
) -> SchedulePreview:
    """The preview of a run: its trajectory, the warmup's periods, and the findings."""
    rows, warmup = recording.rows, recording.plan.warmup
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(
            f"the number of param groups changed during the preview ({sorted(widths)})"
        )
    lrs = [list(column) for column in zip(*rows, strict=True)]
    factors = periods = None
    effective = False
    if warmup is not None:
        factors = [list(column) for column in zip(*recording.factor_rows, strict=True)]
        if len(factors) != len(lrs):  # a group the warmup does not know: no factors to show
            factors = None
        spans = [_warmup_span(warmup, p) for p in warmup.warmup_params]
        periods = [period for period, _ in spans]
        effective = any(is_effective for _, is_effective in spans)
    found = check_schedule(
        lrs,
        factors=factors,
        warmup_periods=periods,
        updates_per_epoch=updates_per_epoch,
        warmup=type(warmup).__name__ if warmup is not None else None,
        lightning_epoch=recording.plan.lightning_epoch,
    )
    checked = {w.code for w in found}
    for at, message in recording.library:
        code = _preview_run.warning_code(message)
        if code == "warmup-never-advances" and code in checked:
            continue  # the check has said it, with the numbers
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
        name=name,
        period_is_effective=effective,
    )


def _warmup_span(warmup: BaseWarmup, params: Mapping[str, Any]) -> tuple[float, bool]:
    r"""How long the warmup lasts, stepped per update, and whether that is an effective period.

    The update :math:`\tau` where the factor reaches 1 when it gets there
    within :data:`_SHARP_END` effective periods, else the effective period
    :math:`\sum_t (1-\omega_t)` (summed up to :data:`_PERIOD_CAP` terms).
    """
    total = 0.0
    for step in range(_PERIOD_CAP):
        omega = warmup.warmup_factor(step, **params)
        if omega >= 1.0:
            if step + 1 <= _SHARP_END * total + 2.0:
                return float(step + 1), False
            break
        total += 1.0 - omega
    return total, True


# -- the checks -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """The trajectory of one param group, as the checks see it."""

    lr: list[float]
    omega: list[float] | None = None
    period: float | None = None
    label: str = ""  # " of param group g" when there are several
    warmup: str = "the warmup"
    updates_per_epoch: int | None = None
    lightning_epoch: bool = False

    @property
    def n(self) -> int:
        return len(self.lr)

    @functools.cached_property
    def peak(self) -> int:
        """The index where the initial rise ends: the first maximum of the non-decreasing start."""
        return _first_peak(self.lr)


def _rises(a: float, b: float) -> bool:
    """``b`` is above ``a`` by more than rounding."""
    return b > a + _RISE * abs(a)


def _first_peak(lr: Sequence[float]) -> int:
    """The index where the initial rise ends: the first maximum of the non-decreasing start."""
    stop = 1
    while stop < len(lr) and lr[stop] >= lr[stop - 1]:
        stop += 1
    return max(range(stop), key=lambda i: (lr[i], -i))


def _zero_first_update(g: _Group) -> ScheduleWarning | None:
    """``zero-first-update``: the first update uses rate 0, so it changes nothing.

    The classic cause is a hand-made warmup ``t / N`` that starts at 0. (A group
    frozen at 0 for the whole run is left out by :func:`check_schedule`.)
    """
    if g.lr[0] != 0.0:
        return None
    return ScheduleWarning(
        "zero-first-update",
        1,
        f"update 1: the first update{g.label} uses learning rate 0.0; start the warmup "
        "above 0 ((t + 1) / N)",
    )


def _never_advances(g: _Group) -> ScheduleWarning | None:
    r"""``warmup-never-advances``: the factor stays at its first value :math:`\omega_1 < 1`.

    Every warmup of this package rises from :math:`\omega_1`, so a factor that
    never moves over the previewed updates belongs to a warmup that is never
    stepped: ``warmup.dampening()`` called without ``with``, or a loop that
    never steps it.
    """
    omega = g.omega
    if omega is None or g.n < 2 or omega[0] >= 1.0 or any(w != omega[0] for w in omega):
        return None
    return ScheduleWarning(
        "warmup-never-advances",
        1,
        f"updates 1-{g.n}: the warmup factor{g.label} stays at its first value "
        f"{omega[0]:.4g} for all {g.n} updates: {g.warmup} never advances; step it after "
        "every optimizer.step() (a bare warmup.dampening() call does nothing: write 'with "
        "warmup.dampening():' around the LR schedulers' step), or use WarmupLR or attach()",
    )


def _flat_epochs(g: _Group) -> ScheduleWarning | None:
    r"""``flat-epochs``: the warmup stays flat for a whole epoch while it still rises.

    With ``updates_per_epoch`` known, looks inside the warmup (:math:`\omega_t < 1`,
    or before the first peak of the rate when the factors are not known) for
    ``updates_per_epoch`` equal values in a row: the warmup is stepped once
    per epoch.
    """
    k = g.updates_per_epoch
    if k is None or k < 2:
        return None
    values = g.omega if g.omega is not None else g.lr
    limit = g.peak
    if g.omega is not None:
        limit = next((i for i, w in enumerate(g.omega) if w == 1.0), g.n)
    start = 0
    while start < limit:
        stop = start + 1
        while stop < limit and values[stop] == values[start]:
            stop += 1
        if stop - start >= k:
            break
        start = stop
    else:
        return None
    what = (
        f"the warmup factor{g.label} stays at {values[start]:.4g}"
        if g.omega is not None
        else f"the learning rate{g.label} stays at {values[start]:.6g}"
    )
    hint = (
        "the lr_scheduler has interval 'epoch' (Lightning's default): set 'interval': 'step'"
        if g.lightning_epoch
        else "step the warmup after every optimizer.step() (a period in epochs is "
        "warmup_epochs=E, steps_per_epoch=K, still stepped per update)"
    )
    return ScheduleWarning(
        "flat-epochs",
        start + 1,
        f"updates {start + 1}-{stop}: {what} for a whole epoch ({stop - start} updates) "
        f"while the warmup is still rising: {hint}",
    )


def _jump_at_warmup_end(g: _Group) -> ScheduleWarning | None:
    r"""``jump-at-warmup-end``: the rate leaps where the warmup ends.

    Where the warmup ends (the first update with :math:`\omega_t = 1`, and the
    first peak of the rate), the rate rises by more than :data:`JUMP` in one
    update and by more than twice the rise just before: the warmup ended below
    the rate that follows (a ``SequentialLR`` milestone before the ramp's end).
    """
    lr = g.lr
    ends = {g.peak}
    if g.omega is not None:
        ends.add(next((i for i, w in enumerate(g.omega) if w == 1.0), g.peak))
    for end in sorted(ends):
        if end < 2 or lr[end - 2] <= 0.0 or lr[end - 1] <= 0.0:
            continue
        rise = lr[end] / lr[end - 1] - 1.0
        before = lr[end - 1] / lr[end - 2] - 1.0
        if rise > JUMP and rise > 2.0 * max(before, 0.0):
            return ScheduleWarning(
                "jump-at-warmup-end",
                end + 1,
                f"update {end + 1}: the learning rate{g.label} jumps by {rise:.1%} at the end "
                f"of the warmup ({lr[end - 1]:.6g} -> {lr[end]:.6g}; the update before rose "
                f"by {before:.1%}): the warmup ends below the rate that follows",
            )
    return None


def _warmup_longer_than_training(g: _Group) -> ScheduleWarning | None:
    """``warmup-longer-than-training``: the warmup period exceeds the number of updates."""
    if g.period is None or g.period <= g.n:
        return None
    last = f", the last update uses omega = {g.omega[-1]:.4g}" if g.omega is not None else ""
    return ScheduleWarning(
        "warmup-longer-than-training",
        g.n,
        f"update {g.n}: {g.warmup}{g.label} has a warmup period of {g.period:g} updates, "
        f"longer than the {g.n} updates of the training{last}: the rate never reaches the "
        "schedule's own value",
    )


def _decay_ended(g: _Group) -> ScheduleWarning | None:
    r"""``decay-ended``: the decay after the peak ends before the training does.

    Looks at the schedulers' own rate (the rate divided by :math:`\omega_t`
    when the factors are known, so that a warmup still rising after a
    scheduler's first step is no turn back up): after its peak it reaches 0
    before the last update and stays there, or falls and then rises again
    smoothly over two updates or more (a cosine whose ``T_max`` is shorter
    than the training; a warm restart, which jumps back in one update, does
    not count).
    """
    lr = g.lr
    if g.omega is not None and all(w > 0.0 for w in g.omega):
        lr = [v / w for v, w in zip(lr, g.omega, strict=True)]
    n, peak = len(lr), _first_peak(lr)
    zero = 1e-12 * lr[peak]
    if zero <= 0.0:
        return None
    fell = False
    for i in range(peak + 1, n):
        fell = fell or lr[i] < lr[i - 1]
        if fell and lr[i] <= zero and all(v <= zero for v in lr[i:]):
            span = f"update {i + 1}" if i == n - 1 else f"updates {i + 1}-{n}"
            what = (
                f"reaches 0 before the training ends: {span} ({n - i} of {n}) use learning rate 0.0"
            )
            return _decay_warning(g, i + 1, what, n)
        if fell and i + 1 < n and _rises(lr[i - 1], lr[i]) and _rises(lr[i], lr[i + 1]):
            what = (
                f"ends before the training and turns back up (down to {lr[i - 1]:.6g} at "
                f"update {i}, {lr[-1]:.6g} at update {n})"
            )
            return _decay_warning(g, i, what, n)
    return None


def _decay_warning(g: _Group, update: int, what: str, n: int) -> ScheduleWarning:
    return ScheduleWarning(
        "decay-ended",
        update,
        f"update {update}: the decay{g.label} {what}; make the decay span all {n} updates "
        "(T_max / total_iters / num_training_steps)",
    )


def _still_rising(g: _Group) -> ScheduleWarning | None:
    """``still-rising``: the rate still rises at the end of the training.

    Reported when the last update rises, and the rate rose by more than
    :data:`STILL_RISING` of its last value over the last tenth of the updates:
    the warmup (or a cycle) is longer than the training. A warmup that only
    approaches 1 by rounding-level steps has settled and is not reported.
    """
    lr, n = g.lr, g.n
    if n < 2 or not _rises(lr[-2], lr[-1]):
        return None
    window = max(1, n // 10)
    low = min(lr[n - 1 - window :])
    if lr[-1] - low <= STILL_RISING * lr[-1]:
        return None
    return ScheduleWarning(
        "still-rising",
        n,
        f"update {n}: the learning rate{g.label} is still rising at the last update, by "
        f"{(lr[-1] - low) / low:.2%} over the last {window} updates ({low:.6g} -> "
        f"{lr[-1]:.6g}): the warmup (or a cycle) is longer than the training",
    )


def _check_group(g: _Group) -> list[ScheduleWarning]:
    """The checks on one group; a check that another finding explains is left out."""
    never = _never_advances(g)
    flat = None if never else _flat_epochs(g)
    jump = None if never or flat else _jump_at_warmup_end(g)
    longer = _warmup_longer_than_training(g)
    decay = _decay_ended(g)
    rising = None if never or longer or decay else _still_rising(g)
    found = (_zero_first_update(g), never, flat, jump, longer, decay, rising)
    return [w for w in found if w is not None]


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

    Runs the checks of :data:`CHECKS` on each param group, each reported at
    most once per group; a finding that another one explains is left out (a
    warmup that never advances is not also flat for epochs, a warmup longer
    than the training not also still rising). A param group frozen at rate 0
    for the whole run is not checked; when every group is, that is reported as
    ``zero-first-update``.

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
    groups = _groups(lrs, factors, warmup_periods, updates_per_epoch, warmup, lightning_epoch)
    live = [g for g in groups if any(v != 0.0 for v in g.lr)]
    if not live:
        n = groups[0].n
        return [
            ScheduleWarning(
                "zero-first-update",
                1,
                f"update 1: every update uses learning rate 0.0 ({n} of {n}, every param "
                "group): nothing is trained",
            )
        ]
    found = [w for g in live for w in _check_group(g)]
    found.sort(key=lambda w: w.update)
    return found


def _groups(
    lrs: Sequence[float] | Sequence[Sequence[float]],
    factors: Sequence[Sequence[float]] | None,
    warmup_periods: Sequence[float | None] | None,
    updates_per_epoch: int | None,
    warmup: str | None,
    lightning_epoch: bool,
) -> list[_Group]:
    """The arguments of :func:`check_schedule`, checked, as one :class:`_Group` per group."""
    rates = _as_groups(lrs)
    n = len(rates[0])
    if updates_per_epoch is not None:
        updates_per_epoch = _checks.as_int(updates_per_epoch, "updates_per_epoch", minimum=1)
    omegas = _as_groups(factors, "factors") if factors is not None else None
    if omegas is not None and (len(omegas) != len(rates) or len(omegas[0]) != n):
        raise ValueError("factors must have the same layout as lrs")
    if warmup_periods is not None and len(warmup_periods) != len(rates):
        raise ValueError("warmup_periods must have one entry per param group")
    return [
        _Group(
            lr=lr,
            omega=omegas[g] if omegas is not None else None,
            period=warmup_periods[g] if warmup_periods is not None else None,
            label=f" of param group {g}" if len(rates) > 1 else "",
            warmup=warmup or "the warmup",
            updates_per_epoch=updates_per_epoch,
            lightning_epoch=lightning_epoch,
        )
        for g, lr in enumerate(rates)
    ]


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
