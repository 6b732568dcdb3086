"""Tests of ``pytorch-warmup preview`` and ``pytorch-warmup plot --scheduler``."""

from __future__ import annotations

import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from torch.optim.lr_scheduler import CosineAnnealingLR

from pytorch_warmup.cli import composition, format_report, load_callable, main
from pytorch_warmup.cli._preview_figure import _panels, _scale, _Span, _span, default_title
from pytorch_warmup.preview import SchedulePreview, preview

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
    assert main([*argv, "--warmup", "linear", "--beta2", "0.999", "-o", str(png)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "cosine schedule under the untuned linear warmup (beta2 = 0.999): 10000 updates, "
        "1 param group, UntunedLinearWarmup (warmup period 2000 updates)"
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
     ("constant", "exponential", ["--warmup-period", "30"]), ("cosine", "exponential", [])],
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
        ): f"{bad}:raises: RuntimeError: the dataset is not there (at {bad}:5 in raises)",
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
            "untuned-linear",
        ): "argument --warmup: invalid choice: 'untuned-linear' (choose from linear, exponential, radam)",  # noqa: E501
        (
            "--scheduler",
            "cosine",
            "--total-steps",
            "9",
            "--warmup",
            "radam",
            "--warmup-period",
            "5",
        ): "--warmup-period goes with --warmup linear or exponential; --warmup radam takes its period from --beta2",  # noqa: E501
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


# --- loading the user's code, and what it raises ------------------------------------------


def test_load_callable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert load_callable("examples/schedules.py:quickstart").__name__ == "quickstart"
    assert load_callable("examples.schedules:zero_start").__name__ == "zero_start"
    (tmp_path / "broken.py").write_text("import os\nraise RuntimeError('no GPU here')\n")
    for spec, match in [
        ("quickstart", "expected MODULE:FUNCTION"),
        (":quickstart", "expected MODULE:FUNCTION"),
        ("no_such_module_here:f", "cannot import 'no_such_module_here': ModuleNotFoundError"),
        ("examples.schedules:nothing", "'examples.schedules' has no attribute 'nothing'"),
        ("examples.schedules:__doc__", "is not callable"),
        ("missing.py:f", "no such file 'missing.py'"),
        (
            f"{tmp_path / 'broken.py'}:f",
            f"RuntimeError: no GPU here \\(at {tmp_path / 'broken.py'}:2 in <module>\\)$",
        ),
    ]:
        with pytest.raises(ValueError, match=match):
            load_callable(spec)


def test_errors_in_the_users_code_name_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(
        "import torch\n"
        "def _adamw(model):\n"
        "    return torch.optim.AdamW(model.parameters(), lr=-1.0)\n"  # torch refuses it
        "def build(model):\n"
        "    return _adamw(model)\n"
        "def stepped(model):\n"
        "    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "    def step():\n"
        "        raise KeyError('batch')\n"
        "    return {'optimizer': opt, 'step': step}\n"
        "def model():\n"
        "    raise OSError('no checkpoint')\n"
    )
    message = _error(["preview", "train:build", "--updates", "5"], capsys)
    # torch raised it, from the user's line 3: that line is named, relative to here.
    assert message.startswith("train:build: ValueError: Invalid learning rate: -1.0")
    assert message.endswith(" (at train.py:3 in _adamw)")
    message = _error(["preview", "train:stepped", "--updates", "5"], capsys)
    assert message == "train:stepped: KeyError: 'batch' (at train.py:9 in step)"
    argv = ["preview", "train:build", "--updates", "5", "--model", "train:model"]
    assert _error(argv, capsys) == (
        "--model train:model: OSError: no checkpoint (at train.py:12 in model)"
    )


def test_what_build_returned_is_summarised_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pair.py").write_text(
        "import torch\n"
        "def pair(model):\n"
        "    opt = torch.optim.AdamW(model.parameters())\n"
        "    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)\n"
    )
    spec = f"{tmp_path / 'pair.py'}:pair"
    assert _error(["preview", spec, "--updates", "5"], capsys) == (
        f"{spec}: TypeError: build must return a torch.optim.Optimizer or a dict with an "
        "'optimizer' key (and 'step', 'epoch_step', 'lr_scheduler', 'warmup'), got a tuple "
        "of 2 items (AdamW, CosineAnnealingLR)"
    )


