r"""The figure of a preview: the rate of every update, the warmup where it really is.

Drawn by :meth:`pytorch_warmup.preview.SchedulePreview.plot` (and so by
``pytorch-warmup preview -o`` and ``plot --scheduler``):

* one line per param group, and dotted, the LR schedulers' own rate (the rate
  divided by :math:`\omega_t`, and by a cooldown's factor :math:`c_t`); one
  panel per group when the groups' rates differ tenfold or more, and a log
  scale when the rate used stays ten times or more below the schedulers' own
  (a warmup that never gets anywhere);
* the warmup shaded where it is in updates, from the factors the updates
  really used: up to the update where :math:`\omega_t` reaches 1 (a linear
  warmup, even one stepped once per epoch), or over the effective warmup
  period :math:`\sum_t (1-\omega_t)` of a warmup that approaches 1 without
  reaching it (exponential, RAdam), with the updates where :math:`\omega_t`
  reaches 0.9 and 0.99 marked; after each rewarm, the warmup again;
* each cooldown of the warmup (``cool_down()``) shaded in another colour, over
  the updates it runs, and each rewarm marked by a dashed line;
* the epochs (dashed), and each finding (red, with its code);
* a title that names the schedule, the number of updates and the findings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ._figures import FIGURE_SIZE, figure, save

__all__ = ["SchedulePreview", "default_title", "plot_preview"]

_TENFOLD = 10.0
"""Rates that differ by this factor or more are drawn apart (panels) or on a log scale."""

_MAX_PANELS = 4
"""At most this many panels, one per param group; more groups share a log-scale panel."""

_LOG_DECADES = 6
"""A log scale spans at most this many decades below the top of the panel."""

_LEVELS = (0.9, 0.99)
r"""The factors :math:`\omega_t` whose first update is marked for a warmup without an end."""


class _Finding(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def update(self) -> int: ...


class SchedulePreview(Protocol):
    """What the figure reads of a :class:`pytorch_warmup.preview.SchedulePreview`.

    A protocol rather than an import, so that the library's module and this
    one do not import each other.
    """

    @property
    def lrs(self) -> Sequence[Sequence[float]]: ...
    @property
    def factors(self) -> Sequence[Sequence[float]] | None: ...
    @property
    def updates_per_epoch(self) -> int | None: ...
    @property
    def warnings(self) -> Sequence[_Finding]: ...
    @property
    def name(self) -> str | None: ...
    @property
    def period_is_effective(self) -> bool: ...
    @property
    def num_updates(self) -> int: ...
    @property
    def cooldowns(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def rewarms(self) -> Sequence[int]: ...
    @property
    def cooldown_factors(self) -> Sequence[float] | None: ...


@dataclass(frozen=True)
class _Span:
    """A phase in the figure: a band from ``start`` to ``stop`` (updates), and marks."""

    stop: float
    label: str
    marks: tuple[tuple[int, str], ...] = ()
    start: float = 0.0


def _span(result: SchedulePreview, g: int, start: int = 0) -> _Span | None:
    """Where the warmup of group ``g`` that starts after ``start`` updates is, in updates.

    From the factors the updates used, up to the next rewarm (or the end).
    """
    if result.factors is None:
        return None
    n = result.num_updates
    stop = min((r for r in result.rewarms if r > start), default=n)
    omega = result.factors[g][start:stop]
    since = f" after the rewarm after update {start}" if start else ""
    if not result.period_is_effective:
        end = next((start + t + 1 for t, w in enumerate(omega) if w >= 1.0), None)
        if end is None:
            last = f"ω = {omega[-1]:.3g} at update {stop}"
            if start:
                return _Span(stop, f"warmup{since} (ω < 1): {last}", start=start)
            return _Span(n, f"warmup (ω < 1): all {n} updates, ω = {omega[-1]:.3g} at the last")
        return _Span(end, f"warmup{since} (ω < 1): until update {end}", start=start)
    total = math.fsum(1.0 - w for w in omega)
    marks = []
    for level in _LEVELS:
        first = next((start + t + 1 for t, w in enumerate(omega) if w >= level), None)
        if first is not None:
            marks.append((first, f"ω ≥ {level:g} from update {first}"))
    cut = " (the run ends first)" if omega[-1] < _LEVELS[-1] else ""
    label = f"effective warmup period{since} Σ(1−ω) = {total:.4g} updates{cut}"
    return _Span(min(start + total, stop), label, tuple(marks), start)


def _cooldown_spans(result: SchedulePreview) -> list[_Span]:
    """Where each cooldown runs, in updates: from its start to its end, a rewarm or the end."""
    n, spans = result.num_updates, []
    for cooldown in result.cooldowns:
        after, over = int(cooldown["after_update"]), int(cooldown["over_updates"])
        if after >= n:
            continue
        end = after + over
        cut = min((r for r in result.rewarms if r > after), default=None)
        what = f"cooldown ({cooldown['shape']}, factor 1 → {cooldown['final']:g})"
        if cut is not None and cut < end:
            label, stop = f"{what}: updates {after + 1}-{cut}, ended by the rewarm", cut
        elif end > n:
            label, stop = f"{what}: updates {after + 1}-{end}, beyond the run", n
        else:
            label, stop = f"{what}: updates {after + 1}-{end}", end
        spans.append(_Span(stop, label, start=after))
    return spans


def _panels(result: SchedulePreview) -> list[list[int]]:
    """The param groups of each panel: one panel per group when their peaks differ tenfold."""
    groups = len(result.lrs)
    peaks = [max(lrs) for lrs in result.lrs]
    positive = [p for p in peaks if p > 0.0]
    if 1 < groups <= _MAX_PANELS and positive and max(positive) >= _TENFOLD * min(positive):
        return [[g] for g in range(groups)]
    return [list(range(groups))]


def _plain(result: SchedulePreview, g: int) -> list[float] | None:
    r"""The schedulers' own rate of group ``g``: the rate divided by :math:`\omega_t c_t`."""
    if result.factors is None:
        return None
    cooldown = result.cooldown_factors or [1.0] * result.num_updates
    pairs = zip(result.lrs[g], result.factors[g], cooldown, strict=True)
    return [lr / (w * c) if w * c > 0.0 else math.nan for lr, w, c in pairs]


