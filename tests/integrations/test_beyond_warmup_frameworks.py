"""Beyond the warmup in real training frameworks: a cooldown and a warmed group value.

In each framework the warmup is attached to the optimizer with a cooldown planned inside
the run (``cool_down``) and momentum or ``betas[0]`` warmed from a low start (``warm``);
the framework gets the optimizer and its own, untouched scheduler. Each test observes,
inside every real update (a step pre-hook, Lightning's ``on_before_optimizer_step``),
the learning rate and the warmed value the optimizer uses, and checks them against the
scheduler's own rate and independent references:

* rate used = the scheduler's rate times ``warmup.lr_factors(t - 1)``, bit for bit (one
  multiply), and ``lr_factors`` = ``min(1, t/W)`` times ``_math.cooldown_factor``, bit
  for bit (one multiply); the cooldown factor against a 50-digit reference within
  :data:`COOLDOWN_ULPS`, exactly 1.0 up to update S and exactly ``final`` from S + D on;
* warmed value = ``start + (own - start) * min(1, k/P)`` at the (k+1)-th update, exactly
  ``start`` at the first and exactly ``own`` from update P + 1 on, within
  :data:`WARMED_ULPS` between (the library computes ``own * s + start * (1 - s)``);
* between updates the group holds the scheduler's rate and its own value;
* ``warmup.last_step`` is the number of optimizer updates (micro-batches of gradient
  accumulation do not count); resuming from the framework's checkpoint in the middle of
  the cooldown continues bit for bit.

Lightning and the Hugging Face ``Trainer`` run in this process; ``accelerate`` runs
``beyond_warmup_accelerate_worker.py`` on 1 and 2 CPU processes (gloo); the last test
compiles a training step with ``attach(in_graph=True)``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import beyond_warmup_accelerate_worker as acc
import mpmath
import pytest
import torch
import torch._dynamo
from integration_utils import free_port, run_example, trainer_arguments

import pytorch_warmup as pw
from pytorch_warmup import _math

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent

COOLDOWN_ULPS = {"linear": 2.0, "cosine": 4.0, "1-sqrt": 2.5}
"""How far ``_math.cooldown_factor`` may be from the exact factor between the ends, in ulp
(the bounds tests/test_beyond_warmup.py measures on a dense grid)."""

WARMED_ULPS = 1.0
"""How far a warmed value may be from the exact ``start + (own - start) k/P`` of the binary
``start`` and ``own``, in ulp of the value: the library rounds ``k/P``, ``own * s``,
``1 - s``, ``start * (1 - s)`` and the sum; at most 0.84 ulp in these tests."""


class Seen(NamedTuple):
    """What one update used, observed inside it."""

    t: int  # the update's number: warmup.last_step + 1 inside it
    lr: float  # the rate the update used
    value: float  # the warmed group value it used (momentum or betas[0])
    rate: float  # the scheduler's own rate: warmup.state_dict()["lrs"][0] inside it


def _value(group: dict[str, Any], key: str) -> float:
    v = group["betas"][0] if key == "beta1" else group[key]
    return float(v)


def observe(
    opt: torch.optim.Optimizer,
    warmup: pw.BaseWarmup,
    key: str,
    log: list[Seen],
    rate_of: Callable[[], float] | None = None,
) -> None:
    """Record each update with a step pre-hook registered after ``attach()`` (it sees the
    values the update uses). The scheduler's rate: ``warmup.state_dict()["lrs"][0]``
    inside the update, or ``rate_of()``."""

    def hook(o: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        group = o.param_groups[0]
        state = warmup.state_dict()  # brings last_step up to date in the in-graph mode
        rate = state["lrs"][0] if rate_of is None else rate_of()
        log.append(
            Seen(state["last_step"] + 1, float(group["lr"]), _value(group, key), float(rate))
        )

    opt.register_step_pre_hook(hook)


def ulps(a: float, exact: Any) -> float:
    """The distance of ``a`` from the exact value (a Fraction or an mpf) in units of
    ``a``'s last place."""
    with mpmath.workdps(50):
        if isinstance(exact, Fraction):
            exact = mpmath.mpf(exact.numerator) / exact.denominator
        return float(abs(mpmath.mpf(a) - exact) / math.ulp(a))


