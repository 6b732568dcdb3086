"""The Markdown tables of docs/performance.md and of the README, from ``overhead.py --json``.

Each table sits between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` lines;
``--write`` replaces what is between them (nothing else in the files changes), without it
the tables are printed.

Run: python benchmarks/tables.py RUN.json [--write]
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report import COLUMNS, IMPORT_GOAL, TIGHT, goal

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "docs" / "performance.md", ROOT / "README.md"]
BLOCK = re.compile(r"(<!-- bench:(\S+) -->\n)(.*?)(<!-- /bench:\2 -->)", re.DOTALL)

ROWS = [
    ("cosine", "bare `cosine.step()`"),
    ("update", "`optimizer.step()` + `cosine.step()`"),
    ("attached", "+ attached warmup"),
    ("dampening", "+ `dampening()` instead"),
    ("floor", "+ the floor: two Python step hooks"),
    ("SequentialLR", "`SequentialLR(LinearLR, Cosine)` instead of the cosine"),
    ("wsd-ours", "WSD from this library's factors instead"),
    ("wsd-lambda", "WSD as a hand-written `LambdaLR` instead"),
]
TRAINING = ["dampening", "WarmupLR", "attached", "SequentialLR", "LambdaLR"]


def _head(*cells: str, right: int = 1) -> list[str]:
    """A header row and its rule, all but the first ``right`` columns aligned right."""
    rule = ["---"] * right + ["---:"] * (len(cells) - right)
    return ["| " + " | ".join(cells) + " |", "|" + "|".join(rule) + "|"]


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _cases(rows: list[dict[str, Any]], groups: int) -> dict[tuple[str, str], Any]:
    return {(r["phase"], r["lr"]): r["variants"] for r in rows if r["groups"] == groups}


def run(data: dict[str, Any]) -> list[str]:
    env = data["environment"]
    load = f"{env['load_average'][0]:.1f} to {env['load_average_end'][0]:.1f}"
    return [
        f"Figures of a run on {env['date']}, commit `{env['commit'] or 'unknown'}`: "
        f"pytorch_warmup {env['pytorch_warmup']}, PyTorch {env['torch']}, Python "
        f"{env['python']}, {env['cpus']} CPUs shared with other jobs (load average {load})."
    ]


def _verdict(now: float, limit: float) -> str:
    return "met" if now <= limit else "not met"


def goals(data: dict[str, Any]) -> list[str]:
    out = _head("goal", "now", "", right=1)
    one = _cases(data.get("attached", []), 1)
    for phase, lr in COLUMNS:
        fig = one.get((phase, lr), {}).get("attached", {})
        when = "during the warmup" if phase == "warmup" else "after the warmup"
        limit = goal(phase, lr)
        now, verdict = "–", ""
        if "ratio" in fig:
            now, verdict = f"{fig['ratio']:.3f}×", _verdict(fig["ratio"], limit)
        out.append(
            _row(
                f"attached warmup, one {lr} lr, {when}: at most {limit:.2f}× a bare "
                "`cosine.step()`",
                now,
                verdict,
            )
        )
    imp = data.get("import", {})
    now, verdict = "–", ""
    if "ratio" in imp:
        now, verdict = f"{imp['ratio']:.2f}×", _verdict(imp["ratio"], IMPORT_GOAL)
    what = f"`import pytorch_warmup`: at most {IMPORT_GOAL:g}× the original 0.2.0"
    out.append(_row(what, now, verdict))
    return out


def _grid(variants: dict[tuple[str, str], Any], cell: Callable[[str, Any], str]) -> list[str]:
    out = _head("", *(f"{p} {lr}" for p, lr in COLUMNS))
    for name, label in ROWS:
        cells = []
        for col in COLUMNS:
            fig = variants.get(col, {}).get(name)
            cells.append(cell(name, fig) if fig else "–")
        out.append(_row(label, *cells))
    return out


def _instructions(name: str, fig: dict[str, Any]) -> str:
    if "ratio" in fig:
        return f"{fig['marginal']:+,.0f} ({fig['ratio']:+.2f}×)"
    return f"{fig['instructions']:,.0f}" if "instructions" in fig else "–"


def _cpu(name: str, fig: dict[str, Any]) -> str:
    if "cpu_ratio" in fig:
        return f"{fig['cpu_marginal_us']['median']:+.2f} µs ({fig['cpu_ratio']:+.2f}×)"
    return f"{fig['cpu_us']['median']:.2f} µs"


def attached(data: dict[str, Any]) -> list[str]:
    rows = data.get("attached", [])
    out: list[str] = []
    for groups in sorted({r["groups"] for r in rows}):
        some = [r for r in rows if r["groups"] == groups]
        n = f"{groups} param group{'s' if groups > 1 else ''}"
        counted = [r for r in some if "updates" in r]
        if counted:
            c = counted[0]
            out += [
                f"**{n}**, instructions per update (callgrind, {c['updates']} updates after "
                f"{c['pre']}):",
                "",
                *_grid(_cases(rows, groups), _instructions),
                "",
            ]
        t = some[0]
        out += [
            f"**{n}**, thread CPU time per update (median of {t['repeats']} alternated "
            f"blocks of {t['steps_per_block']} updates):",
            "",
            *_grid(_cases(rows, groups), _cpu),
            "",
        ]
    return out[:-1]


def ops(data: dict[str, Any]) -> list[str]:
    rows = data.get("ops", [])
    groups = list(rows[0]["ops"]) if rows else []
    out = _head("mode", "phase", *(f"{g} group{'s' if g != '1' else ''}" for g in groups), right=2)
    for row in rows:
        out.append(_row(f"`{row['mode']}`", row["phase"], *(str(row["ops"][g]) for g in groups)))
    return out


def imports(data: dict[str, Any]) -> list[str]:
    imp = data.get("import", {})
    names = [n for n in ("this", "original", "empty") if n in imp]
    labels = {
        "this": f"this package ({imp.get('this', {}).get('version')})",
        "original": "0.2.0",
        "empty": f"{len(imp.get('this', {}).get('modules', []))} empty modules",
    }
    out = _head("", *(labels[n] for n in names))
    out.append(
        _row(
            "instructions",
            *(f"{imp[n]['instructions']:,.0f}" if imp[n]["instructions"] else "–" for n in names),
        )
    )
    if "ratio" in imp:
        original = imp["original"]["instructions"]
        ratios = [
            f"{imp[n]['instructions'] / original:.2f}×" if n != "original" else "1×"
            for n in names
            if imp[n]["instructions"]
        ]
        out.append(_row("× the original's instructions", *ratios))
    out.append(
        _row(
            "modules loaded that `import torch` did not",
            *(str(len(imp[n]["modules"])) for n in names),
        )
    )
    wall = imp.get("wall_ms", {})
    out.append(
        _row(
            f"wall clock, ms (median of {next(iter(wall.values()))['repeats']} processes; "
            f"load average {imp['load_average'][0]:.1f})",
            *(f"{wall[n]['median']:.1f}" for n in names),
        )
    )
    out += [
        "",
        "Modules: "
        + "; ".join(f"{labels[n]}: {', '.join(imp[n]['modules'])}" for n in names if n != "empty"),
    ]
    return out


def tight(data: dict[str, Any]) -> list[str]:
    out = _head("case", "`cosine.step()`", *TIGHT, right=1)
    for row in data.get("tight", []):
        vs = row["variants"]
        n = row["groups"]
        case = f"{row['phase']}, {row['lr']} lr, {n} group{'s' if n > 1 else ''}"
        cells = [f"{vs[v]['cpu_ratio']:+.2f}×" for v in TIGHT]
        out.append(_row(case, f"{vs['cosine']['cpu_us']['median']:.1f} µs", *cells))
    return out


def training(data: dict[str, Any]) -> list[str]:
    out = _head("case", "step", "`cosine.step()` share", *(f"{v} +pp" for v in TRAINING))
    for case in data.get("mlp", []):
        vs = case["variants"]
        cells = [f"{vs[v]['over_cosine_cpu_pp']:+.2f}" for v in TRAINING]
        step = f"{vs['cosine']['step_cpu_us'] / 1e3:.2f} ms"
        share = f"{vs['cosine']['share_cpu_pct']:.2f} %"
        out.append(_row(f"{case['phase']}, {case['lr']} lr", step, share, *cells))
    return out


def memory(data: dict[str, Any]) -> list[str]:
    out = _head("case", "Python heap", "live tensors")
    for m in data.get("memory", []):
        steps = f"steps {m['steps']} to {2 * m['steps']}"
        out.append(
            _row(
                f"{m['case']}, {steps}",
                f"{m['heap_growth_bytes']:+d} bytes",
                f"{m['live_tensor_growth']:+d}",
            )
        )
    return out


README_ROWS = ["attached", "dampening", "SequentialLR", "wsd-ours", "wsd-lambda"]


def readme(data: dict[str, Any]) -> list[str]:
    """One param group: each way's cost as a multiple of ``cosine.step()``, instructions
    and (in brackets) thread CPU time; the bare ``cosine.step()`` on the first row."""
    one = _cases(data.get("attached", []), 1)
    labels = dict(ROWS)
    out = _head("one param group", *(f"{p}, {lr} lr" for p, lr in COLUMNS))
    base = [one.get(col, {}).get("cosine", {}) for col in COLUMNS]
    out.append(
        _row(
            "bare `cosine.step()`",
            *(
                f"{f['instructions']:,.0f} instr. ({f['cpu_us']['median']:.1f} µs)"
                if "instructions" in f
                else "–"
                for f in base
            ),
        )
    )
    for name in README_ROWS:
        cells = []
        for col in COLUMNS:
            f = one.get(col, {}).get(name, {})
            cells.append(f"{f['ratio']:+.2f}× ({f['cpu_ratio']:+.2f}×)" if "ratio" in f else "–")
        out.append(_row(labels[name], *cells))
    return out


TABLES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "run": run,
    "goals": goals,
    "attached": attached,
    "ops": ops,
    "import": imports,
    "tight": tight,
    "training": training,
    "memory": memory,
    "readme": readme,
}


def render(text: str, data: dict[str, Any]) -> str:
    """``text`` with every bench block filled from ``data``."""

    def fill(m: re.Match[str]) -> str:
        if m.group(2) not in TABLES:
            raise SystemExit(f"unknown table {m.group(2)!r}")
        return m.group(1) + "\n".join(TABLES[m.group(2)](data)) + "\n" + m.group(4)

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("run", help="the JSON file of overhead.py --json")
    parser.add_argument("--write", action="store_true", help="rewrite the files' tables")
    args = parser.parse_args(argv)
    with open(args.run, encoding="utf-8") as f:
        data = json.load(f)
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        if args.write:
            new = render(text, data)
            if new != text:
                path.write_text(new, encoding="utf-8")
                print(f"rewrote the tables of {path.relative_to(ROOT)}")
        else:
            for m in BLOCK.finditer(text):
                print(f"<!-- {path.relative_to(ROOT)}: {m.group(2)} -->")
                print("\n".join(TABLES[m.group(2)](data)))
                print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
