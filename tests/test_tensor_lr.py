"""Tensor learning rates: kept in place, never synchronised, no recompiles."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import torch
import torch._dynamo
from conftest import DEVICES, SCHEDULERS_KEEP_LR_TENSORS, WARMUPS
from torch.optim import lr_scheduler as sched

import pytorch_warmup as pw


@contextlib.contextmanager
def no_sync(device: str) -> Iterator[None]:
    """Make any host-device synchronisation an error (CUDA only)."""
    if device != "cuda":
        yield
        return
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def _optimizer(device: str, n_groups: int = 2) -> torch.optim.Optimizer:
    groups = [
        {"params": [torch.nn.Parameter(torch.zeros(4, device=device))],
         "lr": torch.tensor(0.1 / (i + 1), device=device), "betas": (0.9, 0.7 + 0.1 * i)}
        for i in range(n_groups)
    ]  # fmt: skip
    return torch.optim.Adam(groups, capturable=device == "cuda", foreach=False)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", list(WARMUPS))
def test_step_path_keeps_tensors_and_never_syncs(device: str, kind: str) -> None:
    opt = _optimizer(device)
    w = WARMUPS[kind](opt)
    lr_objects = [g["lr"] for g in opt.param_groups]
    stored = list(w.lrs)
    with no_sync(device):
        for _ in range(10):
            with w.dampening():
                pass
        for group, lr in zip(opt.param_groups, w.lrs, strict=True):
            group["lr"].copy_(lr)  # what a closed-form scheduler does before dampen()
        w.dampen()
    for group, obj in zip(opt.param_groups, lr_objects, strict=True):
        assert group["lr"] is obj
        assert group["lr"].device.type == device
    # the undampened values are copies: separate storage, updated in place
    for s, obj, now in zip(stored, lr_objects, w.lrs, strict=True):
        assert now is s
        assert now.data_ptr() != obj.data_ptr()
    assert [float(x) for x in w.lrs] == pytest.approx([0.1, 0.05])


@pytest.mark.parametrize("device", DEVICES)
def test_step_path_with_a_scheduler_never_syncs_in_the_warmup(device: str) -> None:
    """A real loop; only the warmup's entry and exit run under the sync check, because
    torch's own scheduler may read tensor values on the host."""
    opt = _optimizer(device)
    cosine = sched.CosineAnnealingLR(opt, T_max=50)
    w = pw.UntunedLinearWarmup(opt)
    lr = opt.param_groups[0]["lr"]
    for t in range(2, 9):
        opt.step()
        block = w.dampening()
        with no_sync(device):
            block.__enter__()
        cosine.step()
        undampened = lr.item()  # the scheduler's own rate, inside the block
        with no_sync(device):
            block.__exit__(None, None, None)
        assert opt.param_groups[0]["lr"] is lr
        assert lr.item() == pytest.approx(undampened * min(1.0, t / 6), rel=1e-6)
        if SCHEDULERS_KEEP_LR_TENSORS:  # get_last_lr() returns copies from torch 2.10
            assert cosine.get_last_lr()[0].item() == undampened


def test_dampened_tensor_is_not_the_stored_one() -> None:
    """Dampening in place must not also change the stored undampened value."""
    lr = torch.tensor(0.5)
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=lr)
    w = pw.LinearWarmup(opt, 4)
    assert opt.param_groups[0]["lr"] is lr
    assert lr.item() == 0.125
    assert w.lrs[0].item() == 0.5
    with w.dampening():
        pass
    assert lr.item() == 0.25 and w.lrs[0].item() == 0.5


def _count_compiles(warmup: bool, steps: int) -> tuple[int, int]:
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 8)
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01), betas=(0.9, 0.9))
    cosine = sched.CosineAnnealingLR(opt, T_max=steps)
    w = pw.UntunedLinearWarmup(opt) if warmup else None
    lr = opt.param_groups[0]["lr"]

    @torch.compile(mode="default")  # inductor, as users run it
    def opt_step() -> None:
        opt.step()

    x = torch.randn(4, 8)
    compiles_after_first = 0
    for i in range(steps):
        model(x).square().mean().backward()
        opt_step()
        opt.zero_grad()
        if w is None:
            cosine.step()
        else:
            with w.dampening():
                cosine.step()
        if i == 1:  # after two steps the optimizer's state exists: compiles settle
            compiles_after_first = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    assert opt.param_groups[0]["lr"] is lr
    total = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    return compiles_after_first, total


@pytest.mark.slow
def test_compiled_optimizer_step_does_not_recompile() -> None:
    torch._dynamo.utils.counters.clear()
    settled, total = _count_compiles(warmup=True, steps=32)
    assert total == settled  # zero recompiles over the last 30 steps
    torch._dynamo.utils.counters.clear()
    baseline_settled, baseline_total = _count_compiles(warmup=False, steps=32)
    assert (settled, total) == (baseline_settled, baseline_total)  # the warmup adds none


@pytest.mark.slow
def test_compiled_step_errors_on_recompile_with_warmup() -> None:
    """Belt and braces: with error_on_recompile set, 30 warmed-up steps run."""
    torch._dynamo.reset()
    model = torch.nn.Linear(4, 4)
    opt = torch.optim.AdamW(model.parameters(), lr=torch.tensor(0.01), betas=(0.9, 0.99))
    cosine = sched.CosineAnnealingLR(opt, T_max=40)
    w = pw.RAdamWarmup(opt)
    step = torch.compile(opt.step, backend="aot_eager")
    x = torch.randn(2, 4)
    for _ in range(2):
        model(x).sum().backward()
        step()
        with w.dampening():
            cosine.step()
    with torch._dynamo.config.patch(error_on_recompile=True):
        for _ in range(30):
            model(x).sum().backward()
            step()
            with w.dampening():
                cosine.step()
    assert w.last_step == 32


def test_a_tensor_shared_by_groups_is_dampened_once() -> None:
    """An optimizer-wide lr tensor is the same object in every group without its own lr."""
    lr = torch.tensor(0.1, dtype=torch.float64)
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([{"params": [a]}, {"params": [b], "weight_decay": 0.0}], lr=lr)
    assert opt.param_groups[0]["lr"] is opt.param_groups[1]["lr"] is lr
    cosine = sched.CosineAnnealingLR(opt, T_max=20)
    w = pw.LinearWarmup(opt, 10)
    assert lr.item() == 0.1 * (1 / 10)
    for t in range(2, 6):
        opt.step()
        with w.dampening():
            cosine.step()
            undampened = lr.item()  # the scheduler's own rate
        if SCHEDULERS_KEEP_LR_TENSORS:  # get_last_lr() returns copies from torch 2.10
            assert cosine.get_last_lr()[0].item() == undampened
        assert lr.item() == undampened * (t / 10)
        w.dampen(t - 1)  # the direct form too
        assert lr.item() == pytest.approx(undampened * (t / 10) ** 2)
        lr.fill_(undampened * (t / 10))


def test_a_tensor_shared_by_groups_with_different_periods_is_refused() -> None:
    lr = torch.tensor(0.1)
    opt = torch.optim.AdamW([{"params": [torch.nn.Parameter(torch.zeros(1))]},
                             {"params": [torch.nn.Parameter(torch.zeros(1))]}], lr=lr)  # fmt: skip
    with pytest.raises(ValueError, match=r"hold the same lr tensor but get different warmup"):
        pw.LinearWarmup(opt, [10, 20])
    assert lr.item() == torch.tensor(0.1).item()
