r"""How much a warmup adds to each training step.

Measures, in one process, the marginal cost of ``with warmup.dampening():
cosine.step()`` over ``cosine.step()`` alone (AdamW, ``CosineAnnealingLR``, an
untuned linear warmup), for float and 0-dim tensor learning rates with 1 and 100
param groups; the cost of ``import pytorch_warmup`` over ``import torch``; the
share of a full training step of a small MLP taken by the scheduler and the
warmup; that memory does not grow with the number of steps; and the number of
torch operations a warmup step dispatches.

Method: the scheduler alone and the scheduler under the warmup run on two
separate but identical optimizers, in alternating timed blocks (many repeats,
garbage collection off inside a block, ``time.perf_counter_ns``), after untimed
warm-up steps. Each repeat gives one difference; the table shows the median and
the interquartile range (IQR) over repeats. The warmup period (200000 steps,
from beta2 = 0.99999) and the cosine period (10**9 steps) are long enough that
every timed step is still warming up; one row measures a warmup that is over.

Run ``make bench`` (or ``python benchmarks/overhead.py [--quick] [--json FILE]``).
Absolute times depend on the machine and its load; ratios measured in the same
run are the figures to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.utils._python_dispatch import TorchDispatchMode

import pytorch_warmup as pw

BETA2 = 0.99999  # untuned linear warmup period: 2 / (1 - beta2) = 200000 steps
PERIOD = 200_000
T_MAX = 10**9


@dataclass
class Row:
    """One line of the step-overhead table (times in microseconds per step)."""

    case: str
    groups: int
    sched_us: float
    marginal_us: float
    q1_us: float
    q3_us: float
    steps_per_block: int
    repeats: int
    target: str = ""
    ok: bool | None = None

    @property
    def per_group_us(self) -> float:
        return self.marginal_us / self.groups

    @property
    def ratio(self) -> float:
        return self.marginal_us / self.sched_us


@dataclass
class Report:
    """Everything the run measured, written by ``--json``."""

    environment: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


# -- setups ---------------------------------------------------------------------


def _optimizer(groups: int, tensor_lr: bool) -> torch.optim.Optimizer:
    params = [
        {
            "params": [torch.nn.Parameter(torch.zeros(4))],
            "lr": torch.tensor(1e-3 * (1 + i % 3)) if tensor_lr else 1e-3 * (1 + i % 3),
        }
        for i in range(groups)
    ]
    # foreach=False: the CPU AdamW refuses a tensor lr with the foreach update.
    return torch.optim.AdamW(params, betas=(0.9, BETA2), foreach=False)


def _pair(
    groups: int, tensor_lr: bool, last_step: int = -1, floor: bool = False
) -> tuple[Callable[[], None], ...]:
    """Two step functions on identical optimizers: the scheduler alone, and under a warmup.

    With ``floor``, the second one uses an empty context manager instead of the
    warmup: the least that any ``with`` block around ``cosine.step()`` costs.
    """
    base_opt = _optimizer(groups, tensor_lr)
    base_cosine = CosineAnnealingLR(base_opt, T_max=T_MAX)
    opt = _optimizer(groups, tensor_lr)
    cosine = CosineAnnealingLR(opt, T_max=T_MAX)
    warmup = pw.UntunedLinearWarmup(opt, last_step=last_step)
    assert warmup.warmup_params[0]["warmup_period"] == PERIOD
    for o in (base_opt, opt):
        o.step()  # no gradients, so nothing changes; the schedulers then do not warn

    def alone() -> None:
        base_cosine.step()

    def warmed() -> None:
        with warmup.dampening():
            cosine.step()

    def empty() -> None:
        with contextlib.nullcontext():
            cosine.step()

    def still_warming() -> None:
        if last_step == -1 and warmup.last_step + 1 >= PERIOD:
            raise RuntimeError("the warmup ended during the measurement")

    return alone, empty if floor else warmed, still_warming


# -- timing ---------------------------------------------------------------------


def _time_block(fn: Callable[[], None], steps: int) -> int:
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(steps):
            fn()
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def measure(
    case: str,
    groups: int,
    tensor_lr: bool,
    repeats: int,
    block_s: float,
    last_step: int = -1,
    floor: bool = False,
) -> Row:
    """Alternate timed blocks of the two step functions; median and IQR of the difference."""
    alone, warmed, check = _pair(groups, tensor_lr, last_step, floor)
    for fn in (alone, warmed):  # untimed warm-up, then calibrate the block length
        for _ in range(20):
            fn()
    per_step = _time_block(warmed, 20) / 20 / 1e9
    steps = max(2, round(block_s / per_step))
    if last_step == -1:  # every timed step must still be in the warmup
        steps = min(steps, (PERIOD - 100) // (repeats + 1))
    base: list[float] = []
    diff: list[float] = []
    for r in range(repeats):
        # Alternate which one goes first, so that a trend in the machine's load
        # does not favour either.
        if r % 2 == 0:
            a = _time_block(alone, steps)
            b = _time_block(warmed, steps)
        else:
            b = _time_block(warmed, steps)
            a = _time_block(alone, steps)
        base.append(a / steps / 1e3)
        diff.append((b - a) / steps / 1e3)
    check()
    q1, med, q3 = _quartiles(diff)
    return Row(case, groups, statistics.median(base), med, q1, q3, steps, repeats)


def import_cost(repeats: int) -> dict[str, Any]:
    """Milliseconds that ``import pytorch_warmup`` adds after ``import torch`` (fresh processes)."""
    code = (
        "import sys, time\n"
        "t0 = time.perf_counter(); import torch\n"
        "t1 = time.perf_counter(); before = set(sys.modules); import pytorch_warmup\n"
        "t2 = time.perf_counter()\n"
        "optional = ('matplotlib', 'tqdm', 'lightning', 'transformers', 'accelerate',\n"
        "            'numpy', 'pytorch_warmup.cli', 'pytorch_warmup._plotting',\n"
        "            'pytorch_warmup._demo')\n"
        "new = set(sys.modules) - before\n"
        "print(t1 - t0, t2 - t1, ','.join(sorted(m for m in new if m.startswith(optional))))\n"
    )
    torch_ms: list[float] = []
    warmup_ms: list[float] = []
    loaded: set[str] = set()
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout.split()
        torch_ms.append(float(out[0]) * 1e3)
        warmup_ms.append(float(out[1]) * 1e3)
        if len(out) > 2:
            loaded.update(out[2].split(","))
    q1, med, q3 = _quartiles(warmup_ms)
    return {
        "torch_ms": statistics.median(torch_ms),
        "pytorch_warmup_ms": med,
        "q1_ms": q1,
        "q3_ms": q3,
        "repeats": repeats,
        "optional_modules_loaded": sorted(loaded),
        "ok": med <= 30.0 and not loaded,
    }


def mlp_step_share(steps: int) -> dict[str, Any]:
    """The share of a full training step that the scheduler and the warmup take.

    A real loop (batch 64, 64 -> 256 -> 256 -> 10, AdamW, cross-entropy, one
    thread) times each whole step and, inside it, the ``with warmup.dampening():
    cosine.step()`` statement, with ``perf_counter_ns`` around both.
    """
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = torch.nn.Sequential(
            torch.nn.Linear(64, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 10),
        )
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, BETA2))
        cosine = CosineAnnealingLR(opt, T_max=T_MAX)
        warmup = pw.UntunedLinearWarmup(opt)
        x = torch.randn(64, 64)
        y = torch.randint(0, 10, (64,))
        loss_fn = torch.nn.CrossEntropyLoss()
        total = 0
        sched = 0
        inner = 0
        clock = time.perf_counter_ns
        gc.disable()
        try:
            for i in range(steps + 50):
                t0 = clock()
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
                t1 = clock()
                with warmup.dampening():
                    t_in = clock()
                    cosine.step()
                    t_out = clock()
                t2 = clock()
                if i >= 50:
                    total += t2 - t0
                    sched += t2 - t1
                    inner += t_out - t_in
        finally:
            gc.enable()
    finally:
        torch.set_num_threads(threads)
    share = sched / (total - sched)
    return {
        "step_us": total / steps / 1e3,
        "scheduler_and_warmup_us": sched / steps / 1e3,
        "warmup_only_us": (sched - inner) / steps / 1e3,
        "percent_of_rest_of_step": 100 * share,
        "warmup_only_percent": 100 * (sched - inner) / (total - sched),
        "steps": steps,
        "ok": share <= 0.01,
    }


# -- memory and op counts -------------------------------------------------------


def _live_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on deprecated torch objects warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def memory_growth(steps: int) -> list[dict[str, Any]]:
    """Growth of the Python heap and of the live tensors from step N to step 2N."""
    results = []
    for groups, tensor_lr in ((100, False), (100, True)):
        _, warmed, _ = _pair(groups, tensor_lr)
        for _ in range(50):
            warmed()
        tracemalloc.start()
        for _ in range(steps):  # first caches and free lists settle
            warmed()
        gc.collect()
        tensors = _live_tensors()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            warmed()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        grown = _live_tensors() - tensors
        results.append(
            {
                "case": f"{groups} groups, {'tensor' if tensor_lr else 'float'} lr",
                "steps": steps,
                "heap_growth_bytes": after - before,
                "live_tensor_growth": grown,
                # A per-step leak of even 1 byte would show as ``steps`` bytes.
                "ok": after - before < min(steps, 1024) and grown == 0,
            }
        )
    return results


class _OpCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        self.ops.append(str(func.overloadpacket.__name__))
        return func(*args, **(kwargs or {}))


def op_counts() -> dict[str, Any]:
    """Torch operations dispatched by one warmup step (``dampening()`` around no scheduler).

    On CPU a ``_foreach_*`` operation loops over its tensors inside one call; on
    CUDA it is one fused kernel launch. The count is the CPU stand-in for the
    number of kernel launches on a GPU.
    """
    counts: dict[str, Any] = {}
    for groups in (1, 10, 100):
        opt = _optimizer(groups, tensor_lr=True)
        warmup = pw.UntunedLinearWarmup(opt)
        for _ in range(3):
            with warmup.dampening():
                pass
        counter = _OpCounter()
        with counter, warmup.dampening():
            pass
        counts[str(groups)] = {"ops": len(counter.ops), "names": counter.ops}
    counts["ok"] = len({c["ops"] for c in counts.values()}) == 1
    return counts


# -- report ---------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pytorch_warmup": pw.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
    }


def _judge(row: Row) -> None:
    if row.case.startswith("1 group, float"):
        row.target = "<= 1.5 us and <= 0.5x sched"
        row.ok = row.marginal_us <= 1.5 and row.ratio <= 0.5
    elif row.case.startswith("100 groups, float"):
        row.target = "<= 0.2 us/group"
        row.ok = row.per_group_us <= 0.2
    elif row.case.startswith("1 group, tensor"):
        row.target = "<= 8 us"
        row.ok = row.marginal_us <= 8.0
    elif row.case.startswith("100 groups, tensor"):
        row.target = "<= 2 us/group"
        row.ok = row.per_group_us <= 2.0


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "MISSED")


def print_report(report: Report) -> None:
    env = report.environment
    print(
        f"pytorch_warmup {env['pytorch_warmup']}, torch {env['torch']}, Python {env['python']}, "
        f"{env['cpus']} CPUs ({env['torch_threads']} torch threads), "
        f"load average {env['load_average']}"
    )
    print()
    print("Marginal cost of `with warmup.dampening(): cosine.step()` over `cosine.step()`")
    print("(AdamW, CosineAnnealingLR, UntunedLinearWarmup; us per step, median over repeats)")
    print()
    header = (
        f"{'case':<34} {'sched':>8} {'warmup':>8} {'IQR':>15} {'/group':>7} "
        f"{'ratio':>6}  {'target':<28} result"
    )
    print(header.rstrip())
    print("-" * len(header.rstrip()))
    for r in report.rows:
        iqr = f"{r.q1_us:.2f}..{r.q3_us:.2f}"
        line = (
            f"{r.case:<34} {r.sched_us:8.2f} {r.marginal_us:8.2f} {iqr:>15} "
            f"{r.per_group_us:7.3f} {r.ratio:6.2f}  {r.target:<28} {_mark(r.ok)}"
        )
        print(line.rstrip())
    print()
    print("sched: cosine.step() alone; warmup: the marginal cost; ratio = warmup / sched;")
    print("IQR: interquartile range of the per-repeat marginal cost. The floor row wraps")
    print("cosine.step() in contextlib.nullcontext(): what any `with` block costs here.")
    extra = report.extra
    if "import" in extra:
        imp = extra["import"]
        print()
        print(
            f"import pytorch_warmup after import torch: {imp['pytorch_warmup_ms']:.1f} ms "
            f"(IQR {imp['q1_ms']:.1f}..{imp['q3_ms']:.1f}; import torch "
            f"{imp['torch_ms']:.0f} ms; {imp['repeats']} fresh processes); optional modules "
            f"it loads: {', '.join(imp['optional_modules_loaded']) or 'none'}  "
            f"[target <= 30 ms: {_mark(imp['ok'])}]"
        )
    if "mlp" in extra:
        mlp = extra["mlp"]
        print(
            f"MLP training step (batch 64, 2x256 hidden, 1 thread): {mlp['step_us']:.0f} us; "
            f"scheduler + warmup {mlp['scheduler_and_warmup_us']:.1f} us = "
            f"{mlp['percent_of_rest_of_step']:.2f} % of the rest of the step "
            f"(warmup alone {mlp['warmup_only_us']:.1f} us = "
            f"{mlp['warmup_only_percent']:.2f} %)  [target <= 1 %: {_mark(mlp['ok'])}]"
        )
    if "memory" in extra:
        for m in extra["memory"]:
            print(
                f"memory, {m['case']}, {m['steps']} steps: Python heap "
                f"{m['heap_growth_bytes']:+d} bytes, live tensors {m['live_tensor_growth']:+d}  "
                f"[no growth: {_mark(m['ok'])}]"
            )
    if "ops" in extra:
        ops = extra["ops"]
        per = ", ".join(f"{g} group(s): {ops[g]['ops']}" for g in ("1", "10", "100"))
        print(
            f"torch ops per warmup step, tensor lr: {per} ({' '.join(ops['1']['names'])})  "
            f"[constant: {_mark(ops['ok'])}]"
        )
        print(
            "  (CPU stand-in for CUDA kernel launches: each _foreach_* op is one fused "
            "launch on CUDA; no GPU was measured in this run)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter blocks")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    repeats, block_s = (11, 0.002) if args.quick else (41, 0.005)
    warnings.simplefilter("error", pw.WarmupWarning)

    report = Report(_environment())
    cases = [
        ("1 group, float lr", 1, False, -1),
        ("100 groups, float lr", 100, False, -1),
        ("1 group, tensor lr", 1, True, -1),
        ("100 groups, tensor lr", 100, True, -1),
        ("1 group, float lr, warmup over", 1, False, PERIOD + 10),
        ("100 groups, tensor lr, warmup over", 100, True, PERIOD + 10),
    ]
    for case, groups, tensor_lr, last_step in cases:
        row = measure(case, groups, tensor_lr, repeats, block_s, last_step)
        if last_step == -1:
            _judge(row)
        report.rows.append(row)
    report.rows.append(
        measure("floor: empty `with`, 1 group", 1, False, repeats, block_s, floor=True)
    )
    report.extra["import"] = import_cost(5 if args.quick else 21)
    report.extra["mlp"] = mlp_step_share(300 if args.quick else 3000)
    report.extra["memory"] = memory_growth(300 if args.quick else 2000)
    report.extra["ops"] = op_counts()
    report.environment["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(report)
    if args.json:
        data = asdict(report)
        for row, out in zip(report.rows, data["rows"], strict=True):
            out["per_group_us"] = row.per_group_us
            out["ratio"] = row.ratio
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
