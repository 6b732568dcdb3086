"""Whole learning-rate trajectories for every usage pattern of the spec.

Each test runs a training loop twice, with and without the warmup, and checks
that at every iteration t the warmed-up learning rate equals the undampened one
times an independent reference of the warmup factor omega_t.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
import torch
from conftest import (
    LR_KINDS,
    REFS,
    SCHEDULERS_KEEP_LR_TENSORS,
    WARMUPS,
    assert_close,
    linear_ref,
    lrs_of,
    make_optimizer,
)
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

N = 24  # iterations per run; every warmup of the matrix is still warming up at t = 3

Loop = Callable[[torch.optim.Optimizer, pw.BaseWarmup | None], list[list[float]]]


def _check(
    kind: str,
    lr_kind: str,
    n_groups: int,
    build: Callable[..., Any],
    loop: Loop,
    *,
    same_objects: bool = True,
) -> None:
    """Compare a warmed-up loop with the plain one.

    ``same_objects=False`` is for an LR scheduler that itself rebinds a tensor lr to a
    new tensor (``CosineAnnealingWarmRestarts`` before torch 2.10): the group's lr must
    then still be a tensor of the same dtype and device.
    """
    ref_opt = make_optimizer(lr_kind, n_groups)
    build(ref_opt)
    reference = loop(ref_opt, None)

    opt = make_optimizer(lr_kind, n_groups)
    build(opt)
    lr_objects = [g["lr"] for g in opt.param_groups]
    warmup = WARMUPS[kind](opt)
    warmed = loop(opt, warmup)

    assert len(warmed) == len(reference) == N
    for t, (got, ref) in enumerate(zip(warmed, reference, strict=True), start=1):
        for i, group in enumerate(opt.param_groups):
            omega = REFS[kind](t, group)
            assert_close(got[i], ref[i] * omega, lr_kind, f"t={t} group={i}")
            if isinstance(omega, Fraction) and lr_kind != "tensor32":
                # linear factors are exact rationals: the product is bit-exact
                assert got[i] == ref[i] * float(omega), f"t={t} group={i}"
    # tensor learning rates stay the very same objects
    for before, group in zip(lr_objects, opt.param_groups, strict=True):
        if isinstance(before, torch.Tensor):
            if same_objects:
                assert group["lr"] is before
            else:
                assert isinstance(group["lr"], torch.Tensor)
                assert (group["lr"].dtype, group["lr"].device) == (before.dtype, before.device)


matrix = pytest.mark.parametrize(
    ("kind", "lr_kind", "n_groups"),
    [(k, lr, n) for k in WARMUPS for lr in LR_KINDS for n in (1, 2)],
)


def _record(opt: torch.optim.Optimizer, lrs: list[list[float]]) -> None:
    lrs.append(lrs_of(opt))
    opt.step()


# -- dampening(): the manual's patterns --------------------------------------------


def _stepping_each_iteration(scheds: list[Any]) -> Callable[..., list[list[float]]]:
    """The loop of the plain pattern: the last scheduler built, stepped once per
    iteration (inside ``dampening()`` when there is a warmup); the lrs each update used."""

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s = scheds[-1]
        out: list[list[float]] = []
        for _ in range(N):
            _record(opt, out)
            if w is None:
                s.step()
            else:
                with w.dampening():
                    s.step()
        return out

    return loop


@matrix
def test_no_scheduler(kind: str, lr_kind: str, n_groups: int) -> None:
    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        out: list[list[float]] = []
        for _ in range(N):
            _record(opt, out)
            if w is not None:
                with w.dampening():
                    pass
        return out

    _check(kind, lr_kind, n_groups, lambda opt: None, loop)


@matrix
def test_one_scheduler(kind: str, lr_kind: str, n_groups: int) -> None:
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append(sched.CosineAnnealingLR(opt, T_max=N, eta_min=1e-4))

    _check(kind, lr_kind, n_groups, build, _stepping_each_iteration(scheds))


@matrix
def test_two_chained_schedulers(kind: str, lr_kind: str, n_groups: int) -> None:
    scheds: list[tuple[sched.LRScheduler, sched.LRScheduler]] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append((sched.ExponentialLR(opt, gamma=0.9), sched.StepLR(opt, 4, gamma=0.5)))

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s1, s2 = scheds[-1]
        out: list[list[float]] = []
        for _ in range(N):
            _record(opt, out)
            if w is None:
                s1.step()
                s2.step()
            else:
                with w.dampening():
                    s1.step()
                    s2.step()
        return out

    _check(kind, lr_kind, n_groups, build, loop)


@matrix
def test_delayed_scheduler(kind: str, lr_kind: str, n_groups: int) -> None:
    delay = 5
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append(sched.ExponentialLR(opt, gamma=0.8))

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s = scheds[-1]
        out: list[list[float]] = []
        for it in range(N):
            _record(opt, out)
            if w is None:
                if it + 1 >= delay:
                    s.step()
            else:
                iteration = w.last_step + 1
                assert iteration == it + 1
                with w.dampening():
                    if iteration >= delay:
                        s.step()
        return out

    _check(kind, lr_kind, n_groups, build, loop)


@matrix
def test_warm_restarts_with_fractional_epochs(kind: str, lr_kind: str, n_groups: int) -> None:
    iters = 4  # batches per epoch
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append(sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=1e-4))

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s = scheds[-1]
        out: list[list[float]] = []
        for epoch in range(N // iters):
            for i in range(iters):
                _record(opt, out)
                if w is None:
                    s.step(epoch + (i + 1) / iters)
                else:
                    with w.dampening():
                        s.step(epoch + (i + 1) / iters)
        return out

    # Before torch 2.10 CosineAnnealingWarmRestarts.step() assigns a new lr tensor.
    _check(kind, lr_kind, n_groups, build, loop, same_objects=SCHEDULERS_KEEP_LR_TENSORS)


@pytest.mark.filterwarnings("ignore:The epoch parameter:UserWarning")  # torch < 2.10
@matrix
def test_sequential_scheduler(kind: str, lr_kind: str, n_groups: int) -> None:
    """A linear ramp, then a cosine from a milestone on. Before torch 2.10 the
    SequentialLR constructor puts group['initial_lr'] itself into group['lr'], so a
    tensor lr is from then on the base rate of both schedulers too."""
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        ramp = sched.LinearLR(opt, start_factor=0.25, total_iters=4)
        cosine = sched.CosineAnnealingLR(opt, T_max=N, eta_min=1e-4)
        scheds.append(sched.SequentialLR(opt, [ramp, cosine], milestones=[6]))

    _check(kind, lr_kind, n_groups, build, _stepping_each_iteration(scheds))


# -- the original README's approaches ----------------------------------------------


@pytest.mark.filterwarnings("ignore:The epoch parameter:UserWarning")
@matrix
def test_approach1_closed_form_step(kind: str, lr_kind: str, n_groups: int) -> None:
    """lr_scheduler.step(lr_scheduler.last_epoch + 1) then warmup.dampen()."""
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append(sched.CosineAnnealingLR(opt, T_max=N))

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s = scheds[-1]
        out: list[list[float]] = []
        for _ in range(N):
            _record(opt, out)
            s.step(s.last_epoch + 1)
            if w is not None:
                w.dampen()
        return out

    _check(kind, lr_kind, n_groups, build, loop)


@pytest.mark.parametrize("kind", list(WARMUPS))
@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_approach1_plain_step_with_a_closed_form_scheduler(kind: str, lr_kind: str) -> None:
    """lr_scheduler.step() then warmup.dampen(), with a scheduler computed from base_lrs."""
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append(sched.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * k / N))))

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s = scheds[-1]
        out: list[list[float]] = []
        for _ in range(N):
            _record(opt, out)
            s.step()
            if w is not None:
                w.dampen()
        return out

    _check(kind, lr_kind, 2, build, loop)


def test_approach1_plain_step_compounds_with_a_chainable_scheduler() -> None:
    """Why dampening() exists: a chainable scheduler stepped outside it sees the
    dampened lr and keeps the factor; inside dampening() it does not."""
    results = {}
    for pattern in ("outside", "inside"):
        opt = make_optimizer("float", 1)
        s = sched.ExponentialLR(opt, gamma=0.5)
        w = pw.LinearWarmup(opt, warmup_period=4)
        for _ in range(3):
            opt.step()
            if pattern == "outside":
                s.step()
                w.dampen()
            else:
                with w.dampening():
                    s.step()
        results[pattern] = opt.param_groups[0]["lr"]
    # t = 4: scheduler lr 0.1 * 0.5**3, factor 1
    assert results["inside"] == 0.1 * 0.5**3
    assert results["outside"] == pytest.approx(0.1 * 0.5**3 * (1 / 4) * (2 / 4) * (3 / 4) * 1)


@pytest.mark.filterwarnings("ignore:The epoch parameter:UserWarning")
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
@matrix
def test_approach2_epoch_schedule(kind: str, lr_kind: str, n_groups: int) -> None:
    """lr_scheduler.step(epoch - 1) and warmup.dampen() before each batch."""
    iters, epochs = 4, N // 4
    scheds: list[sched.LRScheduler] = []

    def build(opt: torch.optim.Optimizer) -> None:
        scheds.append(sched.MultiStepLR(opt, milestones=[epochs // 3], gamma=0.1))

    def loop(opt: torch.optim.Optimizer, w: pw.BaseWarmup | None) -> list[list[float]]:
        s = scheds[-1]
        if w is not None:
            w.last_step = -1  # as in the README: the first dampen() is step 0
        out: list[list[float]] = []
        for epoch in range(1, epochs + 1):
            for _ in range(iters):
                s.step(epoch - 1)
                if w is not None:
                    w.dampen()
                _record(opt, out)
        return out

    _check(kind, lr_kind, n_groups, build, loop)


def test_readme_approach1_as_written() -> None:
    """The README's first example, verbatim apart from the data."""
    params = [torch.nn.Parameter(torch.zeros(2))]
    dataloader = range(5)
    num_epochs = 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = torch.optim.AdamW(params, lr=0.001, betas=(0.9, 0.999), weight_decay=0.01)
        num_steps = len(dataloader) * num_epochs
        lr_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_steps)
        warmup_scheduler = pw.UntunedLinearWarmup(optimizer)
        used = []
        for _epoch in range(1, num_epochs + 1):
            for _batch in dataloader:
                optimizer.zero_grad()
                used.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                lr_scheduler.step(lr_scheduler.last_epoch + 1)
                warmup_scheduler.dampen()
    for k, lr in enumerate(used):
        cosine = 0.001 * (1 + math.cos(math.pi * k / num_steps)) / 2
        assert lr == pytest.approx(cosine * float(linear_ref(k + 1, 2000)), rel=1e-15)


@pytest.mark.parametrize(
    "make_warmup",
    [pw.UntunedLinearWarmup, pw.UntunedExponentialWarmup, pw.RAdamWarmup,
     lambda o: pw.LinearWarmup(o, 3), lambda o: pw.ExponentialWarmup(o, 3)],
)  # fmt: skip
def test_construction_dampens_once(make_warmup: Callable[[Any], pw.BaseWarmup]) -> None:
    opt = make_optimizer("float", 2)
    before = lrs_of(opt)
    w = make_warmup(opt)
    assert w.last_step == 0
    assert w.lrs == before
    for lr, base, params in zip(lrs_of(opt), before, w.warmup_params, strict=True):
        assert lr == base * w.warmup_factor(0, **params)


def test_last_step_argument_resumes_the_schedule() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10, last_step=4)
    assert w.last_step == 5
    assert opt.param_groups[0]["lr"] == 0.1 * (6 / 10)


def test_dampen_with_explicit_step() -> None:
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 10)
    with w.dampening():
        pass
    opt.param_groups[0]["lr"] = 0.2
    w.dampen(6)
    assert w.last_step == 6
    assert opt.param_groups[0]["lr"] == 0.2 * (7 / 10)
