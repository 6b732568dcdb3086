"""Attached mode with plain PyTorch: the factor applied inside ``optimizer.step()``.

Each trajectory test runs a loop twice, without a warmup and with one attached, and
checks that update ``t`` used the no-warmup learning rate times ``omega_t`` bit for bit
(the lr each update used is recorded by a step pre-hook registered after the warmup's
own, so it sees the dampened value), and that between updates ``group['lr']`` holds
exactly what the no-warmup run holds.
"""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import (
    LR_KINDS,
    REFS,
    SCHEDULERS_KEEP_LR_TENSORS,
    TORCH_VERSION,
    WARMUPS,
    assert_close,
    make_lr,
)
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

N = 12  # updates per run; every warmup of the matrix is still warming up at t = 3
LRS = (0.1, 0.03, 0.05)
BETAS = ((0.9, 0.7), (0.9, 0.8), (0.9, 0.75))

LR = float | torch.Tensor


class QuadraticWarmup(pw.BaseWarmup):
    """A user subclass: omega_t = min(1, (t / tau)^2)."""

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_period: int) -> None:
        params = [{"warmup_period": warmup_period} for _ in optimizer.param_groups]
        super().__init__(optimizer, params)

    def warmup_factor(self, step: int, warmup_period: int) -> float:  # type: ignore[override]
        return min(1.0, ((step + 1) / warmup_period) ** 2)


ATTACHABLE: dict[str, Callable[[torch.optim.Optimizer], pw.BaseWarmup]] = {
    **WARMUPS,
    "custom": lambda opt: QuadraticWarmup(opt, warmup_period=6),
}
REFERENCES: dict[str, Callable[[int, dict[str, Any]], Any]] = {
    **REFS,
    "custom": lambda t, group: min(Fraction(1), Fraction(t, 6) ** 2),
}


def make_optimizer(
    lr_kind: str, n_groups: int, opt_cls: type[torch.optim.Optimizer] = torch.optim.AdamW
) -> torch.optim.Optimizer:
    """``n_groups`` param groups with different lrs and betas, fixed parameters."""
    groups = []
    for i in range(n_groups):
        p = torch.nn.Parameter(torch.linspace(-1.0, 1.0, 4, dtype=torch.float64) + i)
        group: dict[str, Any] = {"params": [p], "lr": make_lr(LRS[i], lr_kind)}
        if opt_cls is not torch.optim.SGD:
            group["betas"] = BETAS[i]
        groups.append(group)
    return opt_cls(groups, lr=1e-3, foreach=False)


def set_grads(opt: torch.optim.Optimizer, k: int) -> None:
    """A deterministic gradient for iteration ``k``."""
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = torch.sin(p.detach() * (k + 1)) + 0.1


def snapshot(opt: torch.optim.Optimizer) -> list[LR]:
    """The current learning rates (tensor copies)."""
    return [
        g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in opt.param_groups
    ]


def record_updates(opt: torch.optim.Optimizer) -> list[list[LR]]:
    """A step pre-hook, registered now, that records the lrs each update uses."""
    used: list[list[LR]] = []
    opt.register_step_pre_hook(lambda o, args, kwargs: used.append(snapshot(o)))
    return used


