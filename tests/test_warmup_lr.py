"""WarmupLR: the LR scheduler object that steps LR schedulers under a warmup."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
from conftest import SCHEDULERS_KEEP_LR_TENSORS
from torch.distributed.checkpoint.stateful import Stateful
from torch.optim import lr_scheduler as lrs

import pytorch_warmup as pw

LR_KINDS = ["float", "tensor64"]
BASE_LRS = (0.1, 0.03)

# How to build the wrapped LR schedulers on an optimizer: None, one, or a chain.
SCHEDULERS: dict[str, Callable[[torch.optim.Optimizer], Any]] = {
    "none": lambda opt: None,
    "one": lambda opt: lrs.CosineAnnealingLR(opt, T_max=9),
    "chained": lambda opt: [
        lrs.ExponentialLR(opt, gamma=0.9),
        lrs.MultiStepLR(opt, milestones=[3, 7], gamma=0.5),
    ],
    "lambda": lambda opt: lrs.LambdaLR(opt, lambda step: 1.0 / (1 + step)),
    "restarts": lambda opt: lrs.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=1e-3),
    "sequential": lambda opt: lrs.SequentialLR(
        opt,
        [lrs.LinearLR(opt, start_factor=0.5, total_iters=3), lrs.CosineAnnealingLR(opt, T_max=6)],
        milestones=[3],
    ),
    "chained_scheduler": lambda opt: lrs.ChainedScheduler(
        [lrs.ExponentialLR(opt, gamma=0.9), lrs.StepLR(opt, step_size=2, gamma=0.5)]
    ),
    "onecycle": lambda opt: lrs.OneCycleLR(opt, max_lr=[0.2, 0.06], total_steps=30),
}
"""Every LR scheduler the manual names, but ReduceLROnPlateau (refused: it needs a metric)."""

WARMUPS: dict[str, Callable[[torch.optim.Optimizer], pw.BaseWarmup]] = {
    "linear": lambda opt: pw.LinearWarmup(opt, warmup_period=5),
    "exponential": lambda opt: pw.ExponentialWarmup(opt, warmup_period=[3, 4]),
    "untuned_linear": pw.UntunedLinearWarmup,
    "radam": pw.RAdamWarmup,
}


def make_opt(kind: str = "float") -> torch.optim.Optimizer:
    """AdamW with two param groups, different lrs and betas, gradients set."""
    groups: list[dict[str, Any]] = []
    for lr, beta2 in zip(BASE_LRS, (0.7, 0.8), strict=True):
        p = torch.nn.Parameter(torch.zeros(3))
        p.grad = torch.full_like(p, 0.5)
        value: float | torch.Tensor = (
            lr if kind == "float" else torch.tensor(lr, dtype=torch.float64)
        )
        groups.append({"params": [p], "lr": value, "betas": (0.9, beta2)})
    return torch.optim.AdamW(groups, foreach=False)


def lrs_of(opt: torch.optim.Optimizer) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def as_list(scheduler: Any) -> list[Any]:
    if scheduler is None:
        return []
    return scheduler if isinstance(scheduler, list) else [scheduler]


def manual_run(sched_kind: str, warmup_kind: str, lr_kind: str, steps: int) -> list[list[float]]:
    """The reference: the plain ``with warmup.dampening(): s.step()`` loop."""
    opt = make_opt(lr_kind)
    schedulers = as_list(SCHEDULERS[sched_kind](opt))
    warmup = WARMUPS[warmup_kind](opt)
    trajectory = [lrs_of(opt)]
    for _ in range(steps):
        opt.step()
        with warmup.dampening():
            for s in schedulers:
                s.step()
        trajectory.append(lrs_of(opt))
    return trajectory


def build(
    sched_kind: str = "chained", warmup_kind: str = "linear", lr_kind: str = "float"
) -> tuple[torch.optim.Optimizer, pw.WarmupLR]:
    opt = make_opt(lr_kind)
    return opt, pw.WarmupLR(SCHEDULERS[sched_kind](opt), WARMUPS[warmup_kind](opt))


def snapshot(opt: torch.optim.Optimizer, sched: pw.WarmupLR) -> Any:
    """Everything a refused call must leave unchanged, serialised for comparison."""
    buffer = io.BytesIO()
    torch.save({"state": sched.state_dict(), "lrs": lrs_of(opt)}, buffer)
    return buffer.getvalue(), sched.last_epoch, sched._step_count


# -- stepping ---------------------------------------------------------------------


@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("warmup_kind", list(WARMUPS))
@pytest.mark.parametrize("sched_kind", list(SCHEDULERS))
def test_step_equals_manual_dampening_loop(sched_kind: str, warmup_kind: str, lr_kind: str) -> None:
    expected = manual_run(sched_kind, warmup_kind, lr_kind, steps=12)
    opt, sched = build(sched_kind, warmup_kind, lr_kind)
    tensors = [g["lr"] for g in opt.param_groups]
    got = [lrs_of(opt)]
    for step in range(12):
        assert [float(lr) for lr in sched.get_last_lr()] == got[-1]
        opt.step()
        sched.step()
        got.append(lrs_of(opt))
        assert sched.last_epoch == step + 1
    assert got == expected
    if lr_kind != "float" and (sched_kind != "restarts" or SCHEDULERS_KEEP_LR_TENSORS):
        # tensor lrs updated in place, never rebound (CosineAnnealingWarmRestarts.step()
        # itself assigns a new tensor before torch 2.10)
        assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors, strict=True))


def test_trajectory_values_chained_linear() -> None:
    # ExponentialLR(0.9) then MultiStepLR([3, 7], 0.5), times min(1, t/5), group lr 0.1.
    opt, sched = build("chained", "linear")
    got = [lrs_of(opt)[0]]
    for _ in range(8):
        opt.step()
        sched.step()
        got.append(lrs_of(opt)[0])
    expected = [
        0.1 * 0.9**k * 0.5 ** sum(k >= m for m in (3, 7)) * min(1.0, (k + 1) / 5) for k in range(9)
    ]
    assert got == pytest.approx(expected, rel=1e-15, abs=0)


def test_get_last_lr_is_the_dampened_rate_with_the_group_lr_kind() -> None:
    opt, sched = build("one", "linear", "float")
    assert sched.get_last_lr() == [0.1 * 0.2, 0.03 * 0.2]
    assert all(type(lr) is float for lr in sched.get_last_lr())

    opt, sched = build("one", "linear", "tensor64")
    last = sched.get_last_lr()
    assert all(isinstance(lr, torch.Tensor) and lr.dim() == 0 for lr in last)
    assert [float(lr) for lr in last] == lrs_of(opt)
    last[0].fill_(123.0)  # a copy: the optimizer is not affected
    assert lrs_of(opt)[0] == 0.1 * 0.2
    assert sched.get_lr() == sched.get_last_lr()


@pytest.mark.parametrize("sched_kind", list(SCHEDULERS))
def test_construction_advances_nothing(sched_kind: str) -> None:
    opt = make_opt()
    schedulers = as_list(SCHEDULERS[sched_kind](opt))
    warmup = pw.LinearWarmup(opt, warmup_period=5)
    before = (
        lrs_of(opt),
        warmup.state_dict(),
        [s.state_dict() for s in schedulers],
        [sorted(g) for g in opt.param_groups],
    )
    sched = pw.WarmupLR(schedulers[0] if len(schedulers) == 1 else schedulers or None, warmup)
    after = (
        lrs_of(opt),
        warmup.state_dict(),
        [s.state_dict() for s in schedulers],
        [sorted(g) for g in opt.param_groups],  # no 'initial_lr' added
    )
    assert after == before
    assert sched.last_epoch == 0
    assert sched._step_count == 1
    assert sched.optimizer is opt
    assert sched.warmup is warmup
    assert sched.schedulers == schedulers
    if sched_kind == "onecycle":  # its own initial rates: max_lr / div_factor
        assert sched.base_lrs == pytest.approx([0.2 / 25, 0.06 / 25])
    else:
        assert sched.base_lrs == list(BASE_LRS)  # the undampened initial rates
    assert isinstance(sched, lrs.LRScheduler)


def test_base_lrs_are_copies_of_tensor_rates() -> None:
    opt, sched = build("none", "linear", "tensor64")
    assert [float(lr) for lr in sched.base_lrs] == list(BASE_LRS)
    assert all(b is not g["lr"] for b, g in zip(sched.base_lrs, opt.param_groups, strict=True))


def test_last_epoch_cannot_be_set() -> None:
    _, sched = build()
    with pytest.raises(AttributeError, match=r"last_epoch follows the warmup's last_step.*7"):
        sched.last_epoch = 7
    assert sched.last_epoch == 0


def test_step_with_an_argument_is_refused_without_change() -> None:
    opt, sched = build()
    before = snapshot(opt, sched)
    with pytest.raises(TypeError, match=r"takes no argument, got 0\.5 of type float.*dampening"):
        sched.step(0.5)  # type: ignore[arg-type]
    assert snapshot(opt, sched) == before


def test_scheduler_built_after_the_warmup_is_reported() -> None:
    opt = make_opt()
    warmup = pw.LinearWarmup(opt, warmup_period=5)
    sched = pw.WarmupLR(lrs.StepLR(opt, step_size=3), warmup)
    opt.step()
    with pytest.warns(pw.WarmupWarning, match="created after LinearWarmup") as rec:
        sched.step()
    assert "StepLR multiplies the current rate" in str(rec[0].message)


def test_the_idiomatic_call_builds_the_scheduler_first() -> None:
    opt = make_opt()
    sched = pw.WarmupLR(lrs.StepLR(opt, step_size=3), pw.LinearWarmup(opt, warmup_period=5))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert lrs_of(opt) == [0.1 * 0.4, 0.03 * 0.4]


# -- state ------------------------------------------------------------------------


@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("warmup_kind", list(WARMUPS))
@pytest.mark.parametrize("sched_kind", list(SCHEDULERS))
def test_state_round_trip_through_torch_save_reproduces_trajectory(
    sched_kind: str, warmup_kind: str, lr_kind: str
) -> None:
    opt, sched = build(sched_kind, warmup_kind, lr_kind)
    for _ in range(4):
        opt.step()
        sched.step()
    buffer = io.BytesIO()
    params = [p.detach().clone() for g in opt.param_groups for p in g["params"]]
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict(), "params": params}, buffer)
    uninterrupted = []
    for _ in range(10):
        opt.step()
        sched.step()
        uninterrupted.append(lrs_of(opt))

    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)
    opt2, sched2 = build(sched_kind, warmup_kind, lr_kind)
    with torch.no_grad():
        for p, saved in zip(
            (p for g in opt2.param_groups for p in g["params"]), checkpoint["params"], strict=True
        ):
            p.copy_(saved)
    opt2.load_state_dict(checkpoint["opt"])
    sched2.load_state_dict(checkpoint["sched"])
    assert sched2.last_epoch == 4
    assert sched2._step_count == 5
    resumed = []
    for _ in range(10):
        opt2.step()
        sched2.step()
        resumed.append(lrs_of(opt2))
    assert resumed == uninterrupted
    assert [p.tolist() for g in opt2.param_groups for p in g["params"]] == [
        p.tolist() for g in opt.param_groups for p in g["params"]
    ]


def test_state_layout() -> None:
    opt, sched = build("chained", "linear")
    opt.step()
    sched.step()
    state = sched.state_dict()
    assert sorted(state) == ["scheduler_classes", "schedulers", "warmup", "warmup_class"]
    assert state["warmup_class"] == "LinearWarmup"
    assert state["scheduler_classes"] == ["ExponentialLR", "MultiStepLR"]
    assert state["warmup"] == {
        "lrs": [0.1 * 0.9, 0.03 * 0.9],
        "warmup_params": [{"warmup_period": 5}, {"warmup_period": 5}],
        "last_step": 1,
    }
    assert [s["last_epoch"] for s in state["schedulers"]] == [1, 1]
    # copies: changing the state changes nothing
    state["schedulers"][0]["last_epoch"] = 99
    state["warmup"]["lrs"][0] = 5.0
    assert sched.schedulers[0].last_epoch == 1
    assert sched.warmup.lrs[0] == 0.1 * 0.9


def test_load_does_not_modify_or_alias_the_callers_dict() -> None:
    opt, sched = build("chained", "linear")
    opt.step()
    sched.step()
    state = sched.state_dict()
    kept = torch.load(_saved(state), weights_only=True)
    _, sched2 = build("chained", "linear")
    sched2.load_state_dict(state)
    assert torch.load(_saved(state), weights_only=True).keys() == kept.keys()
    assert _saved(state).getvalue() == _saved(kept).getvalue()
    sched2.schedulers[0].base_lrs[0] = 42.0
    assert state["schedulers"][0]["base_lrs"][0] == 0.1


def _saved(obj: Any) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _refusals() -> list[Any]:
    def drop(key: str) -> Callable[[dict[str, Any]], Any]:
        return lambda s: {k: v for k, v in s.items() if k != key}

    def with_(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda s: {**s, key: value}

    return [
        pytest.param(lambda s: [s], TypeError, r"expects a dict, got \[", id="not-a-dict"),
        pytest.param(drop("warmup"), ValueError, r"missing \['warmup'\]", id="missing-key"),
        pytest.param(with_("extra", 1), ValueError, r"unknown \['extra'\]", id="unknown-key"),
        pytest.param(
            with_("warmup_class", "RAdamWarmup"),
            ValueError,
            r"class 'RAdamWarmup', but this WarmupLR wraps a LinearWarmup",
            id="other-warmup-class",
        ),
        pytest.param(
            (lambda s: {**s, "schedulers": s["schedulers"][:1]}),
            ValueError,
            r"'schedulers' has 1 entries but this WarmupLR wraps 2 scheduler",
            id="too-few-schedulers",
        ),
        pytest.param(
            (
                lambda s: {
                    **s,
                    "schedulers": [*s["schedulers"], {}],
                    "scheduler_classes": [*s["scheduler_classes"], "StepLR"],
                }
            ),
            ValueError,
            r"'schedulers' has 3 entries",
            id="too-many-schedulers",
        ),
        pytest.param(
            with_("scheduler_classes", ["ExponentialLR", "StepLR"]),
            ValueError,
            r"'scheduler_classes'\[1\] is 'StepLR', but the scheduler at position 1 is a "
            r"MultiStepLR",
            id="other-scheduler-class",
        ),
        pytest.param(
            with_("schedulers", "abc"), TypeError, r"'schedulers' must be a list", id="bad-list"
        ),
        pytest.param(
            (lambda s: {**s, "schedulers": [s["schedulers"][0], 3]}),
            TypeError,
            r"'schedulers'\[1\] must be a dict, got 3 of type int",
            id="scheduler-state-not-dict",
        ),
        pytest.param(
            with_("warmup", None), TypeError, r"'warmup' must be a dict, got None", id="warmup-none"
        ),
        pytest.param(
            (lambda s: {**s, "warmup": {**s["warmup"], "lrs": [0.1]}}),
            ValueError,
            r"the optimizer has 2 param group\(s\), state 'lrs'=\[0.1\] has 1",
            id="warmup-state-wrong-length",
        ),
        pytest.param(
            (lambda s: {**s, "warmup": {**s["warmup"], "last_step": "3"}}),
            TypeError,
            r"state 'last_step' must be an int",
            id="warmup-state-bad-step",
        ),
    ]


@pytest.mark.parametrize(("corrupt", "error", "match"), _refusals())
def test_load_refusals_change_nothing(
    corrupt: Callable[[dict[str, Any]], Any], error: type[Exception], match: str
) -> None:
    source_opt, source = build("chained", "linear")
    for _ in range(6):
        source_opt.step()
        source.step()
    bad = corrupt(source.state_dict())

    opt, sched = build("chained", "linear")
    for _ in range(2):
        opt.step()
        sched.step()
    before = snapshot(opt, sched)
    with pytest.raises(error, match=match):
        sched.load_state_dict(bad)
    assert snapshot(opt, sched) == before
    # and it keeps stepping as if nothing happened
    expected = manual_run("chained", "linear", "float", steps=5)
    for _ in range(3):
        opt.step()
        sched.step()
    assert lrs_of(opt) == expected[5]


class _FailingStepLR(lrs.StepLR):
    """A StepLR whose state cannot be loaded (as a scheduler with a stricter check)."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if state_dict.get("poison"):
            raise RuntimeError("cannot load this state")
        super().load_state_dict(state_dict)


