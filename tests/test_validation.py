"""Bad arguments get a clear error and change nothing; misuse is reported."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from conftest import lrs_of, make_optimizer
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw


def _snapshot(opt: torch.optim.Optimizer) -> list[dict[str, Any]]:
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


BAD_PERIODS = [
    (2000.0, TypeError, "warmup_period must be an int or a list of ints"),
    (True, TypeError, "got True of type bool"),
    ("10", TypeError, "got '10' of type str"),
    (None, TypeError, "got None"),
    (math.inf, TypeError, "got inf"),
    (math.nan, TypeError, "got nan"),
    (0, ValueError, "warmup_period must be a positive int, got 0"),
    (-5, ValueError, "got -5"),
    ([10], ValueError, r"the optimizer has 2 param group\(s\), warmup_period=\[10\] has 1"),
    ([10, 20, 30], ValueError, "has 3"),
    ([10, 2.5], TypeError, r"warmup_period\[1\] must be an int, got 2.5"),
    ([10, False], TypeError, r"warmup_period\[1\] must be an int, got False"),
    ([10, 0], ValueError, r"warmup_period\[1\] must be a positive int, got 0"),
    ({"a": 1}, TypeError, "of type dict"),
]


@pytest.mark.parametrize("cls", [pw.LinearWarmup, pw.ExponentialWarmup])
@pytest.mark.parametrize(("period", "error", "match"), BAD_PERIODS)
def test_bad_warmup_period(cls: type, period: Any, error: type, match: str) -> None:
    opt = make_optimizer("tensor32", 2)
    before = _snapshot(opt)
    with pytest.raises(error, match=match):
        cls(opt, period)
    assert repr(_snapshot(opt)) == repr(before)


@pytest.mark.parametrize("period", [np.int64(7), np.int32(7), torch.tensor(7), [np.int16(7), 7]])
def test_integer_like_periods_are_accepted(period: Any) -> None:
    opt = make_optimizer("float", 2)
    w = pw.LinearWarmup(opt, period)
    assert w.warmup_params == [{"warmup_period": 7}, {"warmup_period": 7}]
    assert all(type(p["warmup_period"]) is int for p in w.warmup_params)


ALL = [
    pw.UntunedLinearWarmup,
    pw.UntunedExponentialWarmup,
    pw.RAdamWarmup,
    lambda o, **k: pw.LinearWarmup(o, 5, **k),
    lambda o, **k: pw.ExponentialWarmup(o, 5, **k),
]


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize(
    "not_an_optimizer", [None, "adam", [torch.zeros(1)], torch.nn.Linear(1, 1)]
)
def test_not_an_optimizer(make: Any, not_an_optimizer: Any) -> None:
    with pytest.raises(TypeError, match=r"needs a torch\.optim\.Optimizer, got .* of type"):
        make(not_an_optimizer)


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize(
    ("last_step", "error", "match"),
    [(1.0, TypeError, "last_step must be an int, got 1.0"), (True, TypeError, "bool"),
     (-2, ValueError, "last_step must be >= -1, got -2"), ("0", TypeError, "str")],
)  # fmt: skip
def test_bad_last_step(make: Any, last_step: Any, error: type, match: str) -> None:
    opt = make_optimizer("float", 2)
    before = _snapshot(opt)
    with pytest.raises(error, match=match):
        make(opt, last_step=last_step)
    assert _snapshot(opt) == before


@pytest.mark.parametrize(
    "cls", [pw.UntunedLinearWarmup, pw.UntunedExponentialWarmup, pw.RAdamWarmup]
)
def test_optimizer_without_betas(cls: type) -> None:
    opt = make_optimizer("float", 2, opt_cls=torch.optim.SGD)
    before = _snapshot(opt)
    with pytest.raises(TypeError, match=r"Adam-family optimizer whose param groups have 'betas'"):
        cls(opt)
    assert _snapshot(opt) == before


@pytest.mark.parametrize(
    ("cls", "beta2", "match"),
    [(pw.UntunedLinearWarmup, 1.0, r"beta2 in \[0, 1\).*betas\[1\]=1.0"),
     (pw.UntunedExponentialWarmup, -0.1, r"betas\[1\]=-0.1"),
     (pw.UntunedLinearWarmup, math.nan, "nan"),
     (pw.RAdamWarmup, 0.6, r"beta2 in \(0.6, 1\).*param_groups\[1\] has betas\[1\]=0.6"),
     (pw.RAdamWarmup, 0.5, "0.5"), (pw.RAdamWarmup, 1.0, "1.0")],
)  # fmt: skip
def test_beta2_out_of_range(cls: type, beta2: float, match: str) -> None:
    opt = make_optimizer("float", 2, betas=((0.9, 0.9), (0.9, 0.9)))
    opt.param_groups[1]["betas"] = (0.9, beta2)  # torch's own checks would refuse it earlier
    before = _snapshot(opt)
    with pytest.raises(ValueError, match=match):
        cls(opt)
    assert _snapshot(opt) == before


def test_bad_betas_shape() -> None:
    opt = make_optimizer("float", 1)
    opt.param_groups[0]["betas"] = 0.9
    with pytest.raises(TypeError, match=r"must be a pair \(beta1, beta2\), got 0.9"):
        pw.UntunedLinearWarmup(opt)


def test_tensor_betas_are_read() -> None:
    opt = torch.optim.Adam(
        [torch.zeros(1, requires_grad=True)], betas=(torch.tensor(0.9), torch.tensor(0.99))
    )
    assert pw.UntunedLinearWarmup(opt).warmup_params == [{"warmup_period": 200}]


@pytest.mark.parametrize(
    ("lr", "error", "match"),
    [(torch.ones(2), TypeError, r"0-dim floating-point tensor, got a tensor of shape \(2,\)"),
     (torch.tensor(1), TypeError, "dtype torch.int64"), ("0.1", TypeError, "str"),
     (math.inf, ValueError, "finite"), (-1.0, ValueError, ">= 0, got -1.0")],
)  # fmt: skip
def test_bad_learning_rate_in_optimizer(lr: Any, error: type, match: str) -> None:
    opt = make_optimizer("float", 1)
    opt.param_groups[0]["lr"] = lr
    with pytest.raises(error, match=r"optimizer.param_groups\[0\]\['lr'\] must be"):
        pw.LinearWarmup(opt, 5)
    with pytest.raises(error, match=match):
        pw.LinearWarmup(opt, 5)


def test_base_warmup_params_are_checked() -> None:
    opt = make_optimizer("float", 2)
    with pytest.raises(TypeError, match="warmup_params must be a list"):
        pw.BaseWarmup(opt, {"warmup_period": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one entry per param group"):
        pw.BaseWarmup(opt, [{}])
    with pytest.raises(NotImplementedError, match="must implement warmup_factor"):
        pw.BaseWarmup(opt, [{}, {}])
    assert lrs_of(opt) == [0.1, 0.03]


def test_custom_subclass_uses_warmup_factor() -> None:
    class Quadratic(pw.BaseWarmup):
        def __init__(self, optimizer: torch.optim.Optimizer, period: int) -> None:
            super().__init__(optimizer, [{"period": period}] * len(optimizer.param_groups))

        def warmup_factor(self, step: int, period: int) -> float:  # type: ignore[override]
            return min(1.0, ((step + 1) / period) ** 2)

    opt = make_optimizer("float", 2)
    w = Quadratic(opt, 4)
    assert lrs_of(opt) == [0.1 / 16, 0.03 / 16]
    with w.dampening():
        pass
    assert lrs_of(opt) == [0.1 * 4 / 16, 0.03 * 4 / 16]


@pytest.mark.parametrize(
    ("step", "error", "match"),
    [(-1, ValueError, "step must be >= 0, got -1"), (1.5, TypeError, "step must be an int"),
     (True, TypeError, "bool")],
)  # fmt: skip
def test_bad_dampen_step_changes_nothing(step: Any, error: type, match: str) -> None:
    opt = make_optimizer("float", 2)
    w = pw.LinearWarmup(opt, 5)
    before, state = lrs_of(opt), w.state_dict()
    with pytest.raises(error, match=match):
        w.dampen(step)
    assert lrs_of(opt) == before
    assert w.state_dict() == state


def test_bad_last_step_attribute_is_reported() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 5)
    w.last_step = 2.0  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"warmup.last_step must be an int, got 2.0"):
        w.dampen()
    w.last_step = -3
    with pytest.raises(ValueError, match=r"warmup.last_step must be >= -1, got -3"):
        with w.dampening():
            pass


# -- dampening() exception safety ---------------------------------------------------


@pytest.mark.parametrize("lr_kind", ["float", "tensor64", "tensor32"])
def test_dampening_is_exception_safe(lr_kind: str) -> None:
    opt = make_optimizer(lr_kind, 2)
    s = sched.ExponentialLR(opt, gamma=0.5)
    w = pw.LinearWarmup(opt, 10)
    opt.step()
    with w.dampening():
        s.step()
    lr_objects = [g["lr"] for g in opt.param_groups]
    before, state = lrs_of(opt), w.state_dict()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), w.dampening():
        s.step()  # the scheduler changes the lr, then the block fails
        raise Boom
    assert lrs_of(opt) == before  # still dampened, as before entry
    assert w.last_step == state["last_step"] == 1
    assert repr(w.state_dict()) == repr(state)
    assert all(g["lr"] is o for g, o in zip(opt.param_groups, lr_objects, strict=True) if
               isinstance(o, torch.Tensor))  # fmt: skip


def test_dampening_propagates_keyboard_interrupt() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    before = lrs_of(opt)
    with pytest.raises(KeyboardInterrupt), w.dampening():
        opt.param_groups[0]["lr"] = 5.0
        raise KeyboardInterrupt
    assert lrs_of(opt) == before and w.last_step == 0


# -- misuse reports ------------------------------------------------------------------


def test_scheduler_built_after_the_warmup_is_reported() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    s = sched.CosineAnnealingLR(opt, T_max=100)  # takes 0.1 * 1/10 as its base lr
    assert s.base_lrs == [pytest.approx(0.1 / 10)]
    opt.step()
    # reported at the next block, pointing at the user's line
    with pytest.warns(pw.WarmupWarning, match="LR scheduler was created after LinearWarmup") as rec:
        with w.dampening():
            s.step()
    assert rec[0].filename == __file__
    message = str(rec[0].message)
    assert "CosineAnnealingLR multiplies the current rate" in message  # the scheduler at hand
    assert "restarts" in message
    # reported once, not every step
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        with w.dampening():
            s.step()


def test_scheduler_built_after_the_warmup_is_reported_by_dampen() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    sched.LambdaLR(opt, lambda k: 1.0)
    with pytest.warns(pw.WarmupWarning, match="Create the LR scheduler before the warmup"):
        w.dampen()


def test_scheduler_built_before_the_warmup_is_quiet(no_warnings: None) -> None:
    opt = make_optimizer("float", 2)
    s1 = sched.CosineAnnealingLR(opt, T_max=100)
    w = pw.UntunedLinearWarmup(opt)
    s2 = sched.ExponentialLR(opt, gamma=0.99)  # 'initial_lr' was already set by s1: harmless
    for _ in range(3):
        opt.step()
        with w.dampening():
            s1.step()
            s2.step()


@pytest.mark.parametrize("use", ["dampening", "dampen"])
def test_param_group_added_after_the_warmup(use: str) -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.5})
    before, state = lrs_of(opt), w.state_dict()
    with pytest.raises(
        ValueError, match="the optimizer has 2 param groups but LinearWarmup was built for 1"
    ):
        if use == "dampen":
            w.dampen()
        else:
            with w.dampening():
                pass
    assert lrs_of(opt) == before
    assert w.state_dict() == state


def test_param_group_added_inside_dampening() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    before = lrs_of(opt)
    with pytest.raises(ValueError, match="a param group was added or removed"), w.dampening():
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.5})
    assert lrs_of(opt)[0] == before[0]
    assert w.last_step == 0


def test_scheduler_stepped_outside_dampening_is_reported() -> None:
    """A scheduler stepped after the block changes a dampened lr that dampening() then
    throws away: reported once per warmup, at the next block, pointing at the user's
    line."""
    opt = make_optimizer("float", 2)
    decay = sched.ExponentialLR(opt, gamma=0.5)
    w = pw.LinearWarmup(opt, 4)
    opt.step()
    with w.dampening():
        pass
    decay.step()  # outside the block
    opt.step()
    with pytest.warns(pw.WarmupWarning, match=r"param group 0 changed outside") as rec:
        with w.dampening():
            pass
    assert len(rec) == 1
    assert rec[0].filename == __file__
    assert "Step LR schedulers inside" in str(rec[0].message)
    with warnings.catch_warnings():  # once per warmup, however often it happens again
        warnings.simplefilter("error")
        for _ in range(4):
            decay.step()
            opt.step()
            with w.dampening():
                pass


def test_change_outside_as_an_error_changes_nothing() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 4)
    opt.param_groups[0]["lr"] = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(pw.WarmupWarning):
            with w.dampening():
                pass
    assert lrs_of(opt) == [0.5]
    assert w.last_step == 0


@pytest.mark.filterwarnings("ignore:The epoch parameter:UserWarning")
@pytest.mark.filterwarnings("error::pytorch_warmup.WarmupWarning")
def test_no_report_for_the_legitimate_patterns() -> None:
    # scheduler inside the block; dampen() after a closed-form step; resuming from a checkpoint
    opt = make_optimizer("float", 2)
    cosine = sched.CosineAnnealingLR(opt, T_max=10)
    w = pw.UntunedLinearWarmup(opt)
    for _ in range(3):
        opt.step()
        with w.dampening():
            cosine.step()
    ckpt = {"opt": opt.state_dict(), "sched": cosine.state_dict(), "w": w.state_dict()}
    opt2 = make_optimizer("float", 2)
    cosine2 = sched.CosineAnnealingLR(opt2, T_max=10)
    w2 = pw.UntunedLinearWarmup(opt2)
    w2.load_state_dict(ckpt["w"])  # before the optimizer's own state: still quiet
    opt2.load_state_dict(ckpt["opt"])
    cosine2.load_state_dict(ckpt["sched"])
    for _ in range(3):
        opt2.step()
        with w2.dampening():
            cosine2.step()
    opt3 = make_optimizer("float", 1)
    closed = sched.CosineAnnealingLR(opt3, T_max=10)
    w3 = pw.LinearWarmup(opt3, 5)
    for _ in range(3):
        opt3.step()
        closed.step(closed.last_epoch + 1)
        w3.dampen()
