"""Misuse that would change the schedule for good is refused or reported, before it costs a step.

* entering ``dampening()`` of a warmup that is already inside its own block;
* a second warmup on an optimizer that already has one;
* an LR scheduler built after the warmup, at any step, while a param group can
  still gain the ``initial_lr`` that a new scheduler sets.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from conftest import lrs_of, make_optimizer
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

LR_KINDS = ["float", "tensor32"]


def _values(lrs: list[Any]) -> list[float]:
    return [float(lr) for lr in lrs]


def _expect(values: list[float], lr_kind: str) -> Any:
    """Exact for float learning rates; float32 tensors round each product to float32."""
    return values if lr_kind == "float" else pytest.approx(values, rel=2**-22)


def _lr_objects(opt: torch.optim.Optimizer) -> list[object]:
    return [g["lr"] for g in opt.param_groups]


def _same_objects(opt: torch.optim.Optimizer, objects: list[object]) -> bool:
    """Tensor learning rates are still the same objects (float ones are not checked)."""
    return all(
        g["lr"] is obj
        for g, obj in zip(opt.param_groups, objects, strict=True)
        if isinstance(obj, torch.Tensor)
    )


# -- nested dampening() -------------------------------------------------------------


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_nested_dampening_is_refused_and_changes_nothing(lr_kind: str, no_warnings: None) -> None:
    opt = make_optimizer(lr_kind, 2)
    step_lr = sched.StepLR(opt, 1, gamma=0.5)
    w = pw.LinearWarmup(opt, 4)
    objects = _lr_objects(opt)
    opt.step()
    with w.dampening():
        step_lr.step()
        inside_lrs, inside_opt = _values(w.lrs), lrs_of(opt)
        assert inside_opt == _expect([0.05, 0.015], lr_kind)  # the scheduler's own rate
        with pytest.raises(RuntimeError, match="dampening"):
            with w.dampening():
                pytest.fail("the nested block must not run")
        # nothing changed: last step, undampened rates, the optimizer's rates
        assert w.last_step == 0
        assert _values(w.lrs) == inside_lrs
        assert lrs_of(opt) == inside_opt
        assert _same_objects(opt, objects)
    # the outer block completes as if the nested attempt never happened
    assert w.last_step == 1
    assert _values(w.lrs) == _expect([0.05, 0.015], lr_kind)
    assert lrs_of(opt) == _expect([0.05 * 2 / 4, 0.015 * 2 / 4], lr_kind)
    # and the schedule goes on: t = 4 has factor 1
    for _ in range(2):
        opt.step()
        with w.dampening():
            step_lr.step()
    assert w.last_step == 3
    assert _values(w.lrs) == _expect([0.1 / 8, 0.03 / 8], lr_kind)
    assert lrs_of(opt) == _values(w.lrs)
    assert _same_objects(opt, objects)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_nested_dampening_propagating_leaves_the_step_as_before(lr_kind: str) -> None:
    """The refusal raised through the outer block: the outer block fails as any block does."""
    opt = make_optimizer(lr_kind, 1)
    w = pw.LinearWarmup(opt, 4)
    before = lrs_of(opt)
    with pytest.raises(RuntimeError, match="dampening"):
        with w.dampening():
            with w.dampening():
                pass
    assert w.last_step == 0
    assert _values(w.lrs) == _expect([0.1], lr_kind)
    assert lrs_of(opt) == before == _expect([0.1 / 4], lr_kind)
    # the warmup is not left "inside": the next block works
    with w.dampening():
        pass
    assert w.last_step == 1
    assert lrs_of(opt) == _expect([0.1 * 2 / 4], lr_kind)


def test_nested_dampening_of_the_issue_keeps_the_base_rate(no_warnings: None) -> None:
    """LinearWarmup(4), lr 0.1: the nested attempt used to record 0.05 as the base rate."""
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 4)
    with w.dampening():
        with pytest.raises(RuntimeError):
            with w.dampening():
                pass
    assert w.lrs == [0.1]
    assert w.last_step == 1
    assert opt.param_groups[0]["lr"] == 0.1 * 2 / 4


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_dampen_inside_dampening_is_refused_and_changes_nothing(lr_kind: str) -> None:
    opt = make_optimizer(lr_kind, 1)
    w = pw.LinearWarmup(opt, 4)
    with w.dampening():
        with pytest.raises(RuntimeError, match="dampen"):
            w.dampen()
        assert w.last_step == 0
        assert lrs_of(opt) == _values(w.lrs) == _expect([0.1], lr_kind)
    assert w.last_step == 1
    assert lrs_of(opt) == _expect([0.1 * 2 / 4], lr_kind)


# -- two warmups on one optimizer ----------------------------------------------------

FIRST_SECOND: list[tuple[str, Callable[[Any], pw.BaseWarmup], str, Callable[[Any], Any]]] = [
    ("LinearWarmup", lambda o: pw.LinearWarmup(o, 4), "LinearWarmup",
     lambda o: pw.LinearWarmup(o, 2)),
    ("LinearWarmup", lambda o: pw.LinearWarmup(o, 4), "ExponentialWarmup",
     lambda o: pw.ExponentialWarmup(o, 2)),
    ("UntunedLinearWarmup", pw.UntunedLinearWarmup, "RAdamWarmup", pw.RAdamWarmup),
    ("RAdamWarmup", pw.RAdamWarmup, "UntunedExponentialWarmup", pw.UntunedExponentialWarmup),
]  # fmt: skip


@pytest.mark.parametrize(
    ("first_name", "make_first", "second_name", "make_second"),
    FIRST_SECOND,
    ids=[f"{a}-then-{b}" for a, _, b, _ in FIRST_SECOND],
)
@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_second_warmup_is_refused_naming_both(
    lr_kind: str,
    first_name: str,
    make_first: Callable[[Any], pw.BaseWarmup],
    second_name: str,
    make_second: Callable[[Any], Any],
) -> None:
    opt = make_optimizer(lr_kind, 2)
    first = make_first(opt)
    objects = _lr_objects(opt)
    before_opt, before_state = lrs_of(opt), first.state_dict()
    with pytest.raises(ValueError, match=first_name) as info:
        make_second(opt)
    message = str(info.value)
    assert second_name in message
    if first_name == second_name:
        assert message.count(first_name) >= 2, message
    # nothing changed
    assert lrs_of(opt) == before_opt
    assert _same_objects(opt, objects)
    state = first.state_dict()
    assert _values(state["lrs"]) == _values(before_state["lrs"])
    assert state["warmup_params"] == before_state["warmup_params"]
    assert state["last_step"] == before_state["last_step"]
    # the first warmup goes on as if nothing happened
    opt.step()
    with first.dampening():
        pass
    factors = [first.warmup_factor(1, **p) for p in first.warmup_params]
    assert lrs_of(opt) == pytest.approx([0.1 * factors[0], 0.03 * factors[1]], rel=2**-22)
    assert _same_objects(opt, objects)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_second_warmup_is_allowed_after_detach(lr_kind: str, no_warnings: None) -> None:
    """The issue's case: tensor lr 0.1, LinearWarmup(o, 4) then LinearWarmup(o, 2)."""
    opt = make_optimizer(lr_kind, 1)
    objects = _lr_objects(opt)
    old = pw.LinearWarmup(opt, 4)
    opt.step()
    with old.dampening():
        pass
    assert lrs_of(opt) == _expect([0.1 * 2 / 4], lr_kind)
    old.detach()
    assert lrs_of(opt) == _expect([0.1], lr_kind)  # undampened again, bit for bit
    new = pw.LinearWarmup(opt, 2)
    assert _values(new.lrs) == _expect([0.1], lr_kind)
    assert lrs_of(opt) == _expect([0.1 / 2], lr_kind)
    opt.step()
    with new.dampening():
        pass
    assert lrs_of(opt) == _expect([0.1], lr_kind)
    for _ in range(3):
        opt.step()
        with new.dampening():
            pass
    assert lrs_of(opt) == _values(new.lrs)  # factor 1: exactly the base rate
    assert _same_objects(opt, objects)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_second_warmup_is_refused_while_the_first_is_attached(lr_kind: str) -> None:
    opt = make_optimizer(lr_kind, 1)
    first = pw.LinearWarmup(opt, 4).attach()
    before = lrs_of(opt)
    with pytest.raises(ValueError, match="ExponentialWarmup"):
        pw.ExponentialWarmup(opt, 3)
    assert lrs_of(opt) == before
    assert first.attached
    first.detach()
    second = pw.ExponentialWarmup(opt, 3).attach()
    assert second.attached
    assert not first.attached


