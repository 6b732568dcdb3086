"""Resuming from a checkpoint in every load order in which torch alone resumes exactly.

A real script checkpoints at iteration K and a fresh process resumes it. After the
model's weights are loaded, four operations remain, in an order that differs from
script to script:

* ``opt``: ``optimizer.load_state_dict``;
* ``build``: build the LR scheduler and the warmup (attached, or wrapped in
  :class:`~pytorch_warmup.WarmupLR`, depending on the mode);
* ``sched``: the scheduler's ``load_state_dict`` (``WarmupLR``'s for that mode);
* ``warmup``: the warmup's ``load_state_dict`` (absent with ``WarmupLR``, whose
  state holds the warmup's).

Every permutation in which the loads come after ``build`` is enumerated. The same
script without the warmup (the plain scheduler) is run first, at collection time,
for each order: the orders where torch itself does not resume exactly
(``OneCycleLR`` built after the optimizer's state is loaded resets the rate) are
kept as skipped cases, so the ids list every order and how it ends. In the others,
the rest of the learning-rate trajectory and the final weights must be bit for bit
those of the run that never stopped.
"""

from __future__ import annotations

import functools
import io
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from conftest import lr_of
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

pytestmark = pytest.mark.filterwarnings("error::pytorch_warmup.WarmupWarning")

N = 12  # iterations of the whole run
K = 5  # the checkpoint is written after K iterations (every warmup still warming up)

LR_KINDS = ("float", "tensor")
GROUP_COUNTS = (1, 3)

# -- the script ---------------------------------------------------------------------

WarmupMaker = Callable[[torch.optim.Optimizer], pw.BaseWarmup]


def _periods(opt: torch.optim.Optimizer, periods: Sequence[int]) -> list[int]:
    return list(periods[: len(opt.param_groups)])


WARMUPS: dict[str, WarmupMaker] = {
    "LinearWarmup": lambda opt: pw.LinearWarmup(opt, _periods(opt, (8, 10, 6))),
    "ExponentialWarmup": lambda opt: pw.ExponentialWarmup(opt, _periods(opt, (3, 5, 2))),
    "UntunedLinearWarmup": pw.UntunedLinearWarmup,  # periods 10 / 6, 10, 8
    "UntunedExponentialWarmup": pw.UntunedExponentialWarmup,  # 5 / 3, 5, 4
    "RAdamWarmup": pw.RAdamWarmup,
}

SCHEDULERS: dict[str, Callable[[torch.optim.Optimizer], sched.LRScheduler]] = {
    # chainable: each step scales the group's current lr
    "cosine": lambda opt: sched.CosineAnnealingLR(opt, T_max=N, eta_min=1e-3),
    # closed form from the values it stores in the groups; its constructor sets the lr
    "onecycle": lambda opt: sched.OneCycleLR(
        opt, max_lr=[0.2, 0.06, 0.1][: len(opt.param_groups)], total_steps=N + 1
    ),
}

# "none" is the same script without any warmup: torch alone.
MODES = ("none", "dampening", "attached", "warmuplr")


def _model_and_optimizer(lr_kind: str, n_groups: int) -> tuple[torch.nn.Module, Any]:
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))

    def lr(value: float) -> float | torch.Tensor:
        return value if lr_kind == "float" else torch.tensor(value)

    if n_groups == 1:
        groups = [{"params": list(model.parameters()), "lr": lr(0.1), "betas": (0.9, 0.8)}]
    else:
        parts = [list(model[0].parameters()), [model[2].weight], [model[2].bias]]
        groups = [
            {"params": params, "lr": lr(value), "betas": (0.9, beta2)}
            for params, value, beta2 in zip(parts, (0.1, 0.03, 0.05), (0.7, 0.8, 0.75), strict=True)
        ]
    # foreach=False: AdamW takes a tensor lr on the CPU only on its single-tensor path
    return model, torch.optim.AdamW(groups, weight_decay=0.01, foreach=False)


def _batch(iteration: int) -> torch.Tensor:
    return torch.randn(6, 4, generator=torch.Generator().manual_seed(1000 + iteration))


