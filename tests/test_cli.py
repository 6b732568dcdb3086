"""Tests of the pytorch-warmup command line through its real entry points."""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from pytorch_warmup import (
    ExponentialWarmup,
    LinearWarmup,
    RAdamWarmup,
    UntunedExponentialWarmup,
    UntunedLinearWarmup,
    _catalog,
    analysis,
)
from pytorch_warmup.analysis import effective_warmup_period
from pytorch_warmup.cli import (
    _demo,
    composition,
    default_steps,
    format_table,
    main,
    plotted_steps,
    warmup_factors,
)
from pytorch_warmup.preview import preview

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


def _python(code: str) -> str:
    """The standard output of ``python -c code`` in a new interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


# --- help -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["plot"], ["period"], ["preview"], ["demo"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: pytorch-warmup {' '.join(command)}".rstrip())
    for option in {"plot": ["--beta2", "--steps", "--output", "--schedules"],
                   "period": ["--beta2", "--output"],
                   "demo": ["--quick", "--seeds", "--text", "--output", "--steps"],
                   "preview": ["--updates", "--model", "--csv", "--strict"],
                   }.get("".join(command), ["plot", "period", "preview", "demo"]):  # fmt: skip
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
        "pytorch-warmup: error: argument --steps: the value must be a positive int, got -5\n"
    )


def test_no_command_prints_the_usage_and_the_commands() -> None:
    done = _run()
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: pytorch-warmup [-h] [--version] COMMAND ...\n")
    for command in ("plot", "period", "preview", "demo"):
        assert f"\n    {command} " in done.stderr
    assert done.stderr.endswith(
        "pytorch-warmup: error: no command given: choose one of the commands above\n"
    )


def test_import_does_not_load_matplotlib_or_tqdm() -> None:
    # torch.hub imports tqdm when it is installed, so compare with torch alone.
    code = (
        "import sys, torch\n"
        "before = set(sys.modules)\n"
        "import pytorch_warmup, pytorch_warmup.analysis, pytorch_warmup.preview\n"
        "print(sorted(m for m in sys.modules if m.startswith('pytorch_warmup.cli')))\n"
        "import pytorch_warmup.cli, pytorch_warmup.cli._demo\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] in ('matplotlib', 'tqdm', 'PIL')))\n"
        "print('matplotlib' in sys.modules)"
    )
    assert _python(code).split("\n")[:3] == ["[]", "[]", "False"]


def test_import_works_without_matplotlib_and_tqdm() -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = sys.modules['tqdm'] = None\n"
        "import pytorch_warmup, pytorch_warmup.cli, pytorch_warmup.cli._demo\n"
        "print(pytorch_warmup.effective_warmup_period('linear', warmup_period=5))"
    )
    assert _python(code) == "2.0\n"


def _imports(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (relative imports, anywhere in it)."""
    graph: dict[str, set[str]] = {}
    for file in package.rglob("*.py"):
        parts = list(file.relative_to(package).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        parts = parts[:-1] if is_init else parts
        inside = parts if is_init else parts[:-1]  # the package the module is in
        deps: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = inside[: len(inside) - node.level + 1] + (node.module or "").split(".")
                base = [p for p in base if p]
                if node.module:
                    deps.add(".".join(base))
                deps.update(".".join([*base, alias.name]) for alias in node.names)
        graph[".".join(parts)] = deps
    return {m: {d for d in ds if d in graph and d != m} for m, ds in graph.items()}


def test_the_library_and_the_command_line_import_in_one_direction() -> None:
    graph = _imports(ROOT / "src" / "pytorch_warmup")
    assert {"cli", "cli._demo", "cli._figures", "preview", "_catalog"} <= set(graph)

    def reaches(start: str, goal: str, seen: frozenset[str]) -> bool:
        return any(
            d == goal or (d not in seen and reaches(d, goal, seen | {d})) for d in graph[start]
        )

    assert [m for m in graph if reaches(m, m, frozenset({m}))] == []  # no cycle
    # Only SchedulePreview.plot reaches into the command line (for its figure, lazily).
    into_cli = {
        m: sorted(d for d in ds if d.split(".")[0] == "cli")
        for m, ds in graph.items()
        if m.split(".")[0] not in ("cli", "__main__")  # __main__: python -m pytorch_warmup
    }
    assert {m: ds for m, ds in into_cli.items() if ds} == {"preview": ["cli._preview_figure"]}


# --- plot -------------------------------------------------------------------------------


def test_plot_writes_one_panel_per_beta2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schedule.png"
    assert main(["plot", "--beta2", "0.99", "0.999", "--output", str(out)]) == 0
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
    assert warmup_factors(schedule, beta2, [0, 7, 299]) == [expected[i] for i in (0, 7, 299)]


def test_one_table_one_meaning_per_warmup_name() -> None:
    # The names of plot, period, plot --scheduler and the demo are those of one table,
    # and the names of effective_warmup_period, with the same meaning.
    assert list(_catalog.WARMUPS) == list(analysis.SCHEDULES) == ["linear", "exponential", "radam"]
    classes = {
        "linear": (UntunedLinearWarmup, LinearWarmup),
        "exponential": (UntunedExponentialWarmup, ExponentialWarmup),
        "radam": (RAdamWarmup, None),
    }
    for name, (untuned, tuned) in classes.items():
        entry = _catalog.WARMUPS[name]
        opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 0.99))
        assert type(entry.build(opt)) is untuned  # no period: the untuned one, from beta2
        opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 0.99))
        if tuned is None:
            with pytest.raises(ValueError, match="takes its period from beta2"):
                entry.build(opt, 50)
        else:
            assert type(entry.build(opt, 50)) is tuned
        composed = preview(composition("constant", 2000, name, beta2=0.99), 2000)
        assert composed.warmup == untuned.__name__
        factors = warmup_factors(name, 0.99, 6000)  # 60 periods: the rest is below 1e-20
        assert composed.factors == [factors[:2000]]
        period = effective_warmup_period(lambda s, f=factors: f[s], steps=6000)
        assert period == pytest.approx(effective_warmup_period(name, beta2=0.99), rel=1e-9)
        assert entry.label in _demo.CONFIGURATIONS


