"""Attached mode in real training frameworks: Lightning, the Hugging Face Trainer, accelerate.

In each, a plain ``CosineAnnealingLR`` is handed to the framework as is and the warmup is
attached to the optimizer; nothing else knows about the warmup. The tests check that the
warmup counts real optimizer updates (gradient accumulation of 4 micro-batches, a
scheduler stepped per epoch or several times per update), that the learning rate each
update used is the scheduler's rate times ``omega_t``, what the frameworks' own loggers
report, and that resuming from a checkpoint reproduces the run exactly.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import attached_accelerate_worker as acc
import pytest
import torch
from integration_utils import EXAMPLES, free_port, run_example, trainer_arguments

import pytorch_warmup as pw

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent


def cosine(base_lr: float, k: int, t_max: int) -> float:
    """CosineAnnealingLR's rate after ``k`` steps, in closed form."""
    return base_lr * (1 + math.cos(math.pi * k / t_max)) / 2


def record_rates(opt: torch.optim.Optimizer, warmup: pw.BaseWarmup, log: list[Any]) -> None:
    """Record, at each update, its number t, the scheduler's rate and the rate it used.

    A step pre-hook runs inside the update: it sees the rate the update uses, and
    ``t = warmup.last_step + 1`` (the update is not counted yet).
    """

    def hook(o: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        log.append((warmup.last_step + 1, float(o.param_groups[0]["lr"])))

    opt.register_step_pre_hook(hook)


# -- Lightning ---------------------------------------------------------------------------

L_BASE_LR = 0.02
L_EPOCHS = 6
L_BATCHES = 8  # batches per epoch
L_ACCUMULATE = 4  # so 2 updates per epoch, 12 in all
L_WARMUP = 5
L_RESUME_EPOCH = 2  # resume from the checkpoint written at the end of epoch 2 (6 updates)


def _lightning_module() -> Any:
    from lightning.pytorch import LightningModule

    class AttachedModule(LightningModule):
        """A linear regression; its optimizer warmed up by an attached LinearWarmup."""

        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.layer = torch.nn.Linear(3, 1)
            self.warmup: pw.BaseWarmup | None = None
            self.warmup_state: dict[str, Any] | None = None
            self.undampened: list[float] = []  # the scheduler's rate at each update
            self.used: list[tuple[int, float]] = []  # (t, the rate update t used)
            self.reported: list[float] = []  # warmup.get_last_lr() before each update

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> Any:
            opt = torch.optim.AdamW(self.parameters(), lr=L_BASE_LR)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=L_EPOCHS)
            self.warmup = pw.LinearWarmup(opt, warmup_period=L_WARMUP).attach()
            # (test only) inside an update the warmup's state holds the scheduler's rate
            opt.register_step_pre_hook(
                lambda o, a, k: self.undampened.append(self.warmup.state_dict()["lrs"][0])
            )
            if self.warmup_state is not None:  # resuming: see on_load_checkpoint
                self.warmup.load_state_dict(self.warmup_state)
            record_rates(opt, self.warmup, self.used)
            # a plain scheduler, Lightning's default interval ("epoch")
            return {"optimizer": opt, "lr_scheduler": scheduler}

        # The glue that saves and restores the warmup with Lightning's checkpoints.
        # Lightning calls on_load_checkpoint before configure_optimizers, so the
        # state is kept until the warmup exists.
        def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
            assert self.warmup is not None
            checkpoint["warmup"] = self.warmup.state_dict()

        def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
            self.warmup_state = checkpoint["warmup"]

        # The rate each update really uses, next to LearningRateMonitor's: read right
        # before the update (Lightning calls this hook once per update, after the
        # gradients of all the accumulated batches are in).
        def on_before_optimizer_step(self, optimizer: Any) -> None:
            assert self.warmup is not None
            rate = self.warmup.get_last_lr()[0]
            self.reported.append(rate)
            self.log("lr-applied", rate)

    return AttachedModule()


def _lightning_loader() -> torch.utils.data.DataLoader[Any]:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2 * L_BATCHES, 3, generator=gen)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=2, shuffle=False)


