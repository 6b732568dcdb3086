"""The printed tables of ``benchmarks/overhead.py``, one function per measurement."""

from __future__ import annotations

from typing import Any

COLUMNS = [("warmup", "float"), ("warmup", "tensor"), ("after", "float"), ("after", "tensor")]
ROWS = [
    ("cosine", "bare cosine.step()"),
    ("update", "optimizer.step() + cosine.step()"),
    ("attached", "+ attached warmup"),
    ("dampening", "+ dampening() instead"),
    ("floor", "+ the floor (two step hooks)"),
    ("SequentialLR", "SequentialLR(Linear, Cosine) instead"),
    ("wsd-ours", "WSD from this library instead"),
    ("wsd-lambda", "WSD as a LambdaLR instead"),
]
GOALS = {("warmup", "float"): 0.5, ("warmup", "tensor"): 0.4}
"""The attached warmup's marginal cost, one group, as a multiple of the bare cosine.step();
after the warmup AFTER_GOAL."""
AFTER_GOAL = 0.15
IMPORT_GOAL = 2.0
"""``import pytorch_warmup`` after ``import torch``, as a multiple of the original's."""


def goal(phase: str, lr: str) -> float:
    return GOALS.get((phase, lr), AFTER_GOAL)


def _title(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def _rows_by_case(rows: list[dict[str, Any]], groups: int) -> dict[tuple[str, str], Any]:
    return {(r["phase"], r["lr"]): r for r in rows if r["groups"] == groups}


def _attached_grid(rows: list[dict[str, Any]], groups: int, clock: bool) -> None:
    """One attached-mode table: instructions (``clock`` false) or thread CPU time."""
    cases = _rows_by_case(rows, groups)
    width = 22
    head = f"{'':<38}" + "".join(f"{p + ' ' + lr:>{width}}" for p, lr in COLUMNS)
    print(head)
    print("-" * len(head))
    for name, label in ROWS:
        cells = []
        for col in COLUMNS:
            fig = cases.get(col, {}).get("variants", {}).get(name, {})
            if clock and "cpu_us" in fig:
                if "cpu_ratio" in fig:
                    m = fig["cpu_marginal_us"]["median"]
                    cells.append(f"{m:+.2f} us {fig['cpu_ratio']:+.2f}x")
                else:
                    cells.append(f"{fig['cpu_us']['median']:.2f} us")
            elif not clock and "instructions" in fig:
                if "ratio" in fig:
                    cells.append(f"{fig['marginal']:+,.0f} {fig['ratio']:+.2f}x")
                else:
                    cells.append(f"{fig['instructions']:,.0f}")
            else:
                cells.append("-")
        print(f"{label:<38}" + "".join(f"{c:>{width}}" for c in cells))
        if name == "attached" and groups == 1:
            marks = []
            for col in COLUMNS:
                fig = cases.get(col, {}).get("variants", {}).get(name, {})
                ratio = fig.get("cpu_ratio" if clock else "ratio")
                mark = "" if ratio is None else (" (met)" if ratio <= goal(*col) else " (over)")
                marks.append(f"<= {goal(*col):.2f}x{mark}")
            print(f"{'    goal':<38}" + "".join(f"{m:>{width}}" for m in marks))


def print_attached(rows: list[dict[str, Any]]) -> None:
    _title("Attached mode: what the warmup adds to an update")
    print("AdamW (foreach=False), one 16-element parameter with a gradient per param group,")
    print("CosineAnnealingLR; warmup period 10^6 (during the warmup) or 10 (after it). Rows")
    print("after the second: cost minus that of optimizer.step() + cosine.step(), then as a")
    print("multiple of the bare cosine.step(). The floor: two Python step hooks that scale")
    print("the lrs by a constant and put them back (after the warmup: that only count).")
    for groups in sorted({r["groups"] for r in rows}):
        some = [r for r in rows if r["groups"] == groups]
        counted = [
            r
            for r in some
            if "cosine" in r["variants"] and "instructions" in r["variants"]["cosine"]
        ]
        timed = [r for r in some if "cpu_us" in r["variants"].get("cosine", {})]
        g = f"{groups} param group{'s' if groups > 1 else ''}"
        if counted:
            c = counted[0]
            print()
            print(
                f"{g}: instructions per update (callgrind, (I_N - I_0) / N, "
                f"N = {c['updates']} after {c['pre']})"
            )
            _attached_grid(rows, groups, clock=False)
        if timed:
            t = timed[0]
            print()
            print(
                f"{g}: thread CPU time per update (median of {t['repeats']} alternated blocks "
                f"of {t['steps_per_block']} updates), multiples of this run's cosine.step()"
            )
            _attached_grid(rows, groups, clock=True)


def print_ops(rows: list[dict[str, Any]]) -> None:
    _title("Torch ops dispatched per update, tensor lrs (TorchDispatchMode)")
    groups = list(rows[0]["ops"])
    print("(every group with the same warmup; a _foreach_* op is one fused launch on CUDA;")
    print("the dampening() block is empty, without a scheduler)")
    print()
    head = f"{'mode':<26}{'phase':<8}" + "".join(f"{g + ' groups':>13}" for g in groups)
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = "".join(f"{row['ops'][g]:>13}" for g in groups)
        print(f"{row['mode']:<26}{row['phase']:<8}{cells}")


def print_import(imp: dict[str, Any]) -> None:
    _title("import pytorch_warmup after import torch")
    print("Instructions of the import alone (callgrind, bytecode cached, warm), and the")
    print("modules it loads that import torch did not:")
    print()
    for name in ("this", "original", "empty"):
        if name not in imp:
            print(f"{name:<9} not measured")
            continue
        r = imp[name]
        n = r["instructions"]
        count = "not counted" if n is None else f"{n:,.0f} instructions"
        print(f"{name:<9} {r['version']:<7} {count:>26}   {len(r['modules'])} modules")
        print(f"{'':<19}{', '.join(r['modules'])}")
    if "ratio" in imp:
        print(f"this / original: {imp['ratio']:.2f}x (goal <= {IMPORT_GOAL:g}x)")
    if imp.get("empty", {}).get("instructions") and "original" in imp:
        empty = imp["empty"]["instructions"] / imp["original"]["instructions"]
        print(f"empty modules alone / original: {empty:.2f}x (the import system's part)")
    wall = imp["wall_ms"]
    cells = ", ".join(
        f"{name} {w['median']:.1f} ms [{w['q1']:.1f}..{w['q3']:.1f}]" for name, w in wall.items()
    )
    reps = next(iter(wall.values()))["repeats"]
    print(
        f"wall clock (median [IQR] of {reps} fresh processes each, load average "
        f"{imp['load_average']} -> {imp['load_average_end']}): {cells}"
    )


def _case(row: dict[str, Any]) -> str:
    n = row["groups"]
    return f"{row['phase']:<6}  {row['lr']:<6} lr  {n:>3} group{'s' if n > 1 else ''}"


TIGHT = ["dampening", "WarmupLR", "SequentialLR", "LambdaLR", "empty-with"]


def print_tight(rows: list[dict[str, Any]]) -> None:
    _title("Tight loop: the statement after optimizer.step(), against cosine.step() alone")
    print("Thread CPU time, median over alternated blocks: cosine.step() itself, then each")
    print("variant's cost minus that of cosine.step() as a multiple of it. Peers replace the")
    print("cosine (-0.2x: 0.2x cheaper than the cosine); empty-with: an empty `with` block.")
    print()
    head = f"{'case':<30}{'cosine.step()':>14}" + "".join(f"{v:>14}" for v in TIGHT)
    print(head)
    print("-" * len(head))
    for row in rows:
        vs = row["variants"]
        line = f"{_case(row):<30}{vs['cosine']['cpu_us']['median']:>11.2f} us"
        print(line + "".join(f"{vs[v]['cpu_ratio']:>+13.3f}x" for v in TIGHT))
    print()
    print("Marginal cost in microseconds: thread CPU [interquartile range], wall clock")
    print()
    head = f"{'case':<30}{'variant':<14}{'CPU us':>9}{'IQR':>20}{'wall us':>10}"
    print(head)
    print("-" * len(head))
    for row in rows:
        for v in TIGHT:
            m, w = row["variants"][v]["cpu_marginal_us"], row["variants"][v]["wall_marginal_us"]
            iqr = f"{m['q1']:.2f}..{m['q3']:.2f}"
            print(f"{_case(row):<30}{v:<14}{m['median']:>9.2f}{iqr:>20}{w['median']:>10.2f}")


def print_tight_instructions(rows: list[dict[str, Any]]) -> None:
    _title("Tight loop in instructions (callgrind, (I_N - I_0) / N)")
    print("cosine.step() itself, then each variant's marginal count and its multiple of it")
    print()
    head = f"{'case':<30}{'cosine.step()':>14}" + "".join(f"{v:>22}" for v in TIGHT)
    print(head)
    print("-" * len(head))
    for row in rows:
        vs = row["variants"]
        line = f"{_case(row):<30}{vs['cosine']['instructions']:>14,.0f}"
        print(
            line + "".join(f"{vs[v]['marginal']:>+13,.0f} {vs[v]['ratio']:>+7.3f}x" for v in TIGHT)
        )


def print_training(cases: list[dict[str, Any]]) -> None:
    _title("Inside a training step (MLP 64-256-256-10, batch 64, AdamW, 1 thread)")
    print("The scheduler statement's share of the step, median over steps (attached:")
    print("cosine.step() plus the time inside the warmup's step hooks)")
    print()
    head = (
        f"{'phase':<8}{'lr':<8}{'variant':<14}{'step us':>9}{'stmt us':>9}"
        f"{'share %':>9}{'+pp':>8}{'wall %':>8}{'+pp':>8}"
    )
    print(head)
    print("-" * len(head))
    for case in cases:
        for name, r in case["variants"].items():
            print(
                f"{case['phase']:<8}{case['lr']:<8}{name:<14}{r['step_cpu_us']:>9.0f}"
                f"{r['statement_cpu_us']:>9.2f}{r['share_cpu_pct']:>9.3f}"
                f"{r['over_cosine_cpu_pp']:>+8.3f}{r['share_wall_pct']:>8.3f}"
                f"{r['over_cosine_wall_pp']:>+8.3f}"
            )
    print("(+pp: percentage points of the step over the bare cosine, CPU then wall clock;")
    print("none: an empty statement, what the timing itself costs)")


def print_memory(rows: list[dict[str, Any]]) -> None:
    _title("Memory, steps N..2N")
    for m in rows:
        print(
            f"{m['case']}, steps {m['steps']}..{2 * m['steps']}: Python heap "
            f"{m['heap_growth_bytes']:+d} bytes, live tensors {m['live_tensor_growth']:+d}"
        )


def print_report(report: dict[str, Any]) -> None:
    env = report["environment"]
    print(
        f"pytorch_warmup {env['pytorch_warmup']} ({env['pytorch_warmup_path']}), "
        f"torch {env['torch']}, Python {env['python']}, {env['cpus']} CPUs, "
        f"load average {env['load_average']} -> {env['load_average_end']}"
    )
    printers = {
        "attached": print_attached,
        "ops": print_ops,
        "import": print_import,
        "tight": print_tight,
        "instructions": print_tight_instructions,
        "mlp": print_training,
        "memory": print_memory,
    }
    for key, printer in printers.items():
        if report.get(key):
            printer(report[key])
