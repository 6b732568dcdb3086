"""PyTorch Lightning with a warmup: WarmupLR is an ordinary step-interval LR scheduler.

Run with ``python examples/lightning_example.py``; it trains a small regression on
CPU for 12 steps and prints the learning rate each step used.
"""

from typing import Any

import torch
from lightning import LightningModule, Trainer

import pytorch_warmup as warmup


class Regression(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        print("step", self.global_step, self.optimizers().param_groups[0]["lr"])
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = warmup.WarmupLR(
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=12),
            warmup.LinearWarmup(optimizer, warmup_period=4),
        )
        # No lr_scheduler_step override: Lightning steps WarmupLR after every optimizer step.
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


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
    trainer.fit(Regression(), torch.utils.data.DataLoader(data, batch_size=2))


if __name__ == "__main__":
    main()