def cooldown_ref(t: int, after: int, over: int, shape: str, final: float) -> Any:
    """The cooldown factor of update ``t`` (1-based), 50 digits, written from the formula."""
    with mpmath.workdps(50):
        u = t - after
        if u <= 0:
            return mpmath.mpf(1)
        if u >= over:
            return mpmath.mpf(final)
        p = mpmath.mpf(u) / over
        g = {
            "linear": 1 - p,
            "cosine": (1 + mpmath.cos(mpmath.pi * p)) / 2,
            "1-sqrt": 1 - mpmath.sqrt(p),
        }[shape]
        return mpmath.mpf(final) + (1 - mpmath.mpf(final)) * g


def check_lr_schedule(
    seen: list[Seen],
    factors: list[float],
    *,
    period: int,
    after_update: int,
    over_updates: int,
    shape: str,
    final: float,
) -> None:
    """Every update's rate is the scheduler's times the warmup's and the cooldown's factors.

    ``factors[step]``: ``warmup.lr_factors(step)[0]``; ``period``: the warmup's; the rest:
    the arguments of ``cool_down``.
    """
    after, over = after_update, over_updates
    for s in seen:
        step = s.t - 1
        factor = factors[step]
        assert s.lr == s.rate * factor, s  # one multiply: bit for bit
        omega = float(min(Fraction(1), Fraction(s.t, period)))  # correctly rounded t/W
        c = _math.cooldown_factor(step, after, over, shape, final)
        assert factor == omega * c, s
        if s.t <= after:
            assert c == 1.0, s
        elif s.t >= after + over:
            assert c == final, s
            assert s.lr == s.rate * final, s
        else:
            assert final < c < 1.0, s
            assert ulps(c, cooldown_ref(s.t, after, over, shape, final)) <= COOLDOWN_ULPS[shape]


def lr_factors(warmup: pw.BaseWarmup, updates: int) -> list[float]:
    """``warmup.lr_factors(step)`` of the first param group for each update index."""
    return [warmup.lr_factors(step)[0] for step in range(updates)]


def check_warmed(seen: list[Seen], *, start: float, own: float, period: int) -> None:
    """Update t (the (k+1)-th since ``warm()``, k = t - 1) uses start + (own - start) k/P."""
    for s in seen:
        k = s.t - 1
        if k == 0:
            assert s.value == start, s
        elif k >= period:
            assert s.value == own, s
        else:
            exact = Fraction(start) + (Fraction(own) - Fraction(start)) * Fraction(k, period)
            assert ulps(s.value, exact) <= WARMED_ULPS, (s, float(exact))


def cosine(base_lr: float, k: int, t_max: int) -> float:
    """CosineAnnealingLR's rate after ``k`` steps, in closed form."""
    return base_lr * (1 + math.cos(math.pi * k / t_max)) / 2


# -- Lightning ---------------------------------------------------------------------------

L_BASE_LR = 0.05
L_MOMENTUM = 0.9
L_EPOCHS = 5
L_BATCHES = 8  # batches per epoch
L_ACCUMULATE = 2  # 4 updates per epoch, 20 in all
L_UPDATES = L_EPOCHS * L_BATCHES // L_ACCUMULATE
L_WARMUP = 4
L_COOL = {"after_update": 10, "over_updates": 8, "shape": "1-sqrt", "final": 0.0}
L_WARM = {"start": 0.5, "warmup_period": 6}
L_RESUME_EPOCH = 2  # the checkpoint at the end of epoch 2: 12 updates, mid-cooldown


