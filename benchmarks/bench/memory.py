"""Whether a warmup grows the Python heap or the number of live tensors, step after step."""

from __future__ import annotations

import gc
import tracemalloc
import warnings
from typing import Any

import torch

import pytorch_warmup as pw

from . import variants as v


def _live_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on deprecated torch objects warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def _step(mode: str, tensor_lr: bool) -> v.Step:
    """100 groups during the warmup; attached, an update without gradients (hooks only)."""
    opt = v.optimizer(100, tensor_lr, grad=False)
    statement, _ = v.STATEMENTS["cosine" if mode.startswith("attached") else mode](
        opt, v.WARMUP_PERIOD
    )
    if mode.startswith("attached"):
        pw.LinearWarmup(opt, v.WARMUP_PERIOD).attach(in_graph=mode.endswith("in_graph"))

    def step() -> None:
        opt.step()
        statement()

    return step


def growth(mode: str, tensor_lr: bool, steps: int) -> dict[str, Any]:
    """Growth from step ``steps`` to step ``2 * steps``."""
    step = _step(mode, tensor_lr)
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
    return {
        "case": f"{mode}, 100 groups, {'tensor' if tensor_lr else 'float'} lr",
        "steps": steps,
        "heap_growth_bytes": after - before,
        "live_tensor_growth": _live_tensors() - tensors,
    }


def memory_growth(steps: int) -> list[dict[str, Any]]:
    cases = [(m, t) for m in ("dampening", "attached") for t in (False, True)]
    return [growth(m, t, steps) for m, t in [*cases, ("attached in_graph", True)]]