def same(a: LR, b: LR) -> bool:
    """Bit-for-bit equality of two learning rates of the same kind."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor), (a, b)
        return a.dtype == b.dtype and bool(torch.equal(a, b))
    return type(a) is type(b) and a == b


def params_of(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p.detach().clone() for g in opt.param_groups for p in g["params"]]


# -- schedulers -----------------------------------------------------------------------


def _sequential(opt: torch.optim.Optimizer) -> list[Any]:
    first = sched.LinearLR(opt, start_factor=0.25, total_iters=4)
    second = sched.CosineAnnealingLR(opt, T_max=N)
    return [sched.SequentialLR(opt, [first, second], milestones=[4])]


SCHEDULERS: dict[str, Callable[[torch.optim.Optimizer], list[Any]]] = {
    "none": lambda opt: [],
    "cosine": lambda opt: [sched.CosineAnnealingLR(opt, T_max=N)],
    # two chainable schedulers stepped one after the other, each on the other's rate
    "chainable": lambda opt: [
        sched.ExponentialLR(opt, gamma=0.9),
        sched.StepLR(opt, step_size=3, gamma=0.5),
    ],
    "sequential": _sequential,
    "chained": lambda opt: [
        sched.ChainedScheduler(
            [sched.ExponentialLR(opt, gamma=0.9), sched.MultiStepLR(opt, [2, 5], gamma=0.5)]
        )
    ],
    "plateau": lambda opt: [sched.ReduceLROnPlateau(opt, factor=0.5, patience=1)],
}


def step_schedulers(schedulers: list[Any]) -> None:
    for s in schedulers:
        if isinstance(s, sched.ReduceLROnPlateau):
            s.step(1.0)  # never improves: halves every other step after the patience
        else:
            s.step()


class Run:
    """One training run: the lrs each update used, the lrs ``warmup.get_last_lr()``
    reported right before each update, the lrs between updates (after the schedulers),
    the original lr objects, the warmup and the optimizer."""

    def __init__(
        self,
        lr_kind: str,
        n_groups: int,
        scheduler: str,
        warmup_kind: str | None,
        order: str = "before",
        steps: int = N,
        in_graph: bool = False,
    ) -> None:
        opt = make_optimizer(lr_kind, n_groups)
        self.objects = [g["lr"] for g in opt.param_groups]
        schedulers = SCHEDULERS[scheduler](opt) if order == "before" else []
        self.warmup = (
            None if warmup_kind is None else ATTACHABLE[warmup_kind](opt).attach(in_graph=in_graph)
        )
        if order == "after":
            schedulers = SCHEDULERS[scheduler](opt)
        self.used = record_updates(opt)
        self.reported: list[list[LR]] = []
        self.between: list[list[LR]] = []
        for k in range(steps):
            set_grads(opt, k)
            if self.warmup is not None:
                self.reported.append(self.warmup.get_last_lr())
            opt.step()
            step_schedulers(schedulers)
            self.between.append(snapshot(opt))
        self.opt = opt

    def kept_objects(self) -> list[bool]:
        return [g["lr"] is obj for g, obj in zip(self.opt.param_groups, self.objects, strict=True)]


def check_against_reference(
    warmup_kind: str, lr_kind: str, n_groups: int, scheduler: str, order: str = "before"
) -> None:
    ref = Run(lr_kind, n_groups, scheduler, None, order)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pw.WarmupWarning)
        got = Run(lr_kind, n_groups, scheduler, warmup_kind, order)
    warmup = got.warmup
    assert warmup is not None and warmup.attached
    assert warmup.last_step == N
    assert len(got.used) == len(ref.used) == N
    for k in range(N):
        t = k + 1
        for i, group in enumerate(got.opt.param_groups):
            omega = warmup.warmup_factor(k, **warmup.warmup_params[i])
            what = f"t={t} group={i}"
            want = ref.used[k][i] * omega
            assert same(got.used[k][i], want), (what, got.used[k][i], want)
            # the factor itself against an independent reference (1e-14 relative)
            assert_close(omega, REFERENCES[warmup_kind](t, group), "float", what)
            # between updates: the schedulers' own rate, bit for bit
            assert same(got.between[k][i], ref.between[k][i]), (what, got.between[k][i])
    # get_last_lr() read right before each update: the rate that update used, bit for
    # bit, during the warmup and after it
    assert len(got.reported) == N
    for k in range(N):
        for i, (reported, used) in enumerate(zip(got.reported[k], got.used[k], strict=True)):
            assert same(reported, used), (f"t={k + 1} group={i}", reported, used)
    # after the last update: the rates the next one (t = N + 1) will use
    for i, last in enumerate(warmup.get_last_lr()):
        omega = warmup.warmup_factor(N, **warmup.warmup_params[i])
        assert same(last, got.between[-1][i] * omega), (i, last, omega)
    # tensor lrs stay the same objects wherever torch alone keeps them
    assert got.kept_objects() == ref.kept_objects()
    if lr_kind != "float" and (
        SCHEDULERS_KEEP_LR_TENSORS or scheduler not in ("plateau", "sequential")
    ):
        assert all(got.kept_objects())


# -- trajectories -----------------------------------------------------------------------


@pytest.mark.parametrize("n_groups", [1, 3])
@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("warmup_kind", list(ATTACHABLE))
def test_every_warmup_class_with_cosine(warmup_kind: str, lr_kind: str, n_groups: int) -> None:
    check_against_reference(warmup_kind, lr_kind, n_groups, "cosine")


@pytest.mark.parametrize("order", ["before", "after"])
@pytest.mark.parametrize("n_groups", [1, 3])
@pytest.mark.parametrize("lr_kind", LR_KINDS)
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_every_scheduler_built_before_or_after(
    scheduler: str, lr_kind: str, n_groups: int, order: str
) -> None:
    check_against_reference("linear", lr_kind, n_groups, scheduler, order)


@pytest.mark.parametrize("scheduler", ["sequential", "chained", "plateau"])
@pytest.mark.parametrize("warmup_kind", ["exponential", "untuned_linear", "radam", "custom"])
def test_other_warmups_with_composite_schedulers(warmup_kind: str, scheduler: str) -> None:
    check_against_reference(warmup_kind, "float", 3, scheduler, "after")


def test_linear_warmup_closed_form_values() -> None:
    """The lrs the first updates use, written out: 0.1 * min(1, t/5), no scheduler."""
    got = Run("float", 1, "none", "linear", steps=7)
    assert [u[0] for u in got.used] == [0.1 * 0.2, 0.1 * 0.4, 0.1 * 0.6, 0.1 * 0.8, 0.1, 0.1, 0.1]
    assert [b[0] for b in got.between] == [0.1] * 7


def test_last_step_given_at_construction_is_kept() -> None:
    opt = make_optimizer("float", 1)
    warmup = pw.LinearWarmup(opt, warmup_period=10, last_step=2).attach()
    assert warmup.last_step == 3  # as in dampening mode: the next update is t = 4
    used = record_updates(opt)
    opt.step()
    assert used == [[0.1 * 0.4]]
    assert warmup.last_step == 4


# -- get_last_lr -------------------------------------------------------------------------


@pytest.mark.parametrize("lr_kind", LR_KINDS)
def test_get_last_lr_before_and_after_updates(lr_kind: str) -> None:
    """get_last_lr() gives the rates the next update will use, computed when called:
    read before an update, it is the rate that update used, bit for bit (also once the
    warmup is over); read after it, the rate of the update after."""
    opt = make_optimizer(lr_kind, 2)
    objects = [g["lr"] for g in opt.param_groups]
    warmup = pw.LinearWarmup(opt, warmup_period=4).attach()
    assert warmup.attached is True
    assert warmup.last_step == 0
    # undampened between updates, right after attach()
    assert [
        same(g["lr"], make_lr(lr, lr_kind)) for g, lr in zip(opt.param_groups, LRS, strict=False)
    ] == [True] * 2
    used = record_updates(opt)
    for k in range(7):  # t = 1..7: the warmup ends at t = 4
        t = k + 1
        reported = warmup.get_last_lr()
        for got, obj in zip(reported, objects, strict=True):
            assert same(got, obj * min(1.0, t / 4)), (t, got)
            assert not isinstance(obj, torch.Tensor) or got is not obj  # tensors: copies
        set_grads(opt, k)
        opt.step()
        for got, want in zip(reported, used[-1], strict=True):
            assert same(got, want), (t, got, want)
        # read after the update: the rate of update t + 1
        after = warmup.get_last_lr()
        for got, obj in zip(after, objects, strict=True):
            assert same(got, obj * min(1.0, (t + 1) / 4)), (t, got)
    assert warmup.last_step == 7
    # computed when called, from the optimizer's current rates: a rate set between
    # updates (as a scheduler does) shows at once; what was returned before is a copy
    warmup.detach()
    warmup = pw.LinearWarmup(opt, warmup_period=4).attach()
    before = warmup.get_last_lr()
    for g in opt.param_groups:
        if isinstance(g["lr"], torch.Tensor):
            g["lr"].fill_(0.5)
        else:
            g["lr"] = 0.5
    for got, old, lr in zip(warmup.get_last_lr(), before, LRS, strict=False):
        assert same(got, make_lr(0.5, lr_kind) * 0.25), got
        assert same(old, make_lr(lr, lr_kind) * 0.25), old  # a copy: unchanged


# -- GradScaler and gradient accumulation ----------------------------------------------


def _linear_model(lr_kind: str) -> tuple[torch.nn.Linear, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(
        [
            {"params": [model.weight], "lr": make_lr(0.02, lr_kind)},
            {"params": [model.bias], "lr": make_lr(0.01, lr_kind)},
        ],
        foreach=False,
    )
    return model, opt


def _batch(k: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(k)
    x = torch.randn(8, 3, generator=gen)
    return x, x.sum(dim=1, keepdim=True)


INF_AT = (0, 1, 5, 6, 10)  # iterations whose gradients get an inf


def _scaler_run(
    lr_kind: str, attach: bool
) -> tuple[list[list[LR]], list[int], Any, list[torch.Tensor]]:
    model, opt = _linear_model(lr_kind)
    cosine = sched.CosineAnnealingLR(opt, T_max=N)
    warmup = pw.LinearWarmup(opt, warmup_period=4).attach() if attach else None
    used = record_updates(opt)
    updated: list[int] = []  # iterations whose update happened
    scaler = torch.amp.GradScaler("cpu")
    for k in range(N):
        opt.zero_grad()
        x, y = _batch(k)
        loss = torch.nn.functional.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        if k in INF_AT:
            assert model.weight.grad is not None
            model.weight.grad[0, 1] = math.inf
        n_before = len(used)
        scaler.step(opt)
        scaler.update()
        if len(used) > n_before:
            updated.append(k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "scheduler stepped before optimizer"
            cosine.step()  # the user's loop steps it every iteration, skipped or not
    return used, updated, warmup, params_of(opt)


@pytest.mark.parametrize("lr_kind", ["float", "tensor32"])
def test_gradscaler_skipped_steps_are_not_counted(lr_kind: str) -> None:
    ref_used, ref_updated, _, _ = _scaler_run(lr_kind, attach=False)
    used, updated, warmup, _ = _scaler_run(lr_kind, attach=True)
    assert updated == ref_updated == [k for k in range(N) if k not in INF_AT]
    assert warmup.last_step == len(updated) == N - len(INF_AT)
    for t, (got, want) in enumerate(zip(used, ref_used, strict=True), start=1):
        omega = min(1.0, t / 4)
        for g, w in zip(got, want, strict=True):
            assert same(g, w * omega), (t, g, w, omega)
    # the cosine rate of iteration k, times omega of the update's own number
    k3 = updated[2]
    assert float(used[2][0]) == pytest.approx(
        0.02 * (1 + math.cos(math.pi * k3 / N)) / 2 * 0.75, rel=1e-6
    )


def _accumulation_run(
    mode: str, sched_per_micro_batch: bool
) -> tuple[list[list[LR]], list[torch.Tensor], Any]:
    """4 micro-batches per update, 8 updates. ``mode``: "attached", "plain" (no warmup)
    or "by_hand" (no warmup object: the factor applied around each step by hand)."""
    updates, micro = 8, 4
    model, opt = _linear_model("float")
    cosine = sched.CosineAnnealingLR(opt, T_max=updates * (micro if sched_per_micro_batch else 1))
    warmup = pw.LinearWarmup(opt, warmup_period=5).attach() if mode == "attached" else None
    used = record_updates(opt)
    n_done = 0
    for k in range(updates * micro):
        x, y = _batch(k)
        (torch.nn.functional.mse_loss(model(x), y) / micro).backward()
        if (k + 1) % micro == 0:
            if mode == "by_hand":
                undampened = [g["lr"] for g in opt.param_groups]
                for g in opt.param_groups:
                    g["lr"] = g["lr"] * min(1.0, (n_done + 1) / 5)
                opt.step()
                for g, lr in zip(opt.param_groups, undampened, strict=True):
                    g["lr"] = lr
            else:
                opt.step()
            n_done += 1
            opt.zero_grad()
        if sched_per_micro_batch or (k + 1) % micro == 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "scheduler stepped before optimizer"
                cosine.step()
    return used, params_of(opt), warmup


@pytest.mark.parametrize("sched_per_micro_batch", [False, True])
def test_gradient_accumulation_counts_updates(sched_per_micro_batch: bool) -> None:
    plain, _, _ = _accumulation_run("plain", sched_per_micro_batch)
    by_hand, by_hand_params, _ = _accumulation_run("by_hand", sched_per_micro_batch)
    used, params, warmup = _accumulation_run("attached", sched_per_micro_batch)
    assert warmup.last_step == 8
    assert len(used) == len(plain) == 8
    for t, (got, want) in enumerate(zip(used, plain, strict=True), start=1):
        assert got == [lr * min(1.0, t / 5) for lr in want]
    assert used == by_hand
    # the parameters too: same updates as dampening by hand, bit for bit
    for p, q in zip(params, by_hand_params, strict=True):
        assert torch.equal(p, q)
    if sched_per_micro_batch:  # the 3rd update (micro-batch 11): cosine(11) * 3/5
        assert used[2][0] == pytest.approx(
            0.02 * (1 + math.cos(math.pi * 11 / 32)) / 2 * 0.6, rel=1e-15
        )


# -- state -------------------------------------------------------------------------------

K = 5  # the checkpoint step
RESUME_ORDERS = [
    "build_then_load",
    "warmup_loaded_first",
    "optimizer_loaded_before_building",
    "scheduler_built_after_warmup",
]


def _resume_setup(
    lr_kind: str, warmup_kind: str, order: str, ckpt: dict[str, Any] | None
) -> tuple[torch.optim.Optimizer, Any, pw.BaseWarmup]:
    opt = make_optimizer(lr_kind, 2)
    build_warmup = ATTACHABLE[warmup_kind]

    def load_opt() -> None:
        if ckpt is not None:
            for p, q in zip(
                [p for g in opt.param_groups for p in g["params"]], ckpt["params"], strict=True
            ):
                with torch.no_grad():
                    p.copy_(q)
            opt.load_state_dict(ckpt["optimizer"])

    if ckpt is None or order == "build_then_load":
        cosine = sched.CosineAnnealingLR(opt, T_max=N)
        warmup = build_warmup(opt).attach()
        load_opt()
        if ckpt is not None:
            cosine.load_state_dict(ckpt["scheduler"])
            warmup.load_state_dict(ckpt["warmup"])
    elif order == "warmup_loaded_first":
        cosine = sched.CosineAnnealingLR(opt, T_max=N)
        warmup = build_warmup(opt).attach()
        warmup.load_state_dict(ckpt["warmup"])
        cosine.load_state_dict(ckpt["scheduler"])
        load_opt()
    elif order == "optimizer_loaded_before_building":
        load_opt()
        cosine = sched.CosineAnnealingLR(opt, T_max=N)
        cosine.load_state_dict(ckpt["scheduler"])
        warmup = build_warmup(opt).attach()
        warmup.load_state_dict(ckpt["warmup"])
    else:  # scheduler_built_after_warmup
        warmup = build_warmup(opt).attach()
        warmup.load_state_dict(ckpt["warmup"])
        cosine = sched.CosineAnnealingLR(opt, T_max=N)
        load_opt()
        cosine.load_state_dict(ckpt["scheduler"])
    return opt, cosine, warmup


def _train(
    opt: torch.optim.Optimizer, cosine: Any, first: int, last: int
) -> tuple[list[list[LR]], list[list[torch.Tensor]]]:
    used = record_updates(opt)
    params = []
    for k in range(first, last):
        set_grads(opt, k)
        opt.step()
        cosine.step()
        params.append(params_of(opt))
    return used, params


@pytest.mark.parametrize("order", RESUME_ORDERS)
@pytest.mark.parametrize("warmup_kind", ["linear", "radam"])
@pytest.mark.parametrize("lr_kind", ["float", "tensor64"])
def test_resume_from_torch_save_is_exact_in_every_load_order(
    lr_kind: str, warmup_kind: str, order: str, tmp_path: Path
) -> None:
    opt, cosine, warmup = _resume_setup(lr_kind, warmup_kind, order, None)
    _train(opt, cosine, 0, K)
    path = tmp_path / "ckpt.pt"
    torch.save(
        {
            "params": params_of(opt),
            "optimizer": opt.state_dict(),
            "scheduler": cosine.state_dict(),
            "warmup": warmup.state_dict(),
        },
        path,
    )
    lrs_at_k = snapshot(opt)
    used_b, params_b = _train(opt, cosine, K, N)
    ckpt = torch.load(path, weights_only=True)
    state = ckpt["warmup"]
    assert sorted(state) == ["last_step", "lrs", "warmup_params"]
    assert state["last_step"] == K

    opt2, cosine2, warmup2 = _resume_setup(lr_kind, warmup_kind, order, ckpt)
    assert warmup2.attached and warmup2.last_step == K
    # between updates: the schedulers' own rate, as at the checkpoint
    assert all(same(a, b) for a, b in zip(snapshot(opt2), lrs_at_k, strict=True))
    used_c, params_c = _train(opt2, cosine2, K, N)
    assert len(used_c) == N - K
    for k, (got, want) in enumerate(zip(used_c, used_b, strict=True), start=K):
        assert all(same(a, b) for a, b in zip(got, want, strict=True)), (k, got, want)
    for got_p, want_p in zip(params_c, params_b, strict=True):
        assert all(torch.equal(a, b) for a, b in zip(got_p, want_p, strict=True))
    assert warmup2.last_step == warmup.last_step == N


def test_state_dict_has_the_dampening_mode_format() -> None:
    attached_opt = make_optimizer("float", 2)
    attached = pw.LinearWarmup(attached_opt, warmup_period=5).attach()
    plain_opt = make_optimizer("float", 2)
    plain = pw.LinearWarmup(plain_opt, warmup_period=5)
    for k in range(3):
        set_grads(attached_opt, k)
        attached_opt.step()
        set_grads(plain_opt, k)
        plain_opt.step()
        with plain.dampening():
            pass
    a, b = attached.state_dict(), plain.state_dict()
    assert sorted(a) == sorted(b) == ["last_step", "lrs", "warmup_params"]
    assert a["last_step"] == b["last_step"] == 3
    assert a["warmup_params"] == b["warmup_params"]
    assert [type(x) for x in a["lrs"]] == [type(x) for x in b["lrs"]]


# -- detach ------------------------------------------------------------------------------


def _step_attribute(opt: torch.optim.Optimizer) -> object:
    """What the optimizer instance holds as ``step`` (a scheduler's wrapper, or nothing)."""
    return opt.__dict__.get("step")


@pytest.mark.parametrize("lr_kind", ["float", "tensor64"])
def test_detach_leaves_the_optimizer_as_never_attached(lr_kind: str) -> None:
    ref = Run(lr_kind, 2, "cosine", None)
    opt = make_optimizer(lr_kind, 2)
    objects = [g["lr"] for g in opt.param_groups]
    cosine = sched.CosineAnnealingLR(opt, T_max=N)
    keys = [sorted(g) for g in opt.param_groups]
    before = _step_attribute(opt)
    warmup = pw.ExponentialWarmup(opt, warmup_period=5).attach()
    assert _step_attribute(opt) is not before
    for k in range(4):
        set_grads(opt, k)
        opt.step()
        cosine.step()
    warmup.detach()
    assert warmup.attached is False
    assert _step_attribute(opt) is before
    assert [sorted(g) for g in opt.param_groups] == [sorted(g) for g in ref.opt.param_groups]
    assert [sorted(g) for g in opt.param_groups] == keys
    assert all(same(g["lr"], lr) for g, lr in zip(opt.param_groups, ref.between[3], strict=True))
    if lr_kind != "float":
        assert all(g["lr"] is obj for g, obj in zip(opt.param_groups, objects, strict=True))
    # the rest of the run is the no-warmup run
    used = record_updates(opt)
    for k in range(4, N):
        set_grads(opt, k)
        opt.step()
        cosine.step()
    for got, want in zip(used, ref.used[4:], strict=True):
        assert all(same(a, b) for a, b in zip(got, want, strict=True))
    # and a new warmup may be attached
    again = pw.LinearWarmup(opt, warmup_period=5).attach()
    assert again.attached and again.last_step == 0


def test_detach_in_dampening_mode_puts_back_undampened_rates() -> None:
    opt = make_optimizer("float", 2)
    warmup = pw.LinearWarmup(opt, warmup_period=5)
    assert [g["lr"] for g in opt.param_groups] == [0.1 * 0.2, 0.03 * 0.2]
    warmup.detach()
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.03]
    assert warmup.attached is False
    pw.LinearWarmup(opt, warmup_period=5)  # no longer a live warmup on it