def test_a_scheduler_failing_to_load_rolls_everything_back() -> None:
    def make() -> tuple[torch.optim.Optimizer, pw.WarmupLR]:
        opt = make_opt()
        chain = [lrs.ExponentialLR(opt, gamma=0.9), _FailingStepLR(opt, step_size=2)]
        return opt, pw.WarmupLR(chain, pw.LinearWarmup(opt, warmup_period=5))

    source_opt, source = make()
    for _ in range(5):
        source_opt.step()
        source.step()
    state = source.state_dict()
    state["schedulers"][1]["poison"] = True

    opt, sched = make()
    opt.step()
    sched.step()
    before = snapshot(opt, sched)
    with pytest.raises(RuntimeError, match="cannot load this state"):
        sched.load_state_dict(state)
    assert snapshot(opt, sched) == before
    assert sched.schedulers[0].last_epoch == 1


def test_is_stateful_for_distributed_checkpoint() -> None:
    _, sched = build()
    assert isinstance(sched, Stateful)


# -- construction refusals ----------------------------------------------------------


def _nested_warmup_lr(opt: torch.optim.Optimizer) -> tuple[Any, Any]:
    warmup = pw.LinearWarmup(opt, 5)
    return pw.WarmupLR(None, warmup), warmup


def _bad_constructions() -> list[Any]:
    def other_opt_scheduler(opt: torch.optim.Optimizer) -> tuple[Any, Any]:
        return lrs.StepLR(make_opt(), step_size=2), pw.LinearWarmup(opt, 5)

    return [
        pytest.param(
            lambda opt: (lrs.StepLR(opt, 2), opt),
            TypeError,
            r"warmup must be a pytorch_warmup warmup \(a BaseWarmup\), got AdamW",
            id="warmup-is-optimizer",
        ),
        pytest.param(
            lambda opt: (opt, pw.LinearWarmup(opt, 5)),
            TypeError,
            r"lr_scheduler must be a torch.optim.lr_scheduler.LRScheduler .*got AdamW",
            id="optimizer-as-scheduler",
        ),
        pytest.param(
            lambda opt: ("cosine", pw.LinearWarmup(opt, 5)),
            TypeError,
            r"lr_scheduler must be .*got 'cosine' of type str",
            id="string",
        ),
        pytest.param(
            lambda opt: ([lrs.StepLR(opt, 2), lambda s: 1.0], pw.LinearWarmup(opt, 5)),
            TypeError,
            r"lr_scheduler\[1\] must be .*of type function",
            id="list-with-function",
        ),
        pytest.param(
            other_opt_scheduler,
            ValueError,
            r"lr_scheduler \(StepLR\) drives another optimizer than the warmup \(LinearWarmup\)",
            id="scheduler-on-other-optimizer",
        ),
        pytest.param(
            lambda opt: (lrs.ReduceLROnPlateau(opt), pw.LinearWarmup(opt, 5)),
            TypeError,
            r"lr_scheduler is a ReduceLROnPlateau.*dampening\(\).*plateau.step\(val_loss\)",
            id="plateau",
        ),
        pytest.param(
            _nested_warmup_lr,
            TypeError,
            r"lr_scheduler is already a WarmupLR",
            id="nested",
        ),
    ]


