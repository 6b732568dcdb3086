r"""``pytorch-warmup preview`` and ``plot --scheduler``: a schedule run without training.

:func:`load_callable` finds the user's construction code from
``MODULE:FUNCTION``, :func:`composition` builds a common torch LR scheduler
under a named warmup, with a cooldown if asked (warmup-stable-decay with the
``constant`` scheduler), without any user code, and :func:`format_report` prints
what :func:`pytorch_warmup.preview.preview` found. An exception raised by the
user's code is reported in one line that names the file and line it came from.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from .. import _catalog, _checks
from .._preview_run import summarize
from ..preview import SchedulePreview, _first_peak, preview
from ..scheduler import WarmupLR
from ._common import (
    UsageError,
    check_output_file,
    check_writable_dir,
    number,
    path,
    require,
    writing,
)

__all__ = [
    "SCHEDULER_OPTIONS",
    "SCHEDULE_OUTPUT",
    "add_parser",
    "add_scheduler_options",
    "composition",
    "describe_cooldown",
    "format_report",
    "load_callable",
    "plot_schedule",
]

SCHEDULE_OUTPUT = "schedule_SCHEDULER_WARMUP[_COOLDOWN].png"
"""Where ``plot --scheduler`` writes without ``--output`` (e.g. ``schedule_cosine_linear.png``,
``schedule_constant_linear_1-sqrt.png`` with ``--cooldown 1-sqrt``)."""

_COOLDOWN_OPTIONS = ("cooldown_fraction", "cooldown_updates", "cooldown_final_factor")

SCHEDULER_OPTIONS = (
    "total_steps",
    "warmup",
    "warmup_period",
    "cooldown",
    *_COOLDOWN_OPTIONS,
    "csv",
)
"""The options (argparse names) that go with ``plot --scheduler`` only."""


# -- the user's code ------------------------------------------------------------


def _not_user_code() -> tuple[str, ...]:
    """Folders whose frames are not the user's: this package, torch, the standard library."""
    here = Path(__file__).resolve().parents[1]
    paths = sysconfig.get_paths()
    folders = [here, Path(torch.__file__).resolve().parent]
    folders += [Path(paths[k]).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    return tuple(str(f) + os.sep for f in folders)


def located(error: BaseException) -> str:
    """Where ``error`` came from in the user's code: ``" (at file.py:12 in build)"``, or ``""``.

    The deepest frame of the traceback outside this package, torch and the
    standard library; a path under the current folder is shown relative to it.
    """
    skip = _not_user_code()
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        name = frame.filename
        if name.startswith("<") or str(Path(name).resolve()).startswith(skip):
            continue
        shown = os.path.relpath(name) if Path(name).resolve().is_relative_to(Path.cwd()) else name
        return f" (at {shown}:{frame.lineno} in {frame.name})"
    return ""


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else '(no message)'}{located(error)}"


def _import(module_name: str, spec: str) -> Any:
    if module_name.endswith(".py"):
        file = Path(module_name)
        if not file.is_file():
            raise ValueError(f"{spec!r}: no such file {module_name!r}")
        loader_spec = importlib.util.spec_from_file_location(file.stem, file)
        if loader_spec is None or loader_spec.loader is None:
            raise ValueError(f"{spec!r}: cannot load {module_name!r}")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
        return module
    added = "" not in sys.path and os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    finally:
        if added:
            sys.path.remove(os.getcwd())


