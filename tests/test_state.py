"""Saving and resuming: exact trajectories, the original format, refusals that change nothing."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import LR_KINDS, WARMUPS, lrs_of, make_optimizer
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw


def _setup(kind: str, lr_kind: str) -> tuple[Any, Any, pw.BaseWarmup]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(
        [
            {"params": [model.weight], "lr": _lr(0.1, lr_kind), "betas": (0.9, 0.7)},
            {"params": [model.bias], "lr": _lr(0.03, lr_kind), "betas": (0.9, 0.8)},
        ],
        foreach=False,
    )
    cosine = sched.CosineAnnealingLR(opt, T_max=40, eta_min=1e-4)
    return model, (opt, cosine), WARMUPS[kind](opt)


def _lr(value: float, lr_kind: str) -> float | torch.Tensor:
    if lr_kind == "float":
        return value
    return torch.tensor(value, dtype=torch.float64 if lr_kind == "tensor64" else torch.float32)


def _train(model: Any, opt: Any, cosine: Any, warmup: pw.BaseWarmup, steps: int) -> list[Any]:
    out = []
    x = torch.linspace(-1, 1, 12).reshape(4, 3)
    for _ in range(steps):
        out.append(
            [g["lr"].item() if torch.is_tensor(g["lr"]) else g["lr"] for g in opt.param_groups]
        )
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        with warmup.dampening():
            cosine.step()
    out.append(lrs_of(opt))
    return out


@pytest.mark.parametrize("kind", list(WARMUPS))
@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_resume_reproduces_the_trajectory_exactly(kind: str, lr_kind: str, tmp_path: Path) -> None:
    model, (opt, cosine), warmup = _setup(kind, lr_kind)
    uninterrupted = _train(model, opt, cosine, warmup, 20)
    final_weight = model.weight.detach().clone()

    model, (opt, cosine), warmup = _setup(kind, lr_kind)
    first = _train(model, opt, cosine, warmup, 7)
    path = tmp_path / "ckpt.pt"
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": cosine.state_dict(),
            "warmup": warmup.state_dict(),
        },
        path,
    )
    ckpt = torch.load(path, weights_only=True)
    model2, (opt2, cosine2), warmup2 = _setup(kind, lr_kind)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    cosine2.load_state_dict(ckpt["scheduler"])
    warmup2.load_state_dict(ckpt["warmup"])
    assert warmup2.last_step == 7
    rest = _train(model2, opt2, cosine2, warmup2, 13)

    assert first[:-1] + rest == uninterrupted  # bit for bit
    assert torch.equal(model2.weight, final_weight)


def test_state_has_the_original_keys_and_plain_types() -> None:
    opt = make_optimizer("tensor32", 2)
    w = pw.RAdamWarmup(opt)
    state = w.state_dict()
    assert set(state) == {"lrs", "warmup_params", "last_step"}
    assert isinstance(state["last_step"], int)
    assert all(isinstance(lr, torch.Tensor) and lr.dim() == 0 for lr in state["lrs"])
    for params in state["warmup_params"]:
        assert set(params) == {"beta2", "rho_inf", "offset"}
        assert type(params["beta2"]) is float
        assert type(params["rho_inf"]) is float
        assert type(params["offset"]) is int


def test_state_holds_copies_not_aliases() -> None:
    opt = make_optimizer("tensor64", 1)
    w = pw.LinearWarmup(opt, 5)
    state = w.state_dict()
    state["lrs"][0].fill_(123.0)
    state["warmup_params"][0]["warmup_period"] = 99
    assert w.lrs[0].item() == 0.1
    assert w.warmup_params == [{"warmup_period": 5}]
    # the stored undampened value is not the optimizer's tensor either
    assert w.lrs[0] is not opt.param_groups[0]["lr"]
    assert w.lrs[0].data_ptr() != opt.param_groups[0]["lr"].data_ptr()


def test_load_does_not_alias_or_mutate_the_given_dict() -> None:
    opt = make_optimizer("tensor64", 1)
    w = pw.LinearWarmup(opt, 5)
    lr = torch.tensor(0.5, dtype=torch.float64)
    state = {"lrs": [lr], "warmup_params": [{"warmup_period": 8}], "last_step": 3}
    before = copy.deepcopy(state)
    w.load_state_dict(state)
    assert state["lrs"][0].item() == before["lrs"][0].item()
    assert state["warmup_params"] == before["warmup_params"]
    state["warmup_params"][0]["warmup_period"] = 1
    state["lrs"][0].fill_(9.0)
    assert w.warmup_params == [{"warmup_period": 8}]
    assert w.lrs[0].item() == 0.5


def test_original_format_checkpoints_load() -> None:
    """States as the original package writes them (its __dict__ minus the optimizer)."""
    opt = make_optimizer("float", 1, betas=((0.9, 0.999),))
    w = pw.UntunedLinearWarmup(opt)
    # The original floors 2/(1-0.999) to 1999; a checkpoint keeps its own period.
    w.load_state_dict({"warmup_params": [{"warmup_period": 1999}], "last_step": 10, "lrs": [0.001]})
    assert w.warmup_params == [{"warmup_period": 1999}]
    with w.dampening():
        pass
    assert opt.param_groups[0]["lr"] == 0.001 * (12 / 1999)

    opt = make_optimizer("float", 1, betas=((0.9, 0.999),))
    r = pw.RAdamWarmup(opt)
    rho_inf = 2.0 / (1.0 - 0.999) - 1.0
    r.load_state_dict(
        {"warmup_params": [{"beta2": 0.999, "rho_inf": rho_inf, "offset": 5}], "last_step": 3,
         "lrs": [0.002]}
    )  # fmt: skip
    assert r.last_step == 3 and r.lrs == [0.002]


def test_float_checkpoint_into_tensor_optimizer_and_back() -> None:
    opt = make_optimizer("tensor32", 1)
    w = pw.LinearWarmup(opt, 5)
    w.load_state_dict({"lrs": [0.25], "warmup_params": [{"warmup_period": 5}], "last_step": 1})
    assert isinstance(w.lrs[0], torch.Tensor) and w.lrs[0].dtype == torch.float32
    opt = make_optimizer("float", 1)
    w = pw.LinearWarmup(opt, 5)
    w.load_state_dict({"lrs": [torch.tensor(0.25)], "warmup_params": [{"warmup_period": 5}],
                       "last_step": 1})  # fmt: skip
    assert w.lrs == [0.25]


def _good_state() -> dict[str, Any]:
    return {"lrs": [0.1, 0.03], "warmup_params": [{"warmup_period": 4}, {"warmup_period": 6}],
            "last_step": 2}  # fmt: skip


def _mutate(**changes: Any) -> dict[str, Any]:
    state = _good_state()
    for key, value in changes.items():
        if value is _DELETE:
            del state[key]
        else:
            state[key] = value
    return state


_DELETE = object()

BAD_STATES = [
    ("not a dict", [1, 2, 3], TypeError, "expects a dict"),
    ("missing key", _mutate(last_step=_DELETE), ValueError, r"missing \['last_step'\]"),
    ("unknown key", {**_good_state(), "optimizer": "x"}, ValueError, r"unknown \['optimizer'\]"),
    ("lrs not a list", _mutate(lrs=0.1), TypeError, "'lrs' must be a list"),
    ("lrs too short", _mutate(lrs=[0.1]), ValueError,
     r"the optimizer has 2 param group\(s\), state 'lrs'=.* has 1"),
    ("lr is a string", _mutate(lrs=[0.1, "0.1"]), TypeError, r"'lrs'\]?\[1\]"),
    ("lr is NaN", _mutate(lrs=[0.1, math.nan]), ValueError, "finite and >= 0"),
    ("lr is negative", _mutate(lrs=[-0.1, 0.1]), ValueError, "finite and >= 0, got -0.1"),
    ("lr is a vector", _mutate(lrs=[torch.ones(2), 0.1]), TypeError, "shape"),
    ("lr is a bool", _mutate(lrs=[True, 0.1]), TypeError, "bool"),
    ("params not a list", _mutate(warmup_params={"warmup_period": 3}), TypeError, "list"),
    ("params too long", _mutate(warmup_params=[{"warmup_period": 3}] * 3), ValueError,
     "one entry per param group"),
    ("params wrong keys", _mutate(warmup_params=[{"beta2": 0.9, "rho_inf": 19.0, "offset": 5}] * 2),
     ValueError, r"exactly the keys \['warmup_period'\]"),
    ("period zero", _mutate(warmup_params=[{"warmup_period": 0}, {"warmup_period": 3}]),
     ValueError, "positive int, got 0"),
    ("period float", _mutate(warmup_params=[{"warmup_period": 3.0}, {"warmup_period": 3}]),
     TypeError, "must be an int, got 3.0"),
    ("period bool", _mutate(warmup_params=[{"warmup_period": True}, {"warmup_period": 3}]),
     TypeError, "must be an int, got True"),
    ("period inf", _mutate(warmup_params=[{"warmup_period": math.inf}, {"warmup_period": 3}]),
     TypeError, "must be an int, got inf"),
    ("params not dicts", _mutate(warmup_params=[3, 3]), TypeError, "must be a dict"),
    ("last_step float", _mutate(last_step=2.0), TypeError, "'last_step' must be an int"),
    ("last_step too small", _mutate(last_step=-2), ValueError, ">= -1, got -2"),
    ("last_step None", _mutate(last_step=None), TypeError, "must be an int, got None"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("state", "error", "match"), [c[1:] for c in BAD_STATES], ids=[c[0] for c in BAD_STATES]
)
def test_bad_states_are_refused_and_change_nothing(state: Any, error: type, match: str) -> None:
    opt = make_optimizer("float", 2)
    s = sched.StepLR(opt, 2)
    w = pw.LinearWarmup(opt, [4, 6])
    opt.step()
    with w.dampening():
        s.step()
    before_state = w.state_dict()
    before_lrs = lrs_of(opt)
    given = copy.deepcopy(state)
    with pytest.raises(error, match=match):
        w.load_state_dict(state)
    assert w.state_dict() == before_state
    assert lrs_of(opt) == before_lrs
    if isinstance(state, dict):
        assert state.keys() == given.keys()
        assert repr(state) == repr(given)
    # and the warmup keeps working exactly as before
    opt.step()
    with w.dampening():
        s.step()
    assert w.last_step == 2


def test_radam_state_is_validated() -> None:
    opt = make_optimizer("float", 1, betas=((0.9, 0.999),))
    r = pw.RAdamWarmup(opt)
    good = r.state_dict()
    for params, error, match in [
        ({"beta2": 0.5, "rho_inf": 3.0, "offset": 5}, ValueError, "greater than 0.6"),
        ({"beta2": 0.999, "rho_inf": math.inf, "offset": 5}, ValueError, "rho_inf"),
        ({"beta2": 0.999, "rho_inf": 1999.0, "offset": 0}, ValueError, "offset"),
        ({"beta2": "0.999", "rho_inf": 1999.0, "offset": 5}, TypeError, "beta2"),
        ({"warmup_period": 5}, ValueError, "exactly the keys"),
    ]:
        with pytest.raises(error, match=match):
            r.load_state_dict({**good, "warmup_params": [params]})
        assert r.state_dict() == good
