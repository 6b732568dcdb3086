"""Times in alternated blocks: the thread's CPU time beside the wall clock.

Every variant of one case runs on its own optimizer; timed blocks of all of them
alternate in a rotating order, with garbage collection off inside a block. A repeat
gives one difference per variant against the baseline of the same repeat, and the
figures are medians over the repeats: ratios within one run, so that the load of a
shared machine cancels out. Thread CPU time is the figure to read: the wall clock
also counts the time the thread waits for a core.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from . import variants as v

Step = v.Step


def block(fn: Step, steps: int) -> tuple[int, int]:
    """Thread CPU and wall nanoseconds of ``steps`` calls of ``fn``."""
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


def summary(values: list[float]) -> dict[str, float]:
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": med, "q1": q1, "q3": q3}


def interleave(fns: dict[str, Step], repeats: int, steps: int) -> dict[str, dict[str, list[float]]]:
    """Microseconds per call of each function, CPU and wall, one value per repeat."""
    names = list(fns)
    for fn in fns.values():  # one untimed block each
        block(fn, steps)
    out: dict[str, dict[str, list[float]]] = {n: {"cpu": [], "wall": []} for n in names}
    for r in range(repeats):
        # A rotating order, so that no variant always runs right after another one.
        for name in names[r % len(names) :] + names[: r % len(names)]:
            c, w = block(fns[name], steps)
            out[name]["cpu"].append(c / steps / 1e3)
            out[name]["wall"].append(w / steps / 1e3)
    return out


def steps_per_block(fn: Step, block_s: float, repeats: int, phase: str) -> int:
    """Steps of ``fn`` in a block of about ``block_s`` seconds (all inside a warmup)."""
    steps = max(3, round(block_s / (block(fn, 5)[1] / 5 / 1e9)))
    if phase == "warmup":  # every timed step must still be warming up
        steps = min(steps, (v.WARMUP_PERIOD - 2 * v.PRE) // (repeats + 2))
    return steps


def marginals(times: dict[str, dict[str, list[float]]], base: str, ref: str) -> dict[str, Any]:
    """Per variant: its time, and (for all but ``base`` and ``ref``) its difference from
    ``base`` repeat by repeat, and that as a multiple of ``ref``'s median."""
    rows: dict[str, Any] = {}
    for name, t in times.items():
        row: dict[str, Any] = {"cpu_us": summary(t["cpu"]), "wall_us": summary(t["wall"])}
        if name not in (base, ref):
            for clock in ("cpu", "wall"):
                diff = [a - b for a, b in zip(t[clock], times[base][clock], strict=True)]
                row[f"{clock}_marginal_us"] = summary(diff)
                row[f"{clock}_ratio"] = summary(diff)["median"] / statistics.median(
                    times[ref][clock]
                )
        rows[name] = row
    return rows


def _case(
    build: Callable[[str, int, bool, str], tuple[Step, Any]],
    names: list[str],
    base: str,
    groups: int,
    tensor_lr: bool,
    phase: str,
    repeats: int,
    block_s: float,
) -> dict[str, Any]:
    built = {name: build(name, groups, tensor_lr, phase) for name in names}
    steps = steps_per_block(built[base][0], block_s, repeats, phase)
    times = interleave({name: b[0] for name, b in built.items()}, repeats, steps)
    for _, warmup in built.values():
        v.check_phase(warmup, phase)
    out: dict[str, Any] = {"groups": groups, "lr": "tensor" if tensor_lr else "float"}
    out.update(phase=phase, steps_per_block=steps, repeats=repeats)
    out["variants"] = marginals(times, base, "cosine")
    return out


TIGHT = ["cosine", "dampening", "WarmupLR", "SequentialLR", "LambdaLR", "empty-with"]


def tight_loop(groups: int, tensor_lr: bool, phase: str, repeats: int, block_s: float) -> Any:
    """The statement alone: each variant's cost minus that of ``cosine.step()``."""
    return _case(v.build_statement, TIGHT, "cosine", groups, tensor_lr, phase, repeats, block_s)


ATTACHED = [
    "cosine",
    "update",
    "attached",
    "dampening",
    "floor",
    "SequentialLR",
    *(["wsd-ours"] if v.HAS_COOLDOWN else []),  # absent from versions before cool_down()
    "wsd-lambda",
]