def load_callable(spec: str) -> Callable[..., Any]:
    """The function named by ``"module:function"`` (or ``"path/to/file.py:function"``).

    A module name is imported with the current directory first on
    ``sys.path``, as ``python -m`` does; a path ending in ``.py`` is loaded
    from that file.

    Args:
        spec: ``MODULE:FUNCTION``; ``FUNCTION`` may be dotted (``Class.method``).

    Returns:
        The callable.

    Raises:
        ValueError: the spec is malformed, the module cannot be imported (the
            line of the user's code that failed is named), or it has no such
            callable: one line naming what is wrong.
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected MODULE:FUNCTION (e.g. my_training:build), got {spec!r}")
    try:
        module = _import(module_name, spec)
    except ValueError:
        raise
    except Exception as e:  # the user's module failed to import: say why in one line
        raise ValueError(f"cannot import {module_name!r}: {_one_line(e)}") from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ValueError(f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{spec!r} is not callable: {summarize(target)}")
    return target  # type: ignore[no-any-return]


# -- a common scheduler under a warmup --------------------------------------------


def composition(
    scheduler: str,
    total_steps: int,
    warmup: str = "linear",
    *,
    warmup_period: int | None = None,
    beta2: float = 0.999,
    lr: float = 1.0,
    cooldown: str | None = None,
    cooldown_fraction: float | None = None,
    cooldown_updates: int | None = None,
    cooldown_final: float = 0.0,
) -> Callable[[torch.nn.Module], Any]:
    r"""A ``build`` for :func:`~pytorch_warmup.preview.preview`: a scheduler under a warmup.

    AdamW with ``lr`` and ``betas=(0.9, beta2)``, the LR scheduler
    ``scheduler`` over ``total_steps`` updates (a name of
    :data:`pytorch_warmup._catalog.SCHEDULERS`: ``"cosine"``, ``"linear"`` to 0,
    ``"constant"``, or ``"step"``, times 0.1 at 50 % and 75 %), and the warmup
    ``warmup`` (a name of :data:`pytorch_warmup._catalog.WARMUPS`) applied with
    :class:`~pytorch_warmup.WarmupLR`; with ``cooldown``, the warmup's
    ``cool_down()`` over the last ``cooldown_fraction`` of the updates or the
    last ``cooldown_updates`` updates (the ``constant`` scheduler then gives
    warmup-stable-decay).

    Args:
        scheduler: The LR scheduler's name.
        total_steps: The number of updates of the training.
        warmup: The warmup's name: ``"linear"`` or ``"exponential"`` (with
            ``warmup_period``, else untuned, the period from ``beta2``), or
            ``"radam"``.
        warmup_period: The period :math:`\tau` in updates, or ``None``.
        beta2: Adam's :math:`\beta_2`.
        lr: The peak learning rate.
        cooldown: The cooldown's shape (``"linear"``, ``"cosine"``,
            ``"1-sqrt"``, ``"exponential"``), or ``None`` for none.
        cooldown_fraction: The cooldown is this last fraction of ``total_steps``.
        cooldown_updates: Or it is the last this many updates.
        cooldown_final: The factor of the rate at the cooldown's end.

    Returns:
        The build function.

    Raises:
        ValueError: an unknown name, a period for the RAdam warmup, or a
            cooldown that the warmup refuses (one that would start before the
            warmup's period ends, ...).
        TypeError: a cooldown's length without a cooldown, or in both units.

    Example:
        >>> from pytorch_warmup.cli import composition
        >>> from pytorch_warmup.preview import preview
        >>> result = preview(composition("constant", 10, "linear", warmup_period=4), 10)
        >>> result.warmup, result.lrs[0][:5]
        ('LinearWarmup', [0.25, 0.5, 0.75, 1.0, 1.0])
        >>> wsd = composition("constant", 10, "linear", warmup_period=4, cooldown="linear",
        ...                   cooldown_updates=4)
        >>> preview(wsd, 10).lrs[0]  # warmup, stable, cooldown over updates 7 to 10
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    if scheduler not in _catalog.SCHEDULERS:
        choices = ", ".join(_catalog.SCHEDULERS)
        raise ValueError(f"scheduler must be one of {choices}, got {scheduler!r}")
    entry = _catalog.lookup(warmup)
    total_steps = _checks.as_int(total_steps, "total_steps", minimum=1)
    if warmup_period is not None:
        warmup_period = _checks.as_int(warmup_period, "warmup_period", minimum=1)
        if entry.tuned is None:
            raise ValueError(f"the {entry.label} takes its period from beta2, not warmup_period")
    schedulers = _catalog.SCHEDULERS[scheduler]
    plan = _cooldown_plan(
        cooldown, cooldown_fraction, cooldown_updates, cooldown_final, total_steps
    )

    def build(model: torch.nn.Module) -> dict[str, Any]:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, beta2))
        inner = schedulers.build(optimizer, total_steps)
        made = entry.build(optimizer, warmup_period)
        if plan is not None:
            made.cool_down(**plan)
        return {"optimizer": optimizer, "step": WarmupLR(inner, made).step, "warmup": made}

    if plan is not None:  # what the warmup refuses, refused now rather than in preview()
        build(torch.nn.Linear(1, 1))
    return build


