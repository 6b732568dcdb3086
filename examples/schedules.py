"""Schedules to preview: the README's quick start, and one common mistake per check.

Each function takes the model (``preview`` passes a small one) and builds the
optimizer, the LR schedulers and the warmup as a training script would, then
returns what the training loop steps (see ``pytorch_warmup.preview.preview``).
Run them with the command line from the repository root, for example::

    pytorch-warmup preview examples.schedules:quickstart --updates 5000 -o quickstart.png
    pytorch-warmup preview examples.schedules:cosine_too_short --updates 3000 --strict

The number of updates each one is meant for is in its docstring.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    OneCycleLR,
    SequentialLR,
)

import pytorch_warmup as warmup


def _adamw(model: torch.nn.Module, beta2: float = 0.999) -> torch.optim.AdamW:
    return torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, beta2))


# -- correct schedules -------------------------------------------------------------------


def quickstart(model: torch.nn.Module) -> dict[str, Any]:
    """The README's quick start: cosine over 5000 updates under the untuned linear warmup."""
    optimizer = _adamw(model)
    lr_scheduler = CosineAnnealingLR(optimizer, T_max=5000)
    warmup_scheduler = warmup.UntunedLinearWarmup(optimizer)  # 2000 updates for beta2 = 0.999

    def step() -> None:
        with warmup_scheduler.dampening():
            lr_scheduler.step()

    return {"optimizer": optimizer, "step": step}


def quickstart_warmup_lr(model: torch.nn.Module) -> dict[str, Any]:
    """The same schedule as one LR scheduler object, ``WarmupLR`` (5000 updates)."""
    optimizer = _adamw(model)
    scheduler = warmup.WarmupLR(
        CosineAnnealingLR(optimizer, T_max=5000), warmup.UntunedLinearWarmup(optimizer)
    )
    return {"optimizer": optimizer, "step": scheduler.step}


def quickstart_attached(model: torch.nn.Module) -> dict[str, Any]:
    """The same schedule with the warmup attached to the optimizer (5000 updates)."""
    optimizer = _adamw(model)
    lr_scheduler = CosineAnnealingLR(optimizer, T_max=5000)
    warmup.UntunedLinearWarmup(optimizer).attach()
    return {"optimizer": optimizer, "step": lr_scheduler.step}


def lightning_per_step(model: torch.nn.Module) -> dict[str, Any]:
    """``configure_optimizers`` with ``"interval": "step"`` (3000 updates, 300 per epoch)."""
    optimizer = _adamw(model, beta2=0.99)
    scheduler = warmup.WarmupLR(
        CosineAnnealingLR(optimizer, T_max=3000), warmup.UntunedLinearWarmup(optimizer)
    )
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


# -- one mistake per check ------------------------------------------------------------------


def zero_start(model: torch.nn.Module) -> dict[str, Any]:
    """A hand-made warmup ``t / 500`` whose first update uses rate 0 (2000 updates)."""
    optimizer = _adamw(model)
    scheduler = LambdaLR(optimizer, lambda step: min(1.0, step / 500))
    return {"optimizer": optimizer, "step": scheduler.step}


def jump_at_warmup_end(model: torch.nn.Module) -> dict[str, Any]:
    """A ``SequentialLR`` warmup cut at its milestone before it reaches 1 (3000 updates)."""
    optimizer = _adamw(model)
    ramp = LinearLR(optimizer, start_factor=0.01, end_factor=1.0, total_iters=1000)
    cosine = CosineAnnealingLR(optimizer, T_max=2700)
    scheduler = SequentialLR(optimizer, [ramp, cosine], milestones=[300])
    return {"optimizer": optimizer, "step": scheduler.step}


def warmup_too_long(model: torch.nn.Module) -> dict[str, Any]:
    """A 1000-update fine-tuning run with the 2000-update untuned warmup of beta2 = 0.999."""
    optimizer = _adamw(model)
    scheduler = warmup.WarmupLR(
        CosineAnnealingLR(optimizer, T_max=1000), warmup.UntunedLinearWarmup(optimizer)
    )
    return {"optimizer": optimizer, "step": scheduler.step}