def _draw_rates(ax: Any, result: SchedulePreview, groups: Sequence[int]) -> None:
    t = range(1, result.num_updates + 1)
    several = len(result.lrs) > 1
    for g in groups:
        label = f"param group {g}" if several else "learning rate used"
        ax.plot(t, result.lrs[g], color=f"C{g}", linewidth=1.8, label=label)
        plain = _plain(result, g)
        if plain is not None:
            first = g == groups[0]
            without = "the warmup and the cooldown" if result.cooldowns else "the warmup"
            ax.plot(t, plain, color=f"C{g}", linewidth=1.0, linestyle=":",
                    label=f"without {without}" if first else None)  # fmt: skip


def _draw_warmup(ax: Any, spans: Sequence[_Span | None], top: bool) -> None:
    """The warmup bands (one per distinct span) and the marks of :data:`_LEVELS`."""
    drawn: set[tuple[float, float]] = set()
    marked: set[int] = set()
    for span in spans:
        if span is None or (span.start, span.stop) in drawn:
            continue
        label = span.label if not drawn else None
        drawn.add((span.start, span.stop))
        ax.axvspan(span.start, span.stop, color="0.85", alpha=0.5, zorder=0, label=label)
        for update, text in span.marks:
            if update in marked:
                continue
            marked.add(update)
            ax.axvline(update, color="0.4", linewidth=0.9, linestyle="-.", zorder=1)
            if top:
                ax.annotate(text, (update, 0.03), xycoords=("data", "axes fraction"),
                            xytext=(3, 0), textcoords="offset points", rotation=90,
                            fontsize=7, color="0.3", va="bottom")  # fmt: skip