def _cooldown_plan(
    shape: str | None,
    fraction: float | None,
    updates: int | None,
    final: float,
    total_steps: int,
) -> dict[str, Any] | None:
    """The keyword arguments of ``cool_down()`` for :func:`composition`, or ``None``."""
    if shape is None:
        if fraction is not None or updates is not None:
            raise TypeError("a cooldown's length (fraction or updates) needs a cooldown shape")
        return None
    if shape not in _catalog.COOLDOWN_SHAPES:
        choices = ", ".join(_catalog.COOLDOWN_SHAPES)
        raise ValueError(f"cooldown must be one of {choices}, got {shape!r}")
    if (fraction is None) == (updates is None):
        raise TypeError("give the cooldown's length as a fraction of the updates or as updates")
    plan: dict[str, Any] = {"shape": shape, "final": final}
    if fraction is not None:
        plan.update(last_fraction=fraction, total_updates=total_steps)
    else:
        over = _checks.as_int(updates, "cooldown_updates", minimum=1)
        if over > total_steps:
            raise ValueError(
                f"a cooldown over {over} updates is longer than the {total_steps} updates"
            )
        plan.update(over_updates=over, after_update=total_steps - over)
    return plan


# -- the report -------------------------------------------------------------------


def _warmup_summary(result: SchedulePreview) -> str:
    if result.warmup is None or result.warmup_periods is None:
        return "no warmup of this package"
    shown = ", ".join(f"{p:g}" for p in sorted(set(result.warmup_periods)))
    what = "effective warmup period" if result.period_is_effective else "warmup period"
    return f"{result.warmup} ({what} {shown} updates){_beyond_summary(result)}"


def describe_cooldown(cooldown: Mapping[str, Any]) -> str:
    """A cooldown in words: ``"1-sqrt cooldown over updates 8001-10000 to 0"``.

    Example:
        >>> from pytorch_warmup.cli._cmd_preview import describe_cooldown
        >>> plan = {"after_update": 8000, "over_updates": 2000, "shape": "1-sqrt", "final": 0.0}
        >>> describe_cooldown(plan)
        '1-sqrt cooldown over updates 8001-10000 to 0'
    """
    after, over = cooldown["after_update"], cooldown["over_updates"]
    return (
        f"{cooldown['shape']} cooldown over updates {after + 1}-{after + over} "
        f"to {cooldown['final']:g}"
    )


def _beyond_summary(result: SchedulePreview) -> str:
    """The rewarms and cooldowns of a preview, in update order, for the report's first line."""
    events = [(c["after_update"], describe_cooldown(c)) for c in result.cooldowns]
    events += [(r, f"rewarmed after update {r}") for r in result.rewarms]
    return "".join(f", {text}" for _, text in sorted(events))


def _marks(result: SchedulePreview, g: int) -> dict[int, str]:
    """The updates whose rates the report shows for group ``g``, with their notes."""
    n, lrs = result.num_updates, result.lrs[g]
    marks = {1: "", n: ""}
    if result.factors is not None and result.warmup_periods is not None:
        if result.period_is_effective:
            omega = result.factors[g]
            near = next((t + 1 for t, w in enumerate(omega) if w >= 0.99), None)
            if near is not None:
                marks[near] = " (omega >= 0.99)"
        elif 1 <= round(result.warmup_periods[g]) <= n:
            marks.setdefault(round(result.warmup_periods[g]), "")
    for cooldown in result.cooldowns:
        after, end = cooldown["after_update"], cooldown["after_update"] + cooldown["over_updates"]
        if 1 <= after <= n:
            marks[after] = marks.get(after, "") + " (before the cooldown)"
        if end <= n:
            marks[end] = marks.get(end, "") + " (cooldown end)"
    for rewarm in result.rewarms:
        if rewarm < n:
            marks[rewarm + 1] = marks.get(rewarm + 1, "") + " (rewarm)"
    peak = _first_peak(lrs) + 1
    marks[peak] = marks.get(peak, "") + " (peak)"
    return marks


def format_report(result: SchedulePreview, name: str | None = None) -> str:
    """A few lines about a preview: what ran, a few learning rates, the findings.

    Args:
        result: The preview.
        name: What was previewed, for the first line (default: ``result.name``).

    Returns:
        The text, one finding per line, each starting with ``warning:``.
    """
    n, groups = result.num_updates, len(result.lrs)
    head = f"{name or result.name}: {n} updates, {groups} param group{'s' if groups > 1 else ''}"
    if result.updates_per_epoch is not None:
        head += f", {result.updates_per_epoch} updates per epoch"
    lines = [f"{head}, {_warmup_summary(result)}"]
    for g, lrs in enumerate(result.lrs):
        marks = _marks(result, g)
        text = ", ".join(f"{t}{marks[t]}: {lrs[t - 1]:.6g}" for t in sorted(marks))
        prefix = f"param group {g} " if groups > 1 else ""
        lines.append(f"{prefix}learning rate at update {text}")
    lines += [f"warning: {w.message}" for w in result.warnings] or ["no finding"]
    return "\n".join(lines)


