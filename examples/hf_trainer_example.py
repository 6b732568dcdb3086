"""The Hugging Face Trainer with a warmup attached to the optimizer (the recommended mode).

Run with ``python examples/hf_trainer_example.py [OUTPUT_DIR]``; it trains a tiny GPT-2
built in code (nothing is downloaded) on CPU for 8 steps and prints, for each step, the
learning rate its update uses: the cosine schedule's rate times the warmup factor.

The Trainer gets the optimizer and the plain cosine scheduler (``optimizers=``); the
warmup, attached to the optimizer, counts the updates, so ``gradient_accumulation_steps``
changes nothing. The Trainer logs the scheduler's own (undampened) ``learning_rate``, so
the callback reads the rate each update uses from ``warmup.get_last_lr()``, and saves the
warmup's state into each checkpoint folder (load it with ``warmup.load_state_dict`` before
``trainer.train(resume_from_checkpoint=...)``).

The alternative that needs no callback is ``pytorch_warmup.WarmupLR``: pass
``optimizers=(optimizer, WarmupLR(CosineAnnealingLR(optimizer, ...), LinearWarmup(optimizer,
3)))``; the Trainer then logs and checkpoints the warmed-up rates itself (see
docs/integrations.md).
"""

import os
import sys
import tempfile
from typing import Any

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

import pytorch_warmup as warmup


class WarmupCallback(TrainerCallback):
    def __init__(self, warmup_scheduler: warmup.BaseWarmup) -> None:
        self.warmup = warmup_scheduler

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # The rate the coming update uses; group['lr'] holds the scheduler's own rate.
        print("step", state.global_step, self.warmup.get_last_lr()[0])

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        torch.save(self.warmup.state_dict(), os.path.join(folder, "warmup.pt"))


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
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=8)
    warmup_scheduler = warmup.LinearWarmup(optimizer, warmup_period=3).attach()
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
        callbacks=[WarmupCallback(warmup_scheduler)],
    )
    print("step, learning rate its update uses (cosine times the warmup factor)")
    trainer.train()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(tmp)
