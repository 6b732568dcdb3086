"""A warmup built on an optimizer that already has one takes over from it.

Code written for the original package rebuilds warmups on the same optimizer: to
load a saved state into a fresh object, in a notebook cell run again, after
changing a setting. The new warmup starts from the undampened rates (also when the
old one was dropped without ``detach()``), the old one is detached, and driving it
afterwards raises an error that names the new one.

Every rate an update uses is read from the update itself: plain SGD on a float64
parameter set to 0 with gradient 1 moves it to exactly ``-lr``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest
import torch
from conftest import make_optimizer
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

CLASSES: dict[str, Callable[[torch.optim.Optimizer], pw.BaseWarmup]] = {
    "LinearWarmup": lambda o: pw.LinearWarmup(o, warmup_period=10),
    "ExponentialWarmup": lambda o: pw.ExponentialWarmup(o, warmup_period=10),
    "UntunedLinearWarmup": pw.UntunedLinearWarmup,
    "UntunedExponentialWarmup": pw.UntunedExponentialWarmup,
    "RAdamWarmup": pw.RAdamWarmup,
}
LR_KINDS = ["float", "tensor64"]


def sgd(lr: float = 0.1, kind: str = "float") -> tuple[torch.optim.SGD, torch.Tensor]:
    """Plain SGD on one float64 parameter; :func:`update` reads the rate it used."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    rate: float | torch.Tensor = lr if kind == "float" else torch.tensor(lr, dtype=torch.float64)
    return torch.optim.SGD([p], lr=rate), p


def update(opt: torch.optim.Optimizer, p: torch.Tensor, closure: Any = None) -> float:
    """One optimizer update; returns the learning rate it used, exactly."""
    with torch.no_grad():
        p.zero_()
    p.grad = torch.ones_like(p)
    opt.step(closure) if closure is not None else opt.step()
    return -float(p.detach()[0])


def lr_now(opt: torch.optim.Optimizer) -> float:
    return float(opt.param_groups[0]["lr"])


# -- the original package's own pattern ---------------------------------------------------