def _lightning_module() -> Any:
    from lightning.pytorch import LightningModule

    class CooledModule(LightningModule):
        """A linear regression with SGD: warmup, cosine, 1-sqrt cooldown, momentum warmed."""

        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.layer = torch.nn.Linear(3, 1)
            self.warmup: pw.BaseWarmup | None = None
            self.warmup_state: dict[str, Any] | None = None
            self.seen: list[Seen] = []  # from a step pre-hook
            self.hooked: list[tuple[int, float, float]] = []  # from on_before_optimizer_step
            self.between: list[tuple[float, float]] = []  # lr and momentum between updates

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> Any:
            opt = torch.optim.SGD(self.parameters(), lr=L_BASE_LR, momentum=L_MOMENTUM)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=L_UPDATES)
            warmup = pw.LinearWarmup(opt, warmup_period=L_WARMUP).attach()
            warmup.cool_down(**L_COOL).warm("momentum", **L_WARM)
            # resuming (see on_load_checkpoint): the state replaces what was just planned
            # (the Hugging Face test resumes without planning again)
            if self.warmup_state is not None:
                warmup.load_state_dict(self.warmup_state)
            observe(opt, warmup, "momentum", self.seen)
            self.warmup = warmup
            # the scheduler as is, stepped by Lightning after each optimizer update
            return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

        # Lightning calls on_load_checkpoint before configure_optimizers.
        def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
            assert self.warmup is not None
            checkpoint["warmup"] = self.warmup.state_dict()

        def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
            self.warmup_state = checkpoint["warmup"]

        # Lightning runs the closure (training_step, backward, this hook) inside
        # optimizer.step() on the last micro-batch of each update: inside the update.
        def on_before_optimizer_step(self, optimizer: Any) -> None:
            assert self.warmup is not None
            group = optimizer.param_groups[0]
            self.hooked.append(
                (self.warmup.last_step + 1, self.warmup.get_last_lr()[0], group["momentum"])
            )

        def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
            group = self.trainer.optimizers[0].param_groups[0]
            self.between.append((group["lr"], group["momentum"]))

    return CooledModule()


def _lightning_data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2 * L_BATCHES, 3, generator=gen)
    return x, x.sum(dim=1, keepdim=True)


def _lightning_loader() -> torch.utils.data.DataLoader[Any]:
    data = torch.utils.data.TensorDataset(*_lightning_data())
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
            LearningRateMonitor(logging_interval="step", log_momentum=True),
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