def still_rising(model: torch.nn.Module) -> dict[str, Any]:
    """A one-cycle schedule sized for 20000 updates, run for 3000."""
    optimizer = _adamw(model)
    scheduler = OneCycleLR(optimizer, max_lr=1e-3, total_steps=20_000, pct_start=0.3)
    return {"optimizer": optimizer, "step": scheduler.step}


def dampening_without_with(model: torch.nn.Module) -> dict[str, Any]:
    """``warmup.dampening()`` called without ``with``: the warmup never advances (3000 updates)."""
    optimizer = _adamw(model, beta2=0.99)
    lr_scheduler = CosineAnnealingLR(optimizer, T_max=3000)
    warmup_scheduler = warmup.UntunedLinearWarmup(optimizer)  # 200 updates for beta2 = 0.99

    def step() -> None:
        warmup_scheduler.dampening()  # the mistake: a context manager, called and dropped
        lr_scheduler.step()

    return {"optimizer": optimizer, "step": step}


def lightning_per_epoch(model: torch.nn.Module) -> dict[str, Any]:
    """``configure_optimizers`` without ``"interval"``: Lightning steps it once per epoch.

    Meant for 3000 updates of 300 per epoch; the warmup (200 updates) then moves
    once per epoch.
    """
    optimizer = _adamw(model, beta2=0.99)
    scheduler = warmup.WarmupLR(
        CosineAnnealingLR(optimizer, T_max=3000), warmup.UntunedLinearWarmup(optimizer)
    )
    return {"optimizer": optimizer, "lr_scheduler": scheduler}


def warmup_per_epoch(model: torch.nn.Module) -> dict[str, Any]:
    """A plain loop that steps a 5-update warmup once per epoch (3000 updates, 300 per epoch)."""
    optimizer = _adamw(model)
    cosine = CosineAnnealingLR(optimizer, T_max=10)  # epochs
    warmup_scheduler = warmup.LinearWarmup(optimizer, warmup_period=5)

    def epoch_step() -> None:
        with warmup_scheduler.dampening():
            cosine.step()

    return {"optimizer": optimizer, "epoch_step": epoch_step}


def cosine_too_short(model: torch.nn.Module) -> dict[str, Any]:
    """A cosine with ``T_max=2000`` in a 3000-update run: it turns back up."""
    optimizer = _adamw(model, beta2=0.99)
    scheduler = warmup.WarmupLR(
        CosineAnnealingLR(optimizer, T_max=2000), warmup.UntunedLinearWarmup(optimizer)
    )
    return {"optimizer": optimizer, "step": scheduler.step}


def linear_decay_too_short(model: torch.nn.Module) -> dict[str, Any]:
    """A linear decay to 0 over 2000 updates in a 3000-update run: it stays at 0."""
    optimizer = _adamw(model, beta2=0.99)
    decay = LambdaLR(optimizer, lambda step: max(0.0, 1.0 - step / 2000))
    scheduler = warmup.WarmupLR(decay, warmup.UntunedLinearWarmup(optimizer))
    return {"optimizer": optimizer, "step": scheduler.step}


def scheduler_after_warmup(model: torch.nn.Module) -> dict[str, Any]:
    """The warmup built before a cosine computed from its base rate (3000 updates)."""
    optimizer = _adamw(model, beta2=0.99)
    warmup_scheduler = warmup.UntunedLinearWarmup(optimizer)
    lr_scheduler = LambdaLR(optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * step / 3000)))

    def step() -> None:
        with warmup_scheduler.dampening():
            lr_scheduler.step()

    return {"optimizer": optimizer, "step": step}


# -- beyond the warmup: warmup-stable-decay, cooldowns and rewarms (docs/wsd.md) ------------


def wsd(model: torch.nn.Module) -> torch.optim.Optimizer:
    """Warmup-stable-decay over 10000 updates: untuned warmup, constant, 1-sqrt cooldown."""
    optimizer = _adamw(model)
    warmup.UntunedLinearWarmup(optimizer).attach().cool_down(
        last_fraction=0.2, total_updates=10_000, shape="1-sqrt"
    )
    return optimizer