@pytest.mark.parametrize(("make_args", "error", "match"), _bad_constructions())
def test_bad_construction_is_refused(
    make_args: Callable[[torch.optim.Optimizer], tuple[Any, Any]],
    error: type[Exception],
    match: str,
) -> None:
    opt = make_opt()
    lr_scheduler, warmup = make_args(opt)
    before = lrs_of(opt)
    with pytest.raises(error, match=match):
        pw.WarmupLR(lr_scheduler, warmup)
    assert lrs_of(opt) == before


def test_duplicate_scheduler_is_refused() -> None:
    opt = make_opt()
    step = lrs.StepLR(opt, step_size=2)
    warmup = pw.LinearWarmup(opt, warmup_period=5)
    with pytest.raises(ValueError, match=r"lr_scheduler\[1\] \(StepLR\) appears more than once"):
        pw.WarmupLR([step, step], warmup)


def test_empty_list_is_like_none() -> None:
    expected = manual_run("none", "linear", "float", steps=6)
    opt = make_opt()
    sched = pw.WarmupLR([], pw.LinearWarmup(opt, warmup_period=5))
    got = [lrs_of(opt)]
    for _ in range(6):
        opt.step()
        sched.step()
        got.append(lrs_of(opt))
    assert got == expected
    assert sched.state_dict()["schedulers"] == []