def _lightning_trainer(root: Path, name: str) -> Any:
    from lightning.pytorch import Trainer
    from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    return Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=L_EPOCHS,
        accumulate_grad_batches=L_ACCUMULATE,
        logger=CSVLogger(root, name=name),
        callbacks=[
            LearningRateMonitor(logging_interval="step"),
            ModelCheckpoint(dirpath=root / f"{name}-ckpt", every_n_epochs=1, save_top_k=-1),
        ],
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
        deterministic=True,
    )


def _csv_column(log_dir: str, column: str) -> dict[int, float]:
    with open(Path(log_dir) / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {int(r["step"]): float(r[column]) for r in rows if r.get(column)}


def test_lightning_accumulation_epoch_interval_and_resume(tmp_path: Path) -> None:
    updates = L_EPOCHS * L_BATCHES // L_ACCUMULATE
    trainer = _lightning_trainer(tmp_path, "full")
    full = _lightning_module()
    trainer.fit(full, _lightning_loader())
    assert trainer.global_step == updates
    assert full.warmup.last_step == updates
    # update t used the cosine rate of its epoch times min(1, t/5)
    assert [t for t, _ in full.used] == list(range(1, updates + 1))
    expected = [
        cosine(L_BASE_LR, (t - 1) * L_ACCUMULATE // L_BATCHES, L_EPOCHS) * min(1.0, t / L_WARMUP)
        for t in range(1, updates + 1)
    ]
    assert [lr for _, lr in full.used] == pytest.approx(expected, rel=1e-13, abs=1e-18)
    # bit for bit: the scheduler's own rate times the warmup's factor
    for (t, lr), undampened in zip(full.used, full.undampened, strict=True):
        assert lr == undampened * min(1.0, t / L_WARMUP)
    assert full.used[0][1] == L_BASE_LR * 0.2

    # LearningRateMonitor reads group['lr'] between updates: the scheduler's rate
    monitored = _csv_column(trainer.logger.log_dir, "lr-AdamW")
    assert monitored, "LearningRateMonitor logged nothing"
    for step, lr in monitored.items():
        epoch = step * L_ACCUMULATE // L_BATCHES
        assert lr == pytest.approx(cosine(L_BASE_LR, epoch, L_EPOCHS), rel=1e-6), step

    # resume from the end of epoch 2: exactly the rest of the run
    ckpt_dir = tmp_path / "full-ckpt"
    first = (L_RESUME_EPOCH + 1) * L_BATCHES // L_ACCUMULATE
    ckpt = ckpt_dir / f"epoch={L_RESUME_EPOCH}-step={first}.ckpt"
    assert ckpt.is_file(), sorted(p.name for p in ckpt_dir.iterdir())
    saved = torch.load(ckpt, weights_only=True)
    assert saved["warmup"]["last_step"] == first
    resumed_trainer = _lightning_trainer(tmp_path, "resumed")
    resumed = _lightning_module()
    resumed_trainer.fit(resumed, _lightning_loader(), ckpt_path=ckpt)
    assert resumed.used == full.used[first:]
    assert resumed.warmup.last_step == updates
    for p, q in zip(resumed.parameters(), full.parameters(), strict=True):
        assert torch.equal(p, q)

    # warmup.get_last_lr() read in on_before_optimizer_step: the rate of that very
    # update, bit for bit, during the warmup (t <= 5) and after it
    assert full.reported == [lr for _, lr in full.used]
    assert resumed.reported == [lr for _, lr in resumed.used]
    # and as logged: the row of step s holds the rate of update t = s + 1 (float32, as
    # Lightning logs it)
    applied = _csv_column(trainer.logger.log_dir, "lr-applied")
    assert sorted(applied) == list(range(updates))
    for step, lr in applied.items():
        assert lr == pytest.approx(full.used[step][1], rel=1e-6), step


# -- Hugging Face Trainer -------------------------------------------------------------------

H_BASE_LR = 3e-3
H_UPDATES = 8
H_ACCUMULATE = 4
H_WARMUP = 5
H_SAVE = 3  # a checkpoint every 3 updates; resume from the one in the middle of epoch 1


def _hf_trainer(output_dir: Path) -> tuple[Any, pw.BaseWarmup, list[Any], list[float]]:
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        Trainer,
        TrainerCallback,
    )

    class TinyCorpus(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        """32 fixed token sequences: 4 updates of 4 micro-batches of 2 per epoch."""

        def __init__(self) -> None:
            self.ids = torch.randint(0, 32, (32, 8), generator=torch.Generator().manual_seed(0))

        def __len__(self) -> int:
            return len(self.ids)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {"input_ids": self.ids[i], "labels": self.ids[i]}

    class WarmupCallback(TrainerCallback):
        """Records the rate each update uses, read right before it, and writes the
        warmup's state into each checkpoint folder the Trainer has just saved."""

        def __init__(self, warmup: pw.BaseWarmup) -> None:
            self.warmup = warmup
            self.rates: list[float] = []

        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.rates.append(self.warmup.get_last_lr()[0])

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            torch.save(self.warmup.state_dict(), folder / "warmup.pt")

    class WarmupTrainer(Trainer):
        """Logs the rate the last update used beside the Trainer's ``learning_rate``."""

        def __init__(self, *args: Any, warmup_callback: WarmupCallback, **kwargs: Any) -> None:
            super().__init__(*args, callbacks=[warmup_callback], **kwargs)
            self.warmup_callback = warmup_callback

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            if "learning_rate" in logs and self.warmup_callback.rates:
                logs["applied_learning_rate"] = self.warmup_callback.rates[-1]
            super().log(logs, start_time)

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=32, n_positions=8, n_embd=16, n_layer=1, n_head=2)
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=H_BASE_LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=H_UPDATES)
    undampened: list[float] = []
    warmup = pw.LinearWarmup(optimizer, warmup_period=H_WARMUP).attach()
    # inside an update the warmup's state holds the scheduler's rate
    optimizer.register_step_pre_hook(
        lambda o, a, k: undampened.append(warmup.state_dict()["lrs"][0])
    )
    used: list[Any] = []
    record_rates(optimizer, warmup, used)
    args = trainer_arguments(
        output_dir,
        max_steps=H_UPDATES,
        gradient_accumulation_steps=H_ACCUMULATE,
        save_steps=H_SAVE,
    )
    trainer = WarmupTrainer(
        model=model,
        args=args,
        train_dataset=TinyCorpus(),
        optimizers=(optimizer, scheduler),
        warmup_callback=WarmupCallback(warmup),
    )
    return trainer, warmup, used, undampened