def test_default_output_names_differ_per_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "--steps", "20"]) == 0
    assert main(["plot", "--scheduler", "cosine", "--total-steps", "50", "--beta2", "0.9"]) == 0
    argv = ["plot", "--scheduler", "step", "--total-steps", "50", "--warmup", "radam"]
    assert main([*argv, "--beta2", "0.9"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "schedule_cosine_linear.png",
        "schedule_step_radam.png",
        "warmup_schedule.png",
    ]
    assert "wrote schedule_cosine_linear.png" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("beta2", "steps"), [(0.999, 3000), (0.99, 300), (0.9, 30), (0.7, 10), (0.5, 10), (0.0, 10)]
)
def test_default_range_is_one_and_a_half_linear_periods(beta2: float, steps: int) -> None:
    assert default_steps(beta2) == steps


def test_long_ranges_are_sampled() -> None:
    assert plotted_steps(2000, 0.999) == list(range(2000))
    sampled = plotted_steps(10_000_000, 0.999)
    assert sampled[0] == 0
    assert sampled[-1] == 9_999_999
    assert 1999 in sampled  # the corner of the untuned linear warmup (tau = 2000)
    assert len(sampled) == 2001
    assert sampled == sorted(set(sampled))
    gaps = {b - a for a, b in itertools.pairwise(sampled) if b != 1999 and a != 1999}
    assert gaps <= {5002, 5003}


def test_plot_of_ten_million_steps_is_quick(tmp_path: Path) -> None:
    out = tmp_path / "long.png"
    start = time.perf_counter()
    assert main(["plot", "--steps", "10000000", "-o", str(out)]) == 0
    assert time.perf_counter() - start < 20  # was 68 s with every step evaluated
    assert _png_size(out) == (800, 500)


def test_format_table_is_the_demos() -> None:
    assert _demo.format_table is format_table
    assert format_table(["a", "bb"], [["x", "1"], ["yyy", "22"]]).splitlines() == [
        "a    bb",
        "---  --",
        "x     1",
        "yyy  22",
    ]


# --- period -----------------------------------------------------------------------------


def test_period_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["period", "--beta2", "0.99", "0.9995", "--schedules", "radam", "linear"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "beta2   1/(1-beta2)     radam    linear",
        "------  -----------  --------  --------",
        "0.99          100.0   102.863    99.500",
        "0.9995       2000.0  2058.521  1999.500",
    ]


