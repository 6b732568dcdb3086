"""The fast step paths: exact trajectories for float, tensor and mixed learning rates.

The step path has a shortcut when no group holds a tensor, and for tensor
learning rates a cached layout that batches the work with ``torch._foreach_*``
(bucketed by dtype, with a factor tensor on CPU). Each path is checked bit for
bit against an independent reference: the same scheduler run without a warmup,
times the warmup factor from its closed form (exact rational arithmetic), with
the product computed the plain way (Python float times float, or tensor times
Python number).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, StepLR
from torch.utils._python_dispatch import TorchDispatchMode

import pytorch_warmup as pw

KINDS = ["float", "tensor", "float64", "bfloat16", "mixed", "two_dtypes"]
STEPS = 25


def _lr(i: int, kind: str) -> float | torch.Tensor:
    value = 0.1 / (1 + i % 7)
    if kind == "float" or (kind == "mixed" and i % 2 == 0):
        return value
    if kind == "float64" or (kind == "two_dtypes" and i % 2 == 1):
        return torch.tensor(value, dtype=torch.float64)
    if kind == "bfloat16":
        return torch.tensor(value, dtype=torch.bfloat16)
    return torch.tensor(value)


def _optimizer(n: int, kind: str) -> torch.optim.Optimizer:
    groups = [
        {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": _lr(i, kind)} for i in range(n)
    ]
    return torch.optim.AdamW(groups, foreach=False)


def _omega(t: int, period: int) -> float:
    """The linear warmup factor min(1, t / period), exactly rounded."""
    return float(min(Fraction(1), Fraction(t, period)))


def _dampened(undampened: Any, omega: float) -> Any:
    if isinstance(undampened, torch.Tensor):
        return undampened * omega  # tensor times Python number, in the tensor's dtype
    return undampened * omega


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, torch.Tensor):
        return (
            isinstance(actual, torch.Tensor)
            and actual.dtype == expected.dtype
            and torch.equal(actual, expected)
        )
    return type(actual) is float and actual == expected


def _reference(n: int, kind: str, steps: int) -> list[list[Any]]:
    """Undampened learning rates of each group at each step, from a run without a warmup."""
    opt = _optimizer(n, kind)
    sched = CosineAnnealingLR(opt, T_max=10)
    opt.step()
    out = [[_copy(g["lr"]) for g in opt.param_groups]]
    for _ in range(steps):
        sched.step()
        out.append([_copy(g["lr"]) for g in opt.param_groups])
    return out


def _copy(lr: Any) -> Any:
    return lr.detach().clone() if isinstance(lr, torch.Tensor) else lr


def _periods(n: int, uniform: bool) -> list[int]:
    # Non-uniform periods give different factors per group, some of them equal,
    # and some groups end their warmup (factor 1) during the run.
    return [12] * n if uniform else [(5, 12, 12, 40)[i % 4] for i in range(n)]


@pytest.mark.parametrize("n", [1, 3, 100])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("uniform", [True, False])
def test_trajectory_is_scheduler_times_closed_form_factor(n: int, kind: str, uniform: bool) -> None:
    ref = _reference(n, kind, STEPS)
    periods = _periods(n, uniform)
    opt = _optimizer(n, kind)
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, periods)
    opt.step()
    objects = [g["lr"] for g in opt.param_groups]
    for step in range(STEPS + 1):
        if step:
            with warmup.dampening():
                sched.step()
        for i, group in enumerate(opt.param_groups):
            expected = _dampened(ref[step][i], _omega(step + 1, periods[i]))
            assert _same(group["lr"], expected), (step, i, group["lr"], expected)
            assert _same(warmup.lrs[i], ref[step][i])
            assert group["lr"] is objects[i] or not isinstance(objects[i], torch.Tensor)
    assert warmup.last_step == STEPS


@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("kind", ["tensor", "mixed", "two_dtypes"])
def test_tensor_stores_stay_the_same_objects_and_never_alias(n: int, kind: str) -> None:
    opt = _optimizer(n, kind)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    warmup = pw.LinearWarmup(opt, 1000)
    opt.step()
    with warmup.dampening():
        sched.step()
    stores = list(warmup.lrs)
    for _ in range(10):
        with warmup.dampening():
            sched.step()
    for group, before, now in zip(opt.param_groups, stores, warmup.lrs, strict=True):
        if isinstance(group["lr"], torch.Tensor):
            assert now is before
            assert now.data_ptr() != group["lr"].data_ptr()


def _failing_step(warmup: pw.LinearWarmup, sched: Any) -> None:
    with pytest.raises(RuntimeError, match="boom"), warmup.dampening():
        sched.step()
        raise RuntimeError("boom")


@pytest.mark.filterwarnings("ignore:the learning rate of param group:UserWarning")
@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("kind", KINDS)
def test_a_failing_block_leaves_every_lr_as_it_was(n: int, kind: str) -> None:
    opt = _optimizer(n, kind)
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, _periods(n, uniform=False))
    opt.step()
    for _ in range(4):
        with warmup.dampening():
            sched.step()
    before = [_copy(g["lr"]) for g in opt.param_groups]
    stores = [_copy(lr) for lr in warmup.lrs]
    # An lr the user changed by hand since the last step (in place, for a tensor)
    # is what must come back.
    group = opt.param_groups[-1]
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].mul_(0.5)
    else:
        group["lr"] *= 0.5
    before[-1] = _copy(group["lr"])
    _failing_step(warmup, sched)
    assert warmup.last_step == 4
    for group, lr in zip(opt.param_groups, before, strict=True):
        assert _same(group["lr"], lr)
    for now, lr in zip(warmup.lrs, stores, strict=True):
        assert _same(now, lr)


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_step_does_not_change_the_rest_of_the_run(kind: str) -> None:
    def run(fail_at: int | None) -> list[list[Any]]:
        opt = _optimizer(10, kind)
        sched = CosineAnnealingLR(opt, T_max=10)
        warmup = pw.LinearWarmup(opt, _periods(10, uniform=False))
        opt.step()
        out = []
        for step in range(12):
            if step == fail_at:
                # the scheduler's own state advances: undo it as a failed step would
                state = sched.state_dict()
                _failing_step(warmup, sched)
                sched.load_state_dict(state)
            with warmup.dampening():
                sched.step()
            out.append([_copy(g["lr"]) for g in opt.param_groups])
        return out

    clean, failed = run(None), run(5)
    for a_row, b_row in zip(clean, failed, strict=True):
        for a, b in zip(a_row, b_row, strict=True):
            assert _same(b, a)


@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("kind", KINDS)
def test_dampen_multiplies_whatever_the_groups_hold(n: int, kind: str) -> None:
    opt = _optimizer(n, kind)
    warmup = pw.LinearWarmup(opt, _periods(n, uniform=False))
    for _ in range(3):
        with warmup.dampening():
            pass
    for step in (7, 8, 30):
        held = [_copy(g["lr"]) for g in opt.param_groups]
        warmup.dampen(step)
        assert warmup.last_step == step
        for i, group in enumerate(opt.param_groups):
            expected = _dampened(held[i], _omega(step + 1, _periods(n, uniform=False)[i]))
            assert _same(group["lr"], expected)


def test_cached_layout_follows_replaced_tensors_and_loaded_states() -> None:
    n = 6
    ref = _reference(n, "tensor", 12)
    opt = _optimizer(n, "tensor")
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, 8)
    opt.step()
    for step in range(1, 13):
        if step == 4:  # a group's lr becomes another tensor object (same value)
            opt.param_groups[2]["lr"] = opt.param_groups[2]["lr"].clone()
        if step == 7:  # a state round trip replaces the stored tensors
            warmup.load_state_dict(copy.deepcopy(warmup.state_dict()))
        if step == 9:  # a stored value replaced by hand, in another dtype
            warmup.lrs[1] = warmup.lrs[1].double()
        with warmup.dampening():
            sched.step()
        for i, group in enumerate(opt.param_groups):
            assert _same(group["lr"], _dampened(ref[step][i], _omega(step + 1, 8)))


def test_groups_that_switch_between_float_and_tensor_follow_the_general_rules() -> None:
    opt = _optimizer(3, "float")
    warmup = pw.LinearWarmup(opt, 10)
    with warmup.dampening():
        pass
    # a stored tensor for a float group is written back as a float
    warmup.lrs[0] = torch.tensor(0.5, dtype=torch.float64)
    with warmup.dampening():
        assert opt.param_groups[0]["lr"] == 0.5
        assert type(opt.param_groups[0]["lr"]) is float
        opt.param_groups[1]["lr"] = torch.tensor(0.25)  # the block makes it a tensor
    assert torch.equal(opt.param_groups[1]["lr"], torch.tensor(0.25) * _omega(3, 10))
    assert torch.equal(warmup.lrs[1], torch.tensor(0.25))
    assert warmup.lrs[1] is not opt.param_groups[1]["lr"]
    assert opt.param_groups[0]["lr"] == 0.5 * _omega(3, 10)


def test_a_copied_warmup_steps_its_own_optimizer() -> None:
    opt = _optimizer(4, "tensor")
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, 10)
    opt.step()
    for _ in range(3):
        with warmup.dampening():
            sched.step()
    twin = copy.deepcopy(warmup)
    originals = [_copy(g["lr"]) for g in opt.param_groups]
    with twin.dampening():
        for g in twin.optimizer.param_groups:
            g["lr"].fill_(0.5)
    for group, lr in zip(opt.param_groups, originals, strict=True):
        assert torch.equal(group["lr"], lr)  # the original optimizer is untouched
    for group in twin.optimizer.param_groups:
        assert torch.equal(group["lr"], torch.tensor(0.5) * _omega(5, 10))


def test_equal_warmup_params_compute_the_factor_once_per_step() -> None:
    calls: list[int] = []

    class Counting(pw.LinearWarmup):
        def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
            calls.append(step)
            return super().warmup_factor(step, warmup_period)

    opt = _optimizer(100, "float")
    warmup = Counting(opt, 50)
    calls.clear()
    for _ in range(3):
        with warmup.dampening():
            pass
    assert calls == [1, 2, 3]
    # a changed parameter is seen at once
    warmup.warmup_params[99]["warmup_period"] = 2
    with warmup.dampening():
        pass
    assert calls == [1, 2, 3, 4, 4]
    assert opt.param_groups[99]["lr"] == pytest.approx(0.1 / (1 + 99 % 7))


class _OpCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def _ops_per_step(n: int, kind: str, step: Callable[[pw.LinearWarmup], None]) -> list[str]:
    opt = _optimizer(n, kind)
    warmup = pw.LinearWarmup(opt, 1000)
    for _ in range(3):
        step(warmup)
    counter = _OpCounter()
    with counter:
        step(warmup)
    return counter.ops


def _block(warmup: pw.LinearWarmup) -> None:
    with warmup.dampening():
        pass


@pytest.mark.parametrize("kind", ["tensor", "two_dtypes"])
def test_torch_ops_per_step_do_not_grow_with_the_number_of_groups(kind: str) -> None:
    few = _ops_per_step(2, kind, _block)
    many = _ops_per_step(100, kind, _block)
    assert few == many
    buckets = 2 if kind == "two_dtypes" else 1
    # entry: keep and restore (2 copies); exit: record (1 copy), then per dtype
    # bucket the factor tensor is filled and the bucket multiplied by it
    assert len(many) == 3 + 2 * buckets
    scale_ops = ["aten.fill_.Scalar", "aten._foreach_mul_.Tensor"] * buckets
    assert _ops_per_step(100, kind, lambda w: w.dampen()) == scale_ops


def test_float_learning_rates_dispatch_no_torch_op() -> None:
    assert _ops_per_step(100, "float", _block) == []


def test_factor_tensor_rounds_like_a_python_number() -> None:
    """On CPU the factor is held in a 0-dim tensor: the products must equal
    tensor * Python float for every floating dtype, including awkward factors."""
    gen = torch.Generator().manual_seed(0)
    factors = [1 / 3, 0.1, 1e-7, 1 - 2**-30, 2**-149 * 3, 0.999999940395355]
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        values = torch.rand(200, generator=gen, dtype=torch.float64).to(dtype)
        for factor in factors:
            opt = torch.optim.SGD(
                [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": v.clone()} for v in values]
            )
            warmup = pw.LinearWarmup(opt, 10)
            with warmup.dampening():  # builds the cached layout
                pass
            # every factor is now `factor`
            warmup.warmup_factor = lambda step, warmup_period, f=factor: f  # type: ignore[method-assign]
            for group, v in zip(opt.param_groups, values, strict=True):
                group["lr"].copy_(v)
            warmup.dampen(0)
            got = torch.stack([g["lr"] for g in opt.param_groups])
            assert torch.equal(got, values * factor), (dtype, factor)


def test_factor_tensor_stays_on_cpu_under_another_default_device() -> None:
    opt = _optimizer(3, "tensor")
    warmup = pw.LinearWarmup(opt, 4)
    with torch.device("meta"):  # the default device for new tensors
        for _ in range(2):
            with warmup.dampening():
                pass
    for i, group in enumerate(opt.param_groups):
        lr = _lr(i, "tensor")
        assert isinstance(lr, torch.Tensor)
        assert torch.equal(group["lr"], lr * _omega(3, 4))


def test_integer_factors_on_the_tensor_path() -> None:
    class Whole(pw.LinearWarmup):
        def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
            return 1 if step % 2 else 0.5  # an int every other step

    opt = _optimizer(3, "tensor")
    warmup = Whole(opt, 4)
    for step in range(1, 5):
        with warmup.dampening():
            pass
        for i, group in enumerate(opt.param_groups):
            lr = _lr(i, "tensor")
            assert isinstance(lr, torch.Tensor)
            assert torch.equal(group["lr"], lr * (1 if step % 2 else 0.5))
