"""Torch ops dispatched per update, counted with a ``TorchDispatchMode``.

The CPU stand-in for kernel launches on a GPU (a ``_foreach_*`` op is one fused launch
there). Tensor learning rates, every group with the same warmup parameters; the
optimizer's parameters have no gradient, so that its update itself dispatches nothing
(what it still dispatches is measured without a warmup and subtracted).
"""

from __future__ import annotations

from typing import Any

from torch.utils._python_dispatch import TorchDispatchMode

import pytorch_warmup as pw

from . import variants as v

GROUPS = (1, 10, 100, 1000)


class OpCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        self.ops += 1
        return func(*args, **(kwargs or {}))


def count(fn: v.Step) -> int:
    counter = OpCounter()
    with counter:
        fn()
    return counter.ops


def _dampening(opt: Any, period: int) -> v.Step:
    warmup = pw.LinearWarmup(opt, period)

    def step() -> None:
        with warmup.dampening():
            pass

    return step


def _attached(in_graph: bool) -> Any:
    def build(opt: Any, period: int) -> v.Step:
        pw.LinearWarmup(opt, period).attach(in_graph=in_graph)
        return opt.step  # type: ignore[no-any-return]

    return build


def _cosine(opt: Any, period: int) -> v.Step:
    step = v.cosine(opt, period)[0]
    opt.step()  # after the scheduler is built, so that torch does not warn
    return step


MODES = {
    "attached": _attached(False),
    "attached(in_graph=True)": _attached(True),
    "dampening() block": _dampening,
    "cosine.step() itself": _cosine,
}


def per_update(mode: str, groups: int, phase: str) -> int:
    """Ops of one update (one empty ``dampening()`` block, one ``cosine.step()``) of ``mode``."""
    step = MODES[mode](v.optimizer(groups, tensor_lr=True, grad=False), v.period(phase))
    for _ in range(2 * v.AFTER_PERIOD):  # past the short warmup
        step()
    plain = v.optimizer(groups, tensor_lr=True, grad=False).step
    return count(step) - (count(plain) if mode.startswith("attached") else 0)


def op_counts(groups: tuple[int, ...] = GROUPS) -> list[dict[str, Any]]:
    """Ops per update of each mode, during and after the warmup, for each number of groups."""
    return [
        {"mode": mode, "phase": phase, "ops": {str(g): per_update(mode, g, phase) for g in groups}}
        for phase in ("warmup", "after")
        for mode in MODES
    ]
