"""Warmup periods given as a fraction of training or as epochs (LinearWarmup, ExponentialWarmup)."""

from __future__ import annotations

import pytest
import torch

import pytorch_warmup as pw

CLASSES = [pw.LinearWarmup, pw.ExponentialWarmup]


def _opt(n_groups: int = 1, lr: float = 0.1) -> torch.optim.Optimizer:
    groups = [{"params": [torch.zeros(2, requires_grad=True)]} for _ in range(n_groups)]
    return torch.optim.AdamW(groups, lr=lr)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    ("kwargs", "period"),
    [
        ({"warmup_fraction": 0.05, "total_steps": 10_000}, 500),
        ({"warmup_fraction": 0.1, "total_steps": 7}, 1),  # 0.7 rounds to 1
        ({"warmup_fraction": 0.25, "total_steps": 10}, 2),  # 2.5: ties to even
        ({"warmup_fraction": 0.35, "total_steps": 10}, 4),  # 3.5 (exact decimal): to even
        (
            {"warmup_fraction": 0.3, "total_steps": 10},
            3,
        ),  # 0.3 * 10 is 3.0000000000000004 in binary
        ({"warmup_fraction": 1.0, "total_steps": 3}, 3),
        ({"warmup_fraction": 1, "total_steps": 3}, 3),
        ({"warmup_epochs": 2, "steps_per_epoch": 500}, 1000),
        ({"warmup_epochs": 0.5, "steps_per_epoch": 391}, 196),  # 195.5: ties to even
        ({"warmup_epochs": 1.5, "steps_per_epoch": 3}, 4),  # 4.5: ties to even
        ({"warmup_epochs": 3, "steps_per_epoch": 1}, 3),
    ],
)
def test_periods_in_other_units(
    cls: type[pw.LinearWarmup], kwargs: dict[str, float], period: int
) -> None:
    warmup = cls(_opt(2), **kwargs)
    assert warmup.warmup_params == [{"warmup_period": period}] * 2
    assert type(warmup.warmup_params[0]["warmup_period"]) is int
    # the state holds the int period, in the original format
    state = warmup.state_dict()
    assert state["warmup_params"] == [{"warmup_period": period}] * 2
    other = cls(_opt(2), period)
    assert other.state_dict() == state


def test_the_first_rates_follow_the_resolved_period() -> None:
    opt = _opt(lr=0.1)
    warmup = pw.LinearWarmup(opt, warmup_fraction=0.04, total_steps=100)  # period 4
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(4):
        opt.step()
        with warmup.dampening():
            pass
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [0.1 * 1 / 4, 0.1 * 2 / 4, 0.1 * 3 / 4, 0.1, 0.1]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, TypeError, r"exactly one of warmup_period .*got None"),
        (
            {"warmup_period": 5, "warmup_fraction": 0.1, "total_steps": 10},
            TypeError,
            r"got warmup_period and warmup_fraction",
        ),
        ({"warmup_fraction": 0.1}, TypeError, r"warmup_fraction needs total_steps"),
        ({"warmup_epochs": 2}, TypeError, r"warmup_epochs needs steps_per_epoch"),
        ({"warmup_fraction": 0.0, "total_steps": 10}, ValueError, r"in \(0, 1\], got 0.0"),
        ({"warmup_fraction": 1.5, "total_steps": 10}, ValueError, r"in \(0, 1\], got 1.5"),
        ({"warmup_fraction": -0.1, "total_steps": 10}, ValueError, r"in \(0, 1\], got -0.1"),
        ({"warmup_fraction": "5%", "total_steps": 10}, TypeError, r"warmup_fraction must be a"),
        ({"warmup_fraction": 0.001, "total_steps": 100}, ValueError, r"rounds to a period of 0"),
        ({"warmup_fraction": 0.1, "total_steps": 0}, ValueError, r"total_steps must be a pos"),
        ({"warmup_fraction": 0.1, "total_steps": 10.0}, TypeError, r"total_steps must be an int"),
        ({"warmup_epochs": 0.001, "steps_per_epoch": 100}, ValueError, r"rounds to a period of 0"),
        ({"warmup_epochs": 0, "steps_per_epoch": 100}, ValueError, r"must be positive, got 0"),
        ({"warmup_epochs": 1, "steps_per_epoch": 0}, ValueError, r"steps_per_epoch must be a pos"),
        (
            {"warmup_epochs": 1, "steps_per_epoch": 10, "total_steps": 10},
            TypeError,
            r"total_steps goes with warmup_fraction",
        ),
        ({"warmup_period": 5, "total_steps": 10}, TypeError, r"total_steps only goes with"),
    ],
)
def test_bad_units_are_refused_and_change_nothing(
    cls: type[pw.LinearWarmup], kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    opt = _opt(lr=0.1)
    with pytest.raises(error, match=match):
        cls(opt, **kwargs)  # type: ignore[arg-type]
    assert opt.param_groups[0]["lr"] == 0.1
    cls(opt, 3)  # the failed construction left no warmup behind
