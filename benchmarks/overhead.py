r"""What a warmup adds to each update, measured against the scheduler and its peers.

Sections (``--only`` picks some; the parts are in ``benchmarks/bench/``):

* ``attached``: the attached mode's cost per update (AdamW, one 16-element parameter
  per group), next to ``dampening()``, the floor of two Python step hooks and
  ``SequentialLR``, as a multiple of the bare ``cosine.step()``: instructions counted
  by callgrind, and thread CPU time;
* ``ops``: torch ops per update, eager and ``attach(in_graph=True)``, 1 to 1000 groups;
* ``import``: ``import pytorch_warmup`` after ``import torch``, against the original
  0.2.0 from PyPI: instructions, modules loaded, wall-clock milliseconds;
* ``tight``: the statement after ``optimizer.step()`` alone (``dampening()``,
  ``WarmupLR``, ``SequentialLR``, a Hugging Face style ``LambdaLR``) against
  ``cosine.step()``, thread CPU time (``--instructions``: also in instructions);
* ``mlp``: the scheduler statement's share of a training step;
* ``memory``: heap and live-tensor growth over 1000 steps.

Run ``make bench`` (about 10 minutes, the instruction counts run two at a time), or
``python benchmarks/overhead.py [--quick] [--instructions] [--only SECTIONS] [--json FILE]``.
Every figure that matters is a ratio within one run; instruction counts do not depend
on the machine's load, times do.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from bench import callgrind, imports, memory, ops, report, timing, variants

import pytorch_warmup as pw

SECTIONS = ("attached", "ops", "import", "tight", "mlp", "memory")


def _git(*args: str) -> str:
    cwd = imports.this_package_dir()
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def environment() -> dict[str, Any]:
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--", "."):
        commit += " + uncommitted changes"
    return {
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pytorch_warmup": pw.__version__,
        "pytorch_warmup_path": os.path.dirname(pw.__file__),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
    }


def count_jobs(
    want: set[str], quick: bool, paths: dict[str, str], cache: str
) -> dict[str, Callable[[], Any]]:
    """The callgrind runs, each a job (they run side by side, before anything is timed)."""
    base = {"attached": "update", "tight": "cosine"}
    jobs: dict[str, Callable[[], Any]] = {}
    if "attached" in want:
        # 1 group: 2000 updates after 200, counted in 10 blocks of 200 (quick: 2 of 100)
        n, pre, rounds = (200, 50, 2) if quick else (2000, 200, 10)
        one = callgrind.cases("attached", timing.ATTACHED, 1, n, pre, rounds)
        jobs["attached 1"] = lambda: callgrind.instructions(one, base)
        if not quick:  # 100 groups (an update costs 70 to 80 times more): 5 blocks of 4
            many = callgrind.cases("attached", timing.ATTACHED, 100, 20, 12, 5)
            jobs["attached 100"] = lambda: callgrind.instructions(many, base)
    if "instructions" in want:
        n, rounds = (200, 2) if quick else (500, 5)
        tight = callgrind.cases("tight", timing.TIGHT, 1, n, 50, rounds)
        tight += callgrind.cases("tight", timing.TIGHT, 100, n // 10, 20, rounds)
        jobs["tight"] = lambda: callgrind.instructions(tight, base)
    if "import" in want:
        for name, path in paths.items():
            jobs[f"import {name}"] = lambda path=path: imports.instructions(path, cache)  # type: ignore[misc]
    return jobs


def run_counts(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    if not jobs:
        return {}
    if not callgrind.available():
        print("(valgrind not found: no instruction counts)", file=sys.stderr)
        return {}
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def _merge(timed: list[dict[str, Any]], counted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attached rows: times, with the instruction counts of the same case."""
    by_case = {(r["phase"], r["lr"], r["groups"]): r for r in counted}
    for row in timed:
        other = by_case.get((row["phase"], row["lr"], row["groups"]))
        if other:
            row.update(updates=other["updates"], pre=other["pre"])
            for name, figures in other["variants"].items():
                row["variants"][name].update(figures)
    return timed


def smoke() -> None:
    """Builds every variant once, small: fails at once, not after the instruction counts,
    and loads what the package loads on first use before anything is measured."""
    for tensor_lr in (False, True):
        for phase in ("warmup", "after"):
            for name in timing.ATTACHED:
                variants.build_update(name, 2, tensor_lr, phase, pre=2 * variants.AFTER_PERIOD)
            for name in timing.TIGHT:
                variants.build_statement(name, 2, tensor_lr, phase, pre=2 * variants.AFTER_PERIOD)
    ops.per_update("attached(in_graph=True)", 2, "after")


def _cases(groups: tuple[int, ...]) -> list[tuple[int, bool, str]]:
    return [(g, t, p) for p in ("warmup", "after") for t in (False, True) for g in groups]


def run(want: set[str], quick: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"environment": environment()}
    repeats = 11 if quick else 41
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"this": imports.this_package_dir()}
        if "import" in want and (
            original := imports.install_original(os.path.join(tmp, "original"))
        ):
            paths["original"] = original
        cache = os.path.join(tmp, "pycache")  # the bytecode of the imports measured
        if "import" in want:  # as many modules as this package loads, empty
            loaded = len(imports.modules(paths["this"], cache)["modules"])
            paths["empty"] = imports.empty_package(os.path.join(tmp, "empty"), loaded)
        smoke()
        counts = run_counts(count_jobs(want, quick, paths, cache))
        if "attached" in want:
            block_s = 0.005 if quick else 0.02
            timed = [timing.attached_table(*c, repeats, block_s) for c in _cases((1, 100))]
            counted = counts.get("attached 1", []) + counts.get("attached 100", [])
            result["attached"] = _merge(timed, counted)
        if "ops" in want:
            result["ops"] = ops.op_counts()
        if "import" in want:
            result["import"] = {
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "wall_ms": imports.wall_ms(paths, cache, 5 if quick else 11),
                "load_average_end": [round(x, 2) for x in os.getloadavg()],
            }
            for name, path in paths.items():
                result["import"][name] = counts.get(f"import {name}") or imports.modules(
                    path, cache
                )
            if "instructions" in result["import"].get("original", {}):
                this, orig = result["import"]["this"], result["import"]["original"]
                result["import"]["ratio"] = this["instructions"] / orig["instructions"]
        if "tight" in want:
            block_s = 0.002 if quick else 0.008
            result["tight"] = [timing.tight_loop(*c, repeats, block_s) for c in _cases((1, 100))]
        if "tight" in counts:
            result["instructions"] = counts["tight"]
        if "mlp" in want:
            steps = 150 if quick else 1000
            result["mlp"] = [
                timing.training_step(t, p, steps)
                for t in (False, True)
                for p in ("warmup", "after")
            ]
        if "memory" in want and not quick:
            result["memory"] = memory.memory_growth(1000)
    result["environment"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and updates")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the tight loop's instructions (callgrind)",
    )
    parser.add_argument(
        "--only",
        metavar="SECTIONS",
        help=f"comma-separated, among {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    want = set(args.only.split(",")) if args.only else set(SECTIONS)
    if want - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(want - set(SECTIONS)))}")
    if args.instructions:
        want.add("instructions")
    warnings.simplefilter("error", pw.WarmupWarning)
    result = run(want, args.quick)
    report.print_report(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
