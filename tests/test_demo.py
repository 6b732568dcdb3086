"""Tests of the demo: a few steps of the real training, through the command line."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from pytorch_warmup import rho_inf_fn
from pytorch_warmup.cli import _demo, main, warmup_factors
from pytorch_warmup.cli._demo import (
    CONFIGURATIONS,
    DemoSettings,
    RunResult,
    describe_recipes,
    format_markdown,
    format_results,
    load_corpus,
    mean_validation,
    prepare_data,
    summarize,
    train_run,
)

TINY = DemoSettings(steps=4, seeds=1, eval_batches=1, batch_size=4, context=16, threads=1)


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor, int]:
    return prepare_data(TINY)


def test_tiny_demo_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "demo"
    argv = ["demo", "--steps", "3", "--seeds", "2", "--output", str(out), "--no-progress"]
    assert main([*argv, "--batch-size", "4", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    table = printed.split("\n\n")[1].splitlines()
    assert table[0].split() == ["configuration", "train", "loss", "val", "loss", "s/run"]
    assert [row[:19].strip() for row in table[2:-1]] == list(CONFIGURATIONS)
    assert table[-1] == (
        "Final losses in nats per character, mean ± standard deviation over 2 seeds."
    )

    with (out / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["configuration"] for r in rows] == list(CONFIGURATIONS)
    assert {r["seeds"] for r in rows} == {"2"}
    for r in rows:
        assert 0 < float(r["train_loss_mean"]) < 10
        assert float(r["val_loss_std"]) >= 0

    markdown = (out / "results.md").read_text().splitlines()
    assert markdown[0] == "| configuration | train loss | val loss | s/run |"
    assert [line.split(" | ")[0] for line in markdown[2:-2]] == [f"| {c}" for c in CONFIGURATIONS]

    with (out / "history.csv").open(newline="") as f:
        history = list(csv.reader(f))
    assert history[0] == ["configuration", "seed", "step", "lr", "train_loss"]
    keys = [(r[0], r[1], r[2]) for r in history[1:]]
    assert keys == [(c, s, k) for s in "01" for c in CONFIGURATIONS for k in "123"]

    for name in ("loss.png", "lr.png"):
        with Image.open(out / name) as image:
            image.load()
            assert image.size == (800, 500)
    assert sorted(p.name for p in out.iterdir()) == [
        "history.csv", "loss.png", "lr.png", "results.csv", "results.md"
    ]  # fmt: skip


def test_every_configuration_starts_from_the_same_weights_and_batches(
    data: tuple[torch.Tensor, torch.Tensor, int],
) -> None:
    runs = {c: train_run(c, 0, *data, TINY) for c in CONFIGURATIONS}
    first = {c: r.losses[0] for c, r in runs.items()}
    assert len(set(first.values())) == 1  # same init, same first batch, bit for bit
    # then they differ (WSD from the untuned linear warmup once cosine and constant part)
    assert len({tuple(r.losses[1:]) for r in runs.values()}) == len(CONFIGURATIONS)
    other_seed = train_run("no warmup", 1, *data, TINY)
    assert other_seed.losses[0] != first["no warmup"]
    again = train_run("untuned linear", 0, *data, TINY)
    assert again.losses == runs["untuned linear"].losses
    assert (again.train_loss, again.val_loss) == (
        runs["untuned linear"].train_loss,
        runs["untuned linear"].val_loss,
    )


def test_validation_loss_is_measured_during_training(
    data: tuple[torch.Tensor, torch.Tensor, int],
) -> None:
    settings = DemoSettings(steps=25, seeds=1, eval_batches=1, batch_size=2, context=16)
    run = train_run("untuned linear", 0, *data, settings)
    assert run.val_steps == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25]
    assert len(run.val_losses) == len(run.val_steps)
    assert run.val_loss == run.val_losses[-1]
    assert all(0 < v < 10 for v in run.val_losses)
    again = train_run("untuned linear", 0, *data, settings)  # deterministic
    assert (again.losses, again.val_losses) == (run.losses, run.val_losses)
    # Measuring changes nothing in the training: without it the losses are the same.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_demo, "_evaluate", lambda *args: 0.0)
        unmeasured = train_run("untuned linear", 0, *data, settings)
    assert unmeasured.losses == run.losses


def test_mean_validation_averages_over_seeds() -> None:
    runs = [
        RunResult("no warmup", 0, val_steps=[5, 10], val_losses=[3.0, 2.0]),
        RunResult("no warmup", 1, val_steps=[5, 10], val_losses=[4.0, 2.5]),
        RunResult("RAdam warmup", 0, val_steps=[5, 10], val_losses=[1.0, 0.5]),
    ]
    assert mean_validation(runs) == {
        "no warmup": ([5, 10], [3.5, 2.25]),
        "RAdam warmup": ([5, 10], [1.0, 0.5]),
    }


def test_learning_rates_are_cosine_times_the_warmup(
    data: tuple[torch.Tensor, torch.Tensor, int],
) -> None:
    settings = DemoSettings(
        steps=6, seeds=1, eval_batches=1, batch_size=2, context=8, lr=0.02, beta2=0.99
    )
    lr, eta_min, steps = settings.lr, settings.lr / 10, settings.steps
    cosine = [eta_min + (lr - eta_min) * (1 + math.cos(math.pi * k / steps)) / 2 for k in range(6)]
    factors = {
        "no warmup": [1.0] * 6,
        "untuned linear": [(k + 1) / 200 for k in range(6)],
        "untuned exponential": [-math.expm1(-(k + 1) / 100) for k in range(6)],
        "RAdam warmup": warmup_factors("radam", 0.99, 6),
        "RAdam optimizer": [1.0] * 6,
    }
    assert rho_inf_fn(0.99) == pytest.approx(199)
    for config in factors:
        run = train_run(config, 0, *data, settings)
        expected = [c * f for c, f in zip(cosine, factors[config], strict=True)]
        assert run.lrs == pytest.approx(expected, rel=1e-12), config
    assert set(CONFIGURATIONS) - set(factors) == {"untuned linear WSD"}


def test_wsd_rates_are_warmup_then_constant_then_a_1_sqrt_cooldown(
    data: tuple[torch.Tensor, torch.Tensor, int],
) -> None:
    # beta2 0.9: the untuned linear warmup lasts 2/(1-0.9) = 20 steps; 30 steps put the
    # cooldown over the last round(0.2 * 30) = 6, steps 25-30, down to 0.
    settings = DemoSettings(
        steps=30, seeds=1, eval_batches=1, batch_size=2, context=8, lr=0.02, beta2=0.9
    )
    run = train_run("untuned linear WSD", 0, *data, settings)
    warm = [min(1.0, (k + 1) / 20) for k in range(30)]
    cool = [1.0] * 24 + [1 - math.sqrt(u / 6) for u in range(1, 7)]
    expected = [0.02 * w * c for w, c in zip(warm, cool, strict=True)]
    assert run.lrs == pytest.approx(expected, rel=1e-12, abs=1e-18)
    assert run.lrs[-1] == 0.0
    assert describe_recipes(settings) == [
        "untuned linear WSD: untuned linear warmup (20 steps), constant rate, "
        "1-sqrt cooldown over steps 25-30"
    ]


def test_train_run_rejects_an_unknown_configuration(
    data: tuple[torch.Tensor, torch.Tensor, int],
) -> None:
    with pytest.raises(ValueError, match=r"config must be one of .* got 'sgd'"):
        train_run("sgd", 0, *data, TINY)


def test_summary_and_tables() -> None:
    results = [
        RunResult("untuned linear", 0, train_loss=2.0, val_loss=2.5, seconds=10.0),
        RunResult("no warmup", 0, train_loss=3.0, val_loss=3.0, seconds=12.0),
        RunResult("untuned linear", 1, train_loss=2.5, val_loss=2.75, seconds=11.0),
        RunResult("no warmup", 1, train_loss=3.5, val_loss=3.0, seconds=14.0),
    ]
    rows = summarize(results)
    assert [r.config for r in rows] == ["no warmup", "untuned linear"]  # table order
    assert (rows[1].runs, rows[1].train_mean, rows[1].val_mean, rows[1].seconds) == (
        2,
        2.25,
        2.625,
        10.5,
    )
    assert rows[1].train_std == pytest.approx(math.sqrt(0.125))  # sample std of 2.0, 2.5
    assert rows[0].val_std == 0.0
    assert format_results(rows) == (
        "configuration      train loss       val loss  s/run\n"
        "--------------  -------------  -------------  -----\n"
        "no warmup       3.250 ± 0.354  3.000 ± 0.000   13.0\n"
        "untuned linear  2.250 ± 0.354  2.625 ± 0.177   10.5\n"
        "Final losses in nats per character, mean ± standard deviation over 2 seeds."
    )
    assert format_markdown(rows).splitlines() == [
        "| configuration | train loss | val loss | s/run |",
        "|---|---:|---:|---:|",
        "| no warmup | 3.250 ± 0.354 | 3.000 ± 0.000 | 13.0 |",
        "| untuned linear | 2.250 ± 0.354 | 2.625 ± 0.177 | 10.5 |",
        "",
        "Final losses in nats per character, mean ± standard deviation over 2 seeds.",
    ]


def test_one_seed_shows_no_spread() -> None:
    rows = summarize([RunResult("no warmup", 0, train_loss=2.9771, val_loss=3.0, seconds=1.0)])
    assert format_results(rows) == (
        "configuration  train loss  val loss  s/run\n"
        "-------------  ----------  --------  -----\n"
        "no warmup           2.977     3.000    1.0\n"
        "Final losses in nats per character, one seed (no spread to show)."
    )
    assert "±" not in format_markdown(rows)


def test_load_corpus_refuses_binary_and_non_utf8(tmp_path: Path) -> None:
    binary = tmp_path / "a.bin"
    binary.write_bytes(b"abc\x00def")
    with pytest.raises(ValueError, match=r"is a binary file \(a NUL byte at offset 3\)"):
        load_corpus(binary)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("déjà".encode("latin-1"))
    with pytest.raises(ValueError, match=r"is not UTF-8 text \(byte 0xe9 at offset 1\)"):
        load_corpus(latin)
    utf8 = tmp_path / "ok.txt"
    utf8.write_text("déjà vu", encoding="utf-8")
    assert load_corpus(utf8) == "déjà vu"


def test_demo_on_a_text_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "corpus.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40, encoding="utf-8")
    out = tmp_path / "o"
    argv = ["demo", "--text", str(text), "--steps", "2", "--batch-size", "2", "-o", str(out)]
    assert main([*argv, "--no-progress", "--quick", "--threads", "1"]) == 0
    assert f"text: {text}" in capsys.readouterr().out
    with (out / "history.csv").open(newline="") as f:
        assert sum(1 for _ in f) == 1 + 2 * len(CONFIGURATIONS)


def test_demo_on_a_too_short_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "short.txt"
    text.write_text("tiny", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--text", str(text), "-o", str(tmp_path / "o"), "--no-progress"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "pytorch-warmup: error: --text: the text has 4 characters: too short for a context "
        "of 64 with 10% held out for validation\n"
    )


def test_quick_settings() -> None:
    quick = DemoSettings.quick()
    assert (quick.steps, quick.seeds) == (250, 1)
    assert DemoSettings.quick(lr=0.1).lr == 0.1


def test_help_states_the_real_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    default, quick = DemoSettings(), DemoSettings.quick()
    assert f"(default: {default.steps}; {quick.steps} with --quick)" in text
    assert f"(default: {default.seeds}; {quick.seeds} with --quick)" in text
    assert f"(default: {default.lr:g})" in text
    assert f"(default: {default.beta2:g})" in text
    assert "in (0.6, 1)" in text
    assert f"(default: {default.batch_size})" in text


def test_one_seed_writes_no_spread(tmp_path: Path) -> None:
    """With one seed there is no spread: the CSV leaves the std fields empty."""
    summary = _demo.Summary("no warmup", 1, 2.5, 0.0, 2.25, 0.0, 1.0)
    _demo.write_results([], [summary], tmp_path)
    with (tmp_path / "results.csv").open(newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["train_loss_std"], row["val_loss_std"]) == ("", "")
    assert float(row["train_loss_mean"]) == 2.5
