r"""``pytorch-warmup plot`` and ``pytorch-warmup period``: the warmup factors and their periods.

``plot`` draws :math:`\omega_t` of the named warmups of
:data:`pytorch_warmup._catalog.WARMUPS`, one panel per :math:`\beta_2` (with
``--scheduler``, a torch LR scheduler under a warmup instead: see
:mod:`pytorch_warmup.cli._cmd_preview`); ``period`` prints their effective
warmup periods.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import _catalog
from ..analysis import effective_warmup_period
from ..untuned import untuned_period
from . import _cmd_preview
from ._common import (
    Parser,
    UsageError,
    check_output_file,
    format_table,
    load_plotting,
    number,
    path,
    writing,
)

__all__ = [
    "add_parsers",
    "default_steps",
    "format_period_table",
    "period_table",
    "plotted_steps",
    "warmup_factors",
]

DEFAULT_OUTPUT = Path("warmup_schedule.png")
"""Where ``plot`` writes without ``--output`` (``plot --scheduler``: see its help)."""

_MAX_POINTS = 2000
"""The most points drawn per curve by ``plot``: longer ranges are sampled."""

_DEFAULT_PERIOD_BETAS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9998, 0.9999)


def warmup_factors(schedule: str, beta2: float, steps: int | Iterable[int]) -> list[float]:
    r"""The factors :math:`\omega_t` of a named warmup, its period from :math:`\beta_2`.

    Args:
        schedule: A name of :data:`pytorch_warmup._catalog.WARMUPS`: ``"linear"``,
            ``"exponential"`` or ``"radam"``.
        beta2: Adam's :math:`\beta_2`.
        steps: The number of steps (:math:`\omega_1, \dots, \omega_{\mathrm{steps}}`),
            or the step indices to evaluate (``0`` for :math:`t = 1`).

    Example:
        >>> from pytorch_warmup.cli import warmup_factors
        >>> warmup_factors("linear", 0.5, 5)  # tau = floor(2 / 0.5) = 4
        [0.25, 0.5, 0.75, 1.0, 1.0]
        >>> warmup_factors("linear", 0.999, [0, 999, 1999])  # tau = 2000
        [0.0005, 0.5, 1.0]
    """
    if schedule not in _catalog.WARMUPS:
        raise ValueError(f"schedule must be one of {list(_catalog.WARMUPS)}, got {schedule!r}")
    indices = range(steps) if isinstance(steps, int) else steps
    return _catalog.WARMUPS[schedule].factors(beta2, indices)


def default_steps(beta2: float) -> int:
    r"""The range ``plot`` draws for one :math:`\beta_2`: 1.5 untuned linear periods, at least 10.

    Example:
        >>> from pytorch_warmup.cli import default_steps
        >>> default_steps(0.999), default_steps(0.9), default_steps(0.5)
        (3000, 30, 10)
    """
    return max(10, 3 * untuned_period(beta2, 2) // 2)


def plotted_steps(steps: int, beta2: float) -> list[int]:
    r"""The step indices ``plot`` evaluates: all of them, or at most about 2000.

    A long range is sampled evenly; the step where the untuned linear warmup
    reaches 1 is always included, so its corner is drawn where it is.

    Example:
        >>> from pytorch_warmup.cli import plotted_steps
        >>> plotted_steps(5, 0.5)
        [0, 1, 2, 3, 4]
        >>> len(plotted_steps(10_000_000, 0.999)), 1999 in plotted_steps(10_000_000, 0.999)
        (2001, True)
    """
    if steps <= _MAX_POINTS:
        return list(range(steps))
    sampled = {round(i * (steps - 1) / (_MAX_POINTS - 1)) for i in range(_MAX_POINTS)}
    corner = untuned_period(beta2, 2) - 1
    if corner < steps:
        sampled.add(corner)
    return sorted(sampled)


def period_table(schedules: Sequence[str], betas: Sequence[float]) -> list[list[float]]:
    """Rows ``[beta2, 1/(1-beta2), T(schedule) for each schedule]``."""
    return [
        [b, 1.0 / (1.0 - b), *(effective_warmup_period(s, beta2=b) for s in schedules)]
        for b in betas
    ]


def format_period_table(schedules: Sequence[str], rows: Sequence[Sequence[float]]) -> str:
    """The effective periods of :func:`period_table` as an aligned table."""
    header = ["beta2", "1/(1-beta2)", *schedules]
    # repr: the shortest decimal that round-trips, so 0.9999999 is not shown as 1.
    cells = [[repr(r[0]), f"{r[1]:.1f}", *(f"{v:.3f}" for v in r[2:])] for r in rows]
    return format_table(header, cells)


# -- commands -------------------------------------------------------------------


def _check_betas(schedules: Sequence[str], betas: Sequence[float]) -> None:
    """Each warmup's lower bound on beta2 (RAdam: 0.6), before any work."""
    for name in schedules:
        entry = _catalog.WARMUPS[name]
        low = [b for b in betas if not b > entry.min_beta2]
        if low:
            others = " ".join(s for s in _catalog.WARMUPS if s != name)
            raise UsageError(
                f"the {entry.label} needs beta2 > {entry.min_beta2:g} ({entry.min_beta2_reason}), "
                f"got --beta2 {low[0]!r}; leave {name} out with --schedules {others}"
            )


