"""PyTorch Lightning with WarmupLR as a plain step-interval LR scheduler (no hook override)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from integration_utils import EXAMPLES, run_example
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

import pytorch_warmup as pw

pytestmark = pytest.mark.integration

BASE_LR = 0.02
T_MAX = 30
WARMUP_PERIOD = 10
STEPS = 30
CHECKPOINT_STEP = 15


class WarmupModule(LightningModule):
    """A linear regression whose optimizer is warmed up by WarmupLR."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(3, 1)
        self.seen: list[tuple[int, float]] = []  # (global step, lr used by this step)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        self.seen.append((self.global_step, self.optimizers().param_groups[0]["lr"]))
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self) -> Any:
        opt = torch.optim.AdamW(self.parameters(), lr=BASE_LR)
        scheduler = pw.WarmupLR(
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_MAX),
            pw.LinearWarmup(opt, warmup_period=WARMUP_PERIOD),
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def loader() -> torch.utils.data.DataLoader[Any]:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2 * CHECKPOINT_STEP, 3, generator=gen)  # one epoch = 15 steps
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=2, shuffle=False)


def trainer(root: Path, name: str, callbacks: list[Any]) -> Trainer:
    return Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=STEPS,
        logger=CSVLogger(root, name=name),
        callbacks=[LearningRateMonitor(logging_interval="step"), *callbacks],
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
        deterministic=True,
    )


def logged_lrs(logger_dir: str) -> dict[int, float]:
    with open(Path(logger_dir) / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {int(r["step"]): float(r["lr-AdamW"]) for r in rows if r.get("lr-AdamW")}


def reference_lrs() -> list[float]:
    return [
        BASE_LR * (1 + math.cos(math.pi * t / T_MAX)) / 2 * min(1.0, (t + 1) / WARMUP_PERIOD)
        for t in range(STEPS)
    ]


def test_lightning_fit_resume_and_lr_monitor(tmp_path: Path) -> None:
    ckpt_dir = tmp_path / "ckpt"
    checkpoint = ModelCheckpoint(
        dirpath=ckpt_dir, every_n_train_steps=CHECKPOINT_STEP, save_top_k=-1
    )
    full_trainer = trainer(tmp_path, "full", [checkpoint])
    full = WarmupModule()
    full_trainer.fit(full, loader())
    assert full_trainer.global_step == STEPS
    steps = [s for s, _ in full.seen]
    lrs = [lr for _, lr in full.seen]
    assert steps == list(range(STEPS))
    assert lrs == pytest.approx(reference_lrs(), rel=1e-13, abs=1e-18)
    assert lrs[0] == BASE_LR * 0.1  # dampened from the first step
    # LearningRateMonitor logs the dampened rates the optimizer uses
    assert logged_lrs(full_trainer.logger.log_dir) == dict(full.seen)

    ckpt = ckpt_dir / f"epoch=0-step={CHECKPOINT_STEP}.ckpt"
    assert ckpt.is_file(), sorted(p.name for p in ckpt_dir.iterdir())
    saved = torch.load(ckpt, weights_only=True)["lr_schedulers"][0]
    assert saved["warmup_class"] == "LinearWarmup"
    assert saved["warmup"]["last_step"] == CHECKPOINT_STEP

    again = ModelCheckpoint(
        dirpath=tmp_path / "ckpt2", every_n_train_steps=CHECKPOINT_STEP, save_top_k=-1
    )
    resumed_trainer = trainer(tmp_path, "resumed", [again])
    resumed = WarmupModule()
    resumed_trainer.fit(resumed, loader(), ckpt_path=ckpt)
    assert resumed.seen == full.seen[CHECKPOINT_STEP:]
    assert logged_lrs(resumed_trainer.logger.log_dir) == dict(full.seen[CHECKPOINT_STEP:])
    for p, q in zip(resumed.parameters(), full.parameters(), strict=True):
        assert torch.equal(p, q)


def test_lightning_example_runs(tmp_path: Path) -> None:
    out = run_example([str(EXAMPLES / "lightning_example.py")], tmp_path)
    lines = [line for line in out.splitlines() if line.startswith("step ")]
    assert len(lines) == 12
    for t, line in enumerate(lines):
        _, step, lr = line.split()
        assert int(step) == t
        expected = 1e-3 * (1 + math.cos(math.pi * t / 12)) / 2 * min(1.0, (t + 1) / 4)
        assert float(lr) == pytest.approx(expected, rel=1e-13, abs=1e-18)
