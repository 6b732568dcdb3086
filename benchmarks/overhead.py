r"""What a warmup adds to each step, measured against the scheduler and its peers.

Every figure is a ratio taken in one run, on one machine, so that the load of
a shared machine cancels out:

* **tight loop**: the marginal cost of the warmup over ``cosine.step()`` alone
  (``CosineAnnealingLR``), for ``with warmup.dampening(): cosine.step()``,
  ``WarmupLR(cosine, warmup).step()`` and the attached mode (the cost of the
  hooks per ``optimizer.step()``), next to the peers a user would pick instead:
  torch's ``SequentialLR(LinearLR, CosineAnnealingLR)`` and a Hugging Face style
  ``LambdaLR`` warmup-cosine. Float and 0-dim tensor learning rates, 1 and 100
  param groups, during the warmup and after it (every factor exactly 1);
* **training step**: the scheduler statement's share of a real training step
  (MLP 64-256-256-10, batch 64, AdamW, one thread), median over many steps;
* **torch ops per step**: the number of torch operations a warmup step
  dispatches, for 2 and 100 groups (the CPU stand-in for kernel launches);
* **instructions** (``--instructions``): instructions per step counted by
  ``valgrind --tool=callgrind``, the stable figure on a busy machine.

Method: each variant runs on its own optimizer; timed blocks of all the
variants of one case alternate in a rotating order, with garbage collection off
inside a block, and every block reads both the thread's CPU time
(``time.thread_time_ns``) and the wall clock (``time.perf_counter_ns``). Each
repeat gives one difference against the baseline measured in the same repeat;
tables show the median over repeats (and the interquartile range).

Run ``make bench`` (about 2 minutes), or ``python benchmarks/overhead.py
[--quick] [--instructions] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import glob
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    SequentialLR,
)
from torch.utils._python_dispatch import TorchDispatchMode

import pytorch_warmup as pw

PERIOD = 200_000
"""Warmup length when the warmup phase is measured: every timed step is inside it."""
SHORT = 10
"""Warmup length when the phase after it is measured: untimed steps pass it first."""
T_MAX = 10**9
"""Cosine period: long enough that the cosine never restarts during a run."""
UNTIMED = 3 * SHORT + 20

ATTACH = hasattr(pw.BaseWarmup, "attach")
"""Whether this pytorch_warmup has the attached mode (older releases do not)."""

Step = Callable[[], None]

# -- the variants -----------------------------------------------------------------


def _optimizer(groups: int, tensor_lr: bool, update: bool = True) -> torch.optim.Optimizer:
    params = [
        {
            "params": [torch.nn.Parameter(torch.zeros(4))],
            "lr": torch.tensor(1e-3 * (1 + i % 3)) if tensor_lr else 1e-3 * (1 + i % 3),
        }
        for i in range(groups)
    ]
    if not update:
        return _NoUpdate(params)
    # foreach=False: the CPU AdamW refuses a tensor lr with the foreach update.
    return torch.optim.AdamW(params, foreach=False)


class _NoUpdate(torch.optim.Optimizer):
    """An optimizer whose update does nothing: what is left of ``step()`` is its hooks."""

    def __init__(self, params: list[dict[str, Any]]) -> None:
        super().__init__(params, {"lr": 1e-3})

    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        return None


def hf_warmup_cosine(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """A warmup-cosine multiplier for ``LambdaLR``, written the way Hugging Face writes it."""

    def lr_lambda(step: int) -> float:
        if step < warmup_steps:
            return float(step) / float(max(1, warmup_steps))
        progress = float(step - warmup_steps) / float(max(1, total_steps - warmup_steps))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))

    return lr_lambda


def _cosine(opt: torch.optim.Optimizer) -> CosineAnnealingLR:
    return CosineAnnealingLR(opt, T_max=T_MAX)


def _v_cosine(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    return _cosine(opt).step, None


def _v_update_cosine(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    cosine = _cosine(opt)

    def step() -> None:
        opt.step()
        cosine.step()

    return step, None


def _v_dampening(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    cosine = _cosine(opt)
    warmup = pw.LinearWarmup(opt, period)

    def step() -> None:
        with warmup.dampening():
            cosine.step()

    return step, warmup


def _v_warmup_lr(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    cosine = _cosine(opt)  # the scheduler first, then the warmup
    warmup = pw.LinearWarmup(opt, period)
    return pw.WarmupLR(cosine, warmup).step, warmup


def _v_attached(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    cosine = _cosine(opt)
    warmup = pw.LinearWarmup(opt, period).attach()  # type: ignore[attr-defined]

    def step() -> None:
        opt.step()
        cosine.step()

    return step, warmup


def _v_empty_with(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    cosine = _cosine(opt)

    def step() -> None:
        with contextlib.nullcontext():
            cosine.step()

    return step, None


def _v_noop_hooks(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    cosine = _cosine(opt)
    opt.register_step_pre_hook(lambda *_: None)
    opt.register_step_post_hook(lambda *_: None)

    def step() -> None:
        opt.step()
        cosine.step()

    return step, None


def _v_sequential(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    linear = LinearLR(opt, start_factor=1 / period, total_iters=period)
    sched = SequentialLR(opt, [linear, _cosine(opt)], milestones=[period])
    return sched.step, None


def _v_lambda(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    return LambdaLR(opt, hf_warmup_cosine(period, T_MAX + period)).step, None


VARIANTS: dict[str, tuple[Callable[[torch.optim.Optimizer, int], tuple[Step, Any]], str]] = {
    # name: (builder, the baseline its marginal cost is taken against)
    "cosine": (_v_cosine, ""),
    "update+cosine": (_v_update_cosine, ""),
    "dampening": (_v_dampening, "cosine"),
    "WarmupLR": (_v_warmup_lr, "cosine"),
    "attached": (_v_attached, "update+cosine"),
    "SequentialLR": (_v_sequential, "cosine"),
    "LambdaLR": (_v_lambda, "cosine"),
    # floors: the least that any `with` block, or any pair of step hooks, costs
    "empty-with": (_v_empty_with, "cosine"),
    "noop-hooks": (_v_noop_hooks, "update+cosine"),
}
UPDATE_VARIANTS = ("attached", "update+cosine", "noop-hooks")
"""The variants that call ``optimizer.step()``: they run on an optimizer that does no update."""
OURS = ("dampening", "WarmupLR", "attached")
PEERS = ("SequentialLR", "LambdaLR")
FLOORS = ("empty-with", "noop-hooks")
LABELS = {
    "cosine": "cosine.step()",
    "update+cosine": "optimizer.step(); cosine.step()",
    "dampening": "with w.dampening(): cosine.step()",
    "WarmupLR": "WarmupLR(cosine, w).step()",
    "attached": "attached: optimizer.step(); cosine.step()",
    "SequentialLR": "SequentialLR(LinearLR, Cosine).step()",
    "LambdaLR": "LambdaLR(HF warmup-cosine).step()",
    "empty-with": "with nullcontext(): cosine.step()",
    "noop-hooks": "two no-op step hooks: optimizer.step(); cosine.step()",
}


def _variants() -> list[str]:
    return [v for v in VARIANTS if ATTACH or v != "attached"]


def build(variant: str, groups: int, tensor_lr: bool, phase: str) -> tuple[Step, Any]:
    """One variant on its own optimizer, ready to time (past the warmup for ``phase="after"``).

    The attached mode and its baseline run on an optimizer whose update does
    nothing, so that the difference between them, the cost of the hooks, is not
    lost in the noise of a real update.
    """
    opt = _optimizer(groups, tensor_lr, update=variant not in UPDATE_VARIANTS)
    period = PERIOD if phase == "warmup" else SHORT
    step, warmup = VARIANTS[variant][0](opt, period)
    if variant not in UPDATE_VARIANTS:
        opt.step()  # no gradients: nothing changes, and the schedulers do not warn
    for _ in range(UNTIMED):
        step()
    return step, warmup


def _check_phase(warmup: Any, phase: str) -> None:
    if warmup is None:
        return
    factor = warmup.warmup_factor(warmup.last_step + 1, **warmup.warmup_params[0])
    if (phase == "warmup") != (factor < 1.0):
        raise RuntimeError(f"the {phase} phase was not measured (factor {factor})")


# -- tight loop -----------------------------------------------------------------------


def _block(fn: Step, steps: int) -> tuple[int, int]:
    gc.disable()
    try:
        w0 = time.perf_counter_ns()
        c0 = time.thread_time_ns()
        for _ in range(steps):
            fn()
        c1 = time.thread_time_ns()
        w1 = time.perf_counter_ns()
    finally:
        gc.enable()
    return c1 - c0, w1 - w0


def _summary(values: list[float]) -> dict[str, float]:
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": med, "q1": q1, "q3": q3}


def measure(
    groups: int, tensor_lr: bool, phase: str, repeats: int, block_s: float
) -> dict[str, Any]:
    """Time every variant of one case in alternating blocks; marginals against the baselines."""
    names = _variants()
    built = {name: build(name, groups, tensor_lr, phase) for name in names}
    per_step = _block(built["cosine"][0], 5)[1] / 5 / 1e9
    steps = max(3, round(block_s / per_step))
    if phase == "warmup":  # every timed step must still be warming up
        steps = min(steps, (PERIOD - 10 * UNTIMED) // (repeats + 2))
    for name in names:  # one untimed block each
        _block(built[name][0], steps)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        # A rotating order, so that no variant always runs right after another one.
        for name in names[r % len(names) :] + names[: r % len(names)]:
            c, w = _block(built[name][0], steps)
            cpu[name].append(c / steps / 1e3)
            wall[name].append(w / steps / 1e3)
    for _, warmup in built.values():
        _check_phase(warmup, phase)
    out: dict[str, Any] = {"groups": groups, "lr": "tensor" if tensor_lr else "float"}
    out.update(phase=phase, steps_per_block=steps, repeats=repeats, variants={})
    for name in names:
        base = VARIANTS[name][1]
        row: dict[str, Any] = {"cpu_us": _summary(cpu[name]), "wall_us": _summary(wall[name])}
        if base:
            for clock, data in (("cpu", cpu), ("wall", wall)):
                diff = [a - b for a, b in zip(data[name], data[base], strict=True)]
                row[f"{clock}_marginal_us"] = _summary(diff)
                row[f"{clock}_ratio"] = row[f"{clock}_marginal_us"]["median"] / statistics.median(
                    data["cosine"]
                )
        out["variants"][name] = row
    return out


# -- inside a training step ---------------------------------------------------------------


def _now() -> tuple[int, int]:
    return time.thread_time_ns(), time.perf_counter_ns()


class _MLPRun:
    """One variant of the training loop, on its own model and optimizer.

    The statement after ``optimizer.step()`` is timed; for the attached mode the
    time of its hooks is added, read by step hooks registered around them (every
    variant carries the same timing hooks, so their own cost cancels out in the
    comparison with the bare cosine).
    """

    def __init__(self, variant: str, tensor_lr: bool, phase: str) -> None:
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(64, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 10),
        )
        lr = torch.tensor(1e-3) if tensor_lr else 1e-3
        self.opt = opt = torch.optim.AdamW(self.model.parameters(), lr=lr, foreach=False)
        self.x = torch.randn(64, 64)
        self.y = torch.randint(0, 10, (64,))
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.marks = [(0, 0)] * 4

        def mark(i: int) -> Callable[..., None]:
            def hook(*_: Any) -> None:
                self.marks[i] = _now()

            return hook

        opt.register_step_pre_hook(mark(0))
        opt.register_step_post_hook(mark(2))
        period = PERIOD if phase == "warmup" else SHORT
        if variant == "none":
            self.statement, self.warmup = (lambda: None), None
        else:
            builder = VARIANTS["cosine" if variant == "attached" else variant][0]
            self.statement, self.warmup = builder(opt, period)
        if variant == "attached":
            self.warmup = pw.LinearWarmup(opt, period).attach()  # type: ignore[attr-defined]
        opt.register_step_pre_hook(mark(1))
        opt.register_step_post_hook(mark(3))
        self.phase = phase
        self.samples: list[tuple[int, int, int, int]] = []

    def run(self, steps: int, keep: bool) -> None:
        opt, model, statement = self.opt, self.model, self.statement
        for _ in range(steps):
            c0, w0 = _now()
            opt.zero_grad()
            self.loss_fn(model(self.x), self.y).backward()
            opt.step()
            c1, w1 = _now()
            statement()
            c2, w2 = _now()
            m = self.marks
            hooks_c = m[1][0] - m[0][0] + m[3][0] - m[2][0]
            hooks_w = m[1][1] - m[0][1] + m[3][1] - m[2][1]
            if keep:
                self.samples.append((c2 - c1 + hooks_c, c2 - c0, w2 - w1 + hooks_w, w2 - w0))


def mlp(steps: int, block: int = 25) -> list[dict[str, Any]]:
    """The scheduler statement's share of a training step, per variant and phase."""
    names = ["none"]
    names += [v for v in ("cosine", "dampening", "WarmupLR", "attached") if v in _variants()]
    names += list(PEERS)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    results = []
    try:
        for tensor_lr in (False, True):
            for phase in ("warmup", "after"):
                runs = {name: _MLPRun(name, tensor_lr, phase) for name in names}
                for r in runs.values():
                    r.run(UNTIMED, keep=False)
                gc.disable()
                try:
                    for _ in range(0, steps, block):
                        for r in runs.values():
                            r.run(block, keep=True)
                finally:
                    gc.enable()
                case: dict[str, Any] = {"lr": "tensor" if tensor_lr else "float", "phase": phase}
                case["variants"] = {}
                for name, r in runs.items():
                    _check_phase(r.warmup, phase)
                    s = r.samples
                    case["variants"][name] = {
                        "steps": len(s),
                        "step_cpu_us": statistics.median(x[1] for x in s) / 1e3,
                        "statement_cpu_us": statistics.median(x[0] for x in s) / 1e3,
                        "share_cpu_pct": 100 * statistics.median(x[0] / x[1] for x in s),
                        "statement_wall_us": statistics.median(x[2] for x in s) / 1e3,
                        "share_wall_pct": 100 * statistics.median(x[2] / x[3] for x in s),
                    }
                base = case["variants"]["cosine"]
                for row in case["variants"].values():
                    for clock in ("cpu", "wall"):
                        row[f"over_cosine_{clock}_pp"] = (
                            row[f"share_{clock}_pct"] - base[f"share_{clock}_pct"]
                        )
                results.append(case)
    finally:
        torch.set_num_threads(threads)
    return results


