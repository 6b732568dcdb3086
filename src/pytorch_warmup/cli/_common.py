"""What every command of ``pytorch-warmup`` shares: errors, argument types, output checks."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import _checks

__all__ = [
    "FORMATS",
    "PROG",
    "Parser",
    "UsageError",
    "check_output_dir",
    "check_output_file",
    "check_writable_dir",
    "create_output_dir",
    "fail",
    "format_table",
    "load_plotting",
    "number",
    "path",
    "require",
    "writing",
]

PROG = "pytorch-warmup"
FORMATS = (".png", ".pdf", ".svg")
_EXTRA = 'the "cli" extra (pip install ".[cli]" in a checkout of pytorch-warmup)'


class UsageError(Exception):
    """A mistake in the command line, reported in one line with exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    """Print ``pytorch-warmup: error: message`` on stderr and exit with status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def require(module: str, what: str) -> Any:
    """Import an optional dependency, or fail with the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs {module.split('.')[0]}: {_EXTRA}") from None


def load_plotting(what: str) -> Any:
    """The figures module, once matplotlib is known to be there."""
    require("matplotlib", what)
    from . import _figures

    return _figures


# -- argument types -------------------------------------------------------------


def _positive(value: float, name: str) -> float:
    result = _checks.as_float(value, name)
    if not result > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return result


_NUMBERS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "count": (int, lambda v: _checks.as_int(v, "the value", minimum=1)),
    "positive": (float, lambda v: _positive(v, "the value")),
    "beta2": (float, lambda v: _checks.beta2(v, "the value")),
    "radam beta2": (float, lambda v: _checks.beta2(v, "the value", low=0.6)),
}


def number(kind: str) -> Callable[[str], Any]:
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


def path(text: str) -> Path:
    """The argparse type of a path: any non-empty string."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


# -- outputs --------------------------------------------------------------------


def check_output_file(file: Path, option: str = "--output") -> Path:
    """Check that ``file`` names a new or existing file that can be written, before any work."""
    what = f"{option} {str(file)!r}"
    if file.is_dir():
        raise UsageError(f"{what} is a directory; give a file name such as {file / 'plot.png'}")
    if file.suffix.lower() not in FORMATS:
        raise UsageError(
            f"{what}: unknown format {file.suffix or '(none)'!r}, use one of {', '.join(FORMATS)}"
        )
    check_writable_dir(file.parent, what)
    return file


def check_writable_dir(directory: Path, what: str) -> None:
    """Fail unless ``directory`` is an existing, writable directory (naming what is wrong)."""
    if not directory.is_dir():
        # The nearest part of the path that exists says why: a missing folder or a file.
        existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise UsageError(f"{what}: {str(existing)!r} is a file, not a directory")
        raise UsageError(f"{what}: directory {str(directory)!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: directory {str(directory)!r} is not writable")


def check_output_dir(folder: Path) -> Path:
    """Check that an output folder exists or can be created; create nothing."""
    what = f"--output {str(folder)!r}"
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} exists and is not a directory")
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    check_writable_dir(existing, what)
    return folder


def create_output_dir(folder: Path) -> None:
    """Create an output folder (and its parents), or fail in one line."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--output {str(folder)!r}: cannot create it ({e.strerror})") from None


def writing(file: Path) -> contextlib.AbstractContextManager[None]:
    """Turn an ``OSError`` while writing ``file`` into a one-line usage error."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except OSError as e:
            raise UsageError(f"cannot write {str(file)!r}: {e.strerror or e}") from None

    return guard()


# -- tables ---------------------------------------------------------------------


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
