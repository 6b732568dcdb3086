"""The step path, by its properties: exact trajectories and a bounded number of torch ops.

Every learning rate the warmup produces is checked bit for bit against an
independent reference: the same scheduler run without a warmup, times the
linear factor from its closed form (exact rational arithmetic), with the product
computed the plain way (a Python float times a float, or a tensor times a
Python number, which rounds bfloat16 and float16 once). This covers Python
floats, 0-dim tensors of each floating dtype, mixtures of them, 1, 3 and 100
param groups, groups sharing one lr tensor, steps during the warmup and after
it, and the three ways to drive a warmup: ``dampening()``, ``WarmupLR`` and the
attached mode.

The number of torch ops one step dispatches (counted with a
``TorchDispatchMode``) is the CPU stand-in for kernel launches on a GPU: it is
the same for 2 and 100 groups, at most three per (device, dtype) bucket during
the warmup, and zero once every factor is 1.
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

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}
MIXED = ["float", "float32", "float64", "bfloat16", "float16"]
KINDS = ["float", *DTYPES, "mixed", "shared", "shared+own"]
MODES = ["dampening", "WarmupLR", "attached"]
STEPS = 45  # past the longest period (40): some steps after every factor is 1


def _value(i: int) -> float:
    return 0.1 / (1 + i % 7)


def _kind_of(i: int, kind: str) -> str:
    return MIXED[i % len(MIXED)] if kind == "mixed" else kind


def _optimizer(n: int, kind: str) -> torch.optim.Optimizer:
    """``n`` groups with different learning rates of the given kind.

    ``shared``: every group holds the optimizer's default lr, one tensor object;
    ``shared+own``: every third group holds its own float64 tensor, the others
    share the default.
    """
    groups: list[dict[str, Any]] = []
    for i in range(n):
        group: dict[str, Any] = {"params": [torch.nn.Parameter(torch.zeros(2))]}
        if kind == "shared+own" and i % 3 == 0:
            group["lr"] = torch.tensor(_value(i), dtype=torch.float64)
        elif kind not in ("shared", "shared+own"):
            k = _kind_of(i, kind)
            group["lr"] = _value(i) if k == "float" else torch.tensor(_value(i), dtype=DTYPES[k])
        groups.append(group)
    shared = torch.tensor(0.05)
    return torch.optim.AdamW(groups, lr=shared, foreach=False)


def _omega(t: int, period: int) -> float:
    """The linear warmup factor min(1, t / period), exactly rounded."""
    return float(min(Fraction(1), Fraction(t, period)))


def _copy(lr: Any) -> Any:
    return lr.detach().clone() if isinstance(lr, torch.Tensor) else lr


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


def _periods(n: int, kind: str, uniform: bool) -> list[int]:
    # Non-uniform periods give different factors per group, some of them equal,
    # and the groups end their warmups (factor 1) at different steps. Groups
    # that share one tensor must share its factor too.
    if uniform or kind.startswith("shared"):
        return [12] * n
    return [(5, 12, 12, 40)[i % 4] for i in range(n)]


def _run_dampening(n: int, kind: str, periods: list[int], wrapped: bool) -> list[list[Any]]:
    """The groups' lrs after each step: the rate the next update uses."""
    opt = _optimizer(n, kind)
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, periods)
    both = pw.WarmupLR(sched, warmup)
    opt.step()
    objects = [g["lr"] for g in opt.param_groups]
    out = [[_copy(g["lr"]) for g in opt.param_groups]]
    for _ in range(STEPS):
        if wrapped:
            both.step()
        else:
            with warmup.dampening():
                sched.step()
        out.append([_copy(g["lr"]) for g in opt.param_groups])
        for group, obj in zip(opt.param_groups, objects, strict=True):
            assert group["lr"] is obj or not isinstance(obj, torch.Tensor)
    assert warmup.last_step == STEPS
    return out