def test_repr() -> None:
    _, sched = build("chained", "linear")
    assert repr(sched) == (
        "WarmupLR([ExponentialLR, MultiStepLR], LinearWarmup(last_step=0, "
        "warmup_params=[{'warmup_period': 5}, {'warmup_period': 5}]))"
    )


# -- ReduceLROnPlateau through the plain dampening() pattern --------------------------


def test_reduce_lr_on_plateau_inside_dampening() -> None:
    """The documented pattern: every iteration has a dampening() block; the one after
    an evaluation steps ReduceLROnPlateau with the metric."""
    opt = make_opt()
    plateau = lrs.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    warmup = pw.LinearWarmup(opt, warmup_period=8)
    steps_per_epoch = 3
    val_losses = [1.0, 1.0, 0.5, 0.7]  # no improvement after epochs 1 and 3
    got = [lrs_of(opt)[0]]
    for epoch in range(4):
        for i in range(steps_per_epoch):
            opt.step()
            with warmup.dampening():
                if i == steps_per_epoch - 1:
                    plateau.step(val_losses[epoch])
            got.append(lrs_of(opt)[0])
    # halvings take effect from iteration 7 (after epoch 1) and 13 (after epoch 3)
    expected = [0.1 * 0.5 ** sum(t > e for e in (6, 12)) * min(1.0, t / 8) for t in range(1, 14)]
    assert got == pytest.approx(expected, rel=1e-15, abs=0)
    assert warmup.state_dict()["lrs"][0] == pytest.approx(0.025, rel=1e-15)
    assert math.isclose(plateau.get_last_lr()[0], 0.025 * 1.0, rel_tol=1e-15)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_reduce_lr_on_plateau_inside_dampening_every_group_and_lr_kind(lr_kind: str) -> None:
    """Right rates in both groups with float and tensor lrs. Before torch 2.10,
    ReduceLROnPlateau writes a Python float into a group whose lr it reduces (a tensor
    lr is replaced); from 2.10 on it updates the tensor in place."""
    opt = make_opt(lr_kind)
    tensors = [g["lr"] for g in opt.param_groups]
    plateau = lrs.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    warmup = pw.LinearWarmup(opt, warmup_period=8)
    val_losses = [1.0, 1.0, 0.5, 0.7]  # no improvement after epochs 1 and 3
    got = [lrs_of(opt)]
    for epoch in range(4):
        for i in range(3):
            opt.step()
            with warmup.dampening():
                if i == 2:
                    plateau.step(val_losses[epoch])
            got.append(lrs_of(opt))
    for g, base in enumerate(BASE_LRS):
        expected = [
            base * 0.5 ** sum(t > e for e in (6, 12)) * min(1.0, t / 8) for t in range(1, 14)
        ]
        assert [lrs[g] for lrs in got] == pytest.approx(expected, rel=1e-15, abs=0)
        assert float(warmup.state_dict()["lrs"][g]) == pytest.approx(base / 4, rel=1e-15)
    if lr_kind == "float":
        assert all(type(g["lr"]) is float for g in opt.param_groups)
    elif SCHEDULERS_KEEP_LR_TENSORS:
        assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors, strict=True))
    else:  # the reduced groups hold the float torch wrote, dampened by the warmup
        assert all(type(g["lr"]) is float for g in opt.param_groups)
