"""Instructions counted by valgrind's callgrind: figures that the machine's load does not change.

A process runs under ``valgrind --tool=callgrind --dump-before=getppid``: each call of
``os.getppid()`` (:data:`MARK`) closes a segment of counts. For a step function, the child
runs it n times between two marks, then 0 times between two more; (I_n - I_0) / n is the
count per step, without the cost of the marks. The N steps of a case are counted in a few
such blocks, alternating with those of the other cases of its table row. All the cases
of a run share one child process (one ``import torch``, which alone takes a minute under
callgrind).
"""

from __future__ import annotations

import gc
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from typing import Any

from . import variants as v

MARK = os.getppid
"""Calls ``getppid``: ``valgrind --dump-before=getppid`` closes a segment of counts there."""
BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); from bench import callgrind; callgrind.child()"
)


def available() -> bool:
    return shutil.which("valgrind") is not None


TUNABLES = "glibc.malloc.mxfast=0"
"""No fastbins in glibc's malloc: otherwise a large allocation sometimes consolidates
them, which adds up to 15 000 instructions to each update of one instance and not of
another (seen in ``malloc_consolidate``), several times the figures measured."""


def segments(argv: list[str], env: dict[str, str] | None = None) -> list[int]:
    """Runs ``argv`` under callgrind; the instructions of each segment that a mark closes."""
    env = {**(os.environ if env is None else env), "GLIBC_TUNABLES": TUNABLES}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid"]
        cmd += [f"--callgrind-out-file={out}", *argv]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            raise RuntimeError(f"callgrind run failed:\n{done.stderr[-3000:]}")
        dumps = sorted(glob.glob(out + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        return [_totals(p) for p in dumps]


def _totals(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def _build(case: dict[str, Any]) -> tuple[v.Step, Any]:
    build = v.build_update if case["table"] == "attached" else v.build_statement
    tensor_lr = case["lr"] == "tensor"
    return build(case["variant"], case["groups"], tensor_lr, case["phase"], case["pre"])


def blocks(cases: list[dict[str, Any]]) -> list[int]:
    """The order of the counted blocks (case indices): the cases of one column of a table
    (same table, phase, lr and groups) are built together and run in ``rounds`` rounds, in
    a rotating order, so that the slow drift of the allocator's state spreads over them."""
    rows: dict[tuple[Any, ...], list[int]] = {}
    for i, c in enumerate(cases):
        rows.setdefault((c["table"], c["phase"], c["lr"], c["groups"]), []).append(i)
    order = []
    for members in rows.values():
        for r in range(cases[members[0]]["rounds"]):
            k = r % len(members)
            order += members[k:] + members[:k]
    return order


def child() -> None:
    """Under callgrind: the blocks of the cases of the file ``sys.argv[2]``, each
    ``updates / rounds`` steps between two marks, then 0 steps between two more."""
    import pytorch_warmup as pw

    warnings.simplefilter("error", pw.WarmupWarning)
    with open(sys.argv[2], encoding="utf-8") as f:
        cases = json.load(f)
    gc.disable()
    built: dict[int, tuple[v.Step, Any]] = {}
    for i in blocks(cases):
        if i not in built:  # the first block of a column builds the column's cases
            row = [j for j, c in enumerate(cases) if _same_row(c, cases[i])]
            for j in row:
                built[j] = _build(cases[j])
            for k in [k for k in built if k not in row]:
                v.check_phase(built.pop(k)[1], cases[k]["phase"])
        step, n = built[i][0], cases[i]["updates"] // cases[i]["rounds"]
        gc.collect()
        MARK()  # closes the uncounted segment
        for _ in range(n):
            step()
        MARK()  # closes the n-step segment
        MARK()  # closes the 0-step segment
    for k, (_, warmup) in built.items():
        v.check_phase(warmup, cases[k]["phase"])
    os._exit(0)  # no interpreter teardown: it would only be counted


def _same_row(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a[k] == b[k] for k in ("table", "phase", "lr", "groups"))


def per_step(cases: list[dict[str, Any]]) -> list[float]:
    """Instructions per step of each case, from one callgrind run of them all."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "cases.json")
        with open(spec, "w", encoding="utf-8") as f:
            json.dump(cases, f)
        counts = segments([sys.executable, "-c", CHILD, BENCH_DIR, spec])
    order = blocks(cases)
    if len(counts) != 3 * len(order):
        raise RuntimeError(f"{len(counts)} callgrind segments for {len(order)} blocks")
    total = [0] * len(cases)
    for j, i in enumerate(order):
        total[i] += counts[3 * j + 1] - counts[3 * j + 2]
    return [
        t / (c["updates"] // c["rounds"] * c["rounds"]) for t, c in zip(total, cases, strict=True)
    ]


def cases(
    table: str, names: list[str], groups: int, updates: int, pre: int, rounds: int
) -> list[dict[str, Any]]:
    """The cases of one table: every variant, float and tensor lr, during and after the warmup."""
    return [
        {"table": table, "phase": phase, "lr": lr, "groups": groups, "variant": name}
        | {"updates": updates, "pre": pre, "rounds": rounds}
        for phase in ("warmup", "after")
        for lr in ("float", "tensor")
        for name in names
    ]


def instructions(all_cases: list[dict[str, Any]], base: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of instructions per step, one per (table, phase, lr, groups): each variant's
    count, and but for the table's baseline (``base[table]``) and ``cosine``, its
    difference from the baseline (``marginal``) and that as a multiple of ``cosine``."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for case, n in zip(all_cases, per_step(all_cases), strict=True):
        key = (case["table"], case["phase"], case["lr"], case["groups"])
        row = rows.setdefault(
            key,
            {k: case[k] for k in ("table", "phase", "lr", "groups", "updates", "pre", "rounds")}
            | {"variants": {}},
        )
        row["variants"][case["variant"]] = {"instructions": n}
    for row in rows.values():
        vs = row["variants"]
        for name, fig in vs.items():
            if name not in (base[row["table"]], "cosine"):
                fig["marginal"] = fig["instructions"] - vs[base[row["table"]]]["instructions"]
                fig["ratio"] = fig["marginal"] / vs["cosine"]["instructions"]
    return sorted(rows.values(), key=lambda r: (r["phase"] != "warmup", r["lr"], r["groups"]))
