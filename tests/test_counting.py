"""Attached, the warmup counts the updates that really happen, and leaves nothing behind.

* a step that raises (any exception, ``KeyboardInterrupt`` included) is not counted
  and leaves the schedulers' own rates in the groups at once: a scheduler stepped
  before the next update is kept, and a checkpoint saved in the handler holds the
  undampened rates;
* a fused optimizer's step that ``GradScaler`` skips (``found_inf`` set) is not
  counted; an optimizer subclass whose ``step()`` calls ``super().step()`` counts once;
* reads are reads: ``state_dict()`` and ``get_last_lr()`` give the same answer inside
  an update (a closure, a step hook) as between updates, and change nothing;
* ``last_step`` set by hand is validated, and honoured in both attached modes.

Every rate is read from the update itself (plain SGD, float64 parameter at 0, gradient
1: the parameter becomes exactly ``-lr``) and compared with the run without warmup
times the factor.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from test_takeover import sgd, update
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

MODES = ["eager", "in_graph"]


def attached(lr: float, mode: str, period: int = 4) -> tuple[Any, torch.Tensor, pw.BaseWarmup]:
    opt, p = sgd(lr, "tensor64" if mode == "in_graph" else "float")
    warmup = pw.LinearWarmup(opt, period).attach(in_graph=mode == "in_graph")
    return opt, p, warmup


def lr_now(opt: torch.optim.Optimizer) -> float:
    return float(opt.param_groups[0]["lr"])


# -- a step that raises ------------------------------------------------------------------


def _raising(error: BaseException) -> Any:
    def closure() -> float:
        raise error

    return closure


@pytest.mark.parametrize("error", [FloatingPointError("nan loss"), KeyboardInterrupt()])
@pytest.mark.parametrize("mode", MODES)
def test_a_step_that_raises_keeps_the_scheduler_stepped_after_it(
    mode: str, error: BaseException
) -> None:
    """The issue's case: SGD lr 0.5, ExponentialLR(0.5), LinearWarmup(4).attach(); update,
    sched.step(), a step that raises, sched.step(), update, sched.step(), update."""
    opt, p, warmup = attached(0.5, mode)
    decay = sched.ExponentialLR(opt, gamma=0.5)
    used = [update(opt, p)]
    decay.step()
    with pytest.raises(type(error)):
        update(opt, p, _raising(error))
    assert lr_now(opt) == 0.25  # the scheduler's own rate, at once
    assert warmup.get_last_lr() == [pytest.approx(0.25 * 2 / 4, rel=1e-15)]
    decay.step()
    used.append(update(opt, p))
    decay.step()
    used.append(update(opt, p))
    assert used == [0.125, 0.0625, 0.046875]  # 0.5 x 1/4, 0.125 x 2/4, 0.0625 x 3/4
    assert warmup.state_dict()["last_step"] == 3


@pytest.mark.parametrize("mode", MODES)
def test_a_checkpoint_saved_in_the_handler_holds_undampened_rates(mode: str) -> None:
    opt, p, warmup = attached(0.5, mode)
    update(opt, p)
    try:
        update(opt, p, _raising(KeyboardInterrupt()))
    except KeyboardInterrupt:
        state = warmup.state_dict()
    assert [float(lr) for lr in state["lrs"]] == [0.5]
    assert state["last_step"] == 1
    # resumed from it, the run goes on as if never interrupted
    opt2, p2 = sgd(0.5, "tensor64" if mode == "in_graph" else "float")
    resumed = pw.LinearWarmup(opt2, 4).attach(in_graph=mode == "in_graph")
    resumed.load_state_dict(state)
    assert [update(opt2, p2) for _ in range(4)] == [0.25, 0.375, 0.5, 0.5]


@pytest.mark.parametrize("mode", MODES)
def test_skipping_a_bad_batch_goes_on_at_the_right_rate(mode: str) -> None:
    opt, p, _ = attached(0.5, mode)
    used = [update(opt, p)]
    with pytest.raises(FloatingPointError):
        update(opt, p, _raising(FloatingPointError("bad batch")))
    used += [update(opt, p) for _ in range(4)]
    assert used == [0.125, 0.25, 0.375, 0.5, 0.5]


def test_a_logger_between_failure_and_next_update_sees_the_schedulers_rate() -> None:
    opt, p, _ = attached(0.5, "eager")
    with pytest.raises(RuntimeError):
        update(opt, p, _raising(RuntimeError("out of memory")))
    assert opt.param_groups[0]["lr"] == 0.5


# -- fused optimizers under GradScaler -----------------------------------------------------


def _fused(name: str, lr: float) -> tuple[torch.optim.Optimizer, torch.Tensor]:
    p = torch.zeros(4, requires_grad=True)
    if name == "SGD":
        return torch.optim.SGD([p], lr=lr, fused=True), p
    return torch.optim.AdamW([p], lr=lr, fused=True, weight_decay=0.0), p


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["SGD", "AdamW"])
def test_fused_steps_that_the_scaler_skips_are_not_counted(name: str, mode: str) -> None:
    """Two overflowing iterations then a real one: the real one is update 1."""
    lr: float | torch.Tensor = 0.5 if mode == "eager" else torch.tensor(0.5)
    opt, p = _fused(name, lr)  # type: ignore[arg-type]
    warmup = pw.LinearWarmup(opt, 4).attach(in_graph=mode == "in_graph")
    seen: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(float(o.param_groups[0]["lr"])))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    for overflow in (True, True, False):
        with torch.no_grad():
            p.zero_()
        opt.zero_grad()
        loss = p.sum() * (float("inf") if overflow else 1.0)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    assert warmup.state_dict()["last_step"] == 1
    assert seen == [0.125, 0.125, 0.125]  # the fused kernel runs (and skips) every time
    assert bool(torch.all(p != 0))  # the real update happened
    assert lr_now(opt) == 0.5


# -- optimizer subclasses ------------------------------------------------------------------


class MySGD(torch.optim.SGD):
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        return super().step(closure)


@pytest.mark.parametrize("mode", MODES)
def test_a_subclass_calling_super_step_counts_once(mode: str) -> None:
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # a plain instance exists
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    lr: float | torch.Tensor = 0.4 if mode == "eager" else torch.tensor(0.4, dtype=torch.float64)
    opt = MySGD([p], lr=lr)
    warmup = pw.LinearWarmup(opt, 4).attach(in_graph=mode == "in_graph")
    used = [update(opt, p) for _ in range(3)]
    assert warmup.state_dict()["last_step"] == 3
    assert used == [0.1, 0.2, pytest.approx(0.3, rel=1e-15)]


# -- reads are reads ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_readers_inside_the_closure_change_nothing(mode: str) -> None:
    """state_dict() and get_last_lr() called in the closure at every update."""
    opt, p, warmup = attached(0.5, mode)
    states: list[dict[str, Any]] = []
    inside: list[float] = []

    def closure() -> float:
        states.append(warmup.state_dict())
        inside.append(float(warmup.get_last_lr()[0]))
        return 0.0

    used = [update(opt, p, closure) for _ in range(5)]
    assert used == [0.125, 0.25, 0.375, 0.5, 0.5]
    assert inside == used  # the rate this update uses, applied once
    assert [float(s["lrs"][0]) for s in states] == [0.5] * 5
    assert [s["last_step"] for s in states] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("mode", MODES)
def test_readers_in_a_step_hook_registered_before_attach(mode: str) -> None:
    opt, p = sgd(0.5, "tensor64" if mode == "in_graph" else "float")
    read: list[Any] = []
    opt.register_step_post_hook(lambda o, a, k: read.append(warmup.state_dict()["lrs"][0]))
    warmup = pw.LinearWarmup(opt, 4).attach(in_graph=mode == "in_graph")
    used = [update(opt, p) for _ in range(4)]
    assert used == [0.125, 0.25, 0.375, 0.5]
    assert [float(lr) for lr in read] == [0.5] * 4


# -- last_step set by hand ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_last_step_set_by_hand_is_honoured(mode: str) -> None:
    opt, p, warmup = attached(0.4, mode)
    update(opt, p)
    warmup.last_step = 2
    assert update(opt, p) == pytest.approx(0.3, rel=1e-15)  # factor 3/4
    assert warmup.state_dict()["last_step"] == 3
    warmup.last_step = -1  # the original's "start over"
    assert update(opt, p) == 0.1
    assert warmup.state_dict()["last_step"] == 1


@pytest.mark.parametrize(("value", "error"), [(1.5, TypeError), ("2", TypeError), (-2, ValueError)])
@pytest.mark.parametrize("mode", MODES)
def test_last_step_that_cannot_be_a_step_is_refused(mode: str, value: Any, error: type) -> None:
    opt, p, warmup = attached(0.4, mode)
    with torch.no_grad():
        p.fill_(7.0)
    p.grad = torch.ones_like(p)
    warmup.last_step = value
    with pytest.raises(error, match="last_step"):
        opt.step()
    assert float(p.detach()) == 7.0  # refused before the update
    assert lr_now(opt) == 0.4


# -- the in-graph mode refuses what it cannot do right ------------------------------------------


def test_in_graph_refuses_a_float_set_by_hand() -> None:
    opt, p, _ = attached(0.4, "in_graph")
    opt.param_groups[0]["lr"] = 0.2
    with pytest.raises(TypeError, match=r"lr is 0.2 of type float.*in-graph.*fill_"):
        update(opt, p)
    assert opt.param_groups[0]["lr"] == 0.2


def test_in_graph_reports_an_added_param_group() -> None:
    opt, p, _ = attached(0.4, "in_graph")
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": torch.tensor(0.1)})
    with pytest.raises(ValueError, match="a param group was added or removed"):
        update(opt, p)


def test_in_graph_follows_an_lr_tensor_replaced_by_another() -> None:
    opt, p, _ = attached(0.4, "in_graph")
    opt.param_groups[0]["lr"] = torch.tensor(0.8, dtype=torch.float64)
    assert update(opt, p) == 0.2
    assert float(opt.param_groups[0]["lr"]) == 0.8


# -- lrs follows the schedulers in dampening mode -----------------------------------------------


def test_lrs_holds_the_undampened_rates_after_the_warmup() -> None:
    opt, p = sgd(0.5)
    decay = sched.ExponentialLR(opt, gamma=0.9)
    warmup = pw.LinearWarmup(opt, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(6):
            update(opt, p)
            with warmup.dampening():
                decay.step()
            assert warmup.lrs == [decay.get_last_lr()[0]]


# -- a scheduler that wraps optimizer.step() after attach() -------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_detach_under_a_scheduler_built_after_attach(mode: str) -> None:
    """A scheduler built after attach() wraps optimizer.step() over the warmup's own
    wrapper; after detach() that wrapper stays in the chain but applies nothing."""
    opt, p, warmup = attached(0.4, mode)
    decay = sched.StepLR(opt, step_size=100, gamma=0.5)  # wraps step() over the warmup
    assert [update(opt, p) for _ in range(2)] == [0.1, 0.2]
    warmup.detach()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's own step-order warning stays quiet too
        used = [update(opt, p) for _ in range(3)]
        decay.step()
    assert used == [0.4, 0.4, 0.4]
    assert warmup.state_dict()["last_step"] == 2
    again = pw.LinearWarmup(opt, 2).attach(in_graph=mode == "in_graph")
    assert [update(opt, p) for _ in range(3)] == [0.2, 0.4, 0.4]
    assert again.state_dict()["last_step"] == 3