@dataclass
class Script:
    """One process of the training script: what it has built so far."""

    mode: str
    sched_kind: str
    warmup_kind: str
    lr_kind: str
    n_groups: int
    model: torch.nn.Module = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    scheduler: sched.LRScheduler | None = None
    warmup: pw.BaseWarmup | None = None
    wrapper: pw.WarmupLR | None = None
    trajectory: list[list[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.model, self.optimizer = _model_and_optimizer(self.lr_kind, self.n_groups)

    def build(self) -> None:
        """Build the LR scheduler, then the warmup (as the mode wants it)."""
        self.scheduler = SCHEDULERS[self.sched_kind](self.optimizer)
        if self.mode == "none":
            return
        warmup = WARMUPS[self.warmup_kind](self.optimizer)
        if self.mode == "attached":
            warmup = warmup.attach()
        elif self.mode == "warmuplr":
            self.wrapper = pw.WarmupLR(self.scheduler, warmup)
        self.warmup = warmup

    def train(self, start: int, stop: int) -> None:
        """Iterations ``start`` to ``stop - 1``, recording every learning rate used."""
        model, opt = self.model, self.optimizer
        for it in range(start, stop):
            record = [lr_of(g) for g in opt.param_groups]
            opt.zero_grad()
            model(_batch(it)).pow(2).mean().backward()
            opt.step()
            if self.mode == "attached":
                assert self.warmup is not None
                # between updates the groups hold the scheduler's rate; the one the
                # update used is the warmup's get_last_lr()
                record += [float(lr) for lr in self.warmup.get_last_lr()]
            self.trajectory.append(record)
            self._step_schedulers()
        self.trajectory.append([lr_of(g) for g in opt.param_groups])

    def _step_schedulers(self) -> None:
        assert self.scheduler is not None
        if self.mode in ("none", "attached"):
            self.scheduler.step()
        elif self.mode == "dampening":
            assert self.warmup is not None
            with self.warmup.dampening():
                self.scheduler.step()
        else:
            assert self.wrapper is not None
            self.wrapper.step()

    def checkpoint(self) -> bytes:
        state: dict[str, Any] = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }
        if self.wrapper is not None:
            state["scheduler"] = self.wrapper.state_dict()
        else:
            assert self.scheduler is not None
            state["scheduler"] = self.scheduler.state_dict()
        if self.mode in ("dampening", "attached"):
            assert self.warmup is not None
            state["warmup"] = self.warmup.state_dict()
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()

    def resume(self, checkpoint: bytes, order: Sequence[str]) -> None:
        ckpt = torch.load(io.BytesIO(checkpoint), weights_only=True)
        self.model.load_state_dict(ckpt["model"])
        for op in order:
            if op == "opt":
                self.optimizer.load_state_dict(ckpt["optimizer"])
            elif op == "build":
                self.build()
            elif op == "sched":
                loader = self.wrapper if self.wrapper is not None else self.scheduler
                assert loader is not None
                loader.load_state_dict(ckpt["scheduler"])
            elif op == "warmup":
                assert self.warmup is not None
                self.warmup.load_state_dict(ckpt["warmup"])
            else:  # pragma: no cover
                raise AssertionError(op)

    def weights(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.model.parameters()]


@functools.cache
def _uninterrupted(
    mode: str, sched_kind: str, warmup_kind: str, lr_kind: str, n_groups: int
) -> tuple[list[list[float]], list[torch.Tensor], bytes]:
    """The run that never stops, and the checkpoint the same run writes at K."""
    torch.manual_seed(0)
    whole = Script(mode, sched_kind, warmup_kind, lr_kind, n_groups)
    whole.build()
    whole.train(0, N)
    torch.manual_seed(0)
    first = Script(mode, sched_kind, warmup_kind, lr_kind, n_groups)
    first.build()
    first.train(0, K)
    assert first.trajectory[:K] == whole.trajectory[:K]
    return whole.trajectory, whole.weights(), first.checkpoint()


def _resume_and_compare(
    mode: str, sched_kind: str, warmup_kind: str, lr_kind: str, n_groups: int, order: Sequence[str]
) -> str | None:
    """``None`` if the resumed run is bit-identical to the uninterrupted one, else why not."""
    trajectory, weights, checkpoint = _uninterrupted(
        mode, sched_kind, warmup_kind, lr_kind, n_groups
    )
    torch.manual_seed(1)  # other initial weights: only the checkpoint may matter
    resumed = Script(mode, sched_kind, warmup_kind, lr_kind, n_groups)
    resumed.resume(checkpoint, order)
    resumed.train(K, N)
    for offset, (got, want) in enumerate(zip(resumed.trajectory, trajectory[K:], strict=True)):
        if got != want:
            return f"iteration {K + offset}: learning rates {got} instead of {want}"
    for i, (got_w, want_w) in enumerate(zip(resumed.weights(), weights, strict=True)):
        if not torch.equal(got_w, want_w):
            return f"parameter {i} differs after the run"
    for group in resumed.optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor) != (lr_kind == "tensor"):
            return f"the lr kind changed: {group['lr']!r}"
    return None


