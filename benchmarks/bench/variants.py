"""What is measured: each variant is a step function, built on an optimizer of its own.

Two kinds of variant:

* a **statement**, what runs after ``optimizer.step()`` in a training loop:
  ``cosine.step()`` alone, or with a warmup (``dampening()``, ``WarmupLR``), or a peer that
  replaces it (``SequentialLR``, a Hugging Face style ``LambdaLR``);
* an **update**, ``optimizer.step()`` followed by a statement, with or without something
  in the optimizer's step hooks (the attached warmup, or the floor).

Only the public API of ``pytorch_warmup`` is used, so that one benchmark runs on the
older and the newer code alike.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR

import pytorch_warmup as pw

Step = Callable[[], None]
Statement = Callable[[torch.optim.Optimizer, int], tuple[Step, Any]]

WARMUP_PERIOD = 10**6
"""The warmup's period when the warmup phase is measured: every measured update is in it."""
AFTER_PERIOD = 10
"""The warmup's period when the phase after it is measured: the first PRE updates pass it."""
T_MAX = 10**9
"""The cosine's period: it never restarts during a run."""
PRE = 200
"""Updates run before any measurement (caches, free lists, and past a short warmup)."""
FLOOR_FACTOR = 0.5


def period(phase: str) -> int:
    return WARMUP_PERIOD if phase == "warmup" else AFTER_PERIOD


def optimizer(groups: int, tensor_lr: bool, *, grad: bool = True) -> torch.optim.Optimizer:
    """AdamW with one 16-element parameter per group (foreach=False: the CPU AdamW
    refuses a tensor lr otherwise); without ``grad`` its update does no torch op."""
    params = []
    for i in range(groups):
        p = torch.nn.Parameter(torch.zeros(16))
        p.grad = torch.ones(16) if grad else None
        lr = 1e-3 * (1 + i % 3)
        params.append({"params": [p], "lr": torch.tensor(lr) if tensor_lr else lr})
    return torch.optim.AdamW(params, foreach=False)


# -- statements: what follows optimizer.step() ----------------------------------------


def _cosine(opt: torch.optim.Optimizer) -> CosineAnnealingLR:
    return CosineAnnealingLR(opt, T_max=T_MAX)