def _replay_lightning(seen: list[Seen]) -> list[torch.Tensor]:
    """The same training in a plain loop, the rate and momentum of each update set by
    hand from ``seen``: the optimizer's own arithmetic used the observed values."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(layer.parameters(), lr=L_BASE_LR, momentum=L_MOMENTUM)
    x, y = _lightning_data()
    updates = iter(seen)
    for _ in range(L_EPOCHS):
        for i in range(L_BATCHES):
            xb, yb = x[2 * i : 2 * i + 2], y[2 * i : 2 * i + 2]
            # Lightning divides the loss by the number of accumulated batches
            (torch.nn.functional.mse_loss(layer(xb), yb) / L_ACCUMULATE).backward()
            if (i + 1) % L_ACCUMULATE == 0:
                s = next(updates)
                opt.param_groups[0].update(lr=s.lr, momentum=s.value)
                opt.step()
                opt.zero_grad()
    return [p.detach().clone() for p in layer.parameters()]


def test_lightning_cooldown_and_momentum_warmup_with_accumulation_and_resume(
    tmp_path: Path,
) -> None:
    trainer = _lightning_trainer(tmp_path, "full")
    full = _lightning_module()
    trainer.fit(full, _lightning_loader())
    assert trainer.global_step == L_UPDATES
    assert full.warmup.last_step == L_UPDATES  # 40 micro-batches, 20 updates
    assert [s.t for s in full.seen] == list(range(1, L_UPDATES + 1))
    # the scheduler's own rate, stepped once per update, untouched by the warmup
    rates = [cosine(L_BASE_LR, t - 1, L_UPDATES) for t in range(1, L_UPDATES + 1)]
    assert [s.rate for s in full.seen] == pytest.approx(rates, rel=1e-13, abs=1e-18)
    check_lr_schedule(full.seen, lr_factors(full.warmup, L_UPDATES), period=L_WARMUP, **L_COOL)
    check_warmed(full.seen, start=L_WARM["start"], own=L_MOMENTUM, period=L_WARM["warmup_period"])
    assert full.seen[-1].lr == 0.0  # final 0: updates 18 to 20 at rate 0
    # Lightning's own hook, inside the update, sees the same values
    assert full.hooked == [(s.t, s.lr, s.value) for s in full.seen]
    # between updates: the scheduler's rate and the group's own momentum (the batch after
    # update t starts with the rate of update t + 1)
    per_update = full.between[::L_ACCUMULATE]
    assert [lr for lr, _ in per_update] == [s.rate for s in full.seen]
    assert {m for _, m in full.between} == {L_MOMENTUM}
    # and so LearningRateMonitor logs them (as float32)
    monitored = _csv_column(trainer.logger.log_dir, "lr-SGD-momentum")
    assert sorted(monitored) == list(range(L_UPDATES))
    assert list(monitored.values()) == [pytest.approx(L_MOMENTUM, rel=1e-7)] * L_UPDATES
    # the optimizer's arithmetic used the observed rate and momentum: a plain loop given
    # them by hand ends with the same parameters, bit for bit
    for p, q in zip(_replay_lightning(full.seen), full.parameters(), strict=True):
        assert torch.equal(p, q)

    # resume from the end of epoch 2 (12 updates, in the middle of the cooldown)
    ckpt_dir = tmp_path / "full-ckpt"
    first = (L_RESUME_EPOCH + 1) * L_BATCHES // L_ACCUMULATE
    assert L_COOL["after_update"] < first < L_COOL["after_update"] + L_COOL["over_updates"]
    ckpt = ckpt_dir / f"epoch={L_RESUME_EPOCH}-step={first}.ckpt"
    assert ckpt.is_file(), sorted(p.name for p in ckpt_dir.iterdir())
    saved = torch.load(ckpt, weights_only=True)
    assert saved["warmup"]["last_step"] == first
    assert saved["warmup"]["cooldown"] == L_COOL
    assert [(w["key"], w["start"], w["from_step"]) for w in saved["warmup"]["warmed"]] == [
        ("momentum", L_WARM["start"], 0)
    ]
    assert saved["warmup"]["warmed"][0]["own"] == [L_MOMENTUM]
    resumed_trainer = _lightning_trainer(tmp_path, "resumed")
    resumed = _lightning_module()
    resumed_trainer.fit(resumed, _lightning_loader(), ckpt_path=ckpt)
    assert resumed.seen == full.seen[first:]
    assert resumed.hooked == full.hooked[first:]
    assert resumed.warmup.last_step == L_UPDATES
    assert resumed.warmup.state_dict()["cooldown"] == L_COOL
    for p, q in zip(resumed.parameters(), full.parameters(), strict=True):
        assert torch.equal(p, q)


# -- Hugging Face Trainer -------------------------------------------------------------------

H_BASE_LR = 3e-3
H_BETA1 = 0.9
H_UPDATES = 12
H_ACCUMULATE = 2  # 4 sequences per update: 6 updates per epoch of 24 sequences
H_WARMUP = 3
H_COOL = {"after_update": 6, "over_updates": 4, "shape": "cosine", "final": 0.1}
H_WARM = {"start": 0.5, "warmup_period": 5}
H_SAVE = 4  # checkpoints at updates 4, 8 and 12; resume from 8, in the cooldown


def _hf_trainer(output_dir: Path, plan: bool = True) -> tuple[Any, pw.BaseWarmup, list[Seen]]:
    """The Trainer, the warmup (with the cooldown and the beta1 warmup when ``plan``; a
    resumed run gets them from the warmup's state) and the list of what updates use."""
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        Trainer,
        TrainerCallback,
        get_constant_schedule,
    )

    class TinyCorpus(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        def __init__(self) -> None:
            self.ids = torch.randint(0, 32, (24, 8), generator=torch.Generator().manual_seed(0))

        def __len__(self) -> int:
            return len(self.ids)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {"input_ids": self.ids[i], "labels": self.ids[i]}

    class WarmupCallback(TrainerCallback):
        """Reads the coming update's rate before it and the group between updates, and
        writes the warmup's state into each checkpoint folder the Trainer has saved."""

        def __init__(self, warmup: pw.BaseWarmup) -> None:
            self.warmup = warmup
            self.coming: list[float] = []
            self.between: list[tuple[float, float]] = []

        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.coming.append(self.warmup.get_last_lr()[0])

        def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            group = self.warmup.optimizer.param_groups[0]
            self.between.append((group["lr"], group["betas"][0]))

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            torch.save(self.warmup.state_dict(), folder / "warmup.pt")

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=32, n_positions=8, n_embd=16, n_layer=1, n_head=2)
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=H_BASE_LR, betas=(H_BETA1, 0.999))
    scheduler = get_constant_schedule(optimizer)  # warmup, stable, cooldown: a WSD
    warmup = pw.LinearWarmup(optimizer, warmup_period=H_WARMUP).attach()
    if plan:
        warmup.cool_down(**H_COOL).warm("beta1", **H_WARM)
    seen: list[Seen] = []
    observe(optimizer, warmup, "beta1", seen)
    args = trainer_arguments(
        output_dir,
        max_steps=H_UPDATES,
        gradient_accumulation_steps=H_ACCUMULATE,
        save_steps=H_SAVE,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=TinyCorpus(),
        optimizers=(optimizer, scheduler),
        callbacks=[WarmupCallback(warmup)],
    )
    return trainer, warmup, seen


