"""PyTorch Lightning with a warmup attached to the optimizer (the recommended mode).

Run with ``python examples/lightning_example.py``; it trains a small regression on
CPU for 12 steps and prints, for each step, the learning rate its update uses: the
cosine schedule's rate times the warmup factor.

The warmup is attached in ``configure_optimizers`` and Lightning gets the plain cosine
scheduler: nothing else knows about the warmup, and any ``interval`` or
``accumulate_grad_batches`` works, since the warmup counts optimizer updates.
Lightning's ``LearningRateMonitor`` would log the scheduler's own (undampened) rate,
so the rate each update uses is read from ``warmup.get_last_lr()`` before the update.
The two checkpoint hooks save and restore the warmup's state with Lightning's
checkpoints (``trainer.fit(..., ckpt_path=...)``).

The alternative that needs no hooks is ``pytorch_warmup.WarmupLR``: return
``{"scheduler": WarmupLR(CosineAnnealingLR(opt, ...), LinearWarmup(opt, 4)),
"interval": "step"}`` as the LR scheduler (see docs/integrations.md).
"""

from typing import Any

import torch
from lightning import LightningModule, Trainer

import pytorch_warmup as warmup


class Regression(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)
        self.warmup: warmup.BaseWarmup | None = None
        self.warmup_state: dict[str, Any] | None = None

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        assert self.warmup is not None
        # The rate the coming update uses; group['lr'] holds the scheduler's own rate.
        print("step", self.global_step, self.warmup.get_last_lr()[0])
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=12)
        self.warmup = warmup.LinearWarmup(optimizer, warmup_period=4).attach()
        if self.warmup_state is not None:  # resuming: see on_load_checkpoint
            self.warmup.load_state_dict(self.warmup_state)
        # T_max counts scheduler steps: "interval": "step" steps it after every update.
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        assert self.warmup is not None
        checkpoint["warmup"] = self.warmup.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Lightning calls this before configure_optimizers: keep the state until then.
        self.warmup_state = checkpoint["warmup"]


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(24, 3)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    trainer = Trainer(
        accelerator="cpu",
        max_steps=12,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    print("step, learning rate its update uses (cosine times the warmup factor)")
    trainer.fit(Regression(), torch.utils.data.DataLoader(data, batch_size=2))


if __name__ == "__main__":
    main()
