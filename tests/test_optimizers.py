"""The warmups with every kind of optimizer they apply to."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from conftest import REFS, lrs_of
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw

ADAMS = [torch.optim.Adam, torch.optim.AdamW, torch.optim.NAdam, torch.optim.Adamax]


class ThirdPartyAdam(torch.optim.Optimizer):
    """Like third-party fused Adams: an Optimizer subclass that keeps betas in its groups."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999)):
        super().__init__(params, {"lr": lr, "betas": betas})

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad.sign(), alpha=-group["lr"])


def _train(opt_cls: Any, kind: str, **kw: Any) -> tuple[list[list[float]], torch.optim.Optimizer]:
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 3, sparse=opt_cls is torch.optim.SparseAdam)
    head = torch.nn.Linear(3, 1)
    groups = [{"params": emb.parameters(), "lr": 0.05}, {"params": head.parameters(), "lr": 0.02}]
    if opt_cls is torch.optim.SparseAdam:
        groups = [{"params": emb.parameters(), "lr": 0.05}]
    opt = opt_cls(groups, betas=(0.9, 0.7), **kw)
    cosine = sched.CosineAnnealingLR(opt, T_max=50)
    factory = {
        "untuned_linear": pw.UntunedLinearWarmup,
        "untuned_exponential": pw.UntunedExponentialWarmup,
        "radam": pw.RAdamWarmup,
    }[kind]
    w = factory(opt)
    used = []
    idx = torch.tensor([1, 2, 3])
    for _ in range(12):
        used.append(lrs_of(opt))
        opt.zero_grad()
        loss = emb(idx).sum() if opt_cls is torch.optim.SparseAdam else head(emb(idx)).sum()
        loss.backward()
        opt.step()
        with w.dampening():
            cosine.step()
    return used, opt


@pytest.mark.parametrize("opt_cls", [*ADAMS, torch.optim.SparseAdam, ThirdPartyAdam])
@pytest.mark.parametrize("kind", ["untuned_linear", "untuned_exponential", "radam"])
def test_adam_family(opt_cls: Any, kind: str) -> None:
    used, opt = _train(opt_cls, kind)
    base_lrs = [0.05, 0.02][: len(opt.param_groups)]
    for t, lrs in enumerate(used, start=1):
        for i, lr in enumerate(lrs):
            undampened = _cosine(base_lrs[i], t - 1, 50)
            expected = undampened * REFS[kind](t, {"betas": (0.9, 0.7)})
            # the chainable cosine recursion drifts from the closed form by ~1e-16 a step
            assert lr == pytest.approx(float(expected), rel=1e-13), (t, i)


def _cosine(base: float, k: int, t_max: int) -> float:
    return base * (1 + math.cos(math.pi * k / t_max)) / 2


def test_sgd_with_manual_warmups() -> None:
    for cls in (pw.LinearWarmup, pw.ExponentialWarmup):
        opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        s = sched.StepLR(opt, step_size=3, gamma=0.1)
        w = cls(opt, 4)
        for t in range(2, 8):
            opt.step()
            with w.dampening():
                s.step()
            factor = w.warmup_factor(t - 1, warmup_period=4)
            assert opt.param_groups[0]["lr"] == pytest.approx(
                0.1 * 0.1 ** ((t - 1) // 3) * factor, rel=1e-15
            )


def test_radam_optimizer_has_betas_so_it_is_accepted() -> None:
    # RAdam already rectifies: a warmup on top is redundant, but it is not an error.
    opt = torch.optim.RAdam([torch.zeros(1, requires_grad=True)], lr=0.1, betas=(0.9, 0.999))
    assert pw.UntunedLinearWarmup(opt).warmup_params == [{"warmup_period": 2000}]
