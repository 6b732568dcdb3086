r"""Figures of the command line, drawn with matplotlib (imported only when called).

Every figure has a fixed size in pixels (``width`` x ``height`` at :data:`DPI`),
so its files are reproducible and testable; nothing here touches pyplot's
global state. The warmups' colours and labels are those of
:data:`pytorch_warmup._catalog.WARMUPS`; the preview's figure is in
:mod:`pytorch_warmup.cli._preview_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import _catalog

__all__ = [
    "DPI",
    "FIGURE_SIZE",
    "figure",
    "plot_curves",
    "plot_periods",
    "plot_schedules",
    "save",
]

DPI = 100
"""Dots per inch of every figure."""

FIGURE_SIZE = (800, 500)
"""Width and height in pixels of a figure with one panel."""


def _style(name: str) -> dict[str, Any]:
    """The colour and label of a named warmup."""
    entry = _catalog.WARMUPS[name]
    return {"color": entry.color, "label": entry.label}


def figure(panels: int = 1, height: int | None = None) -> Any:
    """A new figure for ``panels`` side-by-side panels, ``height`` pixels high (without pyplot).

    The height defaults to that of :data:`FIGURE_SIZE`.
    """
    from matplotlib.figure import Figure

    width, one = FIGURE_SIZE
    size = (width * panels / DPI, (height or one) / DPI)
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def save(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path``, without a date or a software version in the file."""
    fig.savefig(path, dpi=DPI, metadata=_metadata(path))


def _metadata(path: Path) -> dict[str, Any] | None:
    # No creation date or software version in the file: the same figure gives
    # the same bytes, which keeps the committed images stable.
    suffix = path.suffix.lower()
    if suffix == ".png":
        return {"Software": None}
    if suffix == ".pdf":
        return {"Creator": None, "Producer": None, "CreationDate": None}
    if suffix == ".svg":
        return {"Date": None, "Creator": None}
    return None


def plot_schedules(
    curves: Mapping[float, tuple[Sequence[int], Mapping[str, Sequence[float]]]], path: Path
) -> None:
    r"""Draw :math:`\omega_t` against :math:`t` for each :math:`\beta_2`, one panel each.

    Each panel spans the iterations it is given; the legend sits below the
    panels, where it cannot hide a curve. Short ranges (50 points or fewer)
    mark every iteration.

    Args:
        curves: For each :math:`\beta_2`, the iterations :math:`t` drawn and the
            factors of each schedule at them (name -> :math:`\omega_t`).
        path: The output file (``.png``, ``.pdf`` or ``.svg``).
    """
    fig = figure(len(curves))
    axes = fig.subplots(1, len(curves), sharey=True, squeeze=False)[0]
    for ax, (beta2, (t, by_schedule)) in zip(axes, curves.items(), strict=True):
        marker = "o" if len(t) <= 50 else None
        for name, factors in by_schedule.items():
            ax.plot(t, factors, linewidth=2, marker=marker, markersize=4, **_style(name))
        ax.set_title(rf"$\beta_2 = {beta2!r}$")
        ax.set_xlabel("iteration $t$")
        ax.set_xlim(0, t[-1])
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"warmup factor $\omega_t$")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    save(fig, path)


def plot_periods(
    betas: Sequence[float], periods: Mapping[str, Sequence[float]], path: Path
) -> None:
    r"""Draw the effective warmup period against :math:`1 - \beta_2` (log scale).

    The left panel shows :math:`\mathcal{T}(\omega)` (log-log), the right one
    :math:`\mathcal{T}(\omega) \cdot (1 - \beta_2)`, where the schedules differ visibly.

    Args:
        betas: The :math:`\beta_2` values.
        periods: For each schedule, :math:`\mathcal{T}(\omega)` at each :math:`\beta_2`.
        path: The output file (``.png``, ``.pdf`` or ``.svg``).
    """
    fig = figure(2)
    left, right = fig.subplots(1, 2)
    x = [1.0 - b for b in betas]
    left.plot(x, [1.0 / v for v in x], color="0.5", linestyle=":", label=r"$(1-\beta_2)^{-1}$")
    right.axhline(1.0, color="0.5", linestyle=":", label=r"$(1-\beta_2)^{-1}$")
    for name, values in periods.items():
        style = {"marker": "o", "markersize": 4, "linewidth": 1.5, **_style(name)}
        left.plot(x, values, **style)
        right.plot(x, [v * e for v, e in zip(values, x, strict=True)], **style)
    left.set_yscale("log")
    left.set_ylabel(r"effective warmup period $\mathcal{T}(\omega)$")
    right.set_ylabel(r"$\mathcal{T}(\omega) \cdot (1-\beta_2)$")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel(r"$1 - \beta_2$")
        ax.grid(alpha=0.3, which="both")
    right.legend()
    save(fig, path)


def _smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average (NaN-aware: a NaN poisons only its own window)."""
    out: list[float] = []
    total = 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        n = min(i + 1, window)
        out.append(total / n if math.isfinite(total) else math.nan)
    return out


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    path: Path,
    *,
    ylabel: str,
    title: str,
    smooth: int = 1,
    log_y: bool = False,
    points: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
) -> None:
    """Draw one curve per configuration against the step.

    Configurations whose curves are identical (such as two runs on the same
    plain schedule) are drawn once, with one label naming them all, so that
    no line hides another.

    Args:
        curves: Configuration name -> value at each step.
        path: The output file (``.png``, ``.pdf`` or ``.svg``).
        ylabel: The y-axis label.
        title: The figure title.
        smooth: Width of the trailing moving average (1: none).
        log_y: Use a log scale for the y axis.
        points: Configuration name -> (steps, values) drawn as dots joined by
            a dotted line in the curve's colour (e.g. validation losses).
    """
    fig = figure()
    ax = fig.subplots()
    colors = {name: f"C{i}" for i, name in enumerate(curves)}
    groups: dict[tuple[float, ...], list[str]] = {}
    for name, values in curves.items():
        groups.setdefault(tuple(values), []).append(name)
    for values, names in groups.items():
        y = _smooth(values, smooth) if smooth > 1 else list(values)
        style = "--" if len(names) == 1 and "optimizer" in names[0] else "-"
        label = " and ".join(names) + (" (the same curve)" if len(names) > 1 else "")
        ax.plot(range(1, len(y) + 1), y, style, color=colors[names[0]], linewidth=1.5, label=label)
    for name, (steps, values) in (points or {}).items():
        ax.plot(steps, values, ":o", color=colors.get(name), markersize=4, linewidth=1)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save(fig, path)