def _run_attached(n: int, kind: str, periods: list[int], ref: list[list[Any]]) -> list[list[Any]]:
    """The lrs each update used, read by a step pre-hook that runs after the warmup's."""
    opt = _optimizer(n, kind)
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, periods).attach()
    used: list[list[Any]] = []
    opt.register_step_pre_hook(lambda *_: used.append([_copy(g["lr"]) for g in opt.param_groups]))
    objects = [g["lr"] for g in opt.param_groups]
    for step in range(STEPS + 1):
        opt.step()
        # between updates the groups hold the scheduler's own rates, bit for bit
        for i, group in enumerate(opt.param_groups):
            assert _same(group["lr"], ref[step][i]), (step, i)
            assert group["lr"] is objects[i] or not isinstance(objects[i], torch.Tensor)
        sched.step()
    assert warmup.last_step == STEPS + 1
    return used


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("n", "uniform"), [(1, True), (3, True), (3, False), (100, False)])
@pytest.mark.parametrize("kind", KINDS)
def test_trajectory_is_scheduler_times_closed_form_factor(
    kind: str, n: int, uniform: bool, mode: str
) -> None:
    ref = _reference(n, kind, STEPS)
    periods = _periods(n, kind, uniform)
    if mode == "attached":
        got = _run_attached(n, kind, periods, ref)
    else:
        got = _run_dampening(n, kind, periods, wrapped=mode == "WarmupLR")
    assert len(got) == STEPS + 1
    for step, row in enumerate(got):  # row `step` is what update t = step + 1 uses
        for i, lr in enumerate(row):
            expected = ref[step][i] * _omega(step + 1, periods[i])
            assert _same(lr, expected), (step, i, lr, expected)


@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("kind", ["float32", "mixed", "shared+own"])
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


def _check_failing_block(n: int, kind: str, periods: list[int]) -> None:
    opt = _optimizer(n, kind)
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, periods)
    opt.step()
    for _ in range(4):
        with warmup.dampening():
            sched.step()
    before = [_copy(g["lr"]) for g in opt.param_groups]
    stores = [_copy(lr) for lr in warmup.state_dict()["lrs"]]
    _failing_step(warmup, sched)
    assert warmup.last_step == 4
    for group, lr in zip(opt.param_groups, before, strict=True):
        assert _same(group["lr"], lr)
    for now, lr in zip(warmup.state_dict()["lrs"], stores, strict=True):
        assert _same(now, lr)


@pytest.mark.filterwarnings("ignore:the learning rate of param group:UserWarning")
@pytest.mark.parametrize("n", [3, 100])
@pytest.mark.parametrize("kind", ["float", "float32", "bfloat16", "mixed", "shared+own"])
def test_a_failing_block_leaves_every_lr_as_it_was(n: int, kind: str) -> None:
    _check_failing_block(n, kind, _periods(n, kind, uniform=False))


@pytest.mark.filterwarnings("ignore:the learning rate of param group:UserWarning")
@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("kind", ["float", "float32", "mixed"])
def test_a_failing_block_after_the_warmup_leaves_every_lr_as_it_was(n: int, kind: str) -> None:
    _check_failing_block(n, kind, [2] * n)  # every factor is 1 from the second step


@pytest.mark.parametrize("kind", ["float", "float64", "mixed", "shared+own"])
def test_a_failed_step_does_not_change_the_rest_of_the_run(kind: str) -> None:
    def run(fail_at: int | None) -> list[list[Any]]:
        opt = _optimizer(10, kind)
        sched = CosineAnnealingLR(opt, T_max=10)
        warmup = pw.LinearWarmup(opt, _periods(10, kind, uniform=False))
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
@pytest.mark.parametrize("kind", ["float", "float32", "float16", "mixed"])
def test_dampen_multiplies_whatever_the_groups_hold(n: int, kind: str) -> None:
    periods = _periods(n, kind, uniform=False)
    opt = _optimizer(n, kind)
    warmup = pw.LinearWarmup(opt, periods)
    for _ in range(3):
        with warmup.dampening():
            pass
    for step in (7, 8, 30, 50):
        held = [_copy(g["lr"]) for g in opt.param_groups]
        warmup.dampen(step)
        assert warmup.last_step == step
        for i, group in enumerate(opt.param_groups):
            assert _same(group["lr"], held[i] * _omega(step + 1, periods[i]))


