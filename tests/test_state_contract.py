"""The state contract: ``state_dict()`` is the instance's ``__dict__`` minus the optimizer.

An instance's ``__dict__`` holds exactly ``optimizer``, ``lrs``, ``warmup_params``
and ``last_step`` (private caches live elsewhere), so a warmup restored from
another's state has the same ``__dict__`` apart from the optimizer, whatever it
went through before (steps, attach, detach).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import torch
from conftest import make_optimizer
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

pytestmark = pytest.mark.filterwarnings("error::pytorch_warmup.WarmupWarning")

KEYS = {"optimizer", "lrs", "warmup_params", "last_step"}
LR_KINDS = ["float", "tensor32", "tensor64"]


class HalfPeriodWarmup(pw.BaseWarmup):
    """A user's own warmup: linear over a period stored per group."""

    def __init__(self, optimizer: torch.optim.Optimizer, last_step: int = -1) -> None:
        params = [{"period": 3 + i} for i in range(len(optimizer.param_groups))]
        super().__init__(optimizer, params, last_step)

    def warmup_factor(self, step: int, period: int) -> float:  # type: ignore[override]
        return min(1.0, (step + 1) / period)


# Each kind builds a warmup; "other" builds one with different parameters, so that
# loading visibly replaces them.
BUILD: dict[str, tuple[Callable[[Any], pw.BaseWarmup], Callable[[Any], pw.BaseWarmup]]] = {
    "LinearWarmup": (lambda o: pw.LinearWarmup(o, [4, 6]), lambda o: pw.LinearWarmup(o, 9)),
    "ExponentialWarmup": (
        lambda o: pw.ExponentialWarmup(o, 3),
        lambda o: pw.ExponentialWarmup(o, [7, 8]),
    ),
    "UntunedLinearWarmup": (pw.UntunedLinearWarmup, pw.UntunedLinearWarmup),
    "UntunedExponentialWarmup": (pw.UntunedExponentialWarmup, pw.UntunedExponentialWarmup),
    "RAdamWarmup": (pw.RAdamWarmup, pw.RAdamWarmup),
    "subclass": (HalfPeriodWarmup, HalfPeriodWarmup),
}

OTHER_BETAS = ((0.9, 0.95), (0.9, 0.9))  # other untuned periods and RAdam parameters


def _assert_same(a: Any, b: Any, where: str) -> None:
    """Equal values of the same kinds; tensors compared by value, dtype and shape."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), f"{where}: {a!r} vs {b!r}"
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a!r} vs {b!r}"
        assert torch.equal(a, b), f"{where}: {a!r} vs {b!r}"
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: {a!r} vs {b!r}"
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} vs {b!r}"


def _assert_contract(w: pw.BaseWarmup) -> None:
    assert set(vars(w)) == KEYS, sorted(vars(w))
    assert set(w.state_dict()) == KEYS - {"optimizer"}


def _run(opt: torch.optim.Optimizer, w: pw.BaseWarmup, s: Any, steps: int, attached: bool) -> None:
    for _ in range(steps):
        opt.step()
        if attached:
            s.step()
        else:
            with w.dampening():
                s.step()


@pytest.mark.parametrize("mode", ["dampening", "attached"])
@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("kind", list(BUILD))
def test_loaded_warmup_has_the_same_dict(kind: str, lr_kind: str, mode: str) -> None:
    make, make_other = BUILD[kind]
    attached = mode == "attached"
    opt = make_optimizer(lr_kind, 2)
    cosine = sched.CosineAnnealingLR(opt, T_max=20, eta_min=1e-4)
    w = make(opt)
    _assert_contract(w)
    if attached:
        w = w.attach()
        _assert_contract(w)
    _run(opt, w, cosine, 3, attached)
    _assert_contract(w)

    other_opt = make_optimizer(lr_kind, 2, betas=OTHER_BETAS, lrs=(0.5, 0.2))
    other = make_other(other_opt)
    if attached:
        other = other.attach()
    state = w.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    other.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=True))
    assert set(vars(other)) == KEYS, sorted(vars(other))
    assert other.optimizer is other_opt
    for key in KEYS - {"optimizer"}:
        _assert_same(vars(w)[key], vars(other)[key], key)
    # the state itself is what __dict__ holds
    for key, value in state.items():
        _assert_same(value, vars(w)[key], f"state {key}")


@pytest.mark.parametrize("mode", ["dampening", "attached"])
@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("kind", ["LinearWarmup", "RAdamWarmup"])
def test_loaded_state_is_saved_back_unchanged(kind: str, lr_kind: str, mode: str) -> None:
    """load_state_dict(s) then state_dict() gives s back, whatever the optimizer held."""
    make, make_other = BUILD[kind]
    attached = mode == "attached"
    opt = make_optimizer(lr_kind, 2)
    cosine = sched.CosineAnnealingLR(opt, T_max=20, eta_min=1e-4)
    w = make(opt)
    if attached:
        w = w.attach()
    _run(opt, w, cosine, 3, attached)
    state = w.state_dict()
    other_opt = make_optimizer(lr_kind, 2, betas=OTHER_BETAS, lrs=(0.5, 0.2))
    other = make_other(other_opt)
    if attached:
        other = other.attach()
    other.load_state_dict(state)
    _assert_same(other.state_dict(), state, "state")
    _assert_contract(other)
    for key in KEYS - {"optimizer"}:
        _assert_same(vars(w)[key], vars(other)[key], key)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("kind", list(BUILD))
def test_dict_keeps_the_contract_through_attach_and_detach(kind: str, lr_kind: str) -> None:
    opt = make_optimizer(lr_kind, 2)
    w = BUILD[kind][0](opt)
    w.detach()
    _assert_contract(w)
    w.attach()
    _assert_contract(w)
    opt.step()
    _assert_contract(w)
    w.detach()
    _assert_contract(w)


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_dict_keeps_the_contract_inside_dampening_and_after_a_load(lr_kind: str) -> None:
    opt = make_optimizer(lr_kind, 2)
    w = pw.LinearWarmup(opt, 4)
    with w.dampening():
        _assert_contract(w)
    _assert_contract(w)
    w.load_state_dict(w.state_dict())
    _assert_contract(w)
    w.dampen()
    _assert_contract(w)
