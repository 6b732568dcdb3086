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
update or once per epoch; and what the warmup does beyond the warmup: the
cooldowns that run (``cool_down()``) and the rewarms (``rewarm()``).

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
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import _checks, _math, _preview_run
from .base import BaseWarmup

__all__ = [
    "CHECKS",
    "JUMP",
    "STILL_RISING",
    "SchedulePreview",
    "ScheduleWarning",
    "check_schedule",
    "cooldown_factors",
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
    "cooldown-during-warmup",
    "cooldown-unfinished",
    "cooldown-ended-early",
    "rewarm-above-stable",
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
    when the factors are known) falls to 0 two updates or more before the end
    (0 at the last update is on time), or falls
    and then rises again smoothly over two updates or more (a cosine whose
    ``T_max`` is shorter than the training; a warm restart, which jumps back
    in one update, does not count).
``still-rising``
    The rate still rises at the last update, by more than :data:`STILL_RISING`
    over the last tenth of the updates.
``cooldown-during-warmup``
    A cooldown starts before the warmup ends, so the rate never reaches the
    stable rate: the update before a cooldown of the warmup's own
    (``cool_down()``) uses :math:`\omega_t < 1` (below 0.9 for a warmup that
    approaches 1 without reaching it); or, with the factors known, the LR
    schedulers' own rate stays flat and then falls over two updates or more
    while :math:`\omega_t` is still below that; or, with no factors known, a
    linear ramp from update 1 bends (rises by less than its step for two
    updates or more, fewer than the ramp lasted) and falls, peaking more than 1 %
    below where the ramp was heading (a hand-written ``LambdaLR``). A
    cooldown that starts at its full slope exactly where it cuts the ramp
    looks like a warmup that ends there and is not found without the factors.
``cooldown-unfinished``
    The cooldown in force at the end (``cool_down()``) ends after the last
    update and has covered less than 99 % of its way from 1 to its ``final``
    factor there: the rate is still falling at the end (or the cooldown never
    starts). A cooldown planned to end one update after the training, whose
    last update is as low as a hand-written ``LambdaLR`` cooldown's, passes.
``cooldown-ended-early``
    A cooldown to 0 ends two updates or more before the training does (or
    before the rewarm that follows it), and those updates use rate 0.
``rewarm-above-stable``
    After a rewarm (``rewarm()``, or a warmup factor that falls back), the
    rate rises above the highest rate of the updates before the rewarm (the
    stable rate, before the cooldown).
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

_WARMED = 0.9
r"""A warmup that approaches 1 without reaching it (exponential, RAdam) counts as over,
for ``cooldown-during-warmup``, once :math:`\omega_t` reaches this."""

_COOLDOWN_DONE = 0.98
"""``cooldown-unfinished``: a cooldown has done its job once it has covered this much of
its way from 1 to its final factor (a 1-sqrt cooldown over 50 updates that ends one
update after the last, as a ``LambdaLR`` counting from 0 does, has covered 99.0 %)."""