def test_hf_trainer_accumulation_logged_rates_and_resume(tmp_path: Path) -> None:
    trainer, warmup, used, undampened = _hf_trainer(tmp_path)
    trainer.train()
    assert trainer.state.global_step == H_UPDATES
    assert warmup.last_step == H_UPDATES  # 32 micro-batches, 8 updates
    assert [t for t, _ in used] == list(range(1, H_UPDATES + 1))
    # update t: the scheduler stepped t - 1 times (once per update), times min(1, t/5)
    expected = [
        cosine(H_BASE_LR, t - 1, H_UPDATES) * min(1.0, t / H_WARMUP)
        for t in range(1, H_UPDATES + 1)
    ]
    assert [lr for _, lr in used] == pytest.approx(expected, rel=1e-13, abs=1e-18)
    for (t, lr), rate in zip(used, undampened, strict=True):
        assert lr == rate * min(1.0, t / H_WARMUP)

    # resume from checkpoint-3 (mid-epoch): the warmup's state from the callback's file,
    # loaded before train(); the Trainer restores the optimizer and the scheduler
    checkpoint = tmp_path / f"checkpoint-{H_SAVE}"
    state = torch.load(checkpoint / "warmup.pt", weights_only=True)
    assert state["last_step"] == H_SAVE
    resumed, resumed_warmup, resumed_used, _ = _hf_trainer(tmp_path / "resumed")
    resumed_warmup.load_state_dict(state)
    resumed.train(resume_from_checkpoint=str(checkpoint))
    assert resumed_used == used[H_SAVE:]
    assert resumed_warmup.last_step == H_UPDATES
    for p, q in zip(resumed.model.parameters(), trainer.model.parameters(), strict=True):
        assert torch.equal(p, q)

    # The Trainer logs scheduler.get_last_lr() read between optimizer.step() and
    # scheduler.step(): at step t, the scheduler's (undampened) rate of update t.
    logs = [log for log in trainer.state.log_history if "learning_rate" in log]
    assert [log["step"] for log in logs] == list(range(1, H_UPDATES + 1))
    for log, rate in zip(logs, undampened, strict=True):
        assert log["learning_rate"] == rate
    # warmup.get_last_lr() read in on_pre_optimizer_step: the rate of that very update,
    # bit for bit, during the warmup (t <= 5) and after it; logged beside learning_rate
    assert trainer.warmup_callback.rates == [lr for _, lr in used]
    assert resumed.warmup_callback.rates == [lr for _, lr in resumed_used]
    for log, (_, lr) in zip(logs, used, strict=True):
        assert log["applied_learning_rate"] == lr


