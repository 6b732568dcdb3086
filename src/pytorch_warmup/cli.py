r"""The ``pytorch-warmup`` command: ``plot``, ``period`` and ``demo``.

* ``pytorch-warmup plot`` draws :math:`\omega_t` of the untuned linear, untuned
  exponential and RAdam warmups;
* ``pytorch-warmup period`` prints (and optionally plots) the effective warmup
  period of each schedule for given :math:`\beta_2` values;
* ``pytorch-warmup demo`` trains a small Post-LN Transformer language model with
  and without warmup and writes a table and plots.

``plot``, ``demo`` and the plot of ``period`` need matplotlib and tqdm, which
come with ``pip install "pytorch-warmup[cli]"``. Every user error prints a
single line ``pytorch-warmup: error: ...`` on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .analysis import SCHEDULES, effective_warmup_period
from .base import ExponentialWarmup, LinearWarmup
from .radam import _radam_factor, get_offset, rho_inf_fn
from .untuned import untuned_period

__all__ = ["main"]

PROG = "pytorch-warmup"
_FORMATS = (".png", ".pdf", ".svg")
_EXTRA = 'pip install "pytorch-warmup[cli]"'
_DEFAULT_PERIOD_BETAS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9998, 0.9999)


class UsageError(Exception):
    """A mistake in the command line, reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(message)


def _fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _require(module: str, what: str) -> Any:
    """Import an optional dependency, or fail with the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs {module.split('.')[0]}: {_EXTRA}") from None


# -- argument types -------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _beta2(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"beta2 must be a number, got {text!r}") from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise argparse.ArgumentTypeError(f"beta2 must be in (0, 1), got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0.0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _schedule(text: str) -> str:
    name = text.lower()
    aliases = {"expo": "exponential", "exp": "exponential"}
    name = aliases.get(name, name)
    if name not in SCHEDULES:
        raise argparse.ArgumentTypeError(
            f"unknown schedule {text!r} (choose from {', '.join(SCHEDULES)})"
        )
    return name


def _check_radam_betas(schedules: Sequence[str], betas: Sequence[float]) -> None:
    if "radam" in schedules:
        low = [b for b in betas if not b > 0.6]
        if low:
            raise UsageError(
                f"the RAdam warmup needs beta2 > 0.6 (rho_inf > 4), got --beta2 {low[0]:g}; "
                "leave radam out with --schedules linear exponential"
            )


def _check_output_file(path: Path) -> Path:
    """Check the format and that the file can be written, before any work."""
    if path.suffix.lower() not in _FORMATS:
        raise UsageError(
            f"--output {str(path)!r}: unknown format {path.suffix or '(none)'!r}, "
            f"use one of {', '.join(_FORMATS)}"
        )
    _check_writable_dir(path.parent if str(path.parent) else Path("."), f"--output {str(path)!r}")
    if path.is_dir():
        raise UsageError(f"--output {str(path)!r} is a directory")
    return path


def _check_writable_dir(directory: Path, what: str) -> None:
    if not directory.is_dir():
        raise UsageError(f"{what}: directory {str(directory)!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: directory {str(directory)!r} is not writable")


def _check_output_dir(path: Path) -> Path:
    """Create the demo's output folder (and parents), or fail in one line."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--output {str(path)!r} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--output {str(path)!r}: cannot create it ({e.strerror})") from None
    _check_writable_dir(path, "--output")
    return path


# -- factors --------------------------------------------------------------------


def warmup_factors(schedule: str, beta2: float, steps: int) -> list[float]:
    r"""The factors :math:`\omega_1, \dots, \omega_{\mathrm{steps}}` of an untuned schedule.

    Args:
        schedule: ``"linear"``, ``"exponential"`` or ``"radam"``.
        beta2: Adam's :math:`\beta_2`.
        steps: The number of steps.

    Example:
        >>> from pytorch_warmup.cli import warmup_factors
        >>> warmup_factors("linear", 0.5, 5)  # tau = floor(2 / 0.5) = 4
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """
    if schedule == "linear":
        tau = untuned_period(beta2, 2)
        return [LinearWarmup.warmup_factor(None, s, tau) for s in range(steps)]  # type: ignore[arg-type]
    if schedule == "exponential":
        tau = untuned_period(beta2, 1)
        return [ExponentialWarmup.warmup_factor(None, s, tau) for s in range(steps)]  # type: ignore[arg-type]
    if schedule == "radam":
        rho_inf = rho_inf_fn(beta2)
        offset = get_offset(beta2, rho_inf)
        return [_radam_factor(s, beta2, rho_inf, offset) for s in range(steps)]
    raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")


