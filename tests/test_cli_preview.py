"""Tests of ``pytorch-warmup preview`` and ``pytorch-warmup plot --scheduler``."""

from __future__ import annotations

import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pytorch_warmup.cli import main
from pytorch_warmup.preview import preview

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = str(ROOT / "examples" / "schedules.py")


def _example(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cli_examples", EXAMPLES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _png(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()  # decodes every pixel: a truncated file fails here
        assert image.format == "PNG"
        return image.size


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``main`` on bad arguments: status 2 and exactly one line on stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("pytorch-warmup: error: ")
    return lines[0].removeprefix("pytorch-warmup: error: ")


def test_preview_png_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png, table = tmp_path / "lr.png", tmp_path / "lr.csv"
    argv = ["preview", f"{EXAMPLES}:quickstart", "--updates", "5000", "-o", str(png)]
    assert main([*argv, "--csv", str(table), "--strict"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{EXAMPLES}:quickstart: 5000 updates, 1 param group, UntunedLinearWarmup "
        "(warmup period 2000 updates)"
    )
    assert out[1].startswith("learning rate at update 1: 5e-07, 2000 (peak): 0.000654")
    assert out[2:] == ["no finding", f"wrote {table}", f"wrote {png}"]
    assert _png(png) == (800, 500)
    with open(table, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["update", "lr[0]", "omega[0]"]
    expected = preview(_example("quickstart"), 5000)
    assert [float(r[1]) for r in rows[1:]] == expected.lrs[0]
    assert [float(r[2]) for r in rows[1:]] == [min(1.0, t / 2000) for t in range(1, 5001)]


@pytest.mark.parametrize("suffix", [".pdf", ".svg"])
def test_preview_other_formats(suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"lr{suffix}"
    assert main(["preview", f"{EXAMPLES}:zero_start", "--updates", "600", "-o", str(out)]) == 0
    head = out.read_bytes()[:200]
    assert head.startswith(b"%PDF") if suffix == ".pdf" else b"<svg" in out.read_bytes()[:2000]


def test_preview_without_files_prints_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["preview", f"{EXAMPLES}:lightning_per_epoch", "--updates", "3000"]
    assert main([*argv, "--updates-per-epoch", "300"]) == 0  # not strict: status 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("warning: updates 1-300: the warmup factor stays at 0.005")


def test_strict_exit_status_in_a_subprocess(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytorch_warmup", "preview", "examples.schedules:cosine_too_short",
         "--updates", "3000", "--strict"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    warning = done.stdout.splitlines()[-1]
    assert warning.startswith("warning: update 2001: the decay ends before the training")


def test_plot_scheduler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "composed.png"
    argv = ["plot", "--scheduler", "cosine", "--total-steps", "10000"]
    assert main([*argv, "--warmup", "untuned-linear", "--beta2", "0.999", "-o", str(png)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "cosine schedule, untuned-linear warmup, beta2 = 0.999: 10000 updates, 1 param group, "
        "UntunedLinearWarmup (warmup period 2000 updates)"
    )
    peak = (1 + math.cos(math.pi * 1999 / 10000)) / 2  # lr 1 times the cosine, omega = 1
    assert (
        out[1] == f"learning rate at update 1: 0.0005, 2000 (peak): {peak:.6g}, 10000: 2.4674e-08"
    )
    assert out[2:] == ["no finding", f"wrote {png}"]
    assert _png(png) == (800, 500)


@pytest.mark.parametrize(
    ("scheduler", "warmup", "extra"),
    [("linear", "linear", ["--warmup-period", "50"]), ("step", "radam", []),
     ("constant", "exponential", ["--warmup-period", "30"]), ("cosine", "untuned-exponential", [])],
)  # fmt: skip
def test_plot_each_scheduler_and_warmup(
    scheduler: str, warmup: str, extra: list[str], tmp_path: Path
) -> None:
    png = tmp_path / "p.png"
    argv = ["plot", "--scheduler", scheduler, "--total-steps", "400", "--warmup", warmup]
    assert main([*argv, "--beta2", "0.99", *extra, "-o", str(png)]) == 0
    assert _png(png) == (800, 500)


def test_bad_preview_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.py").write_text(
        "import torch\n"
        "def wrong_type(model):\n    return 5\n"
        "def raises(model):\n    raise RuntimeError('the dataset is not there\\nsecond line')\n"
        "def per_epoch(model):\n"
        "    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "    return {'optimizer': opt, 'lr_scheduler': torch.optim.lr_scheduler.StepLR(opt, 2)}\n"
    )
    bad = str(tmp_path / "bad.py")
    ok = f"{EXAMPLES}:quickstart"
    cases = {
        (
            "quickstart",
            "--updates",
            "5",
        ): "expected MODULE:FUNCTION (e.g. my_training:build), got 'quickstart'",
        (
            "nowhere_module:f",
            "--updates",
            "5",
        ): "cannot import 'nowhere_module': ModuleNotFoundError: No module named 'nowhere_module'",
        (f"{EXAMPLES}:nothing", "--updates", "5"): f"{EXAMPLES!r} has no attribute 'nothing'",
        (
            f"{bad}:wrong_type",
            "--updates",
            "5",
        ): f"{bad}:wrong_type: TypeError: build must return a torch.optim.Optimizer or a dict with an 'optimizer' key (and 'step', 'epoch_step', 'lr_scheduler', 'warmup'), got 5 of type int",  # noqa: E501
        (
            f"{bad}:raises",
            "--updates",
            "5",
        ): f"{bad}:raises: RuntimeError: the dataset is not there",
        (
            f"{bad}:per_epoch",
            "--updates",
            "5",
        ): f"{bad}:per_epoch: ValueError: updates_per_epoch is needed: 'lr_scheduler' steps once per epoch (Lightning's default interval 'epoch')",  # noqa: E501
        (ok, "--updates", "0"): "argument --updates: the value must be a positive int, got 0",
        (ok, "--updates", "x"): "argument --updates: expected an integer, got 'x'",
        (ok,): "the following arguments are required: --updates",
        (
            ok,
            "--updates",
            "5",
            "--updates-per-epoch",
            "-1",
        ): "argument --updates-per-epoch: the value must be a positive int, got -1",
        (
            ok,
            "--updates",
            "5",
            "-o",
            str(tmp_path / "lr.txt"),
        ): f"--output {str(tmp_path / 'lr.txt')!r}: unknown format '.txt', use one of .png, .pdf, .svg",  # noqa: E501
        (
            ok,
            "--updates",
            "5",
            "-o",
            str(tmp_path / "no" / "lr.png"),
        ): f"--output {str(tmp_path / 'no' / 'lr.png')!r}: directory {str(tmp_path / 'no')!r} does not exist",  # noqa: E501
        (ok, "--updates", "5", "--csv", str(tmp_path)): f"--csv {str(tmp_path)!r} is a directory",
    }
    for args, message in cases.items():
        assert _error(["preview", *args], capsys) == message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py"]  # nothing written


def test_bad_plot_scheduler_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        (
            "--scheduler",
            "cosine",
        ): "--scheduler needs --total-steps, the number of updates of the training",
        (
            "--scheduler",
            "onecycle",
            "--total-steps",
            "9",
        ): "argument --scheduler: invalid choice: 'onecycle' (choose from cosine, linear, constant, step)",  # noqa: E501
        ("--total-steps", "100"): "--total-steps goes with --scheduler (draw a composed schedule)",
        ("--warmup", "radam"): "--warmup goes with --scheduler (draw a composed schedule)",
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "9",
            "--steps",
            "5",
        ): "--steps is for the warmup factors; with --scheduler give --total-steps",
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "9",
            "--beta2",
            "0.9",
            "0.99",
        ): "--scheduler draws one --beta2, got 2 values",
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "9",
            "--warmup",
            "linear",
        ): "--warmup linear needs --warmup-period P (in updates)",
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "9",
            "--warmup-period",
            "5",
        ): "--warmup-period goes with --warmup linear or exponential; --warmup untuned-linear takes its period from --beta2",  # noqa: E501
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "9",
            "--warmup",
            "radam",
            "--beta2",
            "0.5",
        ): "--warmup radam needs --beta2 > 0.6 (rho_inf > 4), got 0.5",
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "0",
        ): "argument --total-steps: the value must be a positive int, got 0",
    }
    for args, message in cases.items():
        got = _error(["plot", *args], capsys)
        if "invalid choice" in message:
            assert got.replace("'", "") == message.replace("'", "")  # quoting varies by Python
        else:
            assert got == message


@pytest.mark.parametrize("command", [["preview"], ["plot"]])
def test_help_mentions_the_options(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    options = {
        "preview": ["MODULE:FUNCTION", "--updates", "--updates-per-epoch", "--csv", "--strict"],
        "plot": ["--scheduler", "--total-steps", "--warmup", "--warmup-period"],
    }[command[0]]
    for option in options:
        assert option in out