def _callback(trainer: Any) -> Any:
    (callback,) = [
        c for c in trainer.callback_handler.callbacks if type(c).__name__ == "WarmupCallback"
    ]
    return callback


def test_hf_trainer_cooldown_and_beta1_warmup_with_accumulation_and_resume(
    tmp_path: Path,
) -> None:
    trainer, warmup, seen = _hf_trainer(tmp_path)
    trainer.train()
    assert trainer.state.global_step == H_UPDATES
    assert warmup.last_step == H_UPDATES  # 24 micro-batches, 12 updates
    assert [s.t for s in seen] == list(range(1, H_UPDATES + 1))
    assert [s.rate for s in seen] == [H_BASE_LR] * H_UPDATES  # the constant schedule's
    check_lr_schedule(seen, lr_factors(warmup, H_UPDATES), period=H_WARMUP, **H_COOL)
    check_warmed(seen, start=H_WARM["start"], own=H_BETA1, period=H_WARM["warmup_period"])
    assert seen[-1].lr == H_BASE_LR * H_COOL["final"]
    callback = _callback(trainer)
    # get_last_lr() right before each update: the rate it then uses, bit for bit
    assert callback.coming == [s.lr for s in seen]
    # between updates (after optimizer.step()): the scheduler's rate and the own beta1
    assert callback.between == [(H_BASE_LR, H_BETA1)] * H_UPDATES
    # the Trainer logs the scheduler's rate, as documented for attached mode
    logs = [log for log in trainer.state.log_history if "learning_rate" in log]
    assert [log["learning_rate"] for log in logs] == [H_BASE_LR] * H_UPDATES

    # resume from checkpoint-8 (mid-epoch, in the cooldown): the warmup's state from the
    # callback's file, loaded before train(), brings the cooldown and the beta1 warmup
    # (not planned again here); the Trainer restores optimizer and scheduler
    resume_at = 2 * H_SAVE
    assert H_COOL["after_update"] < resume_at < H_COOL["after_update"] + H_COOL["over_updates"]
    checkpoint = tmp_path / f"checkpoint-{resume_at}"
    state = torch.load(checkpoint / "warmup.pt", weights_only=True)
    assert state["last_step"] == resume_at
    assert state["cooldown"] == H_COOL
    assert state["warmed"][0]["own"] == [H_BETA1]
    resumed, resumed_warmup, resumed_seen = _hf_trainer(tmp_path / "resumed", plan=False)
    resumed_warmup.load_state_dict(state)
    resumed.train(resume_from_checkpoint=str(checkpoint))
    assert resumed_seen == seen[resume_at:]
    assert resumed_warmup.last_step == H_UPDATES
    assert _callback(resumed).coming == callback.coming[resume_at:]
    for p, q in zip(resumed.model.parameters(), trainer.model.parameters(), strict=True):
        assert torch.equal(p, q)