# -- copies ------------------------------------------------------------------------------


def _continue(opt: torch.optim.Optimizer, first: int, last: int) -> list[list[LR]]:
    used = record_updates(opt)
    for k in range(first, last):
        set_grads(opt, k)
        opt.step()
        # a user-set rate between updates, as a scheduler would
        for g in opt.param_groups:
            if isinstance(g["lr"], torch.Tensor):
                g["lr"].mul_(0.9)
            else:
                g["lr"] *= 0.9
    return used


COPIERS: dict[str, Callable[[Any], Any]] = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
}


@pytest.mark.parametrize("pair_order", ["optimizer_first", "warmup_first", "warmup_alone"])
@pytest.mark.parametrize("copier", list(COPIERS))
@pytest.mark.parametrize("lr_kind", ["float", "tensor64"])
def test_copies_stay_attached_to_the_copied_optimizer(
    lr_kind: str, copier: str, pair_order: str
) -> None:
    opt = make_optimizer(lr_kind, 2)
    warmup = pw.LinearWarmup(opt, warmup_period=6).attach()
    _continue(opt, 0, 3)
    if pair_order == "optimizer_first":
        opt2, warmup2 = COPIERS[copier]((opt, warmup))
    elif pair_order == "warmup_first":
        warmup2, opt2 = COPIERS[copier]((warmup, opt))
    else:
        warmup2 = COPIERS[copier](warmup)
        opt2 = warmup2.optimizer
    assert opt2 is not opt and warmup2 is not warmup
    assert warmup2.optimizer is opt2
    assert warmup2.attached and warmup2.last_step == 3
    assert all(same(a, b) for a, b in zip(snapshot(opt2), snapshot(opt), strict=True))
    used = _continue(opt, 3, 8)
    assert warmup.last_step == 8
    assert warmup2.last_step == 3  # stepping the original leaves the copy alone
    used2 = _continue(opt2, 3, 8)
    assert warmup2.last_step == 8
    for got, want in zip(used2, used, strict=True):
        assert all(same(a, b) for a, b in zip(got, want, strict=True))
    # with omega_t applied once, not twice: t = 4 uses lr * 0.9^3 * 4/6
    assert float(used2[0][0]) == pytest.approx(0.1 * 0.9**3 * 4 / 6, rel=1e-15)
    for p, q in zip(params_of(opt2), params_of(opt), strict=True):
        assert torch.equal(p, q)