@pytest.mark.parametrize("lr_kind", ["float", "tensor64", "tensor32"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_load_into_a_fresh_warmup_on_the_same_optimizer(name: str, lr_kind: str) -> None:
    """Build, step, build a second one on the same optimizer, load the first one's state:
    every ``__dict__`` entry but the optimizer is equal (the original's test pattern)."""
    opt = make_optimizer(lr_kind, 2)
    w = CLASSES[name](opt)
    for _ in range(3):
        opt.step()
        with w.dampening():
            pass
    other = CLASSES[name](opt)  # takes over
    other.load_state_dict(w.state_dict())
    assert (
        set(w.__dict__) == set(other.__dict__) == {"optimizer", "lrs", "warmup_params", "last_step"}
    )
    for key in w.__dict__:
        if key != "optimizer":
            assert w.__dict__[key] == other.__dict__[key], key
    # the new one drives the optimizer as the old one would have
    factors = other.lr_factors(other.last_step)
    assert [float(g["lr"]) for g in opt.param_groups] == pytest.approx(
        [float(lr) * f for lr, f in zip(other.lrs, factors, strict=True)], rel=1e-7
    )


@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("attached", [False, True])
def test_the_old_warmup_names_its_replacement(attached: bool, lr_kind: str) -> None:
    opt, p = sgd(0.1, lr_kind)
    old = pw.LinearWarmup(opt, 5)
    if attached:
        old.attach()
    update(opt, p)
    if not attached:
        with old.dampening():
            pass
    state = old.state_dict()
    new = pw.ExponentialWarmup(opt, 5)
    assert not old.attached
    old.detach()  # a no-op
    assert old.state_dict() == state  # reads still work
    for drive in (old.dampen, lambda: old.dampening().__enter__(), old.attach):
        with pytest.raises(RuntimeError, match=r"ExponentialWarmup \(id 0x[0-9a-f]+\) was built"):
            drive()
    assert new.lrs == [pytest.approx(0.1)]
    assert update(opt, p) == pytest.approx(0.1 * new.lr_factors(0)[0], rel=1e-15)


# -- notebooks: the same cell run again ---------------------------------------------------


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_a_cell_run_twice_attached(lr_kind: str) -> None:
    opt, p = sgd(0.5, lr_kind)
    warmup = pw.LinearWarmup(opt, 4).attach()
    first = warmup
    warmup = pw.LinearWarmup(opt, 4).attach()  # the cell again: the old object is still alive
    assert not first.attached and warmup.attached
    used = [update(opt, p) for _ in range(5)]
    assert used == [0.125, 0.25, 0.375, 0.5, 0.5]


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_a_cell_run_twice_in_dampening_mode(lr_kind: str) -> None:
    opt, p = sgd(0.5, lr_kind)
    decay = sched.ExponentialLR(opt, gamma=0.5)
    warmup = pw.LinearWarmup(opt, 4)
    update(opt, p)
    with warmup.dampening():
        decay.step()
    warmup = pw.LinearWarmup(opt, 4)  # starts over from the undampened 0.25
    assert [float(lr) for lr in warmup.lrs] == [0.25]
    used = []
    for _ in range(3):
        used.append(update(opt, p))
        with warmup.dampening():
            decay.step()
    assert used == [0.25 / 4, 0.125 * 2 / 4, 0.0625 * 3 / 4]


# -- a warmup dropped without detach() ------------------------------------------------------


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_a_dropped_warmup_leaves_its_undampened_rates(lr_kind: str) -> None:
    """The issue's case: lr 0.1, LinearWarmup(o, 5), three steps, del w, LinearWarmup(o, 5)."""
    opt, p = sgd(0.1, lr_kind)
    w = pw.LinearWarmup(opt, 5)
    for _ in range(3):
        update(opt, p)
        with w.dampening():
            pass
    assert lr_now(opt) == pytest.approx(0.08)
    del w
    gc.collect()
    new = pw.LinearWarmup(opt, 5)
    assert [float(lr) for lr in new.lrs] == [0.1]  # not the dampened 0.08
    assert lr_now(opt) == pytest.approx(0.02, rel=1e-15)
    assert update(opt, p) == pytest.approx(0.02, rel=1e-15)


def test_a_rate_changed_after_the_drop_is_kept() -> None:
    """A float that differs from what the dropped warmup wrote was set since: left alone."""
    opt, _ = sgd(0.1)
    w = pw.LinearWarmup(opt, 5)
    del w
    gc.collect()
    opt.param_groups[0]["lr"] = 0.3  # the user's own rate
    new = pw.LinearWarmup(opt, 5)
    assert new.lrs == [0.3]


def test_a_dropped_attached_warmup_keeps_driving() -> None:
    """``LinearWarmup(opt, n).attach()`` without keeping the object is the one-liner."""
    opt, p = sgd(0.4)
    pw.LinearWarmup(opt, 4).attach()
    gc.collect()
    assert [update(opt, p) for _ in range(5)] == [0.1, 0.2, pytest.approx(0.3), 0.4, 0.4]
    # and a new warmup still takes over from it
    pw.LinearWarmup(opt, 2).attach()
    assert [update(opt, p) for _ in range(3)] == [0.2, 0.4, 0.4]


# -- a takeover changes nothing when it is refused -------------------------------------------


def test_a_refused_warmup_leaves_the_old_one_driving() -> None:
    opt, p = sgd(0.1)
    old = pw.LinearWarmup(opt, 4)
    with pytest.raises(ValueError, match="warmup_period must be a positive int"):
        pw.LinearWarmup(opt, 0)
    assert lr_now(opt) == 0.025
    update(opt, p)
    with old.dampening():
        pass
    assert lr_now(opt) == 0.05


def test_the_registry_keeps_nothing_alive() -> None:
    import weakref

    opt, _ = sgd(0.1)
    w = pw.LinearWarmup(opt, 4)
    refs = weakref.ref(opt), weakref.ref(w)
    del opt, w
    gc.collect()
    assert refs[0]() is None and refs[1]() is None
