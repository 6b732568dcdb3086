"""Tests of pytorch_warmup.preview: the trajectories it records and the schedule checks."""

from __future__ import annotations

import csv
import importlib.util
import math
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    StepLR,
)

import pytorch_warmup as pw
from pytorch_warmup import _math
from pytorch_warmup import preview as preview_module
from pytorch_warmup.preview import (
    CHECKS,
    STILL_RISING,
    SchedulePreview,
    ScheduleWarning,
    check_schedule,
    preview,
)

ROOT = Path(__file__).resolve().parents[1]
CUDA = torch.cuda.is_available()
MODES = ["dampening", "warmup_lr", "attached"]


def _examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "preview_examples", ROOT / "examples" / "schedules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLES = _examples()


def _codes(result: SchedulePreview | list[ScheduleWarning]) -> list[str]:
    found = result.warnings if isinstance(result, SchedulePreview) else result
    return [w.code for w in found]


# --- the trajectory, against runs without warmup times omega -----------------------------

Schedulers = Callable[[torch.optim.Optimizer], list[Any]]


def _optimizer(model: torch.nn.Module, lrs: list[Any]) -> torch.optim.Optimizer:
    params = list(model.parameters())
    if len(lrs) == 1:
        return torch.optim.AdamW(params, lr=lrs[0])
    return torch.optim.AdamW([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)])


def _copy(lr: Any) -> Any:
    return lr.clone() if isinstance(lr, torch.Tensor) else lr


def _plain_run(
    lrs: list[Any], schedulers: Schedulers, n: int, per_epoch: int | None
) -> list[list[float]]:
    """The rates of each update without any warmup, read before each optimizer.step()."""
    opt = _optimizer(torch.nn.Linear(4, 2), [_copy(lr) for lr in lrs])
    made = schedulers(opt)
    out: list[list[float]] = []
    for t in range(1, n + 1):
        out.append([float(g["lr"]) for g in opt.param_groups])
        opt.step()
        if per_epoch is None or t % per_epoch == 0:
            for s in made:
                s.step()
    return [list(col) for col in zip(*out, strict=True)]


def _build(
    mode: str, lrs: list[Any], periods: list[int], schedulers: Schedulers, per_epoch: bool
) -> Callable[[torch.nn.Module], Any]:
    def build(model: torch.nn.Module) -> Any:
        opt = _optimizer(model, [_copy(lr) for lr in lrs])
        made = schedulers(opt)
        warmup = pw.LinearWarmup(opt, warmup_period=periods)
        if mode == "attached":
            warmup.attach()

            def step() -> None:
                for s in made:
                    s.step()

            return {"optimizer": opt, ("epoch_step" if per_epoch else "step"): step}
        if mode == "warmup_lr":
            return {"optimizer": opt, "step": pw.WarmupLR(made, warmup).step}

        def dampened() -> None:
            with warmup.dampening():
                for s in made:
                    s.step()

        return {"optimizer": opt, "step": dampened}

    return build