# -- the orders ---------------------------------------------------------------------

LOADS = ("sched", "warmup")


def _orders(ops: Sequence[str]) -> list[tuple[str, ...]]:
    """Every permutation of ``ops`` in which the scheduler and warmup loads follow build."""
    return [
        order
        for order in itertools.permutations(ops)
        if all(order.index("build") < order.index(op) for op in LOADS if op in order)
    ]


def _torch_order(order: Sequence[str]) -> tuple[str, ...]:
    """The same script without the warmup: its load is dropped."""
    return tuple(op for op in order if op != "warmup")


@functools.cache
def _torch_is_exact(sched_kind: str, order: tuple[str, ...]) -> bool:
    return all(
        _resume_and_compare("none", sched_kind, "", lr_kind, n_groups, order) is None
        for lr_kind in LR_KINDS
        for n_groups in GROUP_COUNTS
    )


def _cases(modes: Sequence[str], ops: Sequence[str]) -> list[Any]:
    cases = []
    for mode in modes:
        for sched_kind in SCHEDULERS:
            for order in _orders(ops):
                torch_order = _torch_order(order)
                reason = f"torch alone does not resume exactly: {sched_kind} {torch_order}"
                exact = _torch_is_exact(sched_kind, torch_order)
                marks = () if exact else pytest.mark.skip(reason=reason)
                for warmup_kind in WARMUPS:
                    for lr_kind in LR_KINDS:
                        cases.append(
                            pytest.param(
                                mode, sched_kind, warmup_kind, lr_kind, order,
                                id=f"{mode}-{sched_kind}-{'_'.join(order)}-{warmup_kind}-{lr_kind}",
                                marks=marks,
                            )
                        )  # fmt: skip
    return cases


ORDERS = _orders(("opt", "build", "sched", "warmup"))
WARMUPLR_ORDERS = _orders(("opt", "build", "sched"))


def test_the_orders_are_every_meaningful_permutation() -> None:
    assert len(ORDERS) == 8  # 4! orders, of which build precedes both loads in 1 / 3
    assert ("opt", "build", "sched", "warmup") in ORDERS
    assert ("build", "warmup", "sched", "opt") in ORDERS
    assert ("build", "sched", "opt", "warmup") in ORDERS
    assert len(WARMUPLR_ORDERS) == 3
    assert {_torch_order(o) for o in ORDERS} == set(WARMUPLR_ORDERS)


def test_torch_alone_is_exact_where_expected() -> None:
    """What torch does by itself: the baseline the warmup must not break."""
    for order in WARMUPLR_ORDERS:
        assert _torch_is_exact("cosine", order), order
    # OneCycleLR's constructor overwrites the lr the optimizer's state restored
    assert not _torch_is_exact("onecycle", ("opt", "build", "sched"))
    assert _torch_is_exact("onecycle", ("build", "opt", "sched"))
    assert _torch_is_exact("onecycle", ("build", "sched", "opt"))


@pytest.mark.parametrize(
    ("mode", "sched_kind", "warmup_kind", "lr_kind", "order"),
    _cases(("dampening", "attached"), ("opt", "build", "sched", "warmup")),
)
def test_resume_is_exact_in_every_order_torch_allows(
    mode: str, sched_kind: str, warmup_kind: str, lr_kind: str, order: tuple[str, ...]
) -> None:
    for n_groups in GROUP_COUNTS:
        problem = _resume_and_compare(mode, sched_kind, warmup_kind, lr_kind, n_groups, order)
        assert problem is None, f"{n_groups} group(s): {problem}"


@pytest.mark.parametrize(
    ("mode", "sched_kind", "warmup_kind", "lr_kind", "order"),
    _cases(("warmuplr",), ("opt", "build", "sched")),
)
def test_warmuplr_resume_is_exact_in_every_order_torch_allows(
    mode: str, sched_kind: str, warmup_kind: str, lr_kind: str, order: tuple[str, ...]
) -> None:
    for n_groups in GROUP_COUNTS:
        problem = _resume_and_compare(mode, sched_kind, warmup_kind, lr_kind, n_groups, order)
        assert problem is None, f"{n_groups} group(s): {problem}"