# -- commands -------------------------------------------------------------------


def _cmd_plot(args: argparse.Namespace) -> int:
    _check_radam_betas(args.schedules, args.beta2)
    output = _check_output_file(args.output)
    plotting = _load_plotting("plot")
    curves = {b: {s: warmup_factors(s, b, args.steps) for s in args.schedules} for b in args.beta2}
    with _writing(output):
        plotting.plot_schedules(curves, output, args.steps)
    print(f"wrote {output}")
    return 0


def period_table(schedules: Sequence[str], betas: Sequence[float]) -> list[list[float]]:
    """Rows ``[beta2, 1/(1-beta2), T(schedule) for each schedule]``."""
    return [
        [b, 1.0 / (1.0 - b), *(effective_warmup_period(s, beta2=b) for s in schedules)]
        for b in betas
    ]


def format_period_table(schedules: Sequence[str], rows: Sequence[Sequence[float]]) -> str:
    """The effective periods as an aligned table."""
    header = ["beta2", "1/(1-beta2)", *schedules]
    cells = [header] + [[f"{r[0]:g}", f"{r[1]:.1f}", *(f"{v:.3f}" for v in r[2:])] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    # The first column is left-aligned, so no line starts with blanks.
    lines = [
        "  ".join(
            [
                row[0].ljust(widths[0]),
                *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
            ]
        ).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_period(args: argparse.Namespace) -> int:
    _check_radam_betas(args.schedules, args.beta2)
    output = _check_output_file(args.output) if args.output is not None else None
    plotting = _load_plotting("period --output") if output is not None else None
    rows = period_table(args.schedules, args.beta2)
    print("effective warmup period T = sum_t (1 - omega_t), untuned periods from beta2")
    print(format_period_table(args.schedules, rows))
    if plotting is not None and output is not None:
        periods = {s: [r[2 + i] for r in rows] for i, s in enumerate(args.schedules)}
        with _writing(output):
            plotting.plot_periods(args.beta2, periods, output)
        print(f"wrote {output}")
    return 0


def _writing(path: Path) -> contextlib.AbstractContextManager[None]:
    """Turn an ``OSError`` while writing ``path`` into a one-line usage error."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except OSError as e:
            raise UsageError(f"cannot write {str(path)!r}: {e.strerror or e}") from None

    return guard()


def _load_plotting(what: str) -> Any:
    _require("matplotlib", what)
    from . import _plotting

    return _plotting


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import _demo

    if args.text is not None and not args.text.is_file():
        raise UsageError(f"--text {str(args.text)!r}: no such file")
    if args.beta2 is not None and not args.beta2 > 0.6:
        raise UsageError(
            f"--beta2 {args.beta2:g}: the demo includes the RAdam warmup, which needs beta2 > 0.6"
        )
    output = _check_output_dir(args.output)
    tqdm = _require("tqdm", "demo").tqdm
    plotting = _load_plotting("demo")
    base = _demo.DemoSettings.quick() if args.quick else _demo.DemoSettings()
    changes = {
        key: getattr(args, key)
        for key in ("steps", "seeds", "lr", "beta2", "batch_size", "threads", "text")
        if getattr(args, key) is not None
    }
    settings = dataclasses.replace(base, **changes)
    try:
        _demo.prepare_data(settings)  # fail early on a short or unreadable text
    except (OSError, ValueError) as e:
        raise UsageError(f"--text: {e}") from None

    def progress(total: int, desc: str) -> Any:
        width = max(len(c) for c in _demo.CONFIGURATIONS) + len(" (seed 0)")
        return tqdm(
            total=total,
            desc=desc.ljust(width),
            unit="step",
            leave=True,
            disable=args.no_progress,
            dynamic_ncols=True,
        )

    print(
        f"demo: {settings.layers}-layer Post-LN Transformer (d_model={settings.d_model}), "
        f"{settings.steps} steps x {settings.seeds} seed(s), AdamW lr={settings.lr:g} "
        f"betas=(0.9, {settings.beta2:g}), cosine schedule; text: "
        f"{settings.text or 'pydoc_data.topics'}",
        flush=True,
    )
    start = time.perf_counter()
    results = _demo.run_demo(settings, progress)
    summaries = _demo.summarize(results)
    print()
    print(_demo.format_table(summaries))
    print()
    loss_png, lr_png = output / "loss.png", output / "lr.png"
    smooth = max(1, settings.steps // 25)
    with _writing(output):
        written = _demo.write_results(results, summaries, output)
        plotting.plot_curves(
            _demo.mean_curves(results, "losses"),
            loss_png,
            ylabel="training loss (nats/char)",
            title=f"training loss (moving average over {smooth} steps)",
            smooth=smooth,
        )
        plotting.plot_curves(
            _demo.mean_curves(results, "lrs"),
            lr_png,
            ylabel="learning rate",
            title="learning rate used (the RAdam optimizer rectifies its own internally)",
        )
    print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s; wrote:")
    for path in [*written, loss_png, lr_png]:
        print(f"  {path}")
    return 0


# -- parser ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pytorch-warmup`` and its subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Learning-rate warmup for PyTorch: plot the schedules, compute their "
        "effective warmup periods, and run a training demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    schedules_help = f"schedules to include (default: {' '.join(SCHEDULES)})"

    plot = sub.add_parser(
        "plot",
        help="draw the warmup factor of the untuned and RAdam warmups",
        description="Draw the warmup factor omega_t over the first steps for the untuned "
        "linear, untuned exponential and RAdam warmups, one panel per beta2.",
    )
    plot.add_argument(
        "--beta2",
        type=_beta2,
        nargs="+",
        default=[0.999],
        metavar="B",
        help="Adam's beta2, one or several values (default: 0.999)",
    )
    plot.add_argument(
        "--steps", type=_positive_int, default=3000, help="number of steps drawn (default: 3000)"
    )
    plot.add_argument(
        "--schedules",
        type=_schedule,
        nargs="+",
        default=list(SCHEDULES),
        metavar="NAME",
        help=schedules_help,
    )
    plot.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("warmup_schedule.png"),
        metavar="FILE",
        help="output file, .png, .pdf or .svg (default: warmup_schedule.png)",
    )
    plot.set_defaults(func=_cmd_plot)

    period = sub.add_parser(
        "period",
        help="print the effective warmup period of each schedule",
        description="Print the effective warmup period T = sum_t (1 - omega_t) of the "
        "untuned linear, untuned exponential and RAdam warmups for the given beta2 values, "
        "and optionally plot it against 1 - beta2 (log scale).",
    )
    period.add_argument(
        "--beta2",
        type=_beta2,
        nargs="+",
        default=list(_DEFAULT_PERIOD_BETAS),
        metavar="B",
        help="Adam's beta2 values (default: 0.9 to 0.9999)",
    )
    period.add_argument(
        "--schedules",
        type=_schedule,
        nargs="+",
        default=list(SCHEDULES),
        metavar="NAME",
        help=schedules_help,
    )
    period.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="FILE",
        help="also plot the periods to this file (.png, .pdf or .svg)",
    )
    period.set_defaults(func=_cmd_period)

    demo = sub.add_parser(
        "demo",
        help="train a small Transformer with and without warmup",
        description="Train a small character-level Post-LN Transformer language model on "
        "the Python language reference (pydoc_data.topics) or on --text FILE, with AdamW and "
        "no warmup, untuned linear, untuned exponential and RAdam warmup, and with "
        "torch.optim.RAdam; print a results table and write CSV, Markdown and PNG files.",
    )
    demo.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("demo-output"),
        metavar="DIR",
        help="output folder (default: demo-output)",
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="a shorter run of about a minute (fewer steps, one seed)",
    )
    demo.add_argument(
        "--steps",
        type=_positive_int,
        help="optimizer steps per run (default: 400; 250 with --quick)",
    )
    demo.add_argument(
        "--seeds", type=_positive_int, help="number of seeds (default: 2; 1 with --quick)"
    )
    demo.add_argument("--lr", type=_positive_float, help="peak learning rate (default: 0.03)")
    demo.add_argument(
        "--beta2", type=_beta2, metavar="B", help="Adam's beta2, > 0.6 (default: 0.99)"
    )
    demo.add_argument("--batch-size", type=_positive_int, help="sequences per batch (default: 32)")
    demo.add_argument(
        "--threads",
        type=_positive_int,
        help="torch threads (default: 1, the fastest for this small model on a shared CPU)",
    )
    demo.add_argument(
        "--text",
        type=Path,
        metavar="FILE",
        help="train on this UTF-8 text file instead of pydoc_data.topics",
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pytorch-warmup`` command.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success. Usage errors print one line on stderr
        and raise ``SystemExit(2)``.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except UsageError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status
