"""``pytorch-warmup demo``: the command around the demo trainer of :mod:`._demo`."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from . import _demo
from ._common import (
    UsageError,
    check_output_dir,
    create_output_dir,
    load_plotting,
    number,
    path,
    require,
    writing,
)

__all__ = ["add_parser"]


def _check_text(file: Path) -> Path:
    what = f"--text {str(file)!r}"
    if file.is_dir():
        raise UsageError(f"{what} is a directory, not a text file")
    if not file.exists():
        raise UsageError(f"{what}: no such file")
    if not file.is_file():
        raise UsageError(f"{what} is not a regular file")
    return file


def _settings(args: argparse.Namespace) -> _demo.DemoSettings:
    """The demo settings: the defaults (or ``--quick``'s) changed by the options given."""
    base = _demo.DemoSettings.quick() if args.quick else _demo.DemoSettings()
    changes = {
        key: getattr(args, key)
        for key in ("steps", "seeds", "lr", "beta2", "batch_size", "threads", "text")
        if getattr(args, key) is not None
    }
    return dataclasses.replace(base, **changes)


def _progress(tqdm: Any, hide: bool) -> _demo.ProgressFactory:
    width = max(len(c) for c in _demo.CONFIGURATIONS) + len(" (seed 0)")

    def progress(total: int, desc: str) -> Any:
        return tqdm(
            total=total,
            desc=desc.ljust(width),
            unit="step",
            leave=True,
            disable=hide,
            dynamic_ncols=True,
        )

    return progress


def _write(
    results: list[_demo.RunResult],
    summaries: list[_demo.Summary],
    settings: _demo.DemoSettings,
    output: Path,
    figures: Any,
) -> list[Path]:
    """The tables and the two figures of the demo, in ``output``; returns what was written."""
    loss_png, lr_png = output / "loss.png", output / "lr.png"
    smooth = max(1, settings.steps // 25)
    seeds = "one seed" if settings.seeds == 1 else f"mean over {settings.seeds} seeds"
    average = f", moving average over {smooth} steps" if smooth > 1 else ""
    with writing(output):
        written = _demo.write_results(results, summaries, output)
        figures.plot_curves(
            _demo.mean_curves(results, "losses"),
            loss_png,
            ylabel="loss (nats/char)",
            title=f"loss, {seeds}: training (lines{average}) and validation (dots)",
            smooth=smooth,
            points=_demo.mean_validation(results),
        )
        figures.plot_curves(
            _demo.mean_curves(results, "lrs"),
            lr_png,
            ylabel="learning rate",
            title="learning rate used (the RAdam optimizer rectifies its own internally)",
        )
    return [*written, loss_png, lr_png]


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.text is not None:
        _check_text(args.text)
    output = check_output_dir(args.output)
    tqdm = require("tqdm", "demo").tqdm
    figures = load_plotting("demo")
    settings = _settings(args)
    try:
        _demo.prepare_data(settings)  # fail early on a short, binary or unreadable text
    except (OSError, ValueError) as e:
        raise UsageError(f"--text: {e}") from None
    create_output_dir(output)  # only now that every check has passed
    print(
        f"demo: {settings.layers}-layer Post-LN Transformer (d_model={settings.d_model}), "
        f"{settings.steps} steps x {settings.seeds} seed(s), AdamW lr={settings.lr:g} "
        f"betas=(0.9, {settings.beta2:g}), cosine schedule; text: "
        f"{settings.text or 'pydoc_data.topics'}",
        flush=True,
    )
    for line in _demo.describe_recipes(settings):
        print(line, flush=True)
    start = time.perf_counter()
    results = _demo.run_demo(settings, _progress(tqdm, args.no_progress))
    summaries = _demo.summarize(results)
    print(f"\n{_demo.format_results(summaries)}\n")
    written = _write(results, summaries, settings, output, figures)
    print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s; wrote:")
    for file in written:
        print(f"  {file}")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``demo`` to the subcommands ``sub``."""
    demo = sub.add_parser(
        "demo",
        help="train a small Transformer with and without warmup",
        description="Train a small character-level Post-LN Transformer language model on "
        "the Python language reference (pydoc_data.topics) or on --text FILE, with AdamW and "
        "a cosine schedule under no warmup, untuned linear, untuned exponential and RAdam "
        "warmup, with torch.optim.RAdam, and with warmup-stable-decay (untuned linear "
        "warmup, constant rate, 1-sqrt cooldown over the last 20%% of the steps); print a "
        "results table and write CSV, Markdown and PNG files.",
    )
    demo.add_argument(
        "--output",
        "-o",
        type=path,
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
        type=number("count"),
        help="optimizer steps per run (default: 400; 250 with --quick)",
    )
    demo.add_argument(
        "--seeds", type=number("count"), help="number of seeds (default: 2; 1 with --quick)"
    )
    demo.add_argument("--lr", type=number("positive"), help="peak learning rate (default: 0.03)")
    demo.add_argument(
        "--beta2",
        type=number("radam beta2"),
        metavar="B",
        help="Adam's beta2, in (0.6, 1) as the RAdam warmup needs (default: 0.99)",
    )
    demo.add_argument(
        "--batch-size", type=number("count"), help="sequences per batch (default: 32)"
    )
    demo.add_argument(
        "--threads",
        type=number("count"),
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
