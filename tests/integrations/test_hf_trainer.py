"""The Hugging Face Trainer with ``optimizers=(optimizer, WarmupLR(...))``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from integration_utils import EXAMPLES, run_example, trainer_arguments
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainerCallback,
)

import pytorch_warmup as pw

pytestmark = pytest.mark.integration

BASE_LR = 3e-3
STEPS = 12
SAVE_STEPS = 6
WARMUP_PERIOD = 5


class TinyCorpus(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """24 fixed token sequences for causal language modelling."""

    def __init__(self) -> None:
        gen = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 32, (2 * STEPS, 8), generator=gen)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


class RecordLR(TrainerCallback):
    """Records the learning rate each optimizer step uses."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.seen.append((state.global_step, kwargs["optimizer"].param_groups[0]["lr"]))


def make_trainer(output_dir: Path) -> tuple[Trainer, RecordLR]:
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=32, n_positions=8, n_embd=16, n_layer=1, n_head=2)
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR)
    scheduler = pw.WarmupLR(
        torch.optim.lr_scheduler.LinearLR(
            optimizer, start_factor=1.0, end_factor=0.0, total_iters=STEPS
        ),
        pw.LinearWarmup(optimizer, warmup_period=WARMUP_PERIOD),
    )
    args = trainer_arguments(output_dir, max_steps=STEPS, save_steps=SAVE_STEPS)
    recorder = RecordLR()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=TinyCorpus(),
        optimizers=(optimizer, scheduler),
        callbacks=[recorder],
    )
    return trainer, recorder


def reference_lrs() -> list[float]:
    """LinearLR from 1 to 0 over STEPS, times min(1, t / WARMUP_PERIOD); t = step + 1."""
    return [BASE_LR * (1 - k / STEPS) * min(1.0, (k + 1) / WARMUP_PERIOD) for k in range(STEPS)]


def logged_lrs(trainer: Trainer) -> dict[int, float]:
    return {
        log["step"]: log["learning_rate"]
        for log in trainer.state.log_history
        if "learning_rate" in log
    }


def test_hf_trainer_logs_dampened_rates_and_resumes(tmp_path: Path) -> None:
    trainer, recorder = make_trainer(tmp_path)
    trainer.train()
    assert [s for s, _ in recorder.seen] == list(range(STEPS))
    lrs = [lr for _, lr in recorder.seen]
    ref = reference_lrs()
    assert lrs == pytest.approx(ref, rel=1e-13, abs=1e-18)
    assert lrs[0] == BASE_LR * 0.2
    # the Trainer logs get_last_lr() read between optimizer.step() and scheduler.step():
    # the dampened rate that step k used
    logged = logged_lrs(trainer)
    assert logged == {k + 1: lr for k, lr in enumerate(lrs)}

    checkpoint = tmp_path / f"checkpoint-{SAVE_STEPS}"
    state = torch.load(checkpoint / "scheduler.pt", weights_only=True)
    assert state["warmup"]["last_step"] == SAVE_STEPS

    resumed, resumed_recorder = make_trainer(tmp_path / "resumed")
    resumed.train(resume_from_checkpoint=str(checkpoint))
    assert resumed_recorder.seen == recorder.seen[SAVE_STEPS:]
    # the log history of steps 1-6 comes from the checkpoint, steps 7-12 are new
    assert logged_lrs(resumed) == logged


def test_hf_trainer_example_runs(tmp_path: Path) -> None:
    out = run_example([str(EXAMPLES / "hf_trainer_example.py"), str(tmp_path / "out")], tmp_path)
    lines = [line for line in out.splitlines() if line.startswith("step ")]
    assert len(lines) == 8
    for t, line in enumerate(lines):
        _, step, lr = line.split()
        assert int(step) == t
        expected = 1e-3 * (1 + math.cos(math.pi * t / 8)) / 2 * min(1.0, (t + 1) / 3)
        assert float(lr) == pytest.approx(expected, rel=1e-13, abs=1e-18)