def test_model_factory_and_builds_without_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine.py").write_text(
        "import torch, pytorch_warmup\n"
        "def model():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))\n"
        "def per_layer(model):\n"
        "    groups = [{'params': m.parameters(), 'lr': lr} for m, lr in zip(model, (1.0, 0.1))]\n"
        "    opt = torch.optim.AdamW(groups)\n"
        "    pytorch_warmup.LinearWarmup(opt, warmup_period=4).attach()\n"
        "    return opt\n"
        "def no_model():\n"
        "    opt = torch.optim.AdamW([torch.zeros(2, requires_grad=True)], lr=0.5)\n"
        "    pytorch_warmup.LinearWarmup(opt, warmup_period=2).attach()\n"
        "    return opt\n"
        "def not_a_model():\n"
        "    return 'model'\n"
    )
    mine = str(tmp_path / "mine.py")
    argv = ["preview", f"{mine}:per_layer", "--updates", "6", "--model", f"{mine}:model"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert "2 param groups" in out[0]
    assert out[1].startswith("param group 0 learning rate at update 1: 0.25")
    assert out[2].startswith("param group 1 learning rate at update 1: 0.025")
    assert main(["preview", f"{mine}:no_model", "--updates", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("learning rate at update 1: 0.25")
    argv = ["preview", f"{mine}:per_layer", "--updates", "6", "--model", f"{mine}:not_a_model"]
    assert _error(argv, capsys) == (
        f"--model {mine}:not_a_model must return a torch.nn.Module, got 'model' of type str"
    )


# --- a common scheduler under a warmup, and the report --------------------------------------


def test_composition() -> None:
    result = preview(composition("cosine", 100, "linear", warmup_period=10, lr=0.5), 100)
    expected = [
        0.5 * (1 + math.cos(math.pi * (t - 1) / 100)) / 2 * min(1, t / 10) for t in range(1, 101)
    ]
    assert result.lrs[0] == pytest.approx(expected, rel=1e-12, abs=1e-18)
    assert result.warmup == "LinearWarmup"
    untuned = preview(composition("cosine", 100, "linear", beta2=0.9), 100)  # no period
    assert untuned.warmup == "UntunedLinearWarmup" and untuned.warmup_periods == [20.0]
    step = preview(composition("step", 8, "radam", beta2=0.99), 8)
    assert step.warmup == "RAdamWarmup"
    with pytest.raises(ValueError, match="takes its period from beta2"):
        composition("cosine", 100, "radam", warmup_period=5)
    with pytest.raises(ValueError, match="scheduler must be one of"):
        composition("onecycle", 100)
    with pytest.raises(ValueError, match=r"unknown warmup 'untuned-linear' \(choose from linear"):
        composition("cosine", 100, "untuned-linear")


def test_format_report() -> None:
    text = format_report(preview(_example("warmup_too_long"), 1000), "x")
    lines = text.splitlines()
    assert (
        lines[0]
        == "x: 1000 updates, 1 param group, UntunedLinearWarmup (warmup period 2000 updates)"
    )
    assert lines[1].startswith("learning rate at update 1: 5e-07, ")
    assert lines[2].startswith("warning: update 1000: UntunedLinearWarmup has a warmup period")


def test_an_effective_period_is_reported_as_one(capsys: pytest.CaptureFixture[str]) -> None:
    result = preview(composition("step", 3000, "radam", beta2=0.99), 3000)
    lines = format_report(result, "radam").splitlines()
    assert lines[0].endswith("RAdamWarmup (effective warmup period 102.863 updates)")
    omega = result.factors[0] if result.factors else []
    near = next(t + 1 for t, w in enumerate(omega) if w >= 0.99)
    assert f", {near} (omega >= 0.99): " in lines[1] and near > 300  # far past 103


# --- the figure --------------------------------------------------------------------------


def _axes(result: SchedulePreview) -> Any:
    from matplotlib.figure import Figure

    return Figure().subplots()


def test_titles_name_the_schedule_the_updates_and_the_findings() -> None:
    flat = preview(_example("lightning_per_epoch"), 3000, updates_per_epoch=300)
    flat.name = "examples.schedules:lightning_per_epoch"
    assert default_title(flat) == (
        "examples.schedules:lightning_per_epoch\n3000 updates, 1 finding: flat-epochs"
    )
    fine = preview(_example("quickstart"), 5000)
    assert default_title(fine) == "cli_examples:quickstart\n5000 updates, no finding"


def test_the_warmup_band_is_where_the_warmup_really_is() -> None:
    per_update = preview(_example("lightning_per_step"), 3000, updates_per_epoch=300)
    assert _span(per_update, 0) == _Span(200, "warmup (ω < 1): until update 200")
    # Stepped once per epoch, the 200-update warmup spans the whole run (and beyond).
    per_epoch = preview(_example("lightning_per_epoch"), 3000, updates_per_epoch=300)
    span = _span(per_epoch, 0)
    assert span is not None and span.stop == 3000
    assert span.label == "warmup (ω < 1): all 3000 updates, ω = 0.05 at the last"
    # RAdam approaches 1 without reaching it: its effective period, and where it gets to
    # 0.9 and 0.99, all from the factors the updates used.
    radam = preview(composition("step", 3000, "radam", beta2=0.99), 3000)
    span = _span(radam, 0)
    omega = radam.factors[0] if radam.factors else []
    assert span is not None and span.stop == pytest.approx(math.fsum(1 - w for w in omega))
    assert span.label.startswith("effective warmup period Σ(1−ω) = 102.9 updates")
    firsts = [next(t + 1 for t, w in enumerate(omega) if w >= level) for level in (0.9, 0.99)]
    assert [update for update, _ in span.marks] == firsts
    assert span.marks[1][1] == f"ω ≥ 0.99 from update {firsts[1]}"


def test_a_tiny_rate_gets_a_log_scale_and_groups_tenfold_apart_their_panels(
    tmp_path: Path,
) -> None:
    stuck = preview(_example("dampening_without_with"), 3000)  # 200 times below its own
    ax = _axes(stuck)
    _scale(ax, stuck, [0])
    assert ax.get_yscale() == "log"
    fine = preview(_example("quickstart"), 3000)
    ax = _axes(fine)
    _scale(ax, fine, [0])
    assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0

    def two_groups(model: Any) -> Any:
        weight, bias = model.parameters()
        opt = torch.optim.AdamW([{"params": [weight], "lr": 1e-2}, {"params": [bias]}], lr=1e-3)
        return {"optimizer": opt, "step": CosineAnnealingLR(opt, T_max=100).step}

    apart = preview(two_groups, 100)
    assert _panels(apart) == [[0], [1]]
    apart.plot(tmp_path / "groups.png")
    assert _png(tmp_path / "groups.png") == (800, 510)  # two stacked panels
    close = preview(lambda model: torch.optim.AdamW(model.parameters()), 10)
    assert _panels(close) == [[0]]