CASES: dict[str, tuple[list[Any], list[int], Schedulers]] = {
    "cosine, one group": ([1e-3], [7], lambda o: [CosineAnnealingLR(o, T_max=40)]),
    "step, two groups": ([1e-3, 3e-2], [3, 11], lambda o: [StepLR(o, step_size=5, gamma=0.5)]),
    "chained, two groups": (
        [0.1, 0.2],
        [4, 4],
        lambda o: [StepLR(o, step_size=3, gamma=0.5), CosineAnnealingLR(o, T_max=40)],
    ),
    "tensor lr": (
        [torch.tensor(1e-3, dtype=torch.float64)],
        [9],
        lambda o: [CosineAnnealingLR(o, T_max=40)],
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_trajectory_is_plain_run_times_omega(mode: str, case: str) -> None:
    lrs, periods, schedulers = CASES[case]
    n = 40
    result = preview(_build(mode, lrs, periods, schedulers, per_epoch=False), n)
    plain = _plain_run(lrs, schedulers, n, None)
    assert len(result.lrs) == len(lrs) and result.num_updates == n
    for g, tau in enumerate(periods):
        omega = [_math.linear_factor(t - 1, tau) for t in range(1, n + 1)]
        # The warmup multiplies the schedulers' own rate once, in double precision.
        assert result.lrs[g] == [a * w for a, w in zip(plain[g], omega, strict=True)]
        assert result.factors is not None and result.factors[g] == omega
    assert result.warmup == "LinearWarmup"
    assert result.warmup_periods == [float(p) for p in periods]
    assert result.warnings == []


def test_attached_warmup_with_a_scheduler_stepped_per_epoch() -> None:
    lrs, periods = [0.1, 0.2], [15, 6]
    schedulers: Schedulers = lambda o: [StepLR(o, step_size=1, gamma=0.5)]  # noqa: E731
    n, k = 40, 10
    result = preview(
        _build("attached", lrs, periods, schedulers, per_epoch=True), n, updates_per_epoch=k
    )
    plain = _plain_run(lrs, schedulers, n, k)
    assert plain[0][:12] == [0.1] * 10 + [0.05] * 2
    for g, tau in enumerate(periods):
        omega = [_math.linear_factor(t - 1, tau) for t in range(1, n + 1)]
        assert result.lrs[g] == [a * w for a, w in zip(plain[g], omega, strict=True)]
    assert result.warnings == []


def test_no_warmup_is_the_plain_run() -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        return {"optimizer": opt, "step": StepLR(opt, step_size=2, gamma=0.1).step}

    result = preview(build, 6)
    assert [round(v, 12) for v in result.lrs[0]] == [0.5, 0.5, 0.05, 0.05, 0.005, 0.005]
    assert result.factors is None and result.warmup is None and result.warmup_periods is None


@pytest.mark.parametrize("name", ["quickstart", "quickstart_warmup_lr", "quickstart_attached"])
def test_readme_quickstart_three_ways(name: str) -> None:
    result = preview(getattr(EXAMPLES, name), 5000)
    reference = preview(EXAMPLES.quickstart, 5000)
    assert result.lrs == reference.lrs
    assert result.warnings == []
    assert result.warmup == "UntunedLinearWarmup" and result.warmup_periods == [2000.0]
    lr = result.lrs[0]
    assert lr[0] == 1e-3 * (1 / 2000)  # cos(0) = 1 at the first update
    assert lr[1999] == pytest.approx(1e-3 * (1 + math.cos(math.pi * 1999 / 5000)) / 2, rel=1e-12)


def test_lightning_interval_step_is_per_update() -> None:
    per_step = preview(EXAMPLES.lightning_per_step, 3000, updates_per_epoch=300)
    assert per_step.warnings == []
    assert per_step.factors is not None and per_step.factors[0][199] == 1.0  # tau = 200


def test_many_updates_per_second() -> None:
    start = time.perf_counter()
    result = preview(EXAMPLES.quickstart, 20_000)
    elapsed = time.perf_counter() - start
    assert result.num_updates == 20_000
    assert elapsed < 20.0, f"{20_000 / elapsed:.0f} updates/s"


# --- each check: one schedule that fires it, one that does not -----------------------------


def test_zero_first_update() -> None:
    result = preview(EXAMPLES.zero_start, 2000)
    assert _codes(result) == ["zero-first-update"]
    assert result.warnings[0].update == 1
    assert result.warnings[0].message.startswith(
        "update 1: the first update uses learning rate 0.0"
    )
    assert check_schedule([1e-9, 0.5, 1.0, 1.0]) == []


def test_jump_at_warmup_end() -> None:
    result = preview(EXAMPLES.jump_at_warmup_end, 3000)
    assert _codes(result) == ["jump-at-warmup-end"]
    w = result.warnings[0]
    # LinearLR at step 299 of 1000 from 0.01 to 1: 0.01 + 0.99 * 299/1000 = 0.30601.
    assert w.update == 301
    assert "jumps by 226.8%" in w.message and "0.00030601 -> 0.001" in w.message
    # A short linear warmup rises by 11 % in its last update, less than just before: no jump.
    assert check_schedule([min(1.0, t / 10) for t in range(1, 40)]) == []
    # A jump after a smooth rise of 1 % per update fires; the same rise without a jump does not.
    rise = [1.01**t for t in range(20)]
    assert _codes(check_schedule([*rise, rise[-1] * 1.2, rise[-1] * 1.2])) == ["jump-at-warmup-end"]
    assert check_schedule([*rise, rise[-1], rise[-1]]) == []


def test_warmup_longer_than_training() -> None:
    result = preview(EXAMPLES.warmup_too_long, 1000)
    assert _codes(result) == ["warmup-longer-than-training"]
    w = result.warnings[0]
    assert w.update == 1000
    assert "warmup period of 2000 updates, longer than the 1000 updates" in w.message
    assert "omega = 0.5" in w.message  # 1000 / 2000 at the last update
    assert _codes(preview(EXAMPLES.quickstart, 2001)) == []  # period 2000


def test_still_rising() -> None:
    result = preview(EXAMPLES.still_rising, 3000)
    assert _codes(result) == ["still-rising"]
    assert result.warnings[0].update == 3000
    assert _codes(preview(EXAMPLES.still_rising, 8000)) == []  # past the peak at 6000
    assert check_schedule([0.1, 0.5, 1.0, 1.0]) == []


@pytest.mark.parametrize("name", ["lightning_per_epoch", "warmup_per_epoch"])
def test_flat_epochs(name: str) -> None:
    result = preview(getattr(EXAMPLES, name), 3000, updates_per_epoch=300)
    assert _codes(result) == ["flat-epochs"]
    w = result.warnings[0]
    assert w.update == 1 and w.message.startswith("updates 1-300: the warmup factor stays at")
    if name == "lightning_per_epoch":
        assert "0.005" in w.message and "'interval': 'step'" in w.message  # omega_1 = 1/200
    else:
        assert "0.2" in w.message and "after every optimizer.step()" in w.message  # 1/5


def test_flat_epochs_does_not_fire() -> None:
    assert _codes(preview(EXAMPLES.quickstart, 5000, updates_per_epoch=500)) == []
    # A hand-made warmup flat for one epoch fires; one flat for less than an epoch does not.
    stairs = [min(1.0, (t // 4 + 1) / 3) for t in range(20)]
    assert _codes(check_schedule(stairs, updates_per_epoch=4)) == ["flat-epochs"]
    assert "flat-epochs" not in _codes(check_schedule(stairs, updates_per_epoch=5))
    assert "flat-epochs" not in _codes(check_schedule(stairs))  # no epoch length given


@pytest.mark.parametrize(
    ("name", "update", "text"),
    [
        ("cosine_too_short", 2001, "turns back up (down to 0 at update 2001"),
        ("linear_decay_too_short", 2001, "updates 2001-3000 (1000 of 3000) use learning rate 0.0"),
    ],
)
def test_decay_ended(name: str, update: int, text: str) -> None:
    result = preview(getattr(EXAMPLES, name), 3000)
    assert _codes(result) == ["decay-ended"]
    assert result.warnings[0].update == update and text in result.warnings[0].message
    assert _codes(preview(getattr(EXAMPLES, name), 2000)) == []  # the decay spans the run


def test_warm_restarts_are_not_a_decay_that_ended() -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
        restarts = CosineAnnealingWarmRestarts(opt, T_0=500)
        return {"optimizer": opt, "step": pw.WarmupLR(restarts, pw.UntunedLinearWarmup(opt)).step}

    assert _codes(preview(build, 3000)) == []


def test_scheduler_after_warmup() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the library's warning becomes a finding, not a warning
        result = preview(EXAMPLES.scheduler_after_warmup, 3000)
    assert _codes(result) == ["scheduler-after-warmup"]
    assert "created after UntunedLinearWarmup" in result.warnings[0].message
    # The LambdaLR took 1e-3 * omega_1 = 1e-3 / 200 as its base: the factor stays forever.
    cosine = 0.5 * (1.0 + math.cos(math.pi * 999 / 3000))
    assert result.lrs[0][999] == pytest.approx(1e-3 / 200 * cosine, rel=1e-12)
    assert _codes(preview(EXAMPLES.cosine_too_short, 2000)) == []  # built in order


def test_other_warmup_warnings_become_findings_once() -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        halve = StepLR(opt, step_size=1, gamma=0.5)
        warmup = pw.LinearWarmup(opt, warmup_period=5)

        def step() -> None:  # the scheduler stepped outside the block: its change is lost
            halve.step()
            with warmup.dampening():
                pass

        return {"optimizer": opt, "step": step}

    for _ in range(2):  # the second run reports it too
        result = preview(build, 6)
        assert result.lrs == [[0.2, 0.4, 0.6, 0.8, 1.0, 0.5]]
        assert _codes(result) == ["warmup-warning"]
        assert result.warnings[0].update == 1
        assert "changed outside LinearWarmup.dampening()" in result.warnings[0].message


def test_other_warnings_pass_through() -> None:
    def build(model: torch.nn.Module) -> Any:
        warnings.warn("from the user's code", UserWarning, stacklevel=1)
        return torch.optim.SGD(model.parameters(), lr=0.1)

    with pytest.warns(UserWarning, match="from the user's code"):
        result = preview(build, 3)
    assert result.lrs == [[0.1, 0.1, 0.1]] and result.warnings == []


def test_several_findings_in_update_order() -> None:
    lrs = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 0.5, 0.0, 0.0]
    found = check_schedule(lrs)
    assert _codes(found) == ["zero-first-update", "decay-ended"]
    assert [w.update for w in found] == [1, 8]
    assert str(found[1]) == found[1].message
    assert set(_codes(found)) <= set(CHECKS)


def test_param_groups_are_named_when_there_are_several() -> None:
    found = check_schedule([[0.5, 1.0, 1.0], [0.0, 1.0, 1.0]])
    assert [w.message.split(";")[0] for w in found] == [
        "update 1: the first update of param group 1 uses learning rate 0.0"
    ]


def _group(lr: list[float], **fields: Any) -> Any:
    """One group's trajectory as the check functions take it."""
    return preview_module._Group(lr=lr, **fields)


def _planned(
    lr: list[float], plans: list[dict[str, Any]], rewarms: tuple[int, ...] = (), **fields: Any
) -> Any:
    """A group with cooldowns (``after_update``, ``over_updates``, ...) and rewarms."""
    cooldown = preview_module.cooldown_factors(len(lr), plans, rewarms)
    return _group(lr, cooldown=cooldown, plans=tuple(plans), rewarms=rewarms, **fields)


def _cooldown(after: int, over: int, final: float = 0.0) -> dict[str, Any]:
    return {"after_update": after, "over_updates": over, "shape": "linear", "final": final}


_WARM = [0.25, 0.5, 0.75] + [1.0] * 5
_RISE = [1.01**t for t in range(20)]
_STAIRS = [min(1.0, (t // 4 + 1) / 3) for t in range(20)]
_SETTLED = [1.0 - math.exp(-(t + 1) / 100) for t in range(1000)]  # ten periods
CHECK_CASES: dict[str, tuple[Callable[[Any], Any], Any, Any]] = {
    "zero-first-update": (
        preview_module._zero_first_update,
        _group([0.0, 0.5, 1.0]),
        _group([0.5, 1.0, 1.0]),
    ),
    "warmup-never-advances": (
        preview_module._never_advances,
        _group([0.1] * 5, omega=[0.1] * 5),
        _group([0.1, 0.2, 0.3, 0.4, 0.5], omega=[0.1, 0.2, 0.3, 0.4, 0.5]),
    ),
    "flat-epochs": (
        preview_module._flat_epochs,
        _group(_STAIRS, omega=_STAIRS, updates_per_epoch=4),
        _group(_STAIRS, omega=_STAIRS, updates_per_epoch=5),
    ),
    "jump-at-warmup-end": (
        preview_module._jump_at_warmup_end,
        _group([*_RISE, _RISE[-1] * 1.2, _RISE[-1] * 1.2]),
        _group([*_RISE, _RISE[-1], _RISE[-1]]),
    ),
    "warmup-longer-than-training": (
        preview_module._warmup_longer_than_training,
        _group([0.1, 0.2], period=3.0),
        _group([0.1, 0.2], period=2.0),
    ),
    "decay-ended": (
        preview_module._decay_ended,
        _group([1.0, 0.5, 0.0, 0.0]),
        _group([1.0, 0.5, 0.25, 0.125]),
    ),
    "still-rising": (
        preview_module._still_rising,
        _group([0.1, 0.2, 0.3, 0.4]),
        _group(_SETTLED),
    ),
    "cooldown-during-warmup": (  # omega_2 = 0.5: the warmup is not over after update 2
        preview_module._cooldown_during_warmup,
        _planned([0.25, 0.5, 0.5, 0.25, 0.0, 0, 0, 0], [_cooldown(2, 3)], omega=_WARM),
        _planned([0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0], [_cooldown(4, 4)], omega=_WARM),
    ),
    "cooldown-unfinished": (  # updates 7-10 in a run of 8: the rate is still at 0.5
        preview_module._cooldown_unfinished,
        _planned([0.25, 0.5, 0.75, 1, 1, 1, 0.75, 0.5], [_cooldown(6, 4)], omega=_WARM),
        _planned([0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0], [_cooldown(4, 4)], omega=_WARM),
    ),
    "cooldown-ended-early": (  # 0 from update 6 to 8
        preview_module._cooldown_ended_early,
        _planned([0.25, 0.5, 0.75, 1.0, 0.5, 0, 0, 0], [_cooldown(4, 2)], omega=_WARM),
        _planned([0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0], [_cooldown(4, 4)], omega=_WARM),
    ),
    "rewarm-above-stable": (  # rewarmed after update 5, to twice the rate
        preview_module._rewarm_above_stable,
        _planned([0.5, 1.0, 1.0, 0.5, 0.0, 1.0, 2.0, 2.0], [_cooldown(3, 2)], (5,)),
        _planned([0.5, 1.0, 1.0, 0.5, 0.0, 0.5, 1.0, 1.0], [_cooldown(3, 2)], (5,)),
    ),
}


@pytest.mark.parametrize("code", list(CHECK_CASES))
def test_each_check_function_fires_and_stays_quiet(code: str) -> None:
    check, fires, quiet = CHECK_CASES[code]
    assert check.__doc__ is not None and check.__doc__.startswith(f"``{code}``")
    found = check(fires)
    assert found is not None and found.code == code and found.message.startswith("update")
    assert check(quiet) is None


def test_check_schedule_composes_every_check() -> None:
    # The codes of the check functions and of the warmups' own warnings are CHECKS.
    assert set(CHECK_CASES) | {"scheduler-after-warmup", "warmup-warning"} == set(CHECKS)
    # A finding that explains another leaves it out: a warmup that never advances is
    # neither flat for epochs nor jumping, and a warmup longer than the run is not
    # reported as still rising too.
    stuck = [0.1] * 8
    found = check_schedule(stuck, factors=[stuck], updates_per_epoch=2)
    assert _codes(found) == ["warmup-never-advances"]
    rising = [t / 10 for t in range(1, 9)]
    found = check_schedule(rising, factors=[rising], warmup_periods=[10.0])
    assert _codes(found) == ["warmup-longer-than-training"]


# --- what the preview used to get wrong ------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    "device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="CUDA"))]
)
def test_an_in_graph_warmup_is_previewed_as_applied(dtype: torch.dtype, device: str) -> None:
    lrs, periods = [torch.tensor(1e-3, dtype=dtype, device=device)], [7]
    schedulers: Schedulers = lambda o: [StepLR(o, step_size=10, gamma=0.5)]  # noqa: E731

    def build(model: torch.nn.Module) -> Any:
        opt = _optimizer(model.to(device), [_copy(lr) for lr in lrs])
        made = schedulers(opt)
        pw.LinearWarmup(opt, warmup_period=periods).attach(in_graph=True)

        def epoch_step() -> None:
            for s in made:
                s.step()

        return {"optimizer": opt, "epoch_step": epoch_step}

    n, k = 40, 10
    result = preview(build, n, updates_per_epoch=k)
    omega = [_math.linear_factor(t - 1, 7) for t in range(1, n + 1)]
    assert result.factors == [omega]  # not omega_1 forty times
    plain = _plain_run(lrs, schedulers, n, k)
    expected = [a * w for a, w in zip(plain[0], omega, strict=True)]
    assert result.lrs[0] == pytest.approx(expected, rel=1e-6)
    assert result.warnings == []  # no flat-epochs from a factor that seemed stuck


@pytest.mark.parametrize("cls", [pw.UntunedExponentialWarmup, pw.RAdamWarmup])
def test_own_warmups_at_ten_periods_are_not_still_rising(cls: type[pw.BaseWarmup]) -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
        cls(opt).attach()  # a constant rate under the warmup
        return opt

    result = preview(build, 10_000)  # ten periods of 1/(1 - 0.999)
    assert result.factors is not None and result.factors[0][-1] < 1.0  # it still creeps up
    assert result.warnings == []
    short = preview(build, 3000)  # three periods: the rate is still a few % below its own
    assert _codes(short) == ["still-rising"]
    assert "over the last 300 updates" in short.warnings[0].message


def test_still_rising_threshold() -> None:
    flat = [1.0] * 90
    below = [*flat, *(1.0 + STILL_RISING * 0.9 * t / 10 for t in range(1, 11))]
    above = [*flat, *(1.0 + STILL_RISING * 1.1 * t / 10 for t in range(1, 11))]
    assert check_schedule(below) == []
    assert _codes(check_schedule(above)) == ["still-rising"]


def test_a_group_frozen_at_zero_is_not_a_zero_first_update() -> None:
    def build(model: torch.nn.Module) -> Any:
        weight, bias = model.parameters()
        opt = torch.optim.AdamW([{"params": [weight], "lr": 1e-3}, {"params": [bias], "lr": 0.0}])
        cosine = CosineAnnealingLR(opt, T_max=100)
        return {"optimizer": opt, "step": pw.WarmupLR(cosine, pw.LinearWarmup(opt, 10)).step}

    result = preview(build, 100, updates_per_epoch=10)
    assert result.lrs[1] == [0.0] * 100
    assert result.warnings == []
    # Every group at 0 for the whole run trains nothing: that is still reported.
    (finding,) = check_schedule([[0.0] * 5, [0.0] * 5])
    assert finding.code == "zero-first-update" and "every update uses learning rate 0.0" in str(
        finding
    )


def _draws(device: str) -> torch.Tensor:
    return torch.cat([torch.rand(3), torch.rand(3, device=device).cpu()])


@pytest.mark.parametrize(
    "device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="CUDA"))]
)
def test_the_global_random_state_is_left_as_found(device: str) -> None:
    def build(model: torch.nn.Module) -> Any:
        torch.randn(5, device=device)  # the user's code may draw too
        return EXAMPLES.quickstart(model)

    torch.manual_seed(1234)
    expected = _draws(device)
    torch.manual_seed(1234)
    preview(build, 10)  # the default model draws its initial weights
    assert torch.equal(_draws(device), expected)


def test_the_live_warmup_is_found_without_naming_it() -> None:
    earlier: list[pw.BaseWarmup] = []  # as a notebook keeps a warmup of a cell run before

    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1.0)
        earlier.append(pw.LinearWarmup(opt, warmup_period=3))
        earlier[-1].detach()  # given up for the one built next
        pw.LinearWarmup(opt, warmup_period=5).attach()
        return opt

    result = preview(build, 6)
    assert result.factors == [[0.2, 0.4, 0.6, 0.8, 1.0, 1.0]] and result.warmup_periods == [5.0]

    def names_another(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1.0)
        old = pw.LinearWarmup(opt, warmup_period=3)
        old.detach()
        pw.LinearWarmup(opt, warmup_period=5).attach()
        return {"optimizer": opt, "warmup": old}

    with pytest.raises(ValueError, match="not the warmup that drives the optimizer"):
        preview(names_another, 3)


def test_a_warmup_that_never_advances() -> None:
    result = preview(EXAMPLES.dampening_without_with, 3000)
    assert _codes(result) == ["warmup-never-advances"]
    w = result.warnings[0]
    assert w.update == 1 and w.message.startswith(
        "updates 1-3000: the warmup factor stays at its first value 0.005 for all 3000 updates"
    )
    assert "a bare warmup.dampening() call does nothing" in w.message
    assert _codes(preview(EXAMPLES.quickstart, 3000)) == []


# --- what build may be, and what it returns --------------------------------------------------


def test_a_build_without_argument_makes_its_own_parameters() -> None:
    def build() -> Any:
        opt = torch.optim.AdamW([torch.zeros(3, requires_grad=True)], lr=0.1)
        return {"optimizer": opt, "step": pw.WarmupLR([], pw.LinearWarmup(opt, 4)).step}

    result = preview(build, 5)
    assert result.lrs == [[0.1 * 0.25, 0.1 * 0.5, 0.1 * 0.75, 0.1, 0.1]]
    assert result.name == f"{__name__}:{build.__qualname__}"
    with pytest.raises(TypeError, match="model is given, but build takes no argument"):
        preview(build, 5, model=torch.nn.Linear(2, 2))

    def two(model: torch.nn.Module, other: int) -> Any:
        return _sgd(model)

    with pytest.raises(TypeError, match=r"build must take the model as its only argument, or no"):
        preview(two, 5)


def test_what_build_returned_is_summarised_never_cut() -> None:
    def returns_a_tuple(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters())
        return opt, CosineAnnealingLR(opt, T_max=10)

    with pytest.raises(TypeError) as info:
        preview(returns_a_tuple, 5)
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith("got a tuple of 2 items (AdamW, CosineAnnealingLR)")


def test_effective_periods_are_said_to_be() -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), betas=(0.9, 0.99))
        pw.RAdamWarmup(opt).attach()
        return opt

    result = preview(build, 50)
    assert result.period_is_effective
    assert result.warmup_periods == [pytest.approx(pw.effective_warmup_period("radam", 0.99))]
    linear = preview(EXAMPLES.quickstart, 10)
    assert not linear.period_is_effective and linear.warmup_periods == [2000.0]


# --- the protocol's errors ------------------------------------------------------------------


def _sgd(model: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"build": 3}, TypeError, "build must be a callable"),
        ({"num_updates": 0}, ValueError, "num_updates must be a positive int, got 0"),
        ({"num_updates": True}, TypeError, "num_updates must be an int, got True"),
        ({"num_updates": 2.0}, TypeError, "num_updates must be an int, got 2.0"),
        ({"updates_per_epoch": 0}, ValueError, "updates_per_epoch must be a positive int"),
        ({"model": "model"}, TypeError, "model must be a torch.nn.Module"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"build": _sgd, "num_updates": 3, **kwargs}
    with pytest.raises(error, match=match):
        preview(args.pop("build"), args.pop("num_updates"), **args)


@pytest.mark.parametrize(
    ("returns", "error", "match"),
    [
        (lambda opt: 5, TypeError, "build must return a torch.optim.Optimizer or a dict"),
        (lambda opt: {"step": print}, TypeError, "needs 'optimizer'"),
        (lambda opt: {"optimizer": opt, "steps": print}, ValueError, r"unknown keys \['steps'\]"),
        (
            lambda opt: {"optimizer": opt, "step": 3},
            TypeError,
            r"build\(\)\['step'\] must be a callable",
        ),
        (
            lambda opt: {"optimizer": opt, "epoch_step": print},
            ValueError,
            "updates_per_epoch is needed: 'epoch_step'",
        ),
        (
            lambda opt: {"optimizer": opt, "lr_scheduler": StepLR(opt, 2)},
            ValueError,
            "Lightning's default interval",
        ),
        (
            lambda opt: {
                "optimizer": opt,
                "lr_scheduler": {"scheduler": StepLR(opt, 2), "interval": "batch"},
            },
            ValueError,
            "must be 'step' or 'epoch', got 'batch'",
        ),
        (
            lambda opt: {
                "optimizer": opt,
                "lr_scheduler": {"scheduler": StepLR(opt, 2), "monitor": "loss"},
            },
            ValueError,
            "ReduceLROnPlateau",
        ),
        (
            lambda opt: {"optimizer": opt, "lr_scheduler": {"interval": "step"}},
            ValueError,
            "must have a 'scheduler' key",
        ),
        (lambda opt: {"optimizer": opt, "lr_scheduler": 7}, TypeError, "must be an LR scheduler"),
        (
            lambda opt: {"optimizer": opt, "warmup": 7},
            TypeError,
            "must be a warmup of this package",
        ),
        (
            lambda opt: {"optimizer": opt, "step": opt.step},
            ValueError,
            "must not call optimizer.step",
        ),
    ],
)
def test_bad_build_results(
    returns: Callable[[Any], Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        preview(lambda model: returns(_sgd(model)), 3)


def test_the_warmup_in_use_can_be_named() -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1.0)
        old = pw.LinearWarmup(opt, warmup_period=3)
        if hasattr(old, "detach"):
            old.detach()
        new = pw.LinearWarmup(opt, warmup_period=5)
        return {"optimizer": opt, "step": lambda: new.dampen(), "warmup": new}

    result = preview(build, 6)
    assert result.factors == [[0.2, 0.4, 0.6, 0.8, 1.0, 1.0]]
    assert result.warmup_periods == [5.0]


def test_check_schedule_bad_input() -> None:
    with pytest.raises(TypeError, match="lrs must be a list of floats"):
        check_schedule("0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lrs is empty"):
        check_schedule([])
    with pytest.raises(ValueError, match="same positive length"):
        check_schedule([[0.1, 0.2], [0.1]])
    with pytest.raises(TypeError, match=r"lrs\[1\] must be a float"):
        check_schedule([0.1, "x"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="factors must have the same layout"):
        check_schedule([0.1, 0.2], factors=[[1.0]])


# --- output --------------------------------------------------------------------------------


def test_write_csv_round_trips(tmp_path: Path) -> None:
    result = preview(EXAMPLES.lightning_per_epoch, 900, updates_per_epoch=300)
    path = tmp_path / "lrs.csv"
    result.write_csv(path)
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["update", "epoch", "lr[0]", "omega[0]"]
    assert len(rows) == 901
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 901))
    assert [int(r[1]) for r in rows[1:]] == [t // 300 + 1 for t in range(900)]
    assert [float(r[2]) for r in rows[1:]] == result.lrs[0]
    assert result.factors is not None and [float(r[3]) for r in rows[1:]] == result.factors[0]


def test_matplotlib_is_imported_only_to_draw() -> None:
    code = (
        "import sys, pytorch_warmup, pytorch_warmup.preview\n"
        "assert not any(m.startswith('pytorch_warmup.cli') for m in sys.modules), 'cli'\n"
        "import pytorch_warmup.cli\n"
        "assert 'matplotlib' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


# --- beyond the warmup: cooldowns and rewarms ------------------------------------------------


def _wsd_build(mode: str) -> Callable[[torch.nn.Module], Any]:
    """A cosine under a 4-update warmup, cooled down, rewarmed and cooled down again (40)."""

    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=0.1)
        cosine = CosineAnnealingLR(opt, T_max=80)
        warmup = pw.LinearWarmup(opt, warmup_period=4)
        if mode == "attached":
            warmup.attach()
        warmup.cool_down(8, after_update=20, shape="cosine")
        done = 0
        wrapped = pw.WarmupLR(cosine, warmup) if mode == "warmup_lr" else None

        def step() -> None:
            nonlocal done
            done += 1
            if wrapped is not None:
                wrapped.step()
            elif mode == "attached":
                cosine.step()
            else:
                with warmup.dampening():
                    cosine.step()
            if done == 30:
                warmup.rewarm()
            if done == 34:
                warmup.cool_down(6, shape="1-sqrt")  # updates 35 to 40

        return {"optimizer": opt, "step": step}

    return build


@pytest.mark.parametrize("mode", MODES)
def test_cooldowns_and_rewarms_are_previewed_as_applied(mode: str) -> None:
    n = 40
    result = preview(_wsd_build(mode), n)
    cosine = [0.05 * (1 + math.cos(math.pi * (t - 1) / 80)) for t in range(1, n + 1)]
    omega = [_math.linear_factor(t - 1 - (30 if t > 30 else 0), 4) for t in range(1, n + 1)]
    first = [_math.cooldown_factor(t - 1, 20, 8, "cosine", 0.0) for t in range(1, 31)]
    second = [_math.cooldown_factor(t - 1, 34, 6, "1-sqrt", 0.0) for t in range(31, n + 1)]
    cooldown = first + second
    assert result.factors == [omega]  # the warmup's factor alone, rewarm included
    assert result.cooldown_factors == cooldown
    assert result.lrs[0] == pytest.approx(
        [a * w * c for a, w, c in zip(cosine, omega, cooldown, strict=True)], rel=1e-12, abs=0
    )
    assert result.cooldowns == [
        {"after_update": 20, "over_updates": 8, "shape": "cosine", "final": 0.0},
        {"after_update": 34, "over_updates": 6, "shape": "1-sqrt", "final": 0.0},
    ]
    assert result.rewarms == [30]
    # Updates 28 to 30 use 0 before the rewarm (two updates or more: the cooldown ended
    # early); the second cooldown reaches 0 at the last update, on time.
    assert _codes(result) == ["cooldown-ended-early"]
    assert result.warnings[0].message.startswith("updates 28-30 (3 of 40): the cooldown")


def test_wsd_is_the_lambda_lr_written_by_hand() -> None:
    # The same schedule two ways: the library's cool_down() after update 8000 over 2000,
    # and a LambdaLR whose index t - 1 is update t. Neither is reported.
    ours, theirs = preview(EXAMPLES.wsd, 10_000), preview(EXAMPLES.wsd_lambda_lr, 10_000)
    # 1e-12: near its end, 1 - sqrt(p) written plainly loses digits that the library's
    # (1 - p) / (1 + sqrt(p)) keeps.
    assert ours.lrs[0] == pytest.approx(theirs.lrs[0], rel=1e-12, abs=0)
    assert ours.lrs[0][7999] == 1e-3 and ours.lrs[0][9999] == 0.0  # 1 up to S, 0 at S + D
    assert ours.warnings == [] and theirs.warnings == []


@pytest.mark.parametrize(
    ("name", "code", "update", "text"),
    [
        ("checkpoint_and_rewarm", None, 0, ""),
        ("cooldown_unfinished", "cooldown-unfinished", 10_000,
         "the 1-sqrt cooldown over updates 9601-12000 ends after the last update (10000): the "
         "rate is still falling there, at 0.5918 of the stable rate (final 0, 40.8% of the way)"),
        ("cooldown_during_warmup", "cooldown-during-warmup", 1001,
         "(+5e-07 per update over updates 1-1000) bends at update 1001 and the rate falls after "
         "update 2000, peaking at 0.000888889, 11.1% below where the ramp was heading"),
        ("cooldown_during_exponential_warmup", "cooldown-during-warmup", 501,
         "the cooldown starts after update 500, where the warmup factor is 0.6321: it starts "
         "before the warmup ends, and the rate peaks at 0.00085048, below the stable rate 0.001"),
        ("cooldown_ended_early", "cooldown-ended-early", 8000,
         "updates 8000-10000 (2001 of 10000): the cooldown reaches 0 at update 8000"),
        ("rewarm_above_stable", "rewarm-above-stable", 4200,
         "the rewarm after update 4000 peaks at 0.002, 100.0% above the stable rate 0.001 of "
         "the updates before it (updates 1-4000)"),
    ],
)  # fmt: skip
def test_each_beyond_warmup_example(name: str, code: str | None, update: int, text: str) -> None:
    result = preview(getattr(EXAMPLES, name), 10_000)
    assert _codes(result) == ([code] if code else [])
    if code:
        assert result.warnings[0].update == update
        assert text in result.warnings[0].message, result.warnings[0].message


def test_a_cooldown_that_never_starts_is_unfinished() -> None:
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        pw.LinearWarmup(opt, warmup_period=10).attach().cool_down(50, after_update=100)
        return opt

    result = preview(build, 100)
    assert _codes(result) == ["cooldown-unfinished"]
    assert result.warnings[0].message == (
        "update 100: the linear cooldown over updates 101-150 starts after the last update "
        "(100): it never runs; end it by the last update (cool_down(last_fraction=..., "
        "total_updates=100))"
    )
    assert result.cooldowns == [
        {"after_update": 100, "over_updates": 50, "shape": "linear", "final": 0.0}
    ]
    assert result.cooldown_factors == [1.0] * 100


def test_a_cooldown_ending_one_update_late_as_a_lambda_lr_would_is_finished() -> None:
    # Ending at update N + 1, the last update uses 1 - sqrt(1 - 1/D) of the rate, as a
    # LambdaLR counting from 0 over D updates does: 99 % of the way or more is finished.
    def build(model: torch.nn.Module) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        warmup = pw.LinearWarmup(opt, warmup_period=10).attach()
        warmup.cool_down(over, after_update=101 - over, shape="1-sqrt")
        return opt

    for over, codes in [(50, []), (20, ["cooldown-unfinished"])]:
        assert _codes(preview(build, 100)) == codes, over


def test_a_lambda_lr_cooldown_under_a_warmup_of_this_package() -> None:
    # The LR schedulers' own rate (the rate divided by omega) is flat, then falls from
    # update 102 while omega = 101/200: found from the trajectory, with no cooldown planned.
    def build(model: torch.nn.Module, start: int) -> Any:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        decay = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, max(0.0, 1.0 - (s - start) / 900))
        )
        pw.LinearWarmup(opt, warmup_period=200).attach()
        return {"optimizer": opt, "step": decay.step}

    early = preview(lambda model: build(model, 100), 1000)
    assert _codes(early) == ["cooldown-during-warmup"]
    assert early.warnings[0].message.startswith(
        "update 102: the LR schedulers' cooldown starts after update 101, where the warmup "
        "factor is 0.505: it starts before the warmup ends"
    )
    assert _codes(preview(lambda model: build(model, 199), 1100)) == []


@pytest.mark.parametrize(
    "scheduler",
    [
        "chained linear and cosine",
        "sequential linear then cosine",
        "one-cycle, linear",
        "one-cycle, cosine",
        "lambda: linear warmup then cosine",
    ],
)
@pytest.mark.parametrize(("warm", "total"), [(10, 30), (100, 1000), (200, 20_000)])
def test_common_warmups_with_a_decay_are_no_cooldown_during_warmup(
    scheduler: str, warm: int, total: int
) -> None:
    # Without factors, only a linear ramp that bends and then falls is reported: the usual
    # warmup-and-decay schedules bend from the start, or not at all.
    made: dict[str, Callable[[torch.optim.Optimizer], Any]] = {
        "chained linear and cosine": lambda o: torch.optim.lr_scheduler.ChainedScheduler(
            [torch.optim.lr_scheduler.LinearLR(o, 0.01, 1.0, warm), CosineAnnealingLR(o, total)]
        ),
        "sequential linear then cosine": lambda o: torch.optim.lr_scheduler.SequentialLR(
            o,
            [torch.optim.lr_scheduler.LinearLR(o, 0.01, 1.0, warm), CosineAnnealingLR(o, total)],
            [warm],
        ),
        "one-cycle, linear": lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, 1e-3, total_steps=total + 1, anneal_strategy="linear"
        ),
        "one-cycle, cosine": lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, 1e-3, total_steps=total + 1
        ),
        "lambda: linear warmup then cosine": lambda o: torch.optim.lr_scheduler.LambdaLR(
            o,
            lambda s: (
                (s + 1) / warm
                if s < warm
                else 0.5 * (1 + math.cos(math.pi * (s - warm) / (total - warm)))
            ),
        ),
    }
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1e-3)
    schedule = made[scheduler](opt)
    lrs = []
    for _ in range(min(total, 3000)):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert "cooldown-during-warmup" not in _codes(check_schedule(lrs))