# -- misuse ------------------------------------------------------------------------------


def test_attach_twice_is_refused() -> None:
    opt = make_optimizer("float", 1)
    warmup = pw.LinearWarmup(opt, warmup_period=5).attach()
    installed = _step_attribute(opt)
    with pytest.raises(ValueError, match="attach"):
        warmup.attach()
    assert _step_attribute(opt) is installed
    assert opt.param_groups[0]["lr"] == 0.1


def test_attached_warmup_refuses_dampening() -> None:
    opt = make_optimizer("float", 1)
    warmup = pw.LinearWarmup(opt, warmup_period=5).attach()
    with pytest.raises(RuntimeError, match="attach"):
        with warmup.dampening():
            pass
    assert opt.param_groups[0]["lr"] == 0.1 and warmup.last_step == 0


def test_a_step_that_raises_is_not_counted_and_leaves_no_factor_behind() -> None:
    opt = make_optimizer("float", 1)
    warmup = pw.LinearWarmup(opt, warmup_period=5).attach()
    used = record_updates(opt)

    def failing_closure() -> float:
        raise ArithmeticError("the loss could not be computed")

    set_grads(opt, 0)
    with pytest.raises(ArithmeticError):
        opt.step(failing_closure)
    assert warmup.last_step == 0
    opt.step()
    assert used[-1] == [0.1 * 0.2]  # t = 1, the factor applied once
    assert opt.param_groups[0]["lr"] == 0.1
    assert warmup.last_step == 1