# -- accelerate -----------------------------------------------------------------------------


def _accelerate_results(tmp_path: Path, processes: int) -> list[dict[str, Any]]:
    worker = str(HERE / "attached_accelerate_worker.py")
    if processes == 1:
        run_example([worker, str(tmp_path)], tmp_path, timeout=120)
    else:
        launcher = ["-m", "torch.distributed.run", "--nproc-per-node", str(processes)]
        launcher += ["--master-addr", "127.0.0.1", "--master-port", str(free_port())]
        run_example([*launcher, worker, str(tmp_path)], tmp_path, timeout=120)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(processes)]


@pytest.mark.parametrize("processes", [1, 2])
def test_accelerate_counts_updates_not_scheduler_steps(processes: int, tmp_path: Path) -> None:
    results = _accelerate_results(tmp_path, processes)
    for rank, res in enumerate(results):
        assert res["world"] == processes
        assert res["micro_batches"] == acc.ACCUMULATE * acc.UPDATES
        # one count per update, while the prepared scheduler stepped `processes` times
        assert res["last_step"] == acc.UPDATES, rank
        assert res["scheduler_last_epoch"] == acc.UPDATES * processes, rank
        assert [t for t, _ in res["used"]] == list(range(1, acc.UPDATES + 1))
        expected = [
            cosine(acc.BASE_LR, (t - 1) * processes, acc.UPDATES * processes)
            * min(1.0, t / acc.WARMUP_PERIOD)
            for t in range(1, acc.UPDATES + 1)
        ]
        assert [lr for _, lr in res["used"]] == pytest.approx(expected, rel=1e-13, abs=1e-18)
        for (t, lr), rate in zip(res["used"], res["scheduler_rates"], strict=True):
            assert lr == rate * min(1.0, t / acc.WARMUP_PERIOD)
    # the ranks agree: the same rates and, through the all-reduce, the same parameters
    for res in results[1:]:
        assert res["used"] == results[0]["used"]
        assert res["params"] == results[0]["params"]


# -- the example ----------------------------------------------------------------------------


def test_amp_accumulation_example(tmp_path: Path) -> None:
    out = run_example([str(EXAMPLES / "attached_amp_accumulation.py")], tmp_path, timeout=60)
    lines = out.splitlines()
    # the first 3 iterations overflow at the initial loss scale and are skipped
    assert lines[:3] == [f"iteration {i} skipped (loss scale too large)" for i in range(3)]
    updates = [line.split() for line in lines if line.startswith("update ")]
    assert [int(u[1]) for u in updates] == list(range(1, 10))
    for _, t, used, rate in updates:
        k = int(t) - 1  # the scheduler steps once per real update
        assert float(rate) == pytest.approx(cosine(1e-3, k, 12), rel=1e-13)
        assert float(used) == float(rate) * min(1.0, int(t) / 4)
    assert lines[-1] == "9 updates, 3 skipped iterations"
