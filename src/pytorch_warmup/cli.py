r"""The ``pytorch-warmup`` command: ``plot``, ``period`` and ``demo``.

* ``pytorch-warmup plot`` draws :math:`\omega_t` of the untuned linear, untuned
  exponential and RAdam warmups;
* ``pytorch-warmup period`` prints (and optionally plots) the effective warmup
  period of each schedule for given :math:`\beta_2` values;
* ``pytorch-warmup demo`` trains a small Post-LN Transformer language model with
  and without warmup and writes a table and plots;
* ``pytorch-warmup preview MODULE:FUNCTION`` runs the user's own schedule without
  training, draws the learning rates and reports the schedule checks of
  :mod:`pytorch_warmup.preview` (``plot --scheduler`` does the same for a
  common torch scheduler under a warmup, without user code).

``plot``, ``demo`` and the plot of ``period`` need matplotlib and tqdm, the
``cli`` extra (``pip install ".[cli]"`` in a checkout). Every user error prints
a single line ``pytorch-warmup: error: ...`` on stderr and exits with status 2,
before any file or folder is written; without a command it prints the usage.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__, _checks
from ._math import (
    exponential_factor,
    linear_factor,
    radam_factor,
    radam_offset,
    rho_inf,
    untuned_period,
)
from .analysis import SCHEDULES, effective_warmup_period

__all__ = ["main"]

PROG = "pytorch-warmup"
_FORMATS = (".png", ".pdf", ".svg")
_EXTRA = 'the "cli" extra (pip install ".[cli]" in a checkout of pytorch-warmup)'
_MAX_POINTS = 2000
"""The most points drawn per curve by ``plot``: longer ranges are sampled."""
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


def _positive(value: float, name: str) -> float:
    number = _checks.as_float(value, name)
    if not number > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


_NUMBERS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "count": (int, lambda v: _checks.as_int(v, "the value", minimum=1)),
    "positive": (float, lambda v: _positive(v, "the value")),
    "beta2": (float, lambda v: _checks.beta2(v, "the value")),
    "radam beta2": (float, lambda v: _checks.beta2(v, "the value", low=0.6)),
}


def _number(kind: str) -> Callable[[str], Any]:
    """The argparse type of one kind of number, checked by :mod:`pytorch_warmup._checks`.

    ``kind`` is ``"count"`` (an int >= 1), ``"positive"`` (a float > 0),
    ``"beta2"`` (in [0, 1)) or ``"radam beta2"`` (in (0.6, 1)).
    """
    convert, check = _NUMBERS[kind]

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            what = "an integer" if convert is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        try:
            return check(value)
        except (TypeError, ValueError) as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = kind
    return parse


def _path(text: str) -> Path:
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


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
                f"the RAdam warmup needs beta2 > 0.6 (rho_inf > 4), got --beta2 {low[0]!r}; "
                "leave radam out with --schedules linear exponential"
            )


def _check_output_file(path: Path) -> Path:
    """Check that ``path`` names a new or existing file that can be written, before any work."""
    what = f"--output {str(path)!r}"
    if path.is_dir():
        raise UsageError(f"{what} is a directory; give a file name such as {path / 'plot.png'}")
    if path.suffix.lower() not in _FORMATS:
        raise UsageError(
            f"{what}: unknown format {path.suffix or '(none)'!r}, use one of {', '.join(_FORMATS)}"
        )
    _check_writable_dir(path.parent, what)
    return path


def _check_writable_dir(directory: Path, what: str) -> None:
    """Fail unless ``directory`` is an existing, writable directory (naming what is wrong)."""
    if not directory.is_dir():
        # The nearest part of the path that exists says why: a missing folder or a file.
        existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise UsageError(f"{what}: {str(existing)!r} is a file, not a directory")
        raise UsageError(f"{what}: directory {str(directory)!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: directory {str(directory)!r} is not writable")


def _check_output_dir(path: Path) -> Path:
    """Check that the demo's output folder exists or can be created; create nothing."""
    what = f"--output {str(path)!r}"
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} exists and is not a directory")
    existing = next(p for p in (path, *path.parents) if p.exists())
    _check_writable_dir(existing, what)
    return path


