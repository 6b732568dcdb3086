"""Misuse that would change the schedule for good is refused or reported, before it costs a step.

* entering ``dampening()`` of a warmup that is already inside its own block;
* an LR scheduler built after the warmup, at any step, while a param group can
  still gain the ``initial_lr`` that a new scheduler sets (reported at the next
  block, saying what that scheduler does with the dampened rates);
* a ``dampening()`` block never entered, and a warmup stepped once per epoch with
  a period in updates.

A second warmup on the same optimizer is not misuse: it takes over (test_takeover.py).
"""

from __future__ import annotations

import warnings
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
    with pytest.warns(pw.WarmupWarning, match="after") as rec:
        _steps(opt, w, 1, pattern, late)
    assert rec[0].filename == __file__
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


# -- what each late scheduler does with the dampened rates -----------------------------------

LATE = {
    "LambdaLR": (lambda o: sched.LambdaLR(o, lambda k: 1.0), "every rate"),
    "CyclicLR": (lambda o: sched.CyclicLR(o, 0.01, 0.1, cycle_momentum=False), "every rate"),
    "CosineAnnealingWarmRestarts": (
        lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=5),
        "every rate",
    ),
    "CosineAnnealingLR": (lambda o: sched.CosineAnnealingLR(o, T_max=10), "restarts"),
    "StepLR": (lambda o: sched.StepLR(o, 3), "unaffected when stepped inside dampening()"),
    "ExponentialLR": (
        lambda o: sched.ExponentialLR(o, 0.9),
        "unaffected when stepped inside dampening()",
    ),
    "OneCycleLR": (lambda o: sched.OneCycleLR(o, 0.1, total_steps=20), "is unaffected"),
    "SequentialLR": (
        lambda o: sched.SequentialLR(
            o, [sched.ConstantLR(o, 0.5, 2), sched.ExponentialLR(o, 0.9)], milestones=[2]
        ),
        "SequentialLR: ConstantLR multiplies the current rate",
    ),
}


@pytest.mark.parametrize("name", list(LATE))
def test_late_scheduler_warning_says_what_that_scheduler_does(name: str) -> None:
    """Raised at the first block after the scheduler is built, naming its effect."""
    opt = make_optimizer("float", 2)
    w = pw.LinearWarmup(opt, 8)
    build, effect = LATE[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own notes on some schedulers
        warnings.simplefilter("error", pw.WarmupWarning)
        late = build(opt)  # kept, as a training loop keeps it
    opt.step()
    with pytest.warns(pw.WarmupWarning, match="created after LinearWarmup") as rec:
        with w.dampening():
            late.step()
    message = str(next(r.message for r in rec if r.category is pw.WarmupWarning))
    assert name in message and effect in message, message


# -- silent traps of the original API --------------------------------------------------------


def test_dampening_called_without_with_is_reported() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    opt.step()
    with pytest.warns(pw.WarmupWarning, match=r"dampening\(\) was called without `with`") as rec:
        w.dampening()  # reads like dampen(), does nothing
    assert rec[0].filename == __file__
    assert w.last_step == 0


def test_dampening_without_with_as_an_error_raises_nothing() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.dampening()  # nothing can be raised from a finalizer: no unraisable exception
    assert w.last_step == 0


def _epochs(opt: torch.optim.Optimizer, w: pw.BaseWarmup, epochs: int, per_epoch: int) -> None:
    for _ in range(epochs):
        for _ in range(per_epoch):
            opt.step()
        with w.dampening():
            pass


def test_a_per_epoch_block_with_a_period_in_updates_is_reported_once() -> None:
    """The issue's case: 3 epochs of 100 updates, a period of 2000 (updates)."""
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 2000)
    with pytest.warns(pw.WarmupWarning, match="100 optimizer updates ran between two") as rec:
        _epochs(opt, w, 3, 100)
    assert len(rec) == 1
    message = str(rec[0].message)
    assert "2000" in message and "200000 updates" in message and "attach" in message
    assert rec[0].filename == __file__


@pytest.mark.parametrize("period", [3, 50])
def test_a_warmup_in_epochs_stepped_per_epoch_is_quiet(period: int, no_warnings: None) -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, period)
    _epochs(opt, w, 4, 100)
    assert w.last_step == 4


def test_an_untuned_warmup_stepped_per_epoch_is_reported() -> None:
    opt = make_optimizer("float", 1, betas=((0.9, 0.999),), lrs=(0.1,))
    w = pw.UntunedLinearWarmup(opt)
    with pytest.warns(pw.WarmupWarning, match="between two"):
        _epochs(opt, w, 2, 10)


def test_a_subclass_calling_super_step_is_one_update(no_warnings: None) -> None:
    class Nested(torch.optim.AdamW):
        def step(self, closure: Any = None) -> Any:  # type: ignore[override]
            return super().step(closure)

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])  # the parent class is hooked too
    opt = Nested([torch.zeros(1, requires_grad=True)], lr=0.1)
    w = pw.LinearWarmup(opt, 100)
    for _ in range(3):
        opt.step()
        with w.dampening():
            pass
    assert w.last_step == 3


@pytest.mark.parametrize("name", ["step", "get_lr", "last_epoch", "base_lrs"])
def test_scheduler_attributes_on_a_warmup_say_what_to_do(name: str) -> None:
    w = pw.LinearWarmup(make_optimizer("float", 1), 10)
    with pytest.raises(AttributeError, match=r"not an LR scheduler|counts steps|keeps the") as info:
        getattr(w, name)
    assert "attach()" in str(info.value) and "WarmupLR" in str(info.value)
    assert not hasattr(w, name)
    with pytest.raises(AttributeError, match="no attribute 'stepp'"):
        w.stepp  # noqa: B018


def test_the_original_helper_get_warmup_params() -> None:
    from pytorch_warmup.base import get_warmup_params

    assert get_warmup_params(5, 2) == [{"warmup_period": 5}, {"warmup_period": 5}]
    assert get_warmup_params([3, 4], 2) == [{"warmup_period": 3}, {"warmup_period": 4}]
    with pytest.raises(ValueError, match="one entry per param group"):
        get_warmup_params([3], 2)
    with pytest.raises(TypeError, match="warmup_period must be an int"):
        get_warmup_params(2.5, 1)


def test_outside_change_warning_fires_once_with_a_plateau_scheduler() -> None:
    """A ReduceLROnPlateau stepped after the block, five iterations: one warning."""
    opt = make_optimizer("float", 1)
    plateau = sched.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    w = pw.LinearWarmup(opt, 10)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for k in range(5):
            opt.step()
            with w.dampening():
                pass
            plateau.step(1.0 + k)  # worse every time: the rate halves, outside the block
    ours = [str(r.message) for r in rec if r.category is pw.WarmupWarning]
    assert [m.count("changed outside") for m in ours] == [1]