# -- accelerate -----------------------------------------------------------------------------


def _accelerate_results(tmp_path: Path, processes: int) -> list[dict[str, Any]]:
    worker = str(HERE / "beyond_warmup_accelerate_worker.py")
    if processes == 1:
        run_example([worker, str(tmp_path)], tmp_path, timeout=120)
    else:
        launcher = ["-m", "torch.distributed.run", "--nproc-per-node", str(processes)]
        launcher += ["--master-addr", "127.0.0.1", "--master-port", str(free_port())]
        run_example([*launcher, worker, str(tmp_path)], tmp_path, timeout=120)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(processes)]


@pytest.mark.parametrize("processes", [1, 2])
def test_accelerate_cooldown_and_warmed_values_per_real_update(
    processes: int, tmp_path: Path
) -> None:
    results = _accelerate_results(tmp_path, processes)
    own = {"beta1": acc.BETA1, "weight_decay": acc.WEIGHT_DECAY}
    for rank, res in enumerate(results):
        assert res["world"] == processes
        assert res["micro_batches"] == acc.ACCUMULATE * acc.UPDATES
        assert res["last_step"] == acc.UPDATES, rank  # one count per update, not per batch
        used = [tuple(map(float, u[1:])) for u in res["used"]]
        assert [u[0] for u in res["used"]] == list(range(1, acc.UPDATES + 1)), rank
        # the prepared scheduler steps `processes` times per update
        rates = [
            cosine(acc.BASE_LR, k * processes, acc.UPDATES * processes) for k in range(acc.UPDATES)
        ]
        assert [rate for *_, rate in used] == pytest.approx(rates, rel=1e-13, abs=1e-18)

        beta1 = [Seen(t, lr, b, rate) for t, (lr, b, _, rate) in enumerate(used, start=1)]
        decay = [Seen(t, lr, d, rate) for t, (lr, _, d, rate) in enumerate(used, start=1)]
        check_lr_schedule(beta1, res["factors"], period=acc.WARMUP_PERIOD, **acc.COOL)
        check_warmed(
            beta1,
            own=acc.BETA1,
            period=acc.WARM_BETA1["warmup_period"],
            start=acc.WARM_BETA1["start"],
        )
        check_warmed(
            decay,
            own=acc.WEIGHT_DECAY,
            period=acc.WARM_DECAY["warmup_period"],
            start=acc.WARM_DECAY["start"],
        )
        # between updates, and on the micro-batches that only accumulate: the group's own
        # values (and the scheduler's rate)
        assert {(b, d) for _, b, d in res["between"]} == {(own["beta1"], own["weight_decay"])}
        after_updates = res["between"][acc.ACCUMULATE - 1 :: acc.ACCUMULATE]
        assert [lr for lr, _, _ in after_updates[:-1]] == [rate for *_, rate in used[1:]]
        # the state: the cooldown as planned and the own values of what is warmed
        state = res["state"]
        assert state["last_step"] == acc.UPDATES
        assert state["cooldown"] == acc.COOL
        assert {w["key"]: w["own"] for w in state["warmed"]} == {k: [v] for k, v in own.items()}
    # the ranks agree: the same values and, through the all-reduce, the same parameters
    for res in results[1:]:
        assert res["used"] == results[0]["used"]
        assert res["params"] == results[0]["params"]


# -- torch.compile, attach(in_graph=True) ---------------------------------------------------

C_STEPS = 30
C_BASE_LR = 0.01
C_BETA1 = 0.9
C_WARMUP = 5
C_COOL = {"after_update": 12, "over_updates": 12, "shape": "linear", "final": 0.1}
C_WARM = {"start": 0.5, "warmup_period": 8}