def _create_output_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--output {str(path)!r}: cannot create it ({e.strerror})") from None


def _check_text(path: Path) -> Path:
    what = f"--text {str(path)!r}"
    if path.is_dir():
        raise UsageError(f"{what} is a directory, not a text file")
    if not path.exists():
        raise UsageError(f"{what}: no such file")
    if not path.is_file():
        raise UsageError(f"{what} is not a regular file")
    return path


# -- factors --------------------------------------------------------------------


def warmup_factors(schedule: str, beta2: float, steps: int | Iterable[int]) -> list[float]:
    r"""The factors :math:`\omega_t` of an untuned schedule (or RAdam's) at some steps.

    Args:
        schedule: ``"linear"``, ``"exponential"`` or ``"radam"``.
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
    indices = range(steps) if isinstance(steps, int) else steps
    if schedule == "linear":
        tau = untuned_period(beta2, 2)
        return [linear_factor(s, tau) for s in indices]
    if schedule == "exponential":
        tau = untuned_period(beta2, 1)
        return [exponential_factor(s, tau) for s in indices]
    if schedule == "radam":
        rho_inf_value = rho_inf(beta2)
        offset = radam_offset(beta2, rho_inf_value)
        return [radam_factor(s, beta2, rho_inf_value, offset) for s in indices]
    raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")


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


# -- commands -------------------------------------------------------------------


def _cmd_plot(args: argparse.Namespace) -> int:
    if args.scheduler is not None:
        return _cmd_plot_schedule(args)
    for option in ("total_steps", "warmup", "warmup_period"):
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} goes with --scheduler (draw a composed schedule)")
    _check_radam_betas(args.schedules, args.beta2)
    output = _check_output_file(args.output)
    plotting = _load_plotting("plot")
    curves = {}
    for b in args.beta2:
        indices = plotted_steps(args.steps or default_steps(b), b)
        factors = {s: warmup_factors(s, b, indices) for s in args.schedules}
        curves[b] = ([i + 1 for i in indices], factors)
    with _writing(output):
        plotting.plot_schedules(curves, output)
    print(f"wrote {output}")
    return 0


def _cmd_plot_schedule(args: argparse.Namespace) -> int:
    """``plot --scheduler``: a torch LR scheduler under a warmup, previewed and drawn."""
    from .preview import composition, preview

    if args.steps is not None:
        raise UsageError("--steps is for the warmup factors; with --scheduler give --total-steps")
    if args.total_steps is None:
        raise UsageError("--scheduler needs --total-steps, the number of updates of the training")
    if len(args.beta2) != 1:
        raise UsageError(f"--scheduler draws one --beta2, got {len(args.beta2)} values")
    warmup = args.warmup or "untuned-linear"
    beta2 = args.beta2[0]
    if warmup in ("linear", "exponential") and args.warmup_period is None:
        raise UsageError(f"--warmup {warmup} needs --warmup-period P (in updates)")
    if warmup not in ("linear", "exponential") and args.warmup_period is not None:
        raise UsageError(
            f"--warmup-period goes with --warmup linear or exponential; --warmup {warmup} "
            "takes its period from --beta2"
        )
    if warmup == "radam" and not beta2 > 0.6:
        raise UsageError(f"--warmup radam needs --beta2 > 0.6 (rho_inf > 4), got {beta2:g}")
    output = _check_output_file(args.output)
    _require("matplotlib", "plot")
    build = composition(
        args.scheduler, args.total_steps, warmup, warmup_period=args.warmup_period, beta2=beta2
    )
    result = preview(build, args.total_steps)
    name = f"{args.scheduler} schedule, {warmup} warmup, beta2 = {beta2:g}"
    return _write_preview(result, name, output, None, strict=False)


def _cmd_preview(args: argparse.Namespace) -> int:
    from .preview import load_build, preview

    output = _check_output_file(args.output) if args.output is not None else None
    if args.csv is not None:
        if args.csv.is_dir():
            raise UsageError(f"--csv {str(args.csv)!r} is a directory")
        _check_writable_dir(args.csv.parent, f"--csv {str(args.csv)!r}")
    if output is not None:
        _require("matplotlib", "preview --output")
    try:
        build = load_build(args.build)
    except ValueError as e:
        raise UsageError(str(e)) from None
    try:
        result = preview(build, args.updates, updates_per_epoch=args.updates_per_epoch)
    except Exception as e:  # the user's code or what it returned: one line, status 2
        lines = str(e).strip().splitlines() or ["(no message)"]
        raise UsageError(f"{args.build}: {type(e).__name__}: {lines[0]}") from None
    return _write_preview(result, args.build, output, args.csv, strict=args.strict)


def _write_preview(
    result: Any, name: str, output: Path | None, csv_path: Path | None, *, strict: bool
) -> int:
    """Print the report of a preview, write its files; status 1 for findings when strict."""
    from .preview import format_report

    print(format_report(result, name))
    if csv_path is not None:
        with _writing(csv_path):
            result.write_csv(csv_path)
        print(f"wrote {csv_path}")
    if output is not None:
        with _writing(output):
            result.plot(output)
        print(f"wrote {output}")
    return 1 if strict and result.warnings else 0


def period_table(schedules: Sequence[str], betas: Sequence[float]) -> list[list[float]]:
    """Rows ``[beta2, 1/(1-beta2), T(schedule) for each schedule]``."""
    return [
        [b, 1.0 / (1.0 - b), *(effective_warmup_period(s, beta2=b) for s in schedules)]
        for b in betas
    ]


def format_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, markdown: bool = False
) -> str:
    """Cells as an aligned plain-text table, or as a Markdown table.

    The first column is left-aligned (so no line starts with blanks), the
    others right-aligned; no line ends with blanks.

    Example:
        >>> from pytorch_warmup.cli import format_table
        >>> print(format_table(["name", "value"], [["a", "1.5"], ["bb", "10.25"]]))
        name  value
        ----  -----
        a       1.5
        bb    10.25
        >>> print(format_table(["name", "value"], [["a", "1.5"]], markdown=True))
        | name | value |
        |---|---:|
        | a | 1.5 |
    """
    cells = [list(header), *(list(row) for row in rows)]
    if markdown:
        rule = ["---", *("---:" for _ in header[1:])]
        lines = [f"| {' | '.join(row)} |" for row in cells]
        lines.insert(1, f"|{'|'.join(rule)}|")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
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


def format_period_table(schedules: Sequence[str], rows: Sequence[Sequence[float]]) -> str:
    """The effective periods of :func:`period_table` as an aligned table."""
    header = ["beta2", "1/(1-beta2)", *schedules]
    # repr: the shortest decimal that round-trips, so 0.9999999 is not shown as 1.
    cells = [[repr(r[0]), f"{r[1]:.1f}", *(f"{v:.3f}" for v in r[2:])] for r in rows]
    return format_table(header, cells)


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

    if args.text is not None:
        _check_text(args.text)
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
        _demo.prepare_data(settings)  # fail early on a short, binary or unreadable text
    except (OSError, ValueError) as e:
        raise UsageError(f"--text: {e}") from None
    _create_output_dir(output)  # only now that every check has passed

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
    print(_demo.format_results(summaries))
    print()
    loss_png, lr_png = output / "loss.png", output / "lr.png"
    smooth = max(1, settings.steps // 25)
    seeds = "one seed" if settings.seeds == 1 else f"mean over {settings.seeds} seeds"
    average = f", moving average over {smooth} steps" if smooth > 1 else ""
    with _writing(output):
        written = _demo.write_results(results, summaries, output)
        plotting.plot_curves(
            _demo.mean_curves(results, "losses"),
            loss_png,
            ylabel="loss (nats/char)",
            title=f"loss, {seeds}: training (lines{average}) and validation (dots)",
            smooth=smooth,
            points=_demo.mean_validation(results),
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


def _shared_options(beta2_default: str, output_help: str) -> _Parser:
    """The options that ``plot`` and ``period`` share, as an argparse parent parser.

    Each command gets its own parent (the defaults are set on the command), so
    that no command changes another one's defaults.
    """
    shared = _Parser(add_help=False)
    shared.add_argument(
        "--beta2",
        type=_number("beta2"),
        nargs="+",
        metavar="B",
        help=f"Adam's beta2, one or several values in [0, 1) (default: {beta2_default})",
    )
    shared.add_argument(
        "--schedules",
        type=_schedule,
        nargs="+",
        default=list(SCHEDULES),
        metavar="NAME",
        help=f"schedules to include (default: {' '.join(SCHEDULES)})",
    )
    shared.add_argument(
        "--output",
        "-o",
        type=_path,
        metavar="FILE",
        help=output_help,
    )
    return shared


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pytorch-warmup`` and its subcommands."""
    from .preview import SCHEDULERS, WARMUPS

    parser = _Parser(
        prog=PROG,
        description="Learning-rate warmup for PyTorch: plot the schedules, preview and "
        "check your own schedule, compute effective warmup periods, and run a training demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    plot = sub.add_parser(
        "plot",
        parents=[
            _shared_options("0.999", "output file, .png, .pdf or .svg (default: %(default)s)")
        ],
        help="draw the warmup factor of the untuned and RAdam warmups",
        description="Draw the warmup factor omega_t over the first steps for the untuned "
        "linear, untuned exponential and RAdam warmups, one panel per beta2.",
    )
    plot.add_argument(
        "--steps",
        type=_number("count"),
        default=None,
        help="number of steps drawn (default: 1.5 untuned linear periods, 3/(1 - beta2), for "
        f"each beta2); at most {_MAX_POINTS} points are drawn per curve",
    )
    plot.add_argument(
        "--scheduler",
        choices=SCHEDULERS,
        help="draw this torch LR scheduler under a warmup instead of the warmup factors: "
        "the learning rate of every update, checked (needs --total-steps)",
    )
    plot.add_argument(
        "--total-steps",
        type=_number("count"),
        metavar="N",
        help="with --scheduler: the number of updates of the training",
    )
    plot.add_argument(
        "--warmup",
        choices=WARMUPS,
        help="with --scheduler: the warmup (default: untuned-linear)",
    )
    plot.add_argument(
        "--warmup-period",
        type=_number("count"),
        metavar="P",
        help="with --scheduler and --warmup linear or exponential: the period in updates",
    )
    plot.set_defaults(beta2=[0.999], output=Path("warmup_schedule.png"), func=_cmd_plot)

    preview = sub.add_parser(
        "preview",
        help="run your own schedule without training, draw it and check it",
        description="Import FUNCTION from MODULE (a module name, found from the current "
        "folder, or a path to a .py file), call it with a small model to build your "
        "optimizer, LR schedulers and warmup, run the schedule for --updates updates without "
        "data or gradients, and report the learning rate of every update and the schedule "
        "checks (see pytorch_warmup.preview).",
    )
    preview.add_argument("build", metavar="MODULE:FUNCTION", help="your construction code")
    preview.add_argument(
        "--updates",
        type=_number("count"),
        required=True,
        metavar="N",
        help="the number of updates (optimizer.step() calls) of the training",
    )
    preview.add_argument(
        "--updates-per-epoch",
        type=_number("count"),
        metavar="K",
        help="updates per epoch, for schedulers stepped once per epoch",
    )
    preview.add_argument(
        "--output",
        "-o",
        type=_path,
        metavar="FILE",
        help="draw the learning rates to this file (.png, .pdf or .svg)",
    )
    preview.add_argument(
        "--csv", type=_path, metavar="FILE", help="write the learning rates of every update"
    )
    preview.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a check finds something"
    )
    preview.set_defaults(func=_cmd_preview)

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
        type=_path,
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
        type=_number("count"),
        help="optimizer steps per run (default: 400; 250 with --quick)",
    )
    demo.add_argument(
        "--seeds", type=_number("count"), help="number of seeds (default: 2; 1 with --quick)"
    )
    demo.add_argument("--lr", type=_number("positive"), help="peak learning rate (default: 0.03)")
    demo.add_argument(
        "--beta2",
        type=_number("radam beta2"),
        metavar="B",
        help="Adam's beta2, in (0.6, 1) as the RAdam warmup needs (default: 0.99)",
    )
    demo.add_argument(
        "--batch-size", type=_number("count"), help="sequences per batch (default: 32)"
    )
    demo.add_argument(
        "--threads",
        type=_number("count"),
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        _fail("no command given: choose one of the commands above")
    try:
        status: int = args.func(args)
    except UsageError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status