def cosine(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    return _cosine(opt).step, None


def dampening(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    sched = _cosine(opt)
    warmup = pw.LinearWarmup(opt, period)

    def step() -> None:
        with warmup.dampening():
            sched.step()

    return step, warmup


def warmup_lr(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    sched = _cosine(opt)  # the scheduler first, then the warmup
    warmup = pw.LinearWarmup(opt, period)
    return pw.WarmupLR(sched, warmup).step, warmup


def sequential(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    linear = LinearLR(opt, start_factor=1 / period, total_iters=period)
    return SequentialLR(opt, [linear, _cosine(opt)], milestones=[period]).step, None


def hf_warmup_cosine(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """A warmup-cosine multiplier for ``LambdaLR``, written the way Hugging Face writes it."""

    def lr_lambda(step: int) -> float:
        if step < warmup_steps:
            return float(step) / float(max(1, warmup_steps))
        progress = float(step - warmup_steps) / float(max(1, total_steps - warmup_steps))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))

    return lr_lambda


def hf_lambda(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    return LambdaLR(opt, hf_warmup_cosine(period, T_MAX + period)).step, None


def empty_with(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    """The floor of ``dampening()``: an empty ``with`` block around ``cosine.step()``."""
    sched = _cosine(opt)

    def step() -> None:
        with contextlib.nullcontext():
            sched.step()

    return step, None


# -- WSD: warmup, stable, decay ----------------------------------------------------------


def wsd_multiplier(
    warmup_steps: int, stable_steps: int, decay_steps: int
) -> Callable[[int], float]:
    """A warmup-stable-decay multiplier for ``LambdaLR``, written by hand: linear warmup,
    constant, then a cosine decay to 0 (Hugging Face's ``get_wsd_schedule`` by default)."""

    def lr_lambda(step: int) -> float:
        if step < warmup_steps:
            return float(step) / float(max(1, warmup_steps))
        if step < warmup_steps + stable_steps:
            return 1.0
        progress = float(step - warmup_steps - stable_steps) / float(max(1, decay_steps))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    return lr_lambda


def wsd_lambda(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    return LambdaLR(opt, wsd_multiplier(period, T_MAX, T_MAX)).step, None


def wsd_ours(opt: torch.optim.Optimizer, period: int) -> tuple[Step, Any]:
    """The same phases from this library's factors alone: the linear warmup, attached,
    and its cosine cooldown to 0 over the same updates; no torch scheduler, so nothing
    follows ``optimizer.step()``."""
    warmup = pw.LinearWarmup(opt, period)
    warmup.cool_down(T_MAX, after_update=period + T_MAX, shape="cosine")
    warmup.attach()

    def nothing() -> None:
        pass

    return nothing, warmup


HAS_COOLDOWN = hasattr(pw.BaseWarmup, "cool_down")
"""False for the versions this harness also measures that predate ``cool_down()``."""

STATEMENTS: dict[str, Statement] = {
    "cosine": cosine,
    "dampening": dampening,
    "WarmupLR": warmup_lr,
    "SequentialLR": sequential,
    "LambdaLR": hf_lambda,
    "empty-with": empty_with,
    "wsd-lambda": wsd_lambda,
    "wsd-ours": wsd_ours,
}


# -- updates: optimizer.step(), then a statement ------------------------------------------


def attach(opt: torch.optim.Optimizer, period: int) -> Any:
    return pw.LinearWarmup(opt, period).attach()


def floor_hooks(opt: torch.optim.Optimizer, period: int) -> Any:
    """The least a pair of Python step hooks can do: during a warmup, scale the lr by a
    constant and put it back; after it, count the updates."""
    groups = opt.param_groups
    box: list[Any] = [0]
    if period == AFTER_PERIOD:

        def nothing(o: Any, a: Any, k: Any) -> None:
            pass

        def count(o: Any, a: Any, k: Any) -> None:
            box[0] += 1

        opt.register_step_pre_hook(nothing)
        opt.register_step_post_hook(count)
        return None
    if len(groups) == 1:
        group = groups[0]

        def scale(o: Any, a: Any, k: Any) -> None:
            box[0] = lr = group["lr"]
            group["lr"] = lr * FLOOR_FACTOR

        def restore(o: Any, a: Any, k: Any) -> None:
            group["lr"] = box[0]

    else:  # one pass over the groups; tensor lrs scaled in one batched op
        tensors = isinstance(groups[0]["lr"], torch.Tensor)

        def scale(o: Any, a: Any, k: Any) -> None:
            box[0] = saved = [g["lr"] for g in groups]
            if tensors:
                scaled = torch._foreach_mul(saved, FLOOR_FACTOR)
            else:
                scaled = [lr * FLOOR_FACTOR for lr in saved]
            for g, lr in zip(groups, scaled):  # noqa: B905 (strict=True: a keyword to parse per call)
                g["lr"] = lr

        def restore(o: Any, a: Any, k: Any) -> None:
            for g, lr in zip(groups, box[0]):  # noqa: B905
                g["lr"] = lr

    opt.register_step_pre_hook(scale)
    opt.register_step_post_hook(restore)
    return None


UPDATES: dict[str, tuple[str, Callable[[torch.optim.Optimizer, int], Any] | None]] = {
    # name: (the statement after optimizer.step(), what goes into the step hooks)
    "update": ("cosine", None),
    "attached": ("cosine", attach),
    "dampening": ("dampening", None),
    "floor": ("cosine", floor_hooks),
    "SequentialLR": ("SequentialLR", None),
    "wsd-ours": ("wsd-ours", None),
    "wsd-lambda": ("wsd-lambda", None),
}


# -- building ---------------------------------------------------------------------------


def check_phase(warmup: Any, phase: str) -> None:
    """Fails unless the next update of ``warmup`` is in ``phase``."""
    if warmup is None:
        return
    factor = warmup.warmup_factor(warmup.last_step + 1, **warmup.warmup_params[0])
    if (phase == "warmup") != (factor < 1.0):
        raise RuntimeError(f"the {phase} phase was not measured (factor {factor})")


def _ready(step: Step, warmup: Any, phase: str, pre: int) -> tuple[Step, Any]:
    for _ in range(pre):
        step()
    check_phase(warmup, phase)
    return step, warmup


def build_statement(
    name: str, groups: int, tensor_lr: bool, phase: str, pre: int = PRE
) -> tuple[Step, Any]:
    """A statement alone (the tight loop): ``cosine.step()`` and what replaces it."""
    opt = optimizer(groups, tensor_lr)
    step, warmup = STATEMENTS[name](opt, period(phase))
    opt.step()  # once, after the schedulers are built, so that torch does not warn
    return _ready(step, warmup, phase, pre)


def build_update(
    name: str, groups: int, tensor_lr: bool, phase: str, pre: int = PRE
) -> tuple[Step, Any]:
    """A row of the attached-mode table: ``optimizer.step()`` and a statement, or
    (``cosine``) the bare ``cosine.step()``."""
    if name == "cosine":
        return build_statement(name, groups, tensor_lr, phase, pre)
    opt = optimizer(groups, tensor_lr)
    statement_name, hooks = UPDATES[name]
    statement, warmup = STATEMENTS[statement_name](opt, period(phase))
    if hooks is not None:
        warmup = hooks(opt, period(phase))

    def step() -> None:
        opt.step()
        statement()

    return _ready(step, warmup, phase, pre)