def test_period_shows_beta2_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    # "{:g}" would print 1 for 0.9999999.
    assert main(["period", "--beta2", "0.9999999", "0.99999999", "--schedules", "radam"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
    assert rows == [
        ["0.9999999", "10000000.0", "10291621.901"],
        ["0.99999999", "99999999.5", "102916215.902"],
    ]


def test_period_is_fast_for_beta2_near_one(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.process_time()
    betas = ["0.999", "0.9999", "0.99999", "0.999999", "0.9999999", "0.99999999"]
    assert main(["period", "--beta2", *betas, "--schedules", "radam"]) == 0
    assert time.process_time() - start < 1.0
    assert len(capsys.readouterr().out.splitlines()) == 3 + len(betas)


def test_period_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "period.png"
    assert main(["period", "--beta2", "0.9", "0.99", "0.999", "--output", str(out)]) == 0
    assert capsys.readouterr().out.endswith(f"wrote {out}\n")
    assert _png_size(out) == (1600, 500)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plot", "--steps", "-1"], "argument --steps: the value must be a positive int, got -1"),
        (["plot", "--steps", "0"], "argument --steps: the value must be a positive int, got 0"),
        (["plot", "--steps", "ten"], "argument --steps: expected an integer, got 'ten'"),
        (["plot", "--steps", "1.5"], "argument --steps: expected an integer, got '1.5'"),
        (["plot", "--beta2", "1"], "argument --beta2: the value must be in [0, 1), got 1.0"),
        (["period", "--beta2", "1.5"], "argument --beta2: the value must be in [0, 1), got 1.5"),
        (["period", "--beta2", "x"], "argument --beta2: expected a number, got 'x'"),
        (["period", "--beta2", "-0.9"], "argument --beta2: the value must be in [0, 1), got -0.9"),
        (["demo", "--beta2", "nan"], "argument --beta2: the value must be finite, got nan"),
        (["plot", "-o", ""], "argument --output/-o: expected a path, got an empty string"),
        (["demo", "-o", ""], "argument --output/-o: expected a path, got an empty string"),
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
        (["demo", "--steps", "-3"], "argument --steps: the value must be a positive int, got -3"),
        (["demo", "--lr", "-1"], "argument --lr: the value must be > 0, got -1.0"),
        (["demo", "--lr", "inf"], "argument --lr: the value must be finite, got inf"),
        (["demo", "--text", "/"], "--text '/' is a directory, not a text file"),
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


def test_demo_needs_a_beta2_for_radam(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--beta2", "0.5"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("pytorch-warmup: error: argument --beta2: the value must be in (0.6, 1)")
    assert err.endswith("got 0.5\n")
    assert err.count("\n") == 1


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
    missing = tmp_path / "missing" / "p.svg"
    cases = [
        (
            ["plot", "-o", str(blocker / "x.png")],
            f"--output '{blocker / 'x.png'}': '{blocker}' is a file, not a directory",
        ),
        (
            ["period", "-o", str(missing)],
            f"--output '{missing}': directory '{missing.parent}' does not exist",
        ),
        (
            ["plot", "-o", str(tmp_path)],
            f"--output '{tmp_path}' is a directory; give a file name such as "
            f"{tmp_path / 'plot.png'}",
        ),
        (["demo", "--output", str(blocker)], f"--output '{blocker}' exists and is not a directory"),
        (
            ["demo", "--output", str(blocker / "out")],
            f"--output '{blocker / 'out'}': '{blocker}' is a file, not a directory",
        ),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert capsys.readouterr().err == f"pytorch-warmup: error: {message}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"short", "the text has 5 characters: too short for a context of 64"),
        (b"\x7fELF\x02\x01\x01\x00" + b"x" * 500, "is a binary file (a NUL byte at offset 7)"),
        (b"caf\xe9 " * 100, "is not UTF-8 text (byte 0xe9 at offset 3)"),
    ],
)
def test_a_bad_text_fails_before_the_output_folder_exists(
    content: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "corpus.txt"
    text.write_bytes(content)
    output = tmp_path / "out" / "deeper"
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--text", str(text), "-o", str(output), "--no-progress"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("pytorch-warmup: error: --text: ")
    assert message in err
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]


def test_a_directory_named_like_an_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "dir.png"
    target.mkdir()
    with pytest.raises(SystemExit):
        main(["plot", "-o", str(target)])
    assert capsys.readouterr().err == (
        f"pytorch-warmup: error: --output '{target}' is a directory; give a file name such as "
        f"{target / 'plot.png'}\n"
    )


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
    assert err.endswith(
        f'needs {module}: the "cli" extra (pip install ".[cli]" in a checkout of pytorch-warmup)\n'
    )
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the demo's folder


def test_period_without_output_needs_no_matplotlib(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["period", "--beta2", "0.99"]) == 0
    assert "102.863" in capsys.readouterr().out
