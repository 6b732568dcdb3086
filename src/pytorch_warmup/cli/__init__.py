r"""The ``pytorch-warmup`` command: ``plot``, ``period``, ``preview`` and ``demo``.

* ``pytorch-warmup plot`` draws :math:`\omega_t` of the untuned linear, untuned
  exponential and RAdam warmups (with ``--scheduler``, a common torch LR
  scheduler under a warmup, previewed and checked);
* ``pytorch-warmup period`` prints (and optionally plots) the effective warmup
  period of each schedule for given :math:`\beta_2` values;
* ``pytorch-warmup preview MODULE:FUNCTION`` runs the user's own schedule without
  training, draws the learning rates and reports the schedule checks of
  :mod:`pytorch_warmup.preview`;
* ``pytorch-warmup demo`` trains a small Post-LN Transformer language model with
  and without warmup and writes a table and plots.

``plot``, ``demo`` and the figures of ``period`` and ``preview`` need matplotlib
and tqdm, the ``cli`` extra (``pip install ".[cli]"`` in a checkout). Every user
error prints a single line ``pytorch-warmup: error: ...`` on stderr and exits
with status 2, before any file or folder is written; without a command it
prints the usage.

The command line is a layer on top of the library, which never imports it:
each command is a module of this package (``_cmd_plot``: plot and period,
``_cmd_preview``: preview and plot --scheduler, ``_cmd_demo``: demo) around
the library's public API, the demo trainer (``_demo``) and the figures
(``_figures``, the only place that imports matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from . import _cmd_demo, _cmd_plot, _cmd_preview
from ._cmd_plot import default_steps, plotted_steps, warmup_factors
from ._cmd_preview import composition, format_report, load_callable
from ._common import PROG, Parser, UsageError, fail, format_table

__all__ = [
    "build_parser",
    "composition",
    "default_steps",
    "format_report",
    "format_table",
    "load_callable",
    "main",
    "plotted_steps",
    "warmup_factors",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pytorch-warmup`` and its subcommands."""
    parser = Parser(
        prog=PROG,
        description="Learning-rate warmup for PyTorch: plot the schedules, preview and "
        "check your own schedule, compute effective warmup periods, and run a training demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _cmd_plot.add_parsers(sub)  # plot, then period
    _cmd_preview.add_parser(sub)
    _cmd_demo.add_parser(sub)
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
        fail("no command given: choose one of the commands above")
    try:
        status: int = args.func(args)
    except UsageError as e:
        fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status