def test_replaced_tensors_and_loaded_states_are_followed() -> None:
    n = 6
    ref = _reference(n, "float32", 12)
    opt = _optimizer(n, "float32")
    sched = CosineAnnealingLR(opt, T_max=10)
    warmup = pw.LinearWarmup(opt, 8)
    opt.step()
    for step in range(1, 13):
        if step == 4:  # a group's lr becomes another tensor object (same value)
            opt.param_groups[2]["lr"] = opt.param_groups[2]["lr"].clone()
        if step == 7:  # a state round trip replaces the stored tensors
            warmup.load_state_dict(copy.deepcopy(warmup.state_dict()))
        with warmup.dampening():
            sched.step()
        for i, group in enumerate(opt.param_groups):
            assert _same(group["lr"], ref[step][i] * _omega(step + 1, 8))


def test_a_copied_warmup_steps_its_own_optimizer() -> None:
    opt = _optimizer(4, "float32")
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


class _Fixed(pw.BaseWarmup):
    """A warmup whose factor is ``factor`` at every step."""

    factor = 1.0

    def warmup_factor(self, step: int, **params: Any) -> float:
        return self.factor


@pytest.mark.parametrize("dtype", list(DTYPES.values()))
def test_products_round_like_a_tensor_times_a_python_number(dtype: torch.dtype) -> None:
    """Awkward factors, every floating dtype: each product equals ``lr * factor``."""
    gen = torch.Generator().manual_seed(0)
    factors = [1 / 3, 0.1, 1e-7, 1 - 2**-30, 2**-149 * 3, 0.999999940395355]
    values = torch.rand(200, generator=gen, dtype=torch.float64).to(dtype)
    for factor in factors:
        opt = torch.optim.SGD(
            [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": v.clone()} for v in values]
        )
        warmup = _Fixed(opt, [{} for _ in values])
        warmup.factor = factor
        with warmup.dampening():  # a scheduler's rates, set inside the block
            for group, v in zip(opt.param_groups, values, strict=True):
                group["lr"].copy_(v)
        got = torch.stack([g["lr"] for g in opt.param_groups])
        assert torch.equal(got, values * factor), (dtype, factor)


def test_the_factor_stays_on_cpu_under_another_default_device() -> None:
    opt = _optimizer(3, "float32")
    warmup = pw.LinearWarmup(opt, 4)
    with torch.device("meta"):  # the default device for new tensors
        for _ in range(2):
            with warmup.dampening():
                pass
    for i, group in enumerate(opt.param_groups):
        assert torch.equal(group["lr"], torch.tensor(_value(i)) * _omega(3, 4))


def test_integer_factors_on_the_tensor_path() -> None:
    class Whole(pw.LinearWarmup):
        def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
            return 1 if step % 2 else 0.5  # an int every other step

    opt = _optimizer(3, "float32")
    warmup = Whole(opt, 4)
    for step in range(1, 5):
        with warmup.dampening():
            pass
        for i, group in enumerate(opt.param_groups):
            assert torch.equal(group["lr"], torch.tensor(_value(i)) * (1 if step % 2 else 0.5))


# -- torch ops per step ------------------------------------------------------------------


class _OpCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[Any] = []

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        self.ops.append(func)
        return func(*args, **(kwargs or {}))


def _ops(fn: Callable[[], object]) -> list[Any]:
    counter = _OpCounter()
    with counter:
        fn()
    return counter.ops


def _stepper(mode: str, n: int, kind: str, period: int) -> Callable[[], object]:
    """One warmup step of the given mode, with no scheduler in it."""
    opt = _optimizer(n, kind)
    if mode == "attached":
        pw.LinearWarmup(opt, period).attach()
        return opt.step  # no gradients: the update itself changes nothing
    warmup = pw.LinearWarmup(opt, period)
    if mode == "WarmupLR":
        return pw.WarmupLR(None, warmup).step
    if mode == "dampen":
        return warmup.dampen

    def block() -> None:
        with warmup.dampening():
            pass

    return block


BUCKETS = {"float32": 1, "bfloat16": 1, "shared+own": 2, "mixed": 4}
"""Kinds with tensor learning rates, and their number of (device, dtype) buckets."""
STEP_MODES = ["dampening", "dampen", "WarmupLR", "attached"]


def _ops_per_step(mode: str, n: int, kind: str, period: int) -> list[Any]:
    """The torch ops of one warmup step (attached: beyond those of a bare optimizer.step())."""
    step = _stepper(mode, n, kind, period)
    for _ in range(3):
        step()
    ops = _ops(step)
    if mode == "attached":
        plain = _optimizer(n, kind).step
        plain()
        for op in _ops(plain):  # the optimizer's own ops (its profiling record)
            ops.remove(op)
    return ops


@pytest.mark.parametrize("mode", STEP_MODES)
@pytest.mark.parametrize("kind", list(BUCKETS))
def test_torch_ops_per_step_do_not_grow_with_the_groups(mode: str, kind: str) -> None:
    few = _ops_per_step(mode, 2 if kind != "mixed" else 5, kind, 1000)
    many = _ops_per_step(mode, 100, kind, 1000)
    assert len(few) == len(many) > 0
    # the step path never reads a tensor's value on the host
    assert torch.ops.aten._local_scalar_dense.default not in many


@pytest.mark.parametrize("mode", STEP_MODES)
@pytest.mark.parametrize("kind", list(BUCKETS))
def test_at_most_three_torch_ops_per_bucket_during_the_warmup(mode: str, kind: str) -> None:
    assert len(_ops_per_step(mode, 100, kind, 1000)) <= 3 * BUCKETS[kind]


@pytest.mark.parametrize("mode", STEP_MODES)
@pytest.mark.parametrize("kind", [*BUCKETS, "shared"])
def test_one_copy_at_most_once_every_factor_is_one(mode: str, kind: str) -> None:
    """A block (or dampen()) records the rates as the undampened ones, so that ``lrs``
    follows the schedulers and a failing block can put them back: one batched copy."""
    ops = [str(op) for op in _ops_per_step(mode, 100, kind, period=2)]
    if mode in ("dampening", "WarmupLR", "dampen"):
        assert ops == ["aten._foreach_copy_.default"]
    else:
        assert ops == []


@pytest.mark.parametrize("mode", STEP_MODES)
def test_float_learning_rates_dispatch_no_torch_op(mode: str) -> None:
    assert _ops_per_step(mode, 100, "float", 1000) == []


# -- the in-graph mode: constant in the number of groups ----------------------------------


def _in_graph_ops(n: int, periods: tuple[int, ...], extras: bool = False) -> int:
    """Torch ops of one in-graph update beyond a bare ``optimizer.step()``."""
    groups = [
        {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": torch.tensor(0.1 / (1 + i % 3))}
        for i in range(n)
    ]
    opt = torch.optim.SGD(groups, lr=0.1)
    warmup = pw.LinearWarmup(opt, [periods[i % len(periods)] for i in range(n)])
    warmup.attach(in_graph=True)
    if extras:
        warmup.cool_down(5, after_update=max(periods))
    for _ in range(3):
        opt.step()
    plain = torch.optim.SGD(copy.deepcopy(groups), lr=0.1)
    return len(_ops(opt.step)) - len(_ops(plain.step))


@pytest.mark.parametrize("extras", [False, True], ids=["warmup", "warmup+cooldown"])
@pytest.mark.parametrize("periods", [(10,), (10, 20)], ids=["one-param-set", "two-param-sets"])
def test_in_graph_ops_are_the_same_for_1_and_1000_groups(
    periods: tuple[int, ...], extras: bool
) -> None:
    """One factor per distinct parameter set, one cast per (factor, dtype), one batched
    multiply: the count depends on the parameter sets, never on the groups."""
    counts = {n: _in_graph_ops(n, periods, extras) for n in (len(periods), 10, 100, 1000)}
    assert len(set(counts.values())) == 1, counts
    # measured (torch 2.13): 10 / 15 ops with one / two parameter sets, 24 / 29 with a
    # cooldown (its shape is a few elementwise ops of its own)
    assert 0 < counts[1000] <= 16 * len(periods) + 12 * extras, counts