# -- commands ---------------------------------------------------------------------


def _write_preview(
    result: SchedulePreview, output: Path | None, csv_path: Path | None, *, strict: bool
) -> int:
    """Print the report of a preview, write its files; status 1 for findings when strict."""
    print(format_report(result))
    if csv_path is not None:
        with writing(csv_path):
            result.write_csv(csv_path)
        print(f"wrote {csv_path}")
    if output is not None:
        with writing(output):
            result.plot(output)
        print(f"wrote {output}")
    return 1 if strict and result.warnings else 0


def _load(spec: str, option: str = "") -> Callable[..., Any]:
    try:
        return load_callable(spec)
    except ValueError as e:
        raise UsageError(f"{option}{e}") from None


def _model(spec: str) -> torch.nn.Module:
    """The model made by ``--model MODULE:FACTORY`` (called without argument)."""
    factory = _load(spec, "--model: ")
    try:
        model = factory()
    except Exception as e:  # the user's code: one line, with where it failed
        raise UsageError(f"--model {spec}: {_one_line(e)}") from None
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"--model {spec} must return a torch.nn.Module, got {summarize(model)}")
    return model


def _cmd_preview(args: argparse.Namespace) -> int:
    output = check_output_file(args.output) if args.output is not None else None
    _check_csv(args.csv)
    if output is not None:
        require("matplotlib", "preview --output")
    build = _load(args.build)
    model = _model(args.model) if args.model is not None else None
    try:
        result = preview(build, args.updates, updates_per_epoch=args.updates_per_epoch, model=model)
    except Exception as e:  # the user's code or what it returned: one line, status 2
        raise UsageError(f"{args.build}: {_one_line(e)}") from None
    result.name = args.build
    return _write_preview(result, output, args.csv, strict=args.strict)


def plot_schedule(args: argparse.Namespace) -> int:
    """``plot --scheduler``: a torch LR scheduler under a warmup, previewed and drawn."""
    if args.steps is not None:
        raise UsageError("--steps is for the warmup factors; with --scheduler give --total-steps")
    if args.total_steps is None:
        raise UsageError("--scheduler needs --total-steps, the number of updates of the training")
    if len(args.beta2) != 1:
        raise UsageError(f"--scheduler draws one --beta2, got {len(args.beta2)} values")
    entry, beta2 = _catalog.WARMUPS[args.warmup or "linear"], args.beta2[0]
    if args.warmup_period is not None and entry.tuned is None:
        tuned = " or ".join(w.name for w in _catalog.WARMUPS.values() if w.tuned is not None)
        raise UsageError(
            f"--warmup-period goes with --warmup {tuned}; --warmup {entry.name} takes its "
            "period from --beta2"
        )
    if not beta2 > entry.min_beta2:
        raise UsageError(
            f"--warmup {entry.name} needs --beta2 > {entry.min_beta2:g} "
            f"({entry.min_beta2_reason}), got {beta2:g}"
        )
    given = [f"--{o.replace('_', '-')}" for o in _COOLDOWN_OPTIONS if getattr(args, o) is not None]
    if args.cooldown is None and given:
        raise UsageError(f"{given[0]} goes with --cooldown SHAPE")
    if args.cooldown is not None and (args.cooldown_fraction is None) == (
        args.cooldown_updates is None
    ):
        raise UsageError(
            "--cooldown needs its length: --cooldown-fraction F (of --total-steps) or "
            "--cooldown-updates D, one of them"
        )
    final = args.cooldown_final_factor if args.cooldown_final_factor is not None else 0.0
    if args.cooldown == "exponential" and final == 0.0:
        raise UsageError(
            "--cooldown exponential needs --cooldown-final-factor above 0 (it decays to it "
            "geometrically), e.g. 0.01"
        )
    suffix = f"_{args.cooldown}" if args.cooldown is not None else ""
    default = Path(f"schedule_{args.scheduler}_{entry.name}{suffix}.png")
    output = check_output_file(args.output or default)
    csv_path = _check_csv(args.csv)
    require("matplotlib", "plot")
    try:
        build = composition(
            args.scheduler,
            args.total_steps,
            entry.name,
            warmup_period=args.warmup_period,
            beta2=beta2,
            cooldown=args.cooldown,
            cooldown_fraction=args.cooldown_fraction,
            cooldown_updates=args.cooldown_updates,
            cooldown_final=final,
        )
    except (TypeError, ValueError) as e:  # the cooldown, as the warmup refused it
        raise UsageError(f"--cooldown {args.cooldown}: {e}") from None
    result = preview(build, args.total_steps)
    name = f"{args.scheduler} schedule under the {entry.describe(beta2, args.warmup_period)}"
    if args.cooldown is not None:
        name += f" and a {args.cooldown} cooldown"
    result.name = name
    return _write_preview(result, output, csv_path, strict=False)


