r"""The ``pytorch-warmup demo``: a small Post-LN Transformer trained with and without warmup.

A character-level language model (a few Post-LN Transformer layers, as in the
original Transformer) is trained on the Python language reference that ships
with CPython (:mod:`pydoc_data.topics`), or on any text file, with AdamW and
each of these configurations:

* no warmup;
* untuned linear warmup (:class:`~pytorch_warmup.UntunedLinearWarmup`);
* untuned exponential warmup (:class:`~pytorch_warmup.UntunedExponentialWarmup`);
* RAdam warmup (:class:`~pytorch_warmup.RAdamWarmup`);
* :class:`torch.optim.RAdam` without warmup;
* warmup-stable-decay (WSD): the untuned linear warmup, a constant rate and the
  warmup's 1-sqrt cooldown over the last 20 % of the steps, instead of the
  cosine (the named schedule ``"wsd"`` of :data:`pytorch_warmup._catalog.RECIPES`).

Every configuration starts from the same initial weights and sees the same
batches in the same order (both follow the seed), under the same cosine LR
schedule but for WSD, so the first five differ only by the warmup. This module needs only torch;
the progress bars (tqdm) and the plots (matplotlib) are imported lazily by the
``demo`` command (:mod:`pytorch_warmup.cli._cmd_demo`). It is an application of
the library, not a part of it: it uses only the public warmup classes, through
the named warmups of :mod:`pytorch_warmup._catalog`.
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor, nn

from .. import _catalog
from ._common import format_table

__all__ = [
    "CONFIGURATIONS",
    "DemoSettings",
    "RunResult",
    "Summary",
    "describe_recipes",
    "load_corpus",
    "mean_validation",
    "run_demo",
    "summarize",
    "train_run",
]

_WARMUPS: dict[str, _catalog.NamedWarmup] = {w.label: w for w in _catalog.WARMUPS.values()}
"""The configurations with a warmup, named by their labels, each untuned (from beta2)."""

_RECIPES: dict[str, _catalog.NamedRecipe] = {r.label: r for r in _catalog.RECIPES.values()}
"""The configurations with a whole schedule of their own (WSD), named by their labels."""

CONFIGURATIONS: tuple[str, ...] = ("no warmup", *_WARMUPS, "RAdam optimizer", *_RECIPES)
"""The compared configurations, in table order: no warmup, each named warmup of
:data:`pytorch_warmup._catalog.WARMUPS` under the cosine schedule,
:class:`torch.optim.RAdam`, and each named schedule of
:data:`pytorch_warmup._catalog.RECIPES` (WSD)."""


@dataclass(frozen=True)
class DemoSettings:
    r"""Everything that defines a demo run.

    The defaults train for 400 steps at a peak learning rate of 3e-2 with
    :math:`\beta_2 = 0.99`, so the untuned linear warmup lasts 200 steps and
    no warmup at all visibly hurts the Post-LN model.

    Attributes:
        steps: Optimizer steps per run.
        seeds: Number of seeds (each configuration runs once per seed).
        batch_size: Sequences per batch.
        context: Characters per sequence.
        d_model: Width of the Transformer.
        layers: Number of Transformer layers.
        heads: Attention heads per layer.
        lr: Peak learning rate (the cosine schedule decays it to ``lr / 10``).
        beta2: Adam's :math:`\beta_2`, which sets the untuned warmup periods.
        weight_decay: Decoupled weight decay.
        eval_batches: Batches used to measure the final training and validation losses.
        val_fraction: Fraction of the text held out for validation (its end).
        threads: Threads for torch (``None`` keeps torch's choice). The default, 1,
            is the fastest for matrices this small, and it does not slow down
            badly when other processes share the CPU (several threads do).
        text: A text file to train on; ``None`` uses :mod:`pydoc_data.topics`.
    """

    steps: int = 400
    seeds: int = 2
    batch_size: int = 32
    context: int = 64
    d_model: int = 64
    layers: int = 2
    heads: int = 4
    lr: float = 3e-2
    beta2: float = 0.99
    weight_decay: float = 0.01
    eval_batches: int = 8
    val_fraction: float = 0.1
    threads: int | None = 1
    text: Path | None = None

    @classmethod
    def quick(cls, **changes: object) -> DemoSettings:
        """Settings for a run of about a minute (fewer steps, one seed)."""
        return replace(cls(steps=250, seeds=1), **changes)  # type: ignore[arg-type]


@dataclass
class RunResult:
    """The outcome of one configuration with one seed.

    Attributes:
        config: The configuration name (one of :data:`CONFIGURATIONS`).
        seed: The seed of the initialisation and of the data order.
        lrs: The learning rate the optimizer used at each step.
        losses: The training loss of each step's batch.
        val_steps: The steps after which the validation loss was measured
            (about ten, the last one included).
        val_losses: The validation loss after each of ``val_steps``.
        train_loss: The final loss on fixed batches of the training text.
        val_loss: The final loss on fixed batches of the held-out text.
        seconds: Wall time of the run (training and evaluation).
    """

    config: str
    seed: int
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    train_loss: float = math.nan
    val_loss: float = math.nan
    seconds: float = 0.0


@dataclass(frozen=True)
class Summary:
    """Mean and standard deviation over seeds of one configuration's results."""

    config: str
    runs: int
    train_mean: float
    train_std: float
    val_mean: float
    val_std: float
    seconds: float


class _Progress(Protocol):
    def update(self, n: int = 1) -> object: ...

    def set_postfix_str(self, s: str, refresh: bool = True) -> object: ...

    def close(self) -> object: ...


ProgressFactory = Callable[[int, str], _Progress]
"""Builds a progress bar from a total and a description (e.g. ``tqdm``)."""


def load_corpus(path: Path | None = None) -> str:
    """The demo's text: a file's contents, or the Python language reference.

    Args:
        path: A UTF-8 text file; ``None`` joins the topics of
            :mod:`pydoc_data.topics`, which ships with every CPython.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the text is empty, or not UTF-8 text (it has NUL bytes or
            bytes that UTF-8 does not allow).
    """
    if path is None:
        from pydoc_data.topics import topics

        text = "\n\n".join(topics[key] for key in sorted(topics))
    else:
        data = Path(path).read_bytes()
        if b"\0" in data:
            raise ValueError(
                f"{str(path)!r} is a binary file (a NUL byte at offset {data.index(0)}), "
                "not UTF-8 text"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(
                f"{str(path)!r} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})"
            ) from None
    if not text:
        raise ValueError(f"the text {str(path) if path else 'corpus'!r} is empty")
    return text


def _encode(text: str) -> tuple[Tensor, list[str]]:
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    return torch.tensor([index[c] for c in text], dtype=torch.long), vocab


class CharTransformer(nn.Module):
    """A character-level causal language model with Post-LN Transformer layers."""

    def __init__(self, vocab_size: int, settings: DemoSettings) -> None:
        super().__init__()
        d = settings.d_model
        self.embed = nn.Embedding(vocab_size, d)
        self.position = nn.Parameter(torch.randn(settings.context, d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d,
            settings.heads,
            dim_feedforward=4 * d,
            dropout=0.0,
            batch_first=True,
            norm_first=False,  # Post-LN, as in the original Transformer
        )
        self.layers = nn.TransformerEncoder(layer, settings.layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, vocab_size)
        mask = nn.Transformer.generate_square_subsequent_mask(settings.context)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, tokens: Tensor) -> Tensor:
        n = tokens.shape[1]
        x = self.embed(tokens) * math.sqrt(self.embed.embedding_dim) + self.position[:n]
        mask: Tensor = self.mask  # type: ignore[assignment]
        x = self.layers(x, mask=mask[:n, :n], is_causal=True)
        out: Tensor = self.head(x)
        return out


def _batch(data: Tensor, starts: Tensor, context: int) -> tuple[Tensor, Tensor]:
    offsets = torch.arange(context + 1)
    chunk = data[starts[:, None] + offsets]
    return chunk[:, :-1], chunk[:, 1:]


def _starts(n: int, count: int, batch_size: int, context: int, seed: int) -> Tensor:
    """Random batch start positions of shape ``(count, batch_size)``, fixed by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, n - context - 1, (count, batch_size), generator=generator)


def _loss(model: nn.Module, inputs: Tensor, targets: Tensor) -> Tensor:
    logits = model(inputs)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@torch.no_grad()
def _evaluate(model: nn.Module, data: Tensor, starts: Tensor, context: int) -> float:
    model.eval()
    total = 0.0
    for row in starts:
        total += _loss(model, *_batch(data, row, context)).item()
    model.train()
    return total / len(starts)


def _optimizer(config: str, model: nn.Module, settings: DemoSettings) -> torch.optim.Optimizer:
    betas = (0.9, settings.beta2)
    if config == "RAdam optimizer":
        return torch.optim.RAdam(
            model.parameters(),
            lr=settings.lr,
            betas=betas,
            weight_decay=settings.weight_decay,
            decoupled_weight_decay=True,
        )
    return torch.optim.AdamW(
        model.parameters(), lr=settings.lr, betas=betas, weight_decay=settings.weight_decay
    )


def _schedule_step(
    config: str, optimizer: torch.optim.Optimizer, settings: DemoSettings
) -> Callable[[], None]:
    """What follows ``optimizer.step()``: the schedulers' step, in the warmup's ``dampening()``."""
    recipe = _RECIPES.get(config)
    if recipe is not None:  # its own schedulers, and the warmup with its cooldown
        schedulers, made = recipe.build(optimizer, settings.steps)

        def recipe_step() -> None:
            with made.dampening():
                for scheduler in schedulers:
                    scheduler.step()

        return recipe_step
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.steps, eta_min=settings.lr / 10
    )
    named = _WARMUPS.get(config)
    if named is None:
        return cosine.step
    warmup = named.build(optimizer)  # untuned: its period from the optimizer's beta2

    def step() -> None:
        with warmup.dampening():
            cosine.step()

    return step


def describe_recipes(settings: DemoSettings) -> list[str]:
    """One line per named schedule of the demo: what it is, in steps, for these settings."""
    lines = []
    for label, recipe in _RECIPES.items():
        parameter = torch.zeros(1, requires_grad=True)
        optimizer = _optimizer(label, nn.ParameterList([parameter]), settings)
        _, warmup = recipe.build(optimizer, settings.steps)
        period = warmup._period_in_steps()
        span = recipe.cooldown_span(settings.steps, period)
        if span is None:
            cooldown = f"no cooldown: the {settings.steps} steps end inside the warmup"
        else:
            after, over = span
            cooldown = f"{recipe.cooldown} cooldown over steps {after + 1}-{after + over}"
            if span != recipe.cooldown_span(settings.steps, None):
                cooldown += " (from the warmup's end: the run is too short for the last "
                cooldown += f"{recipe.cooldown_fraction:.0%})"
        lines.append(
            f"{label}: {_catalog.WARMUPS[recipe.warmup].label} warmup ({period} steps), "
            f"{recipe.scheduler} rate, {cooldown}"
        )
    return lines


def _update(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule_step: Callable[[], None],
    batch: tuple[Tensor, Tensor],
) -> float:
    """One training update (forward, backward, optimizer and schedule steps); the loss."""
    loss = _loss(model, *batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    optimizer.step()
    schedule_step()
    return loss.item()


def train_run(
    config: str,
    seed: int,
    train: Tensor,
    val: Tensor,
    vocab_size: int,
    settings: DemoSettings,
    progress: _Progress | None = None,
) -> RunResult:
    """Train one configuration with one seed.

    The seed fixes the initial weights, the order of the training batches and
    the evaluation batches, so runs with the same seed differ only by their
    warmup.

    Args:
        config: One of :data:`CONFIGURATIONS`.
        seed: The seed.
        train: The encoded training text.
        val: The encoded validation text.
        vocab_size: The number of distinct characters.
        settings: The demo settings.
        progress: A progress bar to advance once per step (optional).

    Returns:
        The learning rates, losses and final losses of the run.

    Raises:
        ValueError: ``config`` is not one of :data:`CONFIGURATIONS`.
    """
    if config not in CONFIGURATIONS:
        raise ValueError(f"config must be one of {list(CONFIGURATIONS)}, got {config!r}")
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = CharTransformer(vocab_size, settings)
    optimizer = _optimizer(config, model, settings)
    schedule_step = _schedule_step(config, optimizer, settings)
    starts = _starts(len(train), settings.steps, settings.batch_size, settings.context, seed)
    eval_seed = seed + 10_000
    count, size, ctx = settings.eval_batches, settings.batch_size, settings.context
    val_starts = _starts(len(val), count, size, ctx, eval_seed)
    val_every = max(1, settings.steps // 10)
    result = RunResult(config, seed)
    for step, row in enumerate(starts, start=1):
        result.lrs.append(float(optimizer.param_groups[0]["lr"]))
        value = _update(model, optimizer, schedule_step, _batch(train, row, ctx))
        result.losses.append(value)
        if step % val_every == 0 or step == settings.steps:
            result.val_steps.append(step)
            result.val_losses.append(_evaluate(model, val, val_starts, ctx))
        if progress is not None:
            progress.update()
            progress.set_postfix_str(f"loss {value:.3f}", refresh=False)
    result.train_loss = _evaluate(
        model, train, _starts(len(train), count, size, ctx, eval_seed), ctx
    )
    result.val_loss = result.val_losses[-1]
    result.seconds = time.perf_counter() - start
    return result


def summarize(results: Sequence[RunResult]) -> list[Summary]:
    """Mean and (sample) standard deviation over seeds, one row per configuration.

    A single seed has a standard deviation of 0. Configurations keep the order
    of :data:`CONFIGURATIONS`.
    """
    rows = []
    for config in CONFIGURATIONS:
        runs = [r for r in results if r.config == config]
        if not runs:
            continue
        train = [r.train_loss for r in runs]
        val = [r.val_loss for r in runs]
        rows.append(
            Summary(
                config=config,
                runs=len(runs),
                train_mean=statistics.fmean(train),
                train_std=statistics.stdev(train) if len(runs) > 1 else 0.0,
                val_mean=statistics.fmean(val),
                val_std=statistics.stdev(val) if len(runs) > 1 else 0.0,
                seconds=statistics.fmean(r.seconds for r in runs),
            )
        )
    return rows


TABLE_HEADER = ("configuration", "train loss", "val loss", "s/run")


def _loss_cell(mean: float, std: float, runs: int) -> str:
    # One seed has no spread to show: "± 0.000" would read as a measured zero.
    return f"{mean:.3f} ± {std:.3f}" if runs > 1 else f"{mean:.3f}"


def table_rows(summaries: Sequence[Summary]) -> list[tuple[str, str, str, str]]:
    """The table's cells: losses as ``mean ± std`` over the seeds (3 decimals).

    With a single seed a loss is shown alone, without a spread.
    """
    return [
        (
            s.config,
            _loss_cell(s.train_mean, s.train_std, s.runs),
            _loss_cell(s.val_mean, s.val_std, s.runs),
            f"{s.seconds:.1f}",
        )
        for s in summaries
    ]


def _table_note(summaries: Sequence[Summary]) -> str:
    runs = max((s.runs for s in summaries), default=1)
    if runs == 1:
        return "Final losses in nats per character, one seed (no spread to show)."
    return f"Final losses in nats per character, mean ± standard deviation over {runs} seeds."


def format_results(summaries: Sequence[Summary]) -> str:
    """The results as an aligned plain-text table, followed by what its numbers are."""
    return f"{format_table(TABLE_HEADER, table_rows(summaries))}\n{_table_note(summaries)}"


def format_markdown(summaries: Sequence[Summary]) -> str:
    """The results as a Markdown table, followed by what its numbers are."""
    table = format_table(TABLE_HEADER, table_rows(summaries), markdown=True)
    return f"{table}\n\n{_table_note(summaries)}\n"


def _std_field(std: float, runs: int) -> str:
    """A CSV field: the standard deviation, or empty with one seed (no spread measured)."""
    return f"{std:.6f}" if runs > 1 else ""


def write_results(
    results: Sequence[RunResult], summaries: Sequence[Summary], output: Path
) -> list[Path]:
    """Write ``results.csv``, ``results.md`` and ``history.csv`` into ``output``.

    Returns:
        The paths written.
    """
    output.mkdir(parents=True, exist_ok=True)
    results_csv = output / "results.csv"
    with results_csv.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "configuration",
                "seeds",
                "train_loss_mean",
                "train_loss_std",
                "val_loss_mean",
                "val_loss_std",
                "seconds_per_run",
            ]
        )
        for s in summaries:
            writer.writerow(
                [
                    s.config,
                    s.runs,
                    f"{s.train_mean:.6f}",
                    _std_field(s.train_std, s.runs),
                    f"{s.val_mean:.6f}",
                    _std_field(s.val_std, s.runs),
                    f"{s.seconds:.3f}",
                ]
            )
    markdown = output / "results.md"
    markdown.write_text(format_markdown(summaries), encoding="utf-8")
    history = output / "history.csv"
    with history.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["configuration", "seed", "step", "lr", "train_loss"])
        for r in results:
            for step, (lr, loss) in enumerate(zip(r.lrs, r.losses, strict=True), start=1):
                writer.writerow([r.config, r.seed, step, repr(lr), repr(loss)])
    return [results_csv, markdown, history]


def mean_validation(results: Sequence[RunResult]) -> dict[str, tuple[list[int], list[float]]]:
    """Per configuration, the steps and the mean over seeds of the validation losses."""
    points: dict[str, tuple[list[int], list[float]]] = {}
    for config in CONFIGURATIONS:
        runs = [r for r in results if r.config == config]
        if runs:
            means = [statistics.fmean(v) for v in zip(*(r.val_losses for r in runs), strict=True)]
            points[config] = (list(runs[0].val_steps), means)
    return points


def mean_curves(results: Sequence[RunResult], attribute: str) -> dict[str, list[float]]:
    """Per configuration, the mean over seeds of ``losses`` or ``lrs`` at each step."""
    curves: dict[str, list[float]] = {}
    for config in CONFIGURATIONS:
        runs: list[list[float]] = [getattr(r, attribute) for r in results if r.config == config]
        if runs:
            curves[config] = [statistics.fmean(values) for values in zip(*runs, strict=True)]
    return curves


def prepare_data(settings: DemoSettings) -> tuple[Tensor, Tensor, int]:
    """Encode the corpus and split it into training and validation text.

    Returns:
        The training ids, the validation ids (the end of the text) and the
        vocabulary size.

    Raises:
        ValueError: the text is too short for the context length.
    """
    data, vocab = _encode(load_corpus(settings.text))
    n_val = int(len(data) * settings.val_fraction)
    need = settings.context + 2
    if n_val < need or len(data) - n_val < need:
        raise ValueError(
            f"the text has {len(data)} characters: too short for a context of "
            f"{settings.context} with {settings.val_fraction:.0%} held out for validation"
        )
    return data[: len(data) - n_val], data[len(data) - n_val :], len(vocab)


def run_demo(
    settings: DemoSettings,
    progress: ProgressFactory | None = None,
    configs: Sequence[str] = CONFIGURATIONS,
) -> list[RunResult]:
    """Train every configuration once per seed.

    Args:
        settings: The demo settings.
        progress: Builds one progress bar per run (optional).
        configs: The configurations to train (default: all, in table order).

    Returns:
        One result per configuration and seed, seeds outermost.
    """
    train, val, vocab_size = prepare_data(settings)
    previous = torch.get_num_threads()
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    try:
        results = []
        for seed in range(settings.seeds):
            for config in configs:
                bar = progress(settings.steps, f"{config} (seed {seed})") if progress else None
                try:
                    results.append(train_run(config, seed, train, val, vocab_size, settings, bar))
                finally:
                    if bar is not None:
                        bar.close()
        return results
    finally:
        torch.set_num_threads(previous)