# -- torch ops per step ---------------------------------------------------------------


class _OpCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        self.ops += 1
        return func(*args, **(kwargs or {}))


def _count(fn: Step) -> int:
    counter = _OpCounter()
    with counter:
        fn()
    return counter.ops


def _dtype_optimizer(groups: int, dtypes: tuple[torch.dtype, ...]) -> torch.optim.Optimizer:
    params = [
        {
            "params": [torch.nn.Parameter(torch.zeros(2))],
            "lr": torch.tensor(1e-3 * (1 + i % 3), dtype=dtypes[i % len(dtypes)]),
        }
        for i in range(groups)
    ]
    return torch.optim.AdamW(params, foreach=False)


def _empty_block(warmup: Any) -> Step:
    def step() -> None:
        with warmup.dampening():
            pass

    return step


def op_counts() -> list[dict[str, Any]]:
    """Torch ops one warmup step dispatches (no scheduler), for 2 and 100 groups."""
    kinds = {
        "float32 (1 bucket)": (torch.float32,),
        "float32+float64 (2 buckets)": (torch.float32, torch.float64),
    }
    rows = []
    for kind, dtypes in kinds.items():
        for phase in ("warmup", "after"):
            period = PERIOD if phase == "warmup" else SHORT
            row: dict[str, Any] = {"lr": kind, "phase": phase}
            for groups in (2, 100):
                plain = _dtype_optimizer(groups, dtypes).step
                modes: dict[str, Step] = {}
                warmup = pw.LinearWarmup(_dtype_optimizer(groups, dtypes), period)
                modes["dampening"] = _empty_block(warmup)
                modes["dampen"] = warmup.dampen
                opt = _dtype_optimizer(groups, dtypes)
                modes["WarmupLR"] = pw.WarmupLR(None, pw.LinearWarmup(opt, period)).step
                if ATTACH:
                    opt = _dtype_optimizer(groups, dtypes)
                    pw.LinearWarmup(opt, period).attach()  # type: ignore[attr-defined]
                    modes["attached"] = opt.step
                opt = _dtype_optimizer(groups, dtypes)
                cosine = _cosine(opt)
                opt.step()  # after the scheduler is built, so that it does not warn
                modes["cosine.step() itself"] = cosine.step
                for fn in (*modes.values(), plain):
                    for _ in range(UNTIMED):
                        fn()
                extra = _count(plain)  # an optimizer step without gradients: no op expected
                for name, fn in modes.items():
                    n = _count(fn)
                    row.setdefault(name, {})[str(groups)] = n - extra if name == "attached" else n
            rows.append(row)
    return rows


