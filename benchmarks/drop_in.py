"""Nine loops that code written for the original API runs, and what each one gets.

Each prints the learning rate every update really used (read from SGD's own arithmetic:
gradient 1, no momentum, so the step of a weight is the rate) or the counter the warmup
kept. Point ``PYTHONPATH`` at another source tree to run the same loops on it:

    python benchmarks/drop_in.py
    PYTHONPATH=/path/to/older/src python benchmarks/drop_in.py

What each should print: ``rebuilt`` True; ``notebook`` [0.005]; ``dropped`` [0.1];
``raising`` [0.125, 0.0625, 0.046875]; ``in_graph_raising`` ([0.125, 0.25, 0.375, 0.5],
0.5); ``fused_scaler`` (1, 0.125); ``subclass`` 3; ``read_inside`` 0.125 to 0.5 by 0.125,
then 0.5; ``float_by_hand`` a TypeError naming the group, the rate and the mode.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Callable
from typing import Any

import torch

import pytorch_warmup as pw


def _used(opt: torch.optim.Optimizer) -> list[float]:
    """The rate of each later update, from the change of the first weight."""
    seen: list[float] = []
    weight = opt.param_groups[0]["params"][0]
    before: list[torch.Tensor] = []
    opt.register_step_pre_hook(lambda o, a, k: before.append(weight.detach().clone()))

    def after(o: Any, a: Any, k: Any) -> None:
        seen.append(round(float(before.pop()[0] - weight.detach()[0]), 9))

    opt.register_step_post_hook(after)
    return seen


def _sgd(lr: float | torch.Tensor = 0.5, **kwargs: Any) -> torch.optim.SGD:
    weight = torch.nn.Parameter(torch.zeros(2))
    weight.grad = torch.ones(2)
    return torch.optim.SGD([weight], lr=lr, **kwargs)


def rebuilt() -> bool:
    """A saved state loaded into a new warmup built on the same optimizer."""
    opt = _sgd()
    first = pw.LinearWarmup(opt, warmup_period=10)
    with first.dampening():
        pass
    other = pw.LinearWarmup(opt, warmup_period=10)
    other.load_state_dict(first.state_dict())
    return bool(other.state_dict() == first.state_dict())


def notebook() -> list[float]:
    """The cell ``w = LinearWarmup(opt, 100).attach()`` run twice, then one update."""
    opt = _sgd()
    seen = _used(opt)
    w = pw.LinearWarmup(opt, 100).attach()
    w = pw.LinearWarmup(opt, 100).attach()  # noqa: F841
    opt.step()
    return seen


def dropped() -> list[float]:
    """The base rate a new warmup records after an old one was dropped mid-warmup."""
    opt = _sgd(0.1)
    w = pw.LinearWarmup(opt, 5)
    for _ in range(3):
        opt.step()
        with w.dampening():
            pass
    del w
    gc.collect()
    return [float(v) for v in pw.LinearWarmup(opt, 5).state_dict()["lrs"]]


def raising() -> list[float]:
    """Attached, ExponentialLR(0.5): an update, a step that raises, two updates."""
    opt = _sgd()
    seen = _used(opt)
    decay = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    pw.LinearWarmup(opt, 4).attach()
    opt.step()
    decay.step()

    def nan_loss() -> None:
        raise FloatingPointError("nan loss")

    with contextlib.suppress(FloatingPointError):
        opt.step(nan_loss)  # type: ignore[arg-type]
    for _ in range(2):
        decay.step()
        opt.step()
    return seen


def in_graph_raising() -> tuple[list[float], float]:
    """In-graph, a step interrupted, four updates; the saved undampened rate."""
    opt = _sgd(torch.tensor(0.5))
    seen = _used(opt)
    w = pw.LinearWarmup(opt, 4).attach(in_graph=True)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(KeyboardInterrupt):
        opt.step(interrupted)  # type: ignore[arg-type]
    for _ in range(4):
        opt.step()
    return seen, float(w.state_dict()["lrs"][0])


def fused_scaler() -> tuple[int, float]:
    """Fused SGD under GradScaler: two overflowing iterations, one real update."""
    weight = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([weight], lr=0.5, fused=True)
    seen = _used(opt)
    w = pw.LinearWarmup(opt, 4).attach()
    scaler = torch.amp.GradScaler("cpu")
    for scale in (float("inf"), float("inf"), 1.0):
        opt.zero_grad()
        scaler.scale((weight * scale).sum()).backward()
        scaler.step(opt)
        scaler.update()
    return w.last_step, seen[-1]


def subclass() -> int:
    """An SGD subclass whose step() calls super().step(): the count after 3 updates."""

    class MySGD(torch.optim.SGD):
        def step(self, closure: Any = None) -> Any:
            return super().step(closure)

    _sgd().step()  # a plain SGD has stepped in this process
    weight = torch.nn.Parameter(torch.zeros(2))
    weight.grad = torch.ones(2)
    opt = MySGD([weight], lr=0.5)
    w = pw.LinearWarmup(opt, 10).attach()
    for _ in range(3):
        opt.step()
    return w.last_step


def read_inside() -> list[float]:
    """``state_dict()`` read inside the closure of every update."""
    opt = _sgd()
    seen = _used(opt)
    w = pw.LinearWarmup(opt, 4).attach()

    def closure() -> None:
        w.state_dict()

    for _ in range(6):
        opt.step(closure)  # type: ignore[arg-type]
    return seen


def float_by_hand() -> str:
    """In-graph, then ``group['lr'] = 0.2`` by hand."""
    opt = _sgd(torch.tensor(0.5))
    pw.LinearWarmup(opt, 4).attach(in_graph=True)
    opt.step()
    opt.param_groups[0]["lr"] = 0.2
    opt.step()
    return "no error"


LOOPS: list[Callable[[], Any]] = [
    rebuilt,
    notebook,
    dropped,
    raising,
    in_graph_raising,
    fused_scaler,
    subclass,
    read_inside,
    float_by_hand,
]


def main() -> None:
    warnings.simplefilter("ignore")
    for loop in LOOPS:
        try:
            result: Any = loop()
        except Exception as e:  # the error is the result
            result = f"{type(e).__name__}: {str(e)[:160]}"
        print(f"{loop.__name__}: {result}")


if __name__ == "__main__":
    main()