def _check_csv(csv_path: Path | None) -> Path | None:
    """``--csv FILE``: a file in a writable folder, checked before any work."""
    if csv_path is not None:
        if csv_path.is_dir():
            raise UsageError(f"--csv {str(csv_path)!r} is a directory")
        check_writable_dir(csv_path.parent, f"--csv {str(csv_path)!r}")
    return csv_path


# -- parsers ----------------------------------------------------------------------


def add_scheduler_options(plot: argparse.ArgumentParser) -> None:
    """The options of ``plot --scheduler``."""
    plot.add_argument(
        "--scheduler",
        choices=list(_catalog.SCHEDULERS),
        help="draw this torch LR scheduler under a warmup instead of the warmup factors: "
        "the learning rate of every update, checked (needs --total-steps)",
    )
    plot.add_argument(
        "--total-steps",
        type=number("count"),
        metavar="N",
        help="with --scheduler: the number of updates of the training",
    )
    plot.add_argument(
        "--warmup",
        choices=list(_catalog.WARMUPS),
        help="with --scheduler: the warmup (default: linear); linear and exponential take "
        "--warmup-period, else their untuned period from --beta2",
    )
    plot.add_argument(
        "--warmup-period",
        type=number("count"),
        metavar="P",
        help="with --scheduler and --warmup linear or exponential: the period in updates",
    )
    plot.add_argument(
        "--cooldown",
        choices=list(_catalog.COOLDOWN_SHAPES),
        metavar="SHAPE",
        help="with --scheduler: the warmup's cool_down() at the end of the training, of this "
        f"shape ({', '.join(_catalog.COOLDOWN_SHAPES)}), over --cooldown-fraction or "
        "--cooldown-updates; with --scheduler constant, warmup-stable-decay (WSD)",
    )
    plot.add_argument(
        "--cooldown-fraction",
        type=_fraction,
        metavar="F",
        help="with --cooldown: its length as a fraction of --total-steps, in (0, 1] (0.2: the "
        "last 20%% of the updates)",
    )
    plot.add_argument(
        "--cooldown-updates",
        type=number("count"),
        metavar="D",
        help="with --cooldown: its length as a number of updates (the last D updates)",
    )
    plot.add_argument(
        "--cooldown-final-factor",
        type=_factor,
        metavar="X",
        help="with --cooldown: the factor of the rate at its end, in [0, 1] (default: 0; "
        "exponential needs more than 0)",
    )
    plot.add_argument(
        "--csv",
        type=path,
        metavar="FILE",
        help="with --scheduler: also write the learning rate of every update to this CSV file",
    )


def _fraction(text: str) -> float:
    """The argparse type of a fraction in (0, 1]."""
    value = _factor(text)
    if value == 0.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


def _factor(text: str) -> float:
    """The argparse type of a factor in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def add_parser(sub: Any) -> None:
    """Add ``preview`` to the subcommands ``sub``."""
    parser = sub.add_parser(
        "preview",
        help="run your own schedule without training, draw it and check it",
        description="Import FUNCTION from MODULE (a module name, found from the current "
        "folder, or a path to a .py file) and call it, with a small model or with none "
        "(as it takes one argument or none), to build your optimizer, LR schedulers and "
        "warmup; run the schedule for --updates updates without data or gradients, and "
        "report the learning rate of every update and the schedule checks (see "
        "pytorch_warmup.preview).",
    )
    parser.add_argument("build", metavar="MODULE:FUNCTION", help="your construction code")
    parser.add_argument(
        "--updates",
        type=number("count"),
        required=True,
        metavar="N",
        help="the number of updates (optimizer.step() calls) of the training",
    )
    parser.add_argument(
        "--updates-per-epoch",
        type=number("count"),
        metavar="K",
        help="updates per epoch, for schedulers stepped once per epoch",
    )
    parser.add_argument(
        "--model",
        metavar="MODULE:FACTORY",
        help="call FACTORY() for the model FUNCTION gets (default: a small torch.nn.Linear)",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=path,
        metavar="FILE",
        help="draw the learning rates to this file (.png, .pdf or .svg)",
    )
    parser.add_argument(
        "--csv", type=path, metavar="FILE", help="write the learning rates of every update"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a check finds something"
    )
    parser.set_defaults(func=_cmd_preview)
