"""The Hugging Face Trainer with a warmup: pass WarmupLR as the Trainer's LR scheduler.

Run with ``python examples/hf_trainer_example.py [OUTPUT_DIR]``; it trains a tiny GPT-2
built in code (nothing is downloaded) on CPU for 8 steps and prints each step's
learning rate.
"""

import sys
import tempfile
from typing import Any

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

import pytorch_warmup as warmup


class PrintLR(TrainerCallback):
    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        print("step", state.global_step, kwargs["optimizer"].param_groups[0]["lr"])


def main(output_dir: str) -> None:
    torch.manual_seed(0)
    # GPT-2's special tokens (id 50256) lie outside a 32-token vocabulary: use id 0.
    config = GPT2Config(
        vocab_size=32,
        n_positions=8,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = GPT2LMHeadModel(config)
    model.loss_type = "ForCausalLM"  # named, so transformers does not warn that it guesses
    ids = torch.randint(0, 32, (16, 8))
    data = [{"input_ids": x, "labels": x} for x in ids]

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = warmup.WarmupLR(
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8),
        warmup.LinearWarmup(optimizer, warmup_period=3),
    )
    args = TrainingArguments(
        output_dir=output_dir,
        max_steps=8,
        per_device_train_batch_size=2,
        logging_steps=4,
        report_to="none",
        save_strategy="no",  # nothing to keep from a demonstration
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=data,
        optimizers=(optimizer, scheduler),
        callbacks=[PrintLR()],
    )
    trainer.train()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(tmp)