_BEND = 0.01
"""``cooldown-during-warmup`` without factors: a bent ramp peaks this much below its line."""

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
        cooldowns: The cooldowns of the warmup (``cool_down()``) that ran, in
            order, and one still planned at the end, each a dict with the
            keys of the warmup's state: ``after_update`` (:math:`S`),
            ``over_updates`` (:math:`D`), ``shape`` and ``final``.
        rewarms: The update counts after which the warmup restarted
            (``rewarm()``; the state's ``rewarmed_at``): update
            :math:`R + 1` uses :math:`\omega_1` again.
    """

    lrs: list[list[float]]
    factors: list[list[float]] | None = None
    warmup: str | None = None
    warmup_periods: list[float] | None = None
    updates_per_epoch: int | None = None
    warnings: list[ScheduleWarning] = field(default_factory=list)
    name: str | None = None
    period_is_effective: bool = False
    cooldowns: list[dict[str, Any]] = field(default_factory=list)
    rewarms: list[int] = field(default_factory=list)

    @property
    def num_updates(self) -> int:
        """The number of updates previewed."""
        return len(self.lrs[0]) if self.lrs else 0

    @property
    def cooldown_factors(self) -> list[float] | None:
        r"""The cooldown's factor :math:`c_t` of each update, or ``None`` without a cooldown.

        The same for every param group; the rate used is the LR schedulers'
        rate times :math:`\omega_t c_t`. A rewarm ends a cooldown that has
        started (:math:`c_t = 1` after it).
        """
        return cooldown_factors(self.num_updates, self.cooldowns, self.rewarms)

    def write_csv(self, path: str | Path) -> None:
        r"""Write one row per update: ``update``, ``epoch``, ``lr[g]``, ``omega[g]``, ``cooldown``.

        ``epoch`` (1-based) is there when ``updates_per_epoch`` is known,
        ``omega[g]`` when the schedule has a warmup, and ``cooldown`` (the
        factor :math:`c_t`, the same for every group) when a cooldown ran or
        was planned. Values are written with ``repr``, so reading them back
        gives the same floats.

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
        cooldown = self.cooldown_factors
        if cooldown is not None:
            header.append("cooldown")
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
                if cooldown is not None:
                    row.append(repr(cooldown[i]))
                writer.writerow(row)

    def plot(self, path: str | Path, title: str | None = None) -> None:
        r"""Draw the learning rates against the update, the warmup and the findings marked.

        One line per param group (one panel per group when their rates differ
        tenfold or more); with a warmup, a thin dotted line shows the rate of the
        LR schedulers alone (the rate divided by :math:`\omega_t`, and by the
        cooldown's factor). The warmup is
        shaded where it really is, in updates: up to the update where
        :math:`\omega_t` reaches 1, or, for the exponential and RAdam warmups,
        over their effective period :math:`\sum_t (1-\omega_t)`, with the
        updates where :math:`\omega_t` reaches 0.9 and 0.99 marked; so is each
        cooldown (another colour) and the warmup after each rewarm. A rate that
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
        cooldowns=recording.cooldowns,
        rewarms=recording.rewarms,
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
        cooldowns=recording.cooldowns,
        rewarms=recording.rewarms,
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


def cooldown_factors(
    num_updates: int, cooldowns: Sequence[Mapping[str, Any]], rewarms: Sequence[int] = ()
) -> list[float] | None:
    r"""The cooldown factor :math:`c_t` of each update, from the cooldowns and the rewarms.

    A cooldown ``{"after_update": S, "over_updates": D, "shape": ..., "final": f}``
    (the warmup's state) gives updates :math:`S+1` to :math:`S+D` the factors of
    ``cool_down()``, and :math:`f` after them, until the first rewarm after
    :math:`S` (which ends it) or the end. ``None`` without a cooldown.

    Example:
        >>> from pytorch_warmup.preview import cooldown_factors
        >>> plan = {"after_update": 2, "over_updates": 4, "shape": "linear", "final": 0.0}
        >>> cooldown_factors(8, [plan])
        [1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0]
        >>> cooldown_factors(8, [plan], rewarms=[5])  # the rewarm after update 5 ends it
        [1.0, 1.0, 0.75, 0.5, 0.25, 1.0, 1.0, 1.0]
    """
    if not cooldowns:
        return None
    factors = [1.0] * num_updates
    for plan in cooldowns:
        after = plan["after_update"]
        stop = min((r for r in rewarms if r > after), default=num_updates)
        for step in range(after, min(stop, num_updates)):
            factors[step] = _preview_run.cooldown_factor(plan, step)
    return factors


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
    cooldown: list[float] | None = None  # c_t, from the cooldowns and the rewarms
    plans: tuple[Mapping[str, Any], ...] = ()  # the cooldowns, by after_update
    rewarms: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        return len(self.lr)

    @functools.cached_property
    def peak(self) -> int:
        """The index where the initial rise ends: the first maximum of the non-decreasing start."""
        return _first_peak(self.lr)

    @functools.cached_property
    def own(self) -> list[float]:
        r"""The LR schedulers' own rate: the rate divided by :math:`\omega_t` and :math:`c_t`.

        Where that product is 0 (a cooldown to 0) the rate before is kept.
        """
        lr = self.lr
        if self.omega is None and self.cooldown is None:
            return lr
        omega = self.omega or [1.0] * self.n
        cooldown = self.cooldown or [1.0] * self.n
        out: list[float] = []
        for v, w, c in zip(lr, omega, cooldown, strict=True):
            factor = w * c
            out.append(v / factor if factor > 0.0 else (out[-1] if out else v))
        return out

    @functools.cached_property
    def restarts(self) -> list[int]:
        """The rewarms (update counts), given or seen as a warmup factor that falls back."""
        seen = set(self.rewarms)
        if self.omega is not None:
            omega = self.omega
            seen |= {i for i in range(1, self.n) if omega[i] < omega[i - 1] * (1.0 - _RISE)}
        return sorted(r for r in seen if 0 < r < self.n)

    def origin(self, update: int) -> int:
        """The update count the warmup in force after ``update`` updates started from."""
        return max((r for r in self.restarts if r <= update), default=0)

    def warmed_level(self, origin: int) -> float:
        r"""The factor at which the warmup started after ``origin`` updates counts as over.

        1 for a warmup that reaches exactly 1 within :data:`_SHARP_END` effective
        periods (linear), else :data:`_WARMED`.
        """
        omega = self.omega
        if omega is None:
            return 1.0
        total = 0.0
        for i in range(origin, self.n):
            if i > origin and omega[i] < omega[i - 1]:
                break  # the next rewarm
            if omega[i] >= 1.0:
                return 1.0 if i - origin + 1 <= _SHARP_END * total + 2.0 else _WARMED
            total += 1.0 - omega[i]
        return _WARMED


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
    scheduler's first step is no turn back up, and by a cooldown's factor,
    which its own checks see to): after its peak it reaches 0
    two updates or more before the end and stays there (reaching 0 at the
    last update is on time), or falls and then rises again
    smoothly over two updates or more (a cosine whose ``T_max`` is shorter
    than the training; a warm restart, which jumps back in one update, does
    not count). Only the updates after the last rewarm count: a rewarm starts
    the schedule again, and the rate rising after it is the rewarm's own.
    """
    lr = g.own
    start = max(g.restarts, default=0)
    n, peak = len(lr), start + _first_peak(lr[start:])
    zero = 1e-12 * lr[peak]
    if zero <= 0.0:
        return None
    fell = False
    for i in range(peak + 1, n):
        fell = fell or lr[i] < lr[i - 1]
        if fell and i < n - 1 and lr[i] <= zero and all(v <= zero for v in lr[i:]):
            what = (
                f"reaches 0 before the training ends: updates {i + 1}-{n} ({n - i} of {n}) use "
                "learning rate 0.0"
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


def _cooldown_during_warmup(g: _Group) -> ScheduleWarning | None:
    r"""``cooldown-during-warmup``: a cooldown starts before the warmup ends.

    The rate then never reaches the stable rate. Found from a cooldown of the
    warmup's own whose last update before it (:math:`S`) still has
    :math:`\omega_S` below 1 (below :data:`_WARMED` for a warmup that only
    approaches 1), which ``cool_down()`` refuses only for the period it knows;
    from the LR schedulers' own rate, flat from update 1 and then falling over
    two updates while the warmup is not over (a ``LambdaLR`` cooldown under a
    warmup of this package); or, with no factors, from a linear ramp that bends
    and then falls (a ``LambdaLR`` that does both).
    """
    for plan in g.plans:
        after = int(plan["after_update"])
        if after >= g.n or (g.omega is None and g.period is None):
            continue
        origin = g.origin(after)
        if g.omega is not None:
            level = g.warmed_level(origin)
            at_start = g.omega[after - 1] if after > origin else 0.0
            if at_start < level:
                return _overlap(g, after, f"the warmup factor is {at_start:.4g}")
        elif g.period is not None and after < origin + g.period:
            return _overlap(g, after, f"{g.warmup} has a period of {g.period:g} updates")
    if g.omega is not None:
        own, omega = g.own, g.omega
        fall = next((i for i in range(1, g.n) if abs(own[i] - own[0]) > _RISE * own[0]), g.n)
        if (
            2 <= fall < g.n - 1
            and _rises(own[fall], own[fall - 1])
            and _rises(own[fall + 1], own[fall])
            and omega[fall - 1] < g.warmed_level(0)
        ):
            why = f"the warmup factor is {omega[fall - 1]:.4g}"
            return _overlap(g, fall, why, "the LR schedulers' ")
        return None
    bent = _bent_ramp(g.lr)
    if bent is None:
        return None
    ramp, peak, deficit = bent
    step = g.lr[1] - g.lr[0]
    return ScheduleWarning(
        "cooldown-during-warmup",
        ramp + 1,
        f"update {ramp + 1}: the linear ramp of the learning rate{g.label} (+{step:.4g} per "
        f"update over updates 1-{ramp}) bends at update {ramp + 1} and the rate falls after "
        f"update {peak + 1}, peaking at {g.lr[peak]:.6g}, {deficit:.1%} below where the ramp "
        "was heading: a cooldown (or decay) starts before the warmup ends; start it after the "
        "warmup's last update",
    )


def _overlap(g: _Group, after: int, why: str, whose: str = "") -> ScheduleWarning:
    stable = g.own[after - 1] if after >= 1 else g.own[0]
    origin = g.origin(after)
    stop = min((r for r in g.restarts if r > after), default=g.n)
    reached = max(g.lr[origin:stop])
    return ScheduleWarning(
        "cooldown-during-warmup",
        after + 1,
        f"update {after + 1}: {whose or 'the '}cooldown{g.label} starts after update {after}, "
        f"where {why}: it starts before the warmup ends, and the rate peaks at {reached:.6g}, "
        f"below the stable rate {stable:.6g}; start the cooldown after the "
        "warmup's last update",
    )


def _bent_ramp(lr: Sequence[float]) -> tuple[int, int, float] | None:
    """A linear ramp from update 1 that bends, then falls: (ramp length, peak index, deficit).

    The ramp rises by the same step (to 1e-6 of it) for three updates or more;
    after it the rate rises by less for two updates or more, but fewer than
    the ramp lasted (one smaller last rise is a ramp that ends between updates),
    peaks more than :data:`_BEND` below the ramp's line, and then falls. A decay
    that runs under the warmup from update 1 bends from the start (a short
    ramp, a long bend) and is not reported.
    """
    n = len(lr)
    step = lr[1] - lr[0] if n > 1 else 0.0
    if n < 6 or not step > 0.0:
        return None
    k = 1
    while k + 1 < n and abs(lr[k + 1] - lr[k] - step) <= 1e-6 * step:
        k += 1
    peak = _first_peak(lr)
    if k < 3 or not 2 <= peak - k <= k + 1 or peak + 2 >= n:
        return None
    if not lr[peak + 2] < lr[peak + 1] <= lr[peak]:
        return None
    deficit = 1.0 - lr[peak] / (lr[0] + step * peak)
    if deficit <= _BEND:
        return None
    return k + 1, peak, deficit


def _last_plan(g: _Group) -> tuple[Mapping[str, Any], int] | None:
    """The cooldown in force at the end, and the update its effect lasts to (its stop)."""
    if not g.plans:
        return None
    plan = g.plans[-1]
    stop = min((r for r in g.restarts if r > plan["after_update"]), default=g.n)
    return plan, stop


def _cooldown_unfinished(g: _Group) -> ScheduleWarning | None:
    """``cooldown-unfinished``: the cooldown in force at the end ends after the last update.

    Reported when, at the last update, it has covered less than
    :data:`_COOLDOWN_DONE` of its way from 1 to its final factor: the rate is
    still falling at the end of the training (or the cooldown never starts).
    A cooldown that a rewarm ends is not in force at the end.
    """
    found = _last_plan(g)
    if found is None or found[1] < g.n:
        return None
    plan, n = found[0], g.n
    after, over, final = int(plan["after_update"]), int(plan["over_updates"]), plan["final"]
    if after + over <= n or final >= 1.0:
        return None
    what = f"the {plan['shape']} cooldown{g.label} over updates {after + 1}-{after + over}"
    hint = f"end it by the last update (cool_down(last_fraction=..., total_updates={n}))"
    if after >= n:
        return ScheduleWarning(
            "cooldown-unfinished",
            n,
            f"update {n}: {what} starts after the last update ({n}): it never runs; {hint}",
        )
    factor = _preview_run.cooldown_factor(plan, n - 1)
    covered = (1.0 - factor) / (1.0 - final)
    if covered >= _COOLDOWN_DONE:
        return None
    return ScheduleWarning(
        "cooldown-unfinished",
        n,
        f"update {n}: {what} ends after the last update ({n}): the rate is still falling "
        f"there, at {factor:.4g} of the stable rate (final {final:g}, {covered:.1%} of the "
        f"way); {hint}",
    )


def _cooldown_ended_early(g: _Group) -> ScheduleWarning | None:
    """``cooldown-ended-early``: a cooldown to 0 ends two updates or more before the end.

    Its last update :math:`S + D` uses rate 0 (the factor is exactly ``final``
    there); every update after it until the training ends, or until the rewarm
    that ends the cooldown, does too and changes nothing.
    """
    for plan in g.plans:
        after, over = int(plan["after_update"]), int(plan["over_updates"])
        stop = min((r for r in g.restarts if r > after), default=g.n)
        end = after + over
        if plan["final"] != 0.0 or end >= stop:
            continue
        until = "the last update" if stop == g.n else f"the rewarm after update {stop}"
        return ScheduleWarning(
            "cooldown-ended-early",
            end,
            f"updates {end}-{stop} ({stop - end + 1} of {g.n}): the cooldown{g.label} reaches "
            f"0 at update {end} and every update until {until} uses learning rate 0.0; end "
            f"the cooldown at update {stop} (over_updates={stop - after}), or rewarm() after "
            f"update {end}",
        )
    return None


def _rewarm_above_stable(g: _Group) -> ScheduleWarning | None:
    """``rewarm-above-stable``: after a rewarm the rate rises above the stable rate.

    The stable rate is the highest rate of the updates since the previous
    (re)start, before the cooldown; a rewarm brings the rate back up to it, so
    more than that (beyond rounding) means the rate the LR schedulers or the
    param group set changed with the rewarm.
    """
    bounds = [0, *g.restarts, g.n]
    for j, rewarm in enumerate(g.restarts):
        before = g.lr[bounds[j] : rewarm]
        after = g.lr[rewarm : bounds[j + 2]]
        stable, peak = max(before), max(after)
        if peak > stable * (1.0 + _RISE) and stable > 0.0:
            at = rewarm + after.index(peak) + 1
            return ScheduleWarning(
                "rewarm-above-stable",
                at,
                f"update {at}: the rewarm{g.label} after update {rewarm} peaks at {peak:.6g}, "
                f"{peak / stable - 1.0:.1%} above the stable rate {stable:.6g} of the updates "
                f"before it (updates {bounds[j] + 1}-{rewarm}): check the rate the LR "
                "schedulers or the param group set after the rewarm",
            )
    return None


def _check_group(g: _Group) -> list[ScheduleWarning]:
    """The checks on one group; a check that another finding explains is left out."""
    never = _never_advances(g)
    flat = None if never else _flat_epochs(g)
    jump = None if never or flat else _jump_at_warmup_end(g)
    longer = _warmup_longer_than_training(g)
    decay = _decay_ended(g)
    rising = None if never or longer or decay else _still_rising(g)
    found = (
        _zero_first_update(g),
        never,
        flat,
        jump,
        longer,
        decay,
        rising,
        _cooldown_during_warmup(g),
        _cooldown_unfinished(g),
        _cooldown_ended_early(g),
        _rewarm_above_stable(g),
    )
    return [w for w in found if w is not None]


def check_schedule(
    lrs: Sequence[float] | Sequence[Sequence[float]],
    *,
    factors: Sequence[Sequence[float]] | None = None,
    warmup_periods: Sequence[float | None] | None = None,
    updates_per_epoch: int | None = None,
    warmup: str | None = None,
    lightning_epoch: bool = False,
    cooldowns: Sequence[Mapping[str, Any]] = (),
    rewarms: Sequence[int] = (),
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
        cooldowns: The cooldowns of the warmup (``cool_down()``), each a dict
            as in its ``state_dict()["cooldown"]``: ``after_update``,
            ``over_updates``, ``shape``, ``final``.
        rewarms: The update counts after which the warmup restarted
            (``rewarm()``; its state's ``rewarmed_at``).

    Returns:
        The findings, in update order.

    Raises:
        TypeError: ``lrs`` is not a list of numbers or of lists of numbers.
        ValueError: the lists are empty or of different lengths, or a cooldown
            or a rewarm is not valid.

    Example:
        >>> from pytorch_warmup.preview import check_schedule
        >>> lrs = [t / 4 for t in range(4)] + [1.0] * 4  # starts at 0
        >>> [w.code for w in check_schedule(lrs)]
        ['zero-first-update']
        >>> print(check_schedule(lrs)[0])
        update 1: the first update uses learning rate 0.0; start the warmup above 0 ((t + 1) / N)
    """
    groups = _groups(lrs, factors, warmup_periods, updates_per_epoch, warmup, lightning_epoch)
    plans = tuple(sorted(_cooldowns(cooldowns), key=lambda c: int(c["after_update"])))
    restarts = tuple(_checks.as_int(r, f"rewarms[{i}]", minimum=1) for i, r in enumerate(rewarms))
    if plans or restarts:
        cooldown = cooldown_factors(groups[0].n, plans, restarts)
        groups = [
            dataclasses.replace(g, cooldown=cooldown, plans=plans, rewarms=restarts) for g in groups
        ]
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


def _cooldowns(cooldowns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``cooldowns`` of :func:`check_schedule`, checked, as the warmup's state holds them."""
    if isinstance(cooldowns, Mapping) or not isinstance(cooldowns, Sequence):
        raise TypeError(
            "cooldowns must be a list of dicts (state_dict()['cooldown']), got "
            f"{_checks.describe(cooldowns)}"
        )
    keys = {"after_update", "over_updates", "shape", "final"}
    out = []
    for i, plan in enumerate(cooldowns):
        name = f"cooldowns[{i}]"
        if not isinstance(plan, Mapping) or set(plan) != keys:
            raise ValueError(f"{name} must be a dict with the keys {sorted(keys)}, got {plan!r}")
        if plan["shape"] not in _math.COOLDOWN_SHAPES:
            raise ValueError(
                f"{name}['shape'] must be one of {list(_math.COOLDOWN_SHAPES)}, got "
                f"{plan['shape']!r}"
            )
        final = _checks.as_float(plan["final"], f"{name}['final']")
        if not 0.0 <= final <= 1.0:
            raise ValueError(f"{name}['final'] must be in [0, 1], got {final!r}")
        out.append(
            {
                "after_update": _checks.as_int(plan["after_update"], f"{name}['after_update']", 0),
                "over_updates": _checks.as_int(plan["over_updates"], f"{name}['over_updates']", 1),
                "shape": plan["shape"],
                "final": final,
            }
        )
    return out


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