def test_a_decay_to_zero_at_the_last_update_is_on_time() -> None:
    assert _codes(check_schedule([0.5, 1.0, 0.5, 0.0])) == []
    assert _codes(check_schedule([0.5, 1.0, 0.0, 0.0])) == ["decay-ended"]


def test_check_schedule_takes_the_warmups_cooldowns_and_rewarms() -> None:
    lrs = [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.75, 0.5]
    plan = _cooldown(6, 4)
    found = check_schedule(lrs, factors=[_WARM], cooldowns=[plan])
    assert _codes(found) == ["cooldown-unfinished"]
    # Without the factors, the warmup's period says where the warmup ends.
    early = _cooldown(2, 6)
    found = check_schedule(lrs, warmup_periods=[4.0], cooldowns=[early], warmup="LinearWarmup")
    assert _codes(found) == ["cooldown-during-warmup"]
    assert "where LinearWarmup has a period of 4 updates" in found[0].message
    # The rewarms may be given, or seen as a warmup factor that falls back.
    rate = [0.5, 1.0, 1.0, 1.0, 0.5, 1.0, 2.0, 2.0]
    omega = [0.5, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0]
    assert _codes(check_schedule(rate, rewarms=[4])) == ["rewarm-above-stable"]
    assert _codes(check_schedule(rate, factors=[omega])) == ["rewarm-above-stable"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cooldowns": {"after_update": 1}}, TypeError, "cooldowns must be a list of dicts"),
        ({"cooldowns": [{"after_update": 1}]}, ValueError, r"cooldowns\[0\] must be a dict with"),
        ({"cooldowns": [{**_cooldown(1, 2), "shape": "step"}]}, ValueError, "must be one of"),
        ({"cooldowns": [_cooldown(1, 2, final=2.0)]}, ValueError, r"\['final'\] must be in"),
        ({"cooldowns": [_cooldown(1, 0)]}, ValueError, "over_updates"),
        ({"rewarms": [0]}, ValueError, r"rewarms\[0\]"),
    ],
)  # fmt: skip
def test_check_schedule_refuses_bad_cooldowns(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        check_schedule([0.1, 0.2, 0.3], **kwargs)


def test_write_csv_has_the_cooldown(tmp_path: Path) -> None:
    result = preview(_wsd_build("attached"), 40)
    path = tmp_path / "lrs.csv"
    result.write_csv(path)
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["update", "lr[0]", "omega[0]", "cooldown"]
    assert [float(r[3]) for r in rows[1:]] == result.cooldown_factors
    assert [float(r[1]) for r in rows[1:]] == result.lrs[0]