def attached_table(groups: int, tensor_lr: bool, phase: str, repeats: int, block_s: float) -> Any:
    """The attached-mode rows: each minus ``optimizer.step(); cosine.step()``, as a
    multiple of the bare ``cosine.step()``."""
    return _case(v.build_update, ATTACHED, "update", groups, tensor_lr, phase, repeats, block_s)


# -- inside a training step -------------------------------------------------------------


def _now() -> tuple[int, int]:
    return time.thread_time_ns(), time.perf_counter_ns()


class TrainingRun:
    """One variant of a training loop (MLP 64-256-256-10, batch 64, AdamW), on its own
    model: the statement after ``optimizer.step()`` is timed, and for the attached mode
    the time inside its hooks is added, read by step hooks registered around them (every
    variant carries the same timing hooks, so that their cost cancels out)."""

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
        self.x, self.y = torch.randn(64, 64), torch.randint(0, 10, (64,))
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.marks = [(0, 0)] * 4
        opt.register_step_pre_hook(self._mark(0))
        opt.register_step_post_hook(self._mark(2))
        self.statement: Step = lambda: None
        self.warmup = None
        if variant != "none":
            name = "cosine" if variant == "attached" else variant
            self.statement, self.warmup = v.STATEMENTS[name](opt, v.period(phase))
        if variant == "attached":
            self.warmup = v.attach(opt, v.period(phase))
        opt.register_step_pre_hook(self._mark(1))
        opt.register_step_post_hook(self._mark(3))
        self.samples: list[tuple[int, int, int, int]] = []

    def _mark(self, i: int) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            self.marks[i] = _now()

        return hook

    def run(self, steps: int, keep: bool) -> None:
        opt, model, statement, m = self.opt, self.model, self.statement, self.marks
        for _ in range(steps):
            c0, w0 = _now()
            opt.zero_grad()
            self.loss_fn(model(self.x), self.y).backward()
            opt.step()
            c1, w1 = _now()
            statement()
            c2, w2 = _now()
            hooks_c = m[1][0] - m[0][0] + m[3][0] - m[2][0]
            hooks_w = m[1][1] - m[0][1] + m[3][1] - m[2][1]
            if keep:
                self.samples.append((c2 - c1 + hooks_c, c2 - c0, w2 - w1 + hooks_w, w2 - w0))

    def figures(self) -> dict[str, float]:
        s = self.samples
        return {
            "steps": len(s),
            "step_cpu_us": statistics.median(x[1] for x in s) / 1e3,
            "statement_cpu_us": statistics.median(x[0] for x in s) / 1e3,
            "share_cpu_pct": 100 * statistics.median(x[0] / x[1] for x in s),
            "statement_wall_us": statistics.median(x[2] for x in s) / 1e3,
            "share_wall_pct": 100 * statistics.median(x[2] / x[3] for x in s),
        }


TRAINING = ["none", "cosine", "dampening", "WarmupLR", "attached", "SequentialLR", "LambdaLR"]


def training_step(tensor_lr: bool, phase: str, steps: int, per_block: int = 25) -> dict[str, Any]:
    """The scheduler statement's share of a training step (one torch thread), per variant:
    its median over steps, and its difference from the bare cosine's, in percentage points."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = {name: TrainingRun(name, tensor_lr, phase) for name in TRAINING}
        for r in runs.values():
            r.run(v.PRE, keep=False)
        gc.disable()
        try:
            for _ in range(0, steps, per_block):
                for r in runs.values():
                    r.run(per_block, keep=True)
        finally:
            gc.enable()
    finally:
        torch.set_num_threads(threads)
    for r in runs.values():
        v.check_phase(r.warmup, phase)
    rows = {name: r.figures() for name, r in runs.items()}
    for row in rows.values():
        for clock in ("cpu", "wall"):
            row[f"over_cosine_{clock}_pp"] = (
                row[f"share_{clock}_pct"] - rows["cosine"][f"share_{clock}_pct"]
            )
    return {"lr": "tensor" if tensor_lr else "float", "phase": phase, "variants": rows}