def _cmd_plot(args: argparse.Namespace) -> int:
    if args.scheduler is not None:
        return _cmd_preview.plot_schedule(args)
    for option in _cmd_preview.SCHEDULER_OPTIONS:
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} goes with --scheduler (draw a composed schedule)")
    _check_betas(args.schedules, args.beta2)
    output = check_output_file(args.output or DEFAULT_OUTPUT)
    figures = load_plotting("plot")
    curves = {}
    for b in args.beta2:
        indices = plotted_steps(args.steps or default_steps(b), b)
        factors = {s: warmup_factors(s, b, indices) for s in args.schedules}
        curves[b] = ([i + 1 for i in indices], factors)
    with writing(output):
        figures.plot_schedules(curves, output)
    print(f"wrote {output}")
    return 0


def _cmd_period(args: argparse.Namespace) -> int:
    _check_betas(args.schedules, args.beta2)
    output = check_output_file(args.output) if args.output is not None else None
    figures = load_plotting("period --output") if output is not None else None
    rows = period_table(args.schedules, args.beta2)
    print("effective warmup period T = sum_t (1 - omega_t), untuned periods from beta2")
    print(format_period_table(args.schedules, rows))
    if figures is not None and output is not None:
        periods = {s: [r[2 + i] for r in rows] for i, s in enumerate(args.schedules)}
        with writing(output):
            figures.plot_periods(args.beta2, periods, output)
        print(f"wrote {output}")
    return 0


# -- parsers --------------------------------------------------------------------


def _schedule(text: str) -> str:
    try:
        return _catalog.lookup(text, "schedule").name
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _shared_options(beta2_default: str, output_help: str) -> Parser:
    """The options that ``plot`` and ``period`` share, as an argparse parent parser.

    Each command gets its own parent (the defaults are set on the command), so
    that no command changes another one's defaults.
    """
    shared = Parser(add_help=False)
    shared.add_argument(
        "--beta2",
        type=number("beta2"),
        nargs="+",
        metavar="B",
        help=f"Adam's beta2, one or several values in [0, 1) (default: {beta2_default})",
    )
    names = " ".join(_catalog.WARMUPS)
    shared.add_argument(
        "--schedules",
        type=_schedule,
        nargs="+",
        default=list(_catalog.WARMUPS),
        metavar="NAME",
        help=f"warmups to include, their periods from beta2 (default: {names})",
    )
    shared.add_argument("--output", "-o", type=path, metavar="FILE", help=output_help)
    return shared


def add_parsers(sub: Any) -> None:
    """Add ``plot`` and ``period`` to the subcommands ``sub``."""
    plot = sub.add_parser(
        "plot",
        parents=[
            _shared_options(
                "0.999",
                f"output file, .png, .pdf or .svg (default: {DEFAULT_OUTPUT}; with "
                f"--scheduler: {_cmd_preview.SCHEDULE_OUTPUT})",
            )
        ],
        help="draw the warmup factor of the untuned and RAdam warmups",
        description="Draw the warmup factor omega_t over the first steps for the untuned "
        "linear, untuned exponential and RAdam warmups, one panel per beta2.",
    )
    plot.add_argument(
        "--steps",
        type=number("count"),
        default=None,
        help="number of steps drawn (default: 1.5 untuned linear periods, 3/(1 - beta2), for "
        f"each beta2); at most {_MAX_POINTS} points are drawn per curve",
    )
    _cmd_preview.add_scheduler_options(plot)
    plot.set_defaults(beta2=[0.999], output=None, func=_cmd_plot)

    period = sub.add_parser(
        "period",
        parents=[
            _shared_options(
                "0.9 to 0.9999", "also plot the periods to this file (.png, .pdf or .svg)"
            )
        ],
        help="print the effective warmup period of each schedule",
        description="Print the effective warmup period T = sum_t (1 - omega_t) of the "
        "untuned linear, untuned exponential and RAdam warmups for the given beta2 values, "
        "and optionally plot it against 1 - beta2 (log scale).",
    )
    period.set_defaults(beta2=list(_DEFAULT_PERIOD_BETAS), output=None, func=_cmd_period)
