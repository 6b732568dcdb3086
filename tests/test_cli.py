"""Tests of the pytorch-warmup command line through its real entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from pytorch_warmup import RAdamWarmup, UntunedExponentialWarmup, UntunedLinearWarmup
from pytorch_warmup.cli import main, warmup_factors

ROOT = Path(__file__).resolve().parents[1]


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()  # decodes every pixel: a truncated file fails here
        assert image.format == "PNG"
        return image.size


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytorch_warmup", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- help -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["plot"], ["period"], ["demo"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: pytorch-warmup {' '.join(command)}".rstrip())
    for option in {"plot": ["--beta2", "--steps", "--output", "--schedules"],
                   "period": ["--beta2", "--output"],
                   "demo": ["--quick", "--seeds", "--text", "--output", "--steps"],
                   }.get("".join(command), ["plot", "period", "demo"]):  # fmt: skip
        assert option in out


def test_console_script_subprocess(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("pytorch-warmup")
    if not script.exists():
        pytest.skip("the pytorch-warmup console script is not installed next to python")
    done = subprocess.run(
        [str(script), "period", "--beta2", "0.9", "0.999"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 5
    assert lines[1].split() == ["beta2", "1/(1-beta2)", "linear", "exponential", "radam"]
    assert lines[-2].split() == ["0.9", "10.0", "9.500", "9.508", "9.893"]
    assert lines[-1].split() == ["0.999", "1000.0", "999.500", "999.500", "1029.325"]


def test_python_dash_m_help_and_error() -> None:
    done = _run("--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: pytorch-warmup")
    done = _run("plot", "--steps", "-5")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "pytorch-warmup: error: argument --steps: expected a positive integer, got -5\n"
    )


def test_import_does_not_load_matplotlib_or_tqdm() -> None:
    # torch.hub imports tqdm when it is installed, so compare with torch alone.
    code = (
        "import sys, torch\n"
        "before = set(sys.modules)\n"
        "import pytorch_warmup, pytorch_warmup.cli, pytorch_warmup.analysis\n"
        "import pytorch_warmup._demo\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] in ('matplotlib', 'tqdm', 'PIL')))\n"
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split("\n")[:2] == ["[]", "False"]


def test_import_works_without_matplotlib_and_tqdm() -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = sys.modules['tqdm'] = None\n"
        "import pytorch_warmup, pytorch_warmup.cli, pytorch_warmup._demo\n"
        "print(pytorch_warmup.effective_warmup_period('linear', warmup_period=5))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == "2.0\n"


# --- plot -------------------------------------------------------------------------------


def test_plot_writes_one_panel_per_beta2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schedule.png"
    assert main(["plot", "--beta2", "0.99", "0.999", "--steps", "500", "--output", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert _png_size(out) == (1600, 500)
    single = tmp_path / "one.png"
    assert main(["plot", "--steps", "10", "-o", str(single), "--schedules", "expo"]) == 0
    assert _png_size(single) == (800, 500)


@pytest.mark.parametrize(("suffix", "magic"), [(".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_plot_vector_formats(tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = tmp_path / f"schedule{suffix}"
    assert main(["plot", "--steps", "50", "--output", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize("schedule", ["linear", "exponential", "radam"])
@pytest.mark.parametrize("beta2", [0.7, 0.99, 0.999])
def test_plotted_factors_are_the_warmup_classes_factors(schedule: str, beta2: float) -> None:
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0, betas=(0.9, beta2))
    classes = {
        "linear": UntunedLinearWarmup,
        "exponential": UntunedExponentialWarmup,
        "radam": RAdamWarmup,
    }
    warmup = classes[schedule](opt)
    expected = [warmup.warmup_factor(s, **warmup.warmup_params[0]) for s in range(300)]
    assert warmup_factors(schedule, beta2, 300) == expected


# --- period -----------------------------------------------------------------------------


def test_period_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["period", "--beta2", "0.99", "0.9995", "--schedules", "radam", "linear"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["beta2", "1/(1-beta2)", "radam", "linear"]
    assert set(lines[2]) <= {"-", " "}
    assert lines[3].split() == ["0.99", "100.0", "102.863", "99.500"]
    assert lines[4].split() == ["0.9995", "2000.0", "2058.521", "1999.500"]
    assert len(lines) == 5


def test_period_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "period.png"
    assert main(["period", "--beta2", "0.9", "0.99", "0.999", "--output", str(out)]) == 0
    assert capsys.readouterr().out.endswith(f"wrote {out}\n")
    assert _png_size(out) == (1600, 500)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plot", "--steps", "-1"], "argument --steps: expected a positive integer, got -1"),
        (["plot", "--steps", "0"], "argument --steps: expected a positive integer, got 0"),
        (["plot", "--steps", "ten"], "argument --steps: expected a positive integer, got 'ten'"),
        (["plot", "--beta2", "1"], "argument --beta2: beta2 must be in (0, 1), got 1"),
        (["period", "--beta2", "1.5"], "argument --beta2: beta2 must be in (0, 1), got 1.5"),
        (["period", "--beta2", "0"], "argument --beta2: beta2 must be in (0, 1), got 0"),
        (["period", "--beta2", "-0.9"], "argument --beta2: beta2 must be in (0, 1), got -0.9"),
        (["demo", "--beta2", "nan"], "argument --beta2: beta2 must be in (0, 1), got nan"),
        (
            ["plot", "--schedules", "cosine"],
            "argument --schedules: unknown schedule 'cosine' (choose from linear, exponential, "
            "radam)",
        ),
        (
            ["period", "--beta2", "0.5"],
            "the RAdam warmup needs beta2 > 0.6 (rho_inf > 4), got --beta2 0.5; leave radam "
            "out with --schedules linear exponential",
        ),
        (
            ["plot", "-o", "schedule.jpg"],
            "--output 'schedule.jpg': unknown format '.jpg', use one of .png, .pdf, .svg",
        ),
        (["demo", "--text", "/no/such/file.txt"], "--text '/no/such/file.txt': no such file"),
        (["demo", "--steps", "-3"], "argument --steps: expected a positive integer, got -3"),
        (["demo", "--lr", "-1"], "argument --lr: expected a positive number, got -1"),
        (
            ["demo", "--beta2", "0.5"],
            "--beta2 0.5: the demo includes the RAdam warmup, which needs beta2 > 0.6",
        ),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"pytorch-warmup: error: {message}\n"


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["warmup"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    # argparse quotes the choices from Python 3.12.8 on.
    assert err.startswith("pytorch-warmup: error: argument COMMAND: invalid choice: 'warmup'")
    assert err.count("\n") == 1


def test_unwritable_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cases = [
        (["plot", "-o", str(blocker / "x.png")], f"directory '{blocker}' does not exist"),
        (["period", "-o", str(tmp_path / "missing" / "p.svg")], "does not exist"),
        (["plot", "-o", str(tmp_path)], "unknown format"),
        (["demo", "--output", str(blocker)], f"--output '{blocker}' exists and is not a directory"),
        (
            ["demo", "--output", str(blocker / "out")],
            f"--output '{blocker / 'out'}': cannot create",
        ),
    ]
    for argv, fragment in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("pytorch-warmup: error: ")
        assert fragment in err
        assert err.count("\n") == 1


def test_a_directory_named_like_an_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "dir.png"
    target.mkdir()
    with pytest.raises(SystemExit):
        main(["plot", "-o", str(target)])
    assert capsys.readouterr().err == f"pytorch-warmup: error: --output '{target}' is a directory\n"


@pytest.mark.parametrize(
    ("argv", "module"),
    [(["plot"], "matplotlib"), (["period", "-o", "p.png"], "matplotlib"), (["demo"], "tqdm")],
)
def test_missing_extra_names_the_install_command(
    argv: list[str],
    module: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("pytorch-warmup: error: ")
    assert err.endswith(f'needs {module}: pip install "pytorch-warmup[cli]"\n')
    assert list(tmp_path.iterdir()) == ([tmp_path / "demo-output"] if argv == ["demo"] else [])


def test_period_without_output_needs_no_matplotlib(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["period", "--beta2", "0.99"]) == 0
    assert "102.863" in capsys.readouterr().out