def wsd_lambda_lr(model: torch.nn.Module) -> dict[str, Any]:
    """The same WSD written as one ``LambdaLR`` (10000 updates): update t uses index t - 1."""
    optimizer = _adamw(model)
    warm, stable_until, total = 2000, 8000, 10_000

    def factor(index: int) -> float:  # index t - 1 of update t, as LambdaLR counts
        t = index + 1
        if t <= warm:
            return t / warm
        if t <= stable_until:
            return 1.0
        return 1.0 - math.sqrt((t - stable_until) / (total - stable_until))

    scheduler = LambdaLR(optimizer, factor)
    return {"optimizer": optimizer, "step": scheduler.step}


def checkpoint_and_rewarm(model: torch.nn.Module) -> dict[str, Any]:
    """Cool down for a checkpoint at update 4000, rewarm, go on; cool down at the end (10000)."""
    optimizer = _adamw(model, beta2=0.99)  # a 200-update warmup
    warmup_scheduler = warmup.UntunedLinearWarmup(optimizer).attach()
    warmup_scheduler.cool_down(500, after_update=3500, shape="1-sqrt")  # updates 3501-4000
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if done == 4000:  # the checkpoint is saved here; then training goes on
            warmup_scheduler.rewarm()
            warmup_scheduler.cool_down(last_fraction=0.2, total_updates=10_000, shape="1-sqrt")

    return {"optimizer": optimizer, "step": step}


def cooldown_unfinished(model: torch.nn.Module) -> torch.optim.Optimizer:
    """A cooldown over the last 20 % of 12000 updates in a run of 10000."""
    optimizer = _adamw(model)
    warmup.UntunedLinearWarmup(optimizer).attach().cool_down(
        last_fraction=0.2, total_updates=12_000, shape="1-sqrt"
    )
    return optimizer


def cooldown_during_warmup(model: torch.nn.Module) -> dict[str, Any]:
    """A hand-written WSD whose stable phase ends at 1000 (meant: 8000), inside its warmup.

    10000 updates: a 2000-update linear warmup, and a linear cooldown from update 1001 to 0
    at update 10000, multiplied.
    """
    optimizer = _adamw(model)
    warm, stable_until, total = 2000, 1000, 10_000  # the mistake: 1000 for 8000

    def factor(index: int) -> float:
        t = index + 1
        cooldown = min(1.0, (total - t) / (total - stable_until))
        return min(1.0, t / warm) * cooldown

    scheduler = LambdaLR(optimizer, factor)
    return {"optimizer": optimizer, "step": scheduler.step}


def cooldown_during_exponential_warmup(model: torch.nn.Module) -> torch.optim.Optimizer:
    """An exponential warmup (period 500) cooled down from update 501, at omega = 0.63."""
    optimizer = _adamw(model)
    warmup.ExponentialWarmup(optimizer, warmup_period=500).attach().cool_down(
        last_fraction=0.95, total_updates=10_000
    )
    return optimizer


def cooldown_ended_early(model: torch.nn.Module) -> torch.optim.Optimizer:
    """A cooldown to 0 over updates 6001-8000 in a run of 10000: 2001 updates at rate 0."""
    optimizer = _adamw(model)
    warmup.UntunedLinearWarmup(optimizer).attach().cool_down(2000, after_update=6000)
    return optimizer


def rewarm_above_stable(model: torch.nn.Module) -> dict[str, Any]:
    """A rewarm after update 4000 that doubles the rate set in the param group (10000 updates)."""
    optimizer = _adamw(model, beta2=0.99)
    warmup_scheduler = warmup.UntunedLinearWarmup(optimizer).attach()
    warmup_scheduler.cool_down(500, after_update=3500, shape="1-sqrt")
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if done == 4000:
            warmup_scheduler.rewarm()
            optimizer.param_groups[0]["lr"] *= 2  # the mistake: a higher rate after the rewarm

    return {"optimizer": optimizer, "step": step}