# -- an LR scheduler built after the warmup ------------------------------------------


def _steps(opt: torch.optim.Optimizer, w: pw.BaseWarmup, n: int, pattern: str, s: Any) -> None:
    for _ in range(n):
        opt.step()
        if pattern == "dampening":
            with w.dampening():
                if s is not None:
                    s.step()
        else:
            if s is not None:
                s.step()
            w.dampen()


@pytest.mark.parametrize("pattern", ["dampening", "dampen"])
@pytest.mark.parametrize("built_after", [0, 1, 3])
@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_scheduler_built_after_the_warmup_is_reported_once(
    lr_kind: str, built_after: int, pattern: str
) -> None:
    opt = make_optimizer(lr_kind, 2)
    w = pw.LinearWarmup(opt, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _steps(opt, w, built_after, "dampening", None)
    late = sched.LambdaLR(opt, lambda k: 0.9**k)
    # it took the dampened rate as its base: what the warning is about
    factor = w.warmup_factor(built_after, warmup_period=8)
    assert _values(late.base_lrs) == pytest.approx([0.1 * factor, 0.03 * factor], rel=2**-22)
    with pytest.warns(pw.WarmupWarning, match="after"):
        _steps(opt, w, 1, pattern, late)
    with warnings.catch_warnings():  # reported once, not at every step
        warnings.simplefilter("error")
        _steps(opt, w, 3, pattern, late)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_scheduler_built_before_the_warmup_gives_no_warning(
    lr_kind: str, no_warnings: None
) -> None:
    opt = make_optimizer(lr_kind, 2)
    cosine = sched.CosineAnnealingLR(opt, T_max=10)
    w = pw.LinearWarmup(opt, 4)
    _steps(opt, w, 6, "dampening", cosine)
    assert w.last_step == 6


@pytest.mark.parametrize("built_after", [0, 2])
def test_scheduler_built_after_attach_is_fine(built_after: int, no_warnings: None) -> None:
    """Attached, the groups hold the undampened rate between updates: no wrong base."""
    opt = make_optimizer("float", 2)
    w = pw.LinearWarmup(opt, 4).attach()
    for _ in range(built_after):
        opt.step()
    late = sched.LambdaLR(opt, lambda k: 0.5**k)
    assert late.base_lrs == [0.1, 0.03]
    for _ in range(3):
        opt.step()
        late.step()
    assert w.last_step == built_after + 3
