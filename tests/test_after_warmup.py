"""Once every factor is exactly 1 the step path does no work, and everything stays exact."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from conftest import LR_KINDS, make_optimizer
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and bool(torch.equal(a, b))
    return type(a) is type(b) and a == b


def _rates(opt: torch.optim.Optimizer) -> list[Any]:
    return [
        g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in opt.param_groups
    ]


class _CountTorchCalls(torch.overrides.TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if getattr(func, "__name__", "") != "__get__":  # not reading an attribute
            self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("mode", ["dampening", "attached"])
@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_no_torch_call_and_exact_rates_after_the_warmup(lr_kind: str, mode: str) -> None:
    """A cosine schedule over 40 steps with a 4-step linear warmup: the rates the
    optimizer uses equal the run without warmup times omega, bit for bit, and once
    omega is 1 the warmup makes no torch call at all, except, in a dampening()
    block with tensor lrs, the one batched copy that lets a failing block put
    the rates back."""
    ref_opt = make_optimizer(lr_kind, 2)
    ref_cos = sched.CosineAnnealingLR(ref_opt, T_max=40)
    opt = make_optimizer(lr_kind, 2)
    cos = sched.CosineAnnealingLR(opt, T_max=40)
    warmup = pw.LinearWarmup(opt, 4)
    if mode == "attached":
        warmup.attach()
    used: list[list[Any]] = []
    opt.register_step_pre_hook(lambda o, a, k: used.append(_rates(o)))
    ref_used: list[list[Any]] = []
    ref_opt.register_step_pre_hook(lambda o, a, k: ref_used.append(_rates(o)))
    warmup_calls = []
    for _ in range(40):
        with _CountTorchCalls() as ref_count:
            ref_opt.step()
        with _CountTorchCalls() as count:
            opt.step()
        ref_cos.step()
        if mode == "attached":
            cos.step()
            warmup_calls.append(count.calls - ref_count.calls)  # the hooks' calls
        else:
            block = warmup.dampening()
            with _CountTorchCalls() as enter:
                block.__enter__()
            cos.step()
            with _CountTorchCalls() as leave:
                block.__exit__(None, None, None)
            warmup_calls.append(enter.calls + leave.calls)
    for t, (got, want) in enumerate(zip(used, ref_used, strict=True), start=1):
        omega = min(1.0, t / 4)
        for g, w in zip(got, want, strict=True):
            assert _same(g, w * omega if omega < 1 else w), (t, g, w)
    if lr_kind != "float":
        assert all(c > 0 for c in warmup_calls[:3]), warmup_calls
    after = 1 if mode == "dampening" and lr_kind != "float" else 0  # one bucket
    assert warmup_calls[4:] == [after] * 36
    assert warmup.last_step == 40


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_the_state_after_the_warmup_is_what_it_would_have_been(lr_kind: str) -> None:
    opt = make_optimizer(lr_kind, 2)
    decay = sched.ExponentialLR(opt, gamma=0.9)
    warmup = pw.LinearWarmup(opt, 3)
    for _ in range(10):
        opt.step()
        with warmup.dampening():
            decay.step()
    state = warmup.state_dict()
    assert state["last_step"] == 10
    for lr, group in zip(state["lrs"], opt.param_groups, strict=True):
        assert _same(lr, group["lr"])  # the undampened rates: the optimizer's own
        assert not isinstance(lr, torch.Tensor) or lr is not group["lr"]  # a copy
    # a fresh warmup loading it resumes where this one is
    other_opt = make_optimizer(lr_kind, 2)
    other = pw.LinearWarmup(other_opt, 3)
    other.load_state_dict(state)
    for a, b in zip(_rates(other_opt), _rates(opt), strict=True):
        assert _same(a, b)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_dampen_with_an_earlier_step_still_dampens(lr_kind: str) -> None:
    """The closed-form pattern may go back in time (a restarted warmup)."""
    opt = make_optimizer(lr_kind, 1)
    warmup = pw.LinearWarmup(opt, 4)
    for _ in range(6):
        with warmup.dampening():
            pass
    assert _same(_rates(opt)[0], make_optimizer(lr_kind, 1).param_groups[0]["lr"])
    warmup.dampen(0)  # t = 1 again
    lr = opt.param_groups[0]["lr"]
    assert float(lr) == pytest.approx(0.1 / 4, rel=1e-7)
    assert warmup.last_step == 0
    with warmup.dampening():  # back to the undampened 0.1, then t = 2
        pass
    assert float(opt.param_groups[0]["lr"]) == pytest.approx(0.1 * 2 / 4, rel=1e-7)


def test_a_group_added_after_the_warmup_is_still_refused() -> None:
    opt = make_optimizer("float", 1)
    warmup = pw.LinearWarmup(opt, 2)
    for _ in range(4):
        with warmup.dampening():
            pass
    opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "betas": (0.9, 0.9)})
    with pytest.raises(ValueError, match="a param group was added"):
        with warmup.dampening():
            pass
    with pytest.raises(ValueError, match="a param group was added"):
        warmup.dampen()


def test_a_subclass_whose_factor_drops_again_is_followed() -> None:
    """Without the never-decreasing promise the factor is computed at every step."""

    class Cyclic(pw.BaseWarmup):
        def __init__(self, optimizer: torch.optim.Optimizer) -> None:
            super().__init__(optimizer, [{"period": 3}] * len(optimizer.param_groups))

        def warmup_factor(self, step: int, period: int) -> float:  # type: ignore[override]
            return min(1.0, (step % (2 * period) + 1) / period)

    opt = make_optimizer("tensor32", 1)
    warmup = Cyclic(opt)
    got = [float(opt.param_groups[0]["lr"])]
    for _ in range(7):
        with warmup.dampening():
            pass
        got.append(float(opt.param_groups[0]["lr"]))
    factors = [min(1.0, (s % 6 + 1) / 3) for s in range(8)]
    assert got == pytest.approx([0.1 * f for f in factors], rel=1e-7)