def _in_graph_run(compiled: bool) -> dict[str, Any]:
    """30 training steps, Adam with a tensor lr and tensor betas, the warmup attached in
    the graph with a cooldown and ``betas[0]`` warmed, CosineAnnealingLR stepped outside
    the (compiled) step. Everything in float64, the default dtype included (see
    ``_compiled_run`` in tests/test_attached.py: Adam's float32 step tensor makes compiled
    and eager runs drift apart by 3e-5, warmup or not)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        lr = torch.tensor(C_BASE_LR)
        betas = (torch.tensor(C_BETA1), torch.tensor(0.999))
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=betas)
        cosine_lr = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=C_STEPS)
        warmup = pw.LinearWarmup(opt, warmup_period=C_WARMUP).attach(in_graph=True)
        warmup.cool_down(**C_COOL).warm("beta1", **C_WARM)
        seen: list[Seen] = []
        if not compiled:  # a Python hook in a compiled step would break its graph
            # (inside an in-graph update, state_dict()["lrs"] is not the scheduler's
            # current rate: see the report; the scheduler's own get_last_lr() is)
            observe(opt, warmup, "beta1", seen, lambda: cosine_lr.get_last_lr()[0])
        x = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
        y = x.sum(dim=1, keepdim=True)

        def train_step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss

        step = torch.compile(train_step, backend="aot_eager") if compiled else train_step
        losses: list[float] = []
        between: list[tuple[float, float]] = []
        graphs: list[int] = []
        for _ in range(C_STEPS):
            losses.append(float(step(x, y).detach()))
            between.append((float(lr), float(betas[0])))
            cosine_lr.step()
            graphs.append(torch._dynamo.utils.counters["stats"]["unique_graphs"])
    finally:
        torch.set_default_dtype(previous)
    group = opt.param_groups[0]
    return {
        "losses": losses,
        "params": [p.detach().clone() for p in model.parameters()],
        "seen": seen,
        "between": between,
        "graphs": graphs,
        "warmup": warmup,
        "same_objects": group["lr"] is lr and group["betas"][0] is betas[0],
    }


def test_compiled_step_in_graph_cooldown_and_beta1_warmup_never_recompiles() -> None:
    """The step crosses the end of the warmup (update 5), of the beta1 warmup (update 9),
    the start of the cooldown (update 13) and its end (update 24) without recompiling,
    and trains as the same run in eager mode does: losses and parameters within a
    relative 1e-12 (float64 throughout; measured: 6e-16)."""
    from torch._dynamo.utils import counters, guard_failures

    eager = _in_graph_run(compiled=False)
    seen = eager["seen"]
    assert [s.t for s in seen] == list(range(1, C_STEPS + 1))
    rates = [cosine(C_BASE_LR, t - 1, C_STEPS) for t in range(1, C_STEPS + 1)]
    assert [s.rate for s in seen] == pytest.approx(rates, rel=1e-13, abs=1e-18)
    # the in-graph factors (float64 tensors, linear shapes) are the exact ones: bit for bit
    check_lr_schedule(seen, lr_factors(eager["warmup"], C_STEPS), period=C_WARMUP, **C_COOL)
    check_warmed(seen, start=C_WARM["start"], own=C_BETA1, period=C_WARM["warmup_period"])

    torch._dynamo.reset()
    counters.clear()
    guard_failures.clear()
    with torch._dynamo.config.patch(error_on_recompile=True):
        compiled = _in_graph_run(compiled=True)
    reasons = [str(r) for failures in guard_failures.values() for r in failures]
    assert reasons == [], "recompiled: " + "\n".join(reasons[:10])
    assert sum(counters["recompiles"].values()) == 0
    graphs = compiled["graphs"]
    assert graphs[0] >= 1
    assert graphs == [graphs[0]] * C_STEPS, graphs  # all compiled by the first step
    warmup = compiled["warmup"]
    assert warmup.state_dict()["last_step"] == C_STEPS  # brings last_step up to date
    assert warmup.last_step == C_STEPS
    # between updates the tensors, changed in place, hold the scheduler's rate and beta1
    assert compiled["same_objects"]
    assert compiled["between"] == eager["between"]
    assert [b for _, b in compiled["between"]] == [C_BETA1] * C_STEPS
    assert compiled["losses"] == pytest.approx(eager["losses"], rel=1e-12, abs=0.0)
    for p, q in zip(compiled["params"], eager["params"], strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=0.0)