def _draw_beyond(ax: Any, result: SchedulePreview, top: bool) -> None:
    """The cooldown bands, and a dashed line at each rewarm (labelled in the top panel)."""
    for index, span in enumerate(_cooldown_spans(result)):
        ax.axvspan(span.start, span.stop, color="tab:purple", alpha=0.12, zorder=0,
                   label=span.label if index < 2 else None)  # fmt: skip
    for index, rewarm in enumerate(result.rewarms):
        if rewarm >= result.num_updates:
            continue
        ax.axvline(rewarm, color="tab:green", linewidth=1.0, linestyle="--", zorder=1,
                   label="rewarm" if index == 0 else None)  # fmt: skip
        if top:
            ax.annotate(f"rewarm after update {rewarm}", (rewarm, 0.03),
                        xycoords=("data", "axes fraction"), xytext=(-3, 0),
                        textcoords="offset points", rotation=90, fontsize=7,
                        color="tab:green", va="bottom", ha="right")  # fmt: skip


def _draw_epochs(ax: Any, result: SchedulePreview) -> None:
    k, n = result.updates_per_epoch, result.num_updates
    if k is not None and n // k <= 40:
        for e in range(k, n, k):
            ax.axvline(e + 0.5, color="0.6", linewidth=0.5, linestyle="--", zorder=0)


def _draw_findings(ax: Any, result: SchedulePreview, top: bool) -> None:
    """A red line at each finding's update; its code beside it (inside the panel)."""
    for index, w in enumerate(result.warnings):
        x = max(w.update, 1)
        label = "finding" if index == 0 else None
        ax.axvline(x, color="tab:red", linewidth=1.0, alpha=0.7, label=label)
        if top:
            right = x > 0.6 * result.num_updates  # then the code goes left of the line
            ax.annotate(w.code, (x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(-3 if right else 3, -12 - 11 * (index % 3)),
                        textcoords="offset points", ha="right" if right else "left",
                        color="tab:red", fontsize=8, zorder=6,  # above the legend
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.8})  # fmt: skip


def _scale(ax: Any, result: SchedulePreview, groups: Sequence[int]) -> None:
    """A linear scale from 0, or a log one when some rate stays tenfold below the top."""
    used = [v for g in groups for v in result.lrs[g]]
    shown = used + [v for g in groups for v in (_plain(result, g) or []) if math.isfinite(v)]
    top, peaks = max(shown), [max(result.lrs[g]) for g in groups]
    low = min((p for p in peaks if p > 0.0), default=0.0)
    if low <= 0.0 or top < _TENFOLD * low:
        ax.set_ylim(bottom=0)
        ax.set_ylabel("learning rate")
        return
    smallest = min(v for v in used if v > 0.0)
    ax.set_yscale("log")
    ax.set_ylim(max(smallest, top * 10.0**-_LOG_DECADES) / 1.5, top * 1.5)
    ax.set_ylabel("learning rate (log scale)")


def default_title(result: SchedulePreview) -> str:
    """What was previewed, the number of updates, and the findings (their codes)."""
    count = len(result.warnings)
    findings = "no finding"
    if count:
        codes = ", ".join(dict.fromkeys(w.code for w in result.warnings))
        findings = f"{count} finding{'s' if count > 1 else ''}: {codes}"
    return f"{result.name or 'schedule'}\n{result.num_updates} updates, {findings}"


def plot_preview(result: SchedulePreview, path: Path, title: str | None = None) -> None:
    """Draw a preview to ``path`` (``.png``, ``.pdf`` or ``.svg``); see the module's text."""
    panels = _panels(result)
    height = FIGURE_SIZE[1] if len(panels) == 1 else 130 + 190 * len(panels)
    fig = figure(height=height)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    starts = [0, *(r for r in result.rewarms if r < result.num_updates)]
    spans = [[_span(result, g, start) for start in starts] for g in range(len(result.lrs))]
    for i, (ax, groups) in enumerate(zip(axes, panels, strict=True)):
        _draw_rates(ax, result, groups)
        _draw_warmup(ax, [span for g in groups for span in spans[g]], top=i == 0)
        _draw_beyond(ax, result, top=i == 0)
        _draw_epochs(ax, result)
        _draw_findings(ax, result, top=i == 0)
        _scale(ax, result, groups)
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="best", fontsize=8)
    axes[-1].set_xlim(0, result.num_updates + 1)
    axes[-1].set_xlabel("update")
    fig.suptitle(title or default_title(result), fontsize="medium")
    save(fig, path)
