"""Side by side: two runs of ``overhead.py --json`` (say, an older commit and this one).

Prints Markdown tables with the figures of both runs for the rows they share:
the marginal cost of each warmup variant over ``cosine.step()`` in the tight loop
(thread CPU microseconds and the multiple of ``cosine.step()`` measured in the same
run), the scheduler statement's extra share of a training step, the torch ops per
step and, when both runs counted them, the instructions per step.

Run: python benchmarks/compare.py OLD.json NEW.json [--names old new]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

VARIANTS = (
    "dampening",
    "WarmupLR",
    "attached",
    "SequentialLR",
    "LambdaLR",
    "empty-with",
    "noop-hooks",
)


def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in ("phase", "lr", "groups"))


def _case(row: dict[str, Any]) -> str:
    groups = f", {row['groups']} group{'s' if row['groups'] > 1 else ''}" if "groups" in row else ""
    return f"{row['phase']}, {row['lr']} lr{groups}"


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _marginal_table(
    rows: list[dict[str, Any]],
    before: list[dict[str, Any]],
    cosine: str,
    marginal: str,
    ratio: str,
    fmt: str,
) -> None:
    """Per case, ``cosine.step()`` itself, then each variant's marginal figure and ratio.

    ``cosine``, ``marginal`` and ``ratio`` are slash-separated paths into a variant's
    figures; ``fmt`` formats the absolute figures.
    """

    def get(figures: dict[str, Any] | None, path: str) -> Any:
        for part in path.split("/"):
            if figures is None:
                return None
            figures = figures[part]
        return figures

    old = {_key(r): r for r in before}
    for row in rows:
        other = old.get(_key(row), {"variants": {}})
        print(
            f"| {_case(row)} | `cosine.step()` itself | "
            f"{_cell(get(other['variants'].get('cosine'), cosine), fmt)} | "
            f"{get(row['variants']['cosine'], cosine):{fmt}} | | |"
        )
        for v in VARIANTS:
            if v not in row["variants"]:
                continue
            new = row["variants"][v]
            was = other["variants"].get(v)
            print(
                f"| | {v} | {_cell(get(was, marginal), fmt)} | {get(new, marginal):{fmt}} | "
                f"{_cell(get(was, ratio), '+.3f')} | {get(new, ratio):+.3f} |"
            )


def tight(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    print("Tight loop: marginal cost over `cosine.step()`, thread CPU µs per step (× cosine.step()")
    print("of the same run)")
    print()
    print(f"| case | variant | {names[0]} µs | {names[1]} µs | {names[0]} × | {names[1]} × |")
    print("|---|---|---:|---:|---:|---:|")
    _marginal_table(
        b.get("tight", []),
        a.get("tight", []),
        "cpu_us/median",
        "cpu_marginal_us/median",
        "cpu_ratio",
        ".2f",
    )


def mlp(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    old = {_key(r): r for r in a.get("mlp", [])}
    print("Inside a training step: the statement's extra share of the step over the bare")
    print("cosine, percentage points (thread CPU, median over steps)")
    print()
    print(f"| case | variant | {names[0]} pp | {names[1]} pp |")
    print("|---|---|---:|---:|")
    for row in b.get("mlp", []):
        other = old.get(_key(row), {"variants": {}})
        for v in ("cosine", *VARIANTS):
            if v not in row["variants"]:
                continue
            was = other["variants"].get(v)
            share = row["variants"][v]
            if v == "cosine":
                print(
                    f"| {_case(row)} | cosine share of step (%) | "
                    f"{_cell(was and was['share_cpu_pct'], '.3f')} | "
                    f"{share['share_cpu_pct']:.3f} |"
                )
                continue
            print(
                f"| | {v} | {_cell(was and was['over_cosine_cpu_pp'], '+.3f')} | "
                f"{share['over_cosine_cpu_pp']:+.3f} |"
            )


def ops(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    old = {(r["lr"], r["phase"]): r for r in a.get("ops", [])}
    print("Torch ops per step, 2 / 100 groups")
    print()
    print(f"| lr | phase | mode | {names[0]} | {names[1]} |")
    print("|---|---|---|---:|---:|")
    for row in b.get("ops", []):
        other = old.get((row["lr"], row["phase"]), {})
        for mode in (k for k in row if k not in ("lr", "phase")):
            was = other.get(mode)
            now = row[mode]
            print(
                f"| {row['lr']} | {row['phase']} | {mode} | "
                f"{was['2'] if was else '–'} / {was['100'] if was else '–'} | "
                f"{now['2']} / {now['100']} |"
            )


def instructions(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> None:
    if "instructions" not in a or "instructions" not in b:
        return
    print("Instructions per step (callgrind): marginal count over `cosine.step()` (× cosine)")
    print()
    print(f"| case | variant | {names[0]} | {names[1]} | {names[0]} × | {names[1]} × |")
    print("|---|---|---:|---:|---:|---:|")
    _marginal_table(
        b["instructions"], a["instructions"], "instructions", "marginal", "ratio", ".0f"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--names", nargs=2, default=("old", "new"), metavar=("OLD", "NEW"))
    args = parser.parse_args(argv)
    a, b = _load(args.old), _load(args.new)
    names = (args.names[0], args.names[1])
    for i, part in enumerate((tight, mlp, ops, instructions)):
        if i:
            print()
        part(a, b, names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
