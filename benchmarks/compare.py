"""Side by side: two runs of ``overhead.py --json`` (say, an older commit and this one).

Prints Markdown tables with the figures of both runs for the rows they share: the
attached-mode table (instructions, and the thread CPU multiple of ``cosine.step()``),
the torch ops per update, the import cost, the tight loop, the scheduler statement's
extra share of a training step and, when both runs counted them, the tight loop's
instructions. Ratios are taken within each run; compare them, not the microseconds.

Run: python benchmarks/compare.py OLD.json NEW.json [--names old new]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench.report import TIGHT

ATTACHED = ("attached", "dampening", "floor", "SequentialLR", "wsd-ours", "wsd-lambda")
BASELINES = {"cosine": "bare `cosine.step()`", "update": "`optimizer.step(); cosine.step()`"}


def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in ("phase", "lr", "groups"))


def _case(row: dict[str, Any]) -> str:
    groups = f", {row['groups']} group{'s' if row['groups'] > 1 else ''}" if "groups" in row else ""
    return f"{row['phase']}, {row['lr']} lr{groups}"


def _get(figures: dict[str, Any] | None, path: str) -> Any:
    for part in path.split("/"):
        if not isinstance(figures, dict) or part not in figures:
            return None
        figures = figures[part]
    return figures


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _table(
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    absolute: dict[str, tuple[str, str]],
    variants: tuple[str, ...],
    columns: list[tuple[str, str]],
) -> None:
    """Per case, the baselines' own figure (``absolute``: name to path and format), then
    each variant's figures (``columns``: paths and formats), the old run's beside the new's."""
    old = {_key(r): r for r in a}
    for row in b:
        other = old.get(_key(row), {"variants": {}})
        first = True
        for name in (*absolute, *variants):
            was, now = other["variants"].get(name), row["variants"].get(name)
            if was is None and now is None:
                continue
            if name in absolute:
                path, fmt = absolute[name]
                cells = [_cell(_get(x, path), fmt) for x in (was, now)]
                cells += [""] * (2 * len(columns) - 2)
                label = BASELINES[name]
            else:
                cells = [_cell(_get(x, p), f) for p, f in columns for x in (was, now)]
                label = name
            print(f"| {_case(row) if first else ''} | {label} | " + " | ".join(cells) + " |")
            first = False


def attached(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    print("Attached mode, per update: the baselines' instructions, then each row's marginal")
    print("instructions over `optimizer.step(); cosine.step()` (`update`), and that as a")
    print("multiple of the bare `cosine.step()`, from instructions and from thread CPU time")
    print()
    o, n = names
    print(f"| case | row | {o} | {n} | {o} × | {n} × | {o} CPU × | {n} CPU × |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    absolute = {"cosine": ("instructions", ",.0f"), "update": ("instructions", ",.0f")}
    columns = [("marginal", "+,.0f"), ("ratio", "+.3f"), ("cpu_ratio", "+.3f")]
    _table(a.get("attached", []), b.get("attached", []), absolute, ATTACHED, columns)


def ops(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    old = {(r.get("mode"), r["phase"]): r for r in a.get("ops", [])}
    rows = [r for r in b.get("ops", []) if "mode" in r]
    if not rows:
        return
    groups = list(rows[0]["ops"])
    print(f"Torch ops per update, tensor lrs, {' / '.join(groups)} groups")
    print()
    print(f"| mode | phase | {names[0]} | {names[1]} |")
    print("|---|---|---:|---:|")
    for row in rows:
        was = old.get((row["mode"], row["phase"]), {}).get("ops", {})
        cells = [" / ".join(str(ops.get(g, "–")) for g in groups) for ops in (was, row["ops"])]
        print(f"| {row['mode']} | {row['phase']} | {cells[0]} | {cells[1]} |")


def imports(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    x, y = a.get("import", {}), b.get("import", {})
    if not y:
        return
    print("`import pytorch_warmup` after `import torch`")
    print()
    print(f"| | {names[0]} | {names[1]} |")
    print("|---|---:|---:|")
    for label, path, fmt in (
        ("instructions", "this/instructions", ",.0f"),
        ("original 0.2.0, instructions", "original/instructions", ",.0f"),
        ("× the original", "ratio", ".2f"),
        ("wall ms (median)", "wall_ms/this/median", ".1f"),
        ("original, wall ms (median)", "wall_ms/original/median", ".1f"),
    ):
        print(f"| {label} | {_cell(_get(x, path), fmt)} | {_cell(_get(y, path), fmt)} |")
    counts = [len(_get(r, "this/modules") or []) for r in (x, y)]
    print(f"| modules loaded | {counts[0]} | {counts[1]} |")


def tight(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    print("Tight loop: marginal cost over `cosine.step()`, thread CPU µs (× cosine.step()")
    print("of the same run)")
    print()
    o, n = names
    print(f"| case | variant | {o} µs | {n} µs | {o} × | {n} × |")
    print("|---|---|---:|---:|---:|---:|")
    columns = [("cpu_marginal_us/median", ".2f"), ("cpu_ratio", "+.3f")]
    absolute = {"cosine": ("cpu_us/median", ".2f")}
    _table(a.get("tight", []), b.get("tight", []), absolute, TIGHT, columns)


def instructions(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    if not a.get("instructions") or not b.get("instructions"):
        return
    print("Tight loop in instructions (callgrind): marginal over `cosine.step()` (× cosine)")
    print()
    o, n = names
    print(f"| case | variant | {o} | {n} | {o} × | {n} × |")
    print("|---|---|---:|---:|---:|---:|")
    columns = [("marginal", "+,.0f"), ("ratio", "+.3f")]
    absolute = {"cosine": ("instructions", ",.0f")}
    _table(a["instructions"], b["instructions"], absolute, TIGHT, columns)


def mlp(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    old = {_key(r): r for r in a.get("mlp", [])}
    print("Inside a training step: the statement's extra share of the step over the bare")
    print("cosine, percentage points (thread CPU, median over steps)")
    print()
    print(f"| case | variant | {names[0]} pp | {names[1]} pp |")
    print("|---|---|---:|---:|")
    for row in b.get("mlp", []):
        other = old.get(_key(row), {"variants": {}})
        for v, now in row["variants"].items():
            was = other["variants"].get(v)
            if v == "cosine":
                label, path, fmt = "cosine share of step (%)", "share_cpu_pct", ".3f"
            else:
                label, path, fmt = v, "over_cosine_cpu_pp", "+.3f"
            first = _case(row) if v == "none" else ""
            print(f"| {first} | {label} | {_cell(_get(was, path), fmt)} | {now[path]:{fmt}} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--names", nargs=2, default=("old", "new"), metavar=("OLD", "NEW"))
    args = parser.parse_args(argv)
    a, b = _load(args.old), _load(args.new)
    names = (args.names[0], args.names[1])
    for part in (attached, ops, imports, tight, instructions, mlp):
        part(a, b, names)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