# -- instruction counts (callgrind) ------------------------------------------------------

_MARK = os.getppid
"""Calls ``getppid``: ``valgrind --dump-before=getppid`` ends a segment of counts there."""


def _callgrind_cases() -> list[dict[str, Any]]:
    return [
        {"groups": g, "lr": lr, "phase": phase, "variant": v, "steps": 0}
        for phase in ("warmup", "after")
        for lr in ("float", "tensor")
        for g in (1, 100)
        for v in _variants()
    ]


def callgrind_child(path: str, quick: bool) -> None:
    """Runs under callgrind: for each case, N steps and then 0 steps between markers."""
    cases = _callgrind_cases()
    gc.disable()
    for case in cases:
        n = (20 if quick else 50) if case["groups"] == 100 else (200 if quick else 500)
        case["steps"] = n
        step, _ = build(case["variant"], case["groups"], case["lr"] == "tensor", case["phase"])
        _MARK()  # ends the setup segment
        for _ in range(n):
            step()
        _MARK()  # ends the N-step segment
        for _ in range(0):
            step()
        _MARK()  # ends the 0-step segment
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cases, f)


def _totals(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def instructions(quick: bool) -> list[dict[str, Any]]:
    """Instructions per step, (I_N - I_0) / N, from one callgrind run of all the cases."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cases_file = os.path.join(tmp, "cases.json")
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=getppid",
            f"--callgrind-out-file={out}",
            sys.executable,
            os.path.abspath(__file__),
            "--callgrind-child",
            cases_file,
        ] + (["--quick"] if quick else [])
        subprocess.run(cmd, check=True, capture_output=True)
        with open(cases_file, encoding="utf-8") as f:
            cases = json.load(f)
        dumps = sorted(glob.glob(out + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        if len(dumps) != 3 * len(cases):
            raise RuntimeError(f"{len(dumps)} callgrind dumps for {len(cases)} cases")
        for i, case in enumerate(cases):
            i_n, i_0 = _totals(dumps[3 * i + 1]), _totals(dumps[3 * i + 2])
            case["instructions"] = (i_n - i_0) / case["steps"]
    results: dict[tuple[str, str, int], dict[str, Any]] = {}
    for case in cases:
        key = (case["phase"], case["lr"], case["groups"])
        results.setdefault(key, {"phase": key[0], "lr": key[1], "groups": key[2], "variants": {}})
        results[key]["variants"][case["variant"]] = {"instructions": case["instructions"]}
    for res in results.values():
        vs = res["variants"]
        for name, row in vs.items():
            base = VARIANTS[name][1]
            if base:
                row["marginal"] = row["instructions"] - vs[base]["instructions"]
                row["ratio"] = row["marginal"] / vs["cosine"]["instructions"]
    return list(results.values())


# -- import time and memory ----------------------------------------------------------------


def import_cost(repeats: int) -> dict[str, Any]:
    """Milliseconds that ``import pytorch_warmup`` adds after ``import torch`` (fresh processes)."""
    code = (
        "import time\n"
        "import torch\n"
        "t = time.perf_counter(); import pytorch_warmup\n"
        "print(time.perf_counter() - t)\n"
    )
    ms = [
        1e3
        * float(
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout
        )
        for _ in range(repeats)
    ]
    return {"repeats": repeats, **_summary(ms)}


def _live_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on deprecated torch objects warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def memory_growth(steps: int) -> list[dict[str, Any]]:
    """Growth of the Python heap and of the live tensors from step N to step 2N (100 groups)."""
    results = []
    for variant in [v for v in ("dampening", "attached") if v in _variants()]:
        for tensor_lr in (False, True):
            step, _ = build(variant, 100, tensor_lr, "warmup")
            tracemalloc.start()
            for _ in range(steps):  # caches and free lists settle
                step()
            tensors = _live_tensors()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(steps):
                step()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            results.append(
                {
                    "case": f"{variant}, 100 groups, {'tensor' if tensor_lr else 'float'} lr",
                    "steps": steps,
                    "heap_growth_bytes": after - before,
                    "live_tensor_growth": _live_tensors() - tensors,
                }
            )
    return results


# -- report -------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pytorch_warmup": pw.__version__,
        "pytorch_warmup_path": os.path.dirname(pw.__file__),
        "attached_mode": ATTACH,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
    }


def _case_name(case: dict[str, Any]) -> str:
    n = case["groups"]
    return f"{case['phase']:<6}  {case['lr']:<6} lr  {n:>3} group{'s' if n > 1 else ''}"


TARGETS = [
    # (phase, variant, at most this ratio of cosine.step())
    ("after", "dampening", 0.05),
    ("after", "WarmupLR", 0.05),
    ("after", "attached", 0.05),
    ("warmup", "dampening", 0.5),
    ("warmup", "attached", 0.25),
]


def print_tight(rows: list[dict[str, Any]]) -> None:
    shown = [v for v in (*OURS, *PEERS, *FLOORS) if v in rows[0]["variants"]]
    print("Tight loop: the warmup's marginal cost per step as a multiple of cosine.step()")
    print("alone (thread CPU time, median over repeats). Peers, which replace the cosine:")
    print("their cost minus that of cosine.step() (-0.2x: 0.2x cheaper than the cosine).")
    print("Floors: an empty `with` block around cosine.step(), and two no-op step hooks.")
    print()
    head = f"{'case':<30}{'cosine.step()':>14}" + "".join(f"{v:>14}" for v in shown)
    print(head)
    print("-" * len(head))
    for row in rows:
        vs = row["variants"]
        line = f"{_case_name(row):<30}{vs['cosine']['cpu_us']['median']:>11.2f} us"
        line += "".join(f"{vs[v]['cpu_ratio']:>+13.3f}x" for v in shown)
        print(line)
    print()
    print("Marginal cost over cosine.step() in microseconds per step: thread CPU")
    print("[interquartile range], wall clock, and the CPU figure as a multiple of")
    print("cosine.step() (attached: per optimizer.step(), against the same")
    print("optimizer.step(); cosine.step() without a warmup)")
    print()
    head = f"{'case':<30}{'variant':<14}{'CPU us':>9}{'IQR':>20}{'wall us':>10}{'x cosine':>10}"
    print(head)
    print("-" * len(head))
    for row in rows:
        vs = row["variants"]
        for v in shown:
            m, w = vs[v]["cpu_marginal_us"], vs[v]["wall_marginal_us"]
            iqr = f"{m['q1']:.2f}..{m['q3']:.2f}"
            print(
                f"{_case_name(row):<30}{v:<14}{m['median']:>9.2f}{iqr:>20}"
                f"{w['median']:>10.2f}{vs[v]['cpu_ratio']:>+9.3f}x"
            )
    print()
    print("Targets: the warmup's marginal cost over cosine.step() (thread CPU, this run)")
    for phase, variant, bound in TARGETS:
        cases = [r for r in rows if r["phase"] == phase and variant in r["variants"]]
        if not cases:
            continue
        worst = max(cases, key=lambda r: r["variants"][variant]["cpu_ratio"])
        ratio = worst["variants"][variant]["cpu_ratio"]
        print(
            f"  {phase:<6} {variant:<10} <= {bound:<4}x: largest {ratio:+.3f}x "
            f"({_case_name(worst).split(maxsplit=1)[1].strip()})  "
            f"{'met' if ratio <= bound else 'not met'}"
        )


def print_mlp(cases: list[dict[str, Any]]) -> None:
    print("Inside a training step (MLP 64-256-256-10, batch 64, AdamW, 1 thread):")
    print("the scheduler statement's share of the step, median over steps")
    print("(attached: cosine.step() plus the time inside the warmup's step hooks)")
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


def print_ops(rows: list[dict[str, Any]]) -> None:
    print("Torch ops dispatched per step, tensor learning rates, 2 / 100 groups")
    print("(TorchDispatchMode; each op is one call, a _foreach_* op one fused launch on CUDA)")
    print()
    names = [k for k in rows[0] if k not in ("lr", "phase")]
    head = f"{'lr':<30}{'phase':<8}" + "".join(f"{n:>22}" for n in names)
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = "".join(f"{row[n]['2']:>16} / {row[n]['100']:<3}" for n in names)
        print(f"{row['lr']:<30}{row['phase']:<8}{cells}")


def print_instructions(rows: list[dict[str, Any]]) -> None:
    shown = [v for v in (*OURS, *PEERS, *FLOORS) if v in rows[0]["variants"]]
    print("Instructions per step (valgrind --tool=callgrind, (I_N - I_0) / N):")
    print("cosine.step() itself, then each variant's marginal count and its multiple of it")
    print()
    head = f"{'case':<30}{'cosine.step()':>14}" + "".join(f"{v:>22}" for v in shown)
    print(head)
    print("-" * len(head))
    for row in rows:
        vs = row["variants"]
        line = f"{_case_name(row):<30}{vs['cosine']['instructions']:>14.0f}"
        line += "".join(f"{vs[v]['marginal']:>13.0f} {vs[v]['ratio']:>7.3f}x" for v in shown)
        print(line)


def print_report(report: dict[str, Any]) -> None:
    env = report["environment"]
    print(
        f"pytorch_warmup {env['pytorch_warmup']} ({env['pytorch_warmup_path']}), "
        f"torch {env['torch']}, Python {env['python']}, {env['cpus']} CPUs, "
        f"load average {env['load_average']} -> {env['load_average_end']}"
    )
    if not env["attached_mode"]:
        print("(this pytorch_warmup has no attached mode: its rows are left out)")
    print()
    print_tight(report["tight"])
    print()
    print_mlp(report["mlp"])
    print()
    print_ops(report["ops"])
    if "instructions" in report:
        print()
        print_instructions(report["instructions"])
    if "import" in report:
        imp = report["import"]
        print()
        print(
            f"import pytorch_warmup after import torch: {imp['median']:.1f} ms "
            f"(IQR {imp['q1']:.1f}..{imp['q3']:.1f}, {imp['repeats']} fresh processes)"
        )
    for m in report.get("memory", []):
        print(
            f"memory, {m['case']}, steps {m['steps']}..{2 * m['steps']}: Python heap "
            f"{m['heap_growth_bytes']:+d} bytes, live tensors {m['live_tensor_growth']:+d}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 30 s)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions with valgrind --tool=callgrind (several minutes)",
    )
    parser.add_argument(
        "--only-instructions", action="store_true", help="only the instruction counts"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--callgrind-child", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("error", pw.WarmupWarning)
    if args.callgrind_child:
        callgrind_child(args.callgrind_child, args.quick)
        return 0

    report: dict[str, Any] = {"environment": environment()}
    if not args.only_instructions:
        repeats, block_s = (11, 0.002) if args.quick else (41, 0.008)
        report["tight"] = [
            measure(groups, tensor_lr, phase, repeats, block_s)
            for phase in ("warmup", "after")
            for tensor_lr in (False, True)
            for groups in (1, 100)
        ]
        report["mlp"] = mlp(150 if args.quick else 1000)
        report["ops"] = op_counts()
        if not args.quick:
            report["import"] = import_cost(11)
            report["memory"] = memory_growth(1000)
    if args.instructions or args.only_instructions:
        report["instructions"] = instructions(args.quick)
    report["environment"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.only_instructions:
        print_instructions(report["instructions"])
    else:
        print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