# -- torch.compile -------------------------------------------------------------------------

COMPILE_STEPS = 30


def _compiled_run(
    attach: str | None, compiled: bool, graphs: list[int] | None = None
) -> tuple[list[float], list[torch.Tensor], Any, Any]:
    """30 training steps with a tensor lr, CosineAnnealingLR stepped outside the
    compiled function; returns the losses, the parameters, the warmup and the lr tensor
    given to the optimizer with the one its group holds at the end.

    Everything is float64, the default dtype included: Adam keeps ``state['step']`` as
    a tensor of the default dtype, which compiled code uses as is in ``beta2 ** step``
    while eager code reads it as a Python float. In float32, ``1 - 0.999 ** 1`` is then
    6e-5 off and the compiled run drifts from the eager one by 3e-5 within 30 steps,
    warmup or not; in float64 the two agree to 1e-15.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        lr = torch.tensor(0.01)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        cosine = sched.CosineAnnealingLR(opt, T_max=COMPILE_STEPS)
        warmup = None
        if attach is not None:
            warmup = pw.LinearWarmup(opt, warmup_period=10).attach(in_graph=attach == "in_graph")
        x = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
        y = x.sum(dim=1, keepdim=True)

        def train_step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss

        step = torch.compile(train_step, backend="aot_eager") if compiled else train_step
        losses = []
        for _ in range(COMPILE_STEPS):
            losses.append(float(step(x, y).detach()))
            cosine.step()
            if graphs is not None:  # graphs compiled so far
                graphs.append(torch._dynamo.utils.counters["stats"]["unique_graphs"])
    finally:
        torch.set_default_dtype(previous)
    return (
        losses,
        [p.detach().clone() for p in model.parameters()],
        warmup,
        (lr, opt.param_groups[0]["lr"]),
    )


def _compile_stats(attach: str | None) -> tuple[dict[str, int], list[str], list[int], Any]:
    from torch._dynamo.utils import counters, guard_failures

    torch._dynamo.reset()
    counters.clear()
    guard_failures.clear()
    graphs: list[int] = []
    losses, params, warmup, lr = _compiled_run(attach, compiled=True, graphs=graphs)
    breaks = {k.splitlines()[0]: v for k, v in counters["graph_break"].items()}
    reasons = [str(r) for failures in guard_failures.values() for r in failures]
    return breaks, reasons, graphs, (losses, params, warmup, lr)


@pytest.mark.integration
@pytest.mark.parametrize(
    "mode",
    ["default", "in_graph"],
)
def test_compiled_training_step_with_attached_warmup(mode: str) -> None:
    """A compiled step that includes optimizer.step() with the warmup attached: no
    recompilation over 30 steps, no graph break that the step without warmup lacks,
    and the same training as in eager mode.

    ``default``: the Python hooks run eagerly, outside every graph. ``in_graph``: the
    hooks are torch ops on an int64 step counter; torch runs ``Adam.step`` itself
    eagerly here (a function dynamo skips), so the hooks are compiled into graphs of
    their own, once. Without warmup the step has 4 graph breaks and 2 graphs (torch
    2.13): ``backward()``, the skipped ``Adam.step`` and ``zero_grad`` and the
    optimizer's own ``graph_break()``.
    """
    base_breaks, base_reasons, base_graphs, _ = _compile_stats(None)
    breaks, reasons, graphs, (losses, params, warmup, (lr, lr_now)) = _compile_stats(mode)
    assert base_reasons == []
    assert reasons == [], "recompiled: " + "\n".join(reasons[:10])
    # the warmup adds no graph break: at most as many as the same step without it
    # (torch before 2.7 breaks the graph once more at the in-graph hooks' counter
    # update, which splits them into two more graphs)
    older = mode == "in_graph" and TORCH_VERSION < (2, 7)
    if not older:
        assert sum(breaks.values()) <= sum(base_breaks.values()), (breaks, base_breaks)
    extra = {"default": 0, "in_graph": 4 if older else 2}[mode]
    assert base_graphs[-1] <= graphs[-1] <= base_graphs[-1] + extra
    # every graph is compiled by the first step and reused by the 29 others
    assert base_graphs == [base_graphs[0]] * COMPILE_STEPS
    assert graphs == [graphs[0]] * COMPILE_STEPS, graphs
    assert lr_now is lr  # the same tensor object all along
    assert warmup.state_dict()["last_step"] == COMPILE_STEPS  # brings last_step up to date
    assert warmup.last_step == COMPILE_STEPS
    eager_losses, eager_params, eager_warmup, (_, eager_lr) = _compiled_run(mode, compiled=False)
    assert eager_warmup.state_dict()["last_step"] == COMPILE_STEPS
    assert losses == pytest.approx(eager_losses, rel=1e-5)
    for p, q in zip(params, eager_params, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=0.0)
    assert torch.equal(lr, eager_lr)


# -- in-graph accuracy ---------------------------------------------------------------------

IN_GRAPH_BETA2 = (0.7, 0.9, 0.99, 0.999, 0.99999)
IN_GRAPH_KINDS = ("linear", "exponential", "untuned_linear", "untuned_exponential", "radam")


def _ulp_bound(kind: str, beta2: float) -> int:
    """The largest distance in ulp allowed between warmup_factor_tensor() and
    warmup_factor() (see test_in_graph_factor_accuracy)."""
    if kind.endswith("linear"):
        return 0
    if kind.endswith("exponential"):
        return 1
    return 64 if beta2 < 0.9 else 8


def _float_bits(x: float) -> int:
    return int(torch.tensor(x, dtype=torch.float64).view(torch.int64))


def _ulps(a: float, b: float) -> int:
    """The number of float64 values between two positive floats (0: equal)."""
    return abs(_float_bits(a) - _float_bits(b))


def _accuracy_warmup(kind: str, beta2: float) -> pw.BaseWarmup:
    """A warmup of ``kind`` on an AdamW with ``betas=(0.9, beta2)``; the linear and
    exponential periods are those of the untuned rules (2 and 1 over 1 - beta2)."""
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.1, betas=(0.9, beta2))
    period = max(1, round((2.0 if kind == "linear" else 1.0) / (1.0 - beta2)))
    if kind == "linear":
        return pw.LinearWarmup(opt, warmup_period=period)
    if kind == "exponential":
        return pw.ExponentialWarmup(opt, warmup_period=period)
    return ATTACHABLE[kind](opt)


def _step_grid(period: float) -> list[int]:
    """Every step up to 2048, the steps around the period and its multiples up to
    100 periods, and a geometric grid (ratio 1.07) up to 1e9."""
    steps = set(range(2049))
    p = int(period)
    steps.update(q for q in (p - 2, p - 1, p, p + 1, 2 * p, 40 * p, 100 * p) if q >= 0)
    x = 1.0
    while x < 1e9:
        steps.add(int(x))
        x *= 1.07
    return sorted(steps)


@pytest.mark.parametrize("beta2", IN_GRAPH_BETA2)
@pytest.mark.parametrize("kind", IN_GRAPH_KINDS)
def test_in_graph_factor_accuracy(kind: str, beta2: float) -> None:
    """warmup_factor_tensor() (float64 step) against warmup_factor(), over the whole
    warmup and far beyond it (to step 1e9).

    Measured on this grid (torch 2.13, CPU): linear and untuned linear 0 ulp (bit for
    bit); exponential 1 ulp at most; RAdam at most 44 ulp at beta2 = 0.7 (step 0, where
    rho - 4 is small) and 7 ulp for beta2 >= 0.9 (5, 3, 3 and 7 at 0.9 ... 0.99999).
    The bounds asserted: 0, 1, 64 (beta2 = 0.7) and 8 (beta2 >= 0.9).
    """
    warmup = _accuracy_warmup(kind, beta2)
    params = warmup.warmup_params[0]
    bound = _ulp_bound(kind, beta2)
    worst = (0, -1)
    for step in _step_grid(params.get("warmup_period", 2.0 / (1.0 - beta2))):
        got = warmup.warmup_factor_tensor(torch.tensor(float(step), dtype=torch.float64), **params)
        assert got.dtype == torch.float64 and got.shape == ()
        want = warmup.warmup_factor(step, **params)
        worst = max(worst, (_ulps(float(got), want), step))
    assert worst[0] <= bound, (kind, beta2, params, "ulp, step:", worst)


def test_in_graph_factor_of_a_warmup_without_it_is_refused() -> None:
    opt = make_optimizer("tensor64", 1)
    with pytest.raises(TypeError, match="warmup_factor_tensor"):
        QuadraticWarmup(opt, warmup_period=6).attach(in_graph=True)
    with pytest.raises(TypeError, match="in_graph"):
        pw.LinearWarmup(make_optimizer("float", 1), warmup_period=6).attach(in_graph=True)


IN_GRAPH_STEPS = 40


@pytest.mark.parametrize("kind", ["linear", "exponential", "untuned_linear", "radam"])
@pytest.mark.parametrize("scheduler", ["cosine", "chainable"])
def test_in_graph_trajectory_matches_the_exact_factors(kind: str, scheduler: str) -> None:
    """An in-graph attached run (float64 tensor lrs, 3 groups, beta2 = 0.7, 0.8, 0.75)
    against the run without warmup times the exact factors of warmup_factor() (the
    rates the dampening mode and the default attached mode use): equal bit for bit for
    LinearWarmup, else within the factor's ulp bound (measured: 0 ulp for exponential,
    35 for RAdam); between updates the schedulers' own rates, bit for bit."""
    ref = Run("tensor64", 3, scheduler, None, steps=IN_GRAPH_STEPS)
    got = Run("tensor64", 3, scheduler, kind, steps=IN_GRAPH_STEPS, in_graph=True)
    warmup = got.warmup
    assert warmup is not None and warmup.attached
    assert warmup.state_dict()["last_step"] == IN_GRAPH_STEPS
    assert all(got.kept_objects())
    for k in range(IN_GRAPH_STEPS):
        for i, group in enumerate(got.opt.param_groups):
            omega = warmup.warmup_factor(k, **warmup.warmup_params[i])
            want = float(ref.used[k][i] * omega)
            used = float(got.used[k][i])
            what = (f"t={k + 1} group={i}", used, want)
            if kind.endswith("linear"):
                assert used == want, what
            else:
                assert _ulps(used, want) <= _ulp_bound(kind, group["betas"][1]), what
            assert same(got.between[k][i], ref.between[k][i]), what


@pytest.mark.parametrize(
    "kind",
    ["linear", "exponential", "untuned_exponential", "radam"],
)
def test_in_graph_get_last_lr_is_the_rate_used(kind: str) -> None:
    """In-graph mode too: get_last_lr() read right before an update is the rate that
    update used, bit for bit."""
    got = Run("tensor64", 3, "cosine", kind, steps=IN_GRAPH_STEPS, in_graph=True)
    for k in range(IN_GRAPH_STEPS):
        for i, (reported, used) in enumerate(zip(got.reported[k], got.used[k], strict=True)):
            assert same(reported, used), (f"t={k + 1} group={i}", reported, used)
