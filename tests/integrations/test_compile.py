"""A whole training step under torch.compile, with WarmupLR stepped outside it."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo

import pytorch_warmup as pw

pytestmark = pytest.mark.integration

STEPS = 30


def setup() -> tuple[torch.nn.Module, torch.optim.Optimizer, pw.WarmupLR]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    # A tensor lr: changing its value in place needs no recompilation.
    optimizer = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01))
    scheduler = pw.WarmupLR(
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS),
        pw.LinearWarmup(optimizer, warmup_period=10),
    )
    return model, optimizer, scheduler


def eager_lrs() -> list[float]:
    _, optimizer, scheduler = setup()
    lrs = []
    for _ in range(STEPS):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return lrs


def test_compiled_training_step_never_recompiles() -> None:
    torch._dynamo.reset()
    model, optimizer, scheduler = setup()
    lr_tensor = optimizer.param_groups[0]["lr"]
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    y = x.sum(dim=1, keepdim=True)

    @torch.compile(mode="default")
    def train_step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    counters = torch._dynamo.utils.counters
    lrs = [float(lr_tensor)]
    losses = [float(train_step(x, y).detach())]
    scheduler.step()
    graphs = counters["stats"]["unique_graphs"]
    assert graphs >= 1
    with torch._dynamo.config.patch(error_on_recompile=True):
        for _ in range(STEPS - 1):
            lrs.append(float(lr_tensor))
            losses.append(float(train_step(x, y).detach()))
            scheduler.step()
    assert counters["stats"]["unique_graphs"] == graphs
    assert sum(counters["recompiles"].values()) == 0
    assert optimizer.param_groups[0]["lr"] is lr_tensor  # updated in place, never rebound
    assert lrs == eager_lrs()
    assert losses[-1] < losses[0]
