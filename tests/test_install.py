"""The install instructions of the manual, followed in a fresh virtual environment.

The wheel is built from this checkout, then installed with each extra into a new
venv (without the system's or this venv's packages), one extra after the other,
with torch pinned by ``constraints.txt`` so that pip never swaps it; after each
step the installed ``pytorch-warmup`` command runs. The same venv first gets the
registry's original ``pytorch-warmup`` 0.2.0, to show what happens when it is
installed too: pip replaces it, as both distributions have the same name.

Slow (a few minutes the first time; pip's cache makes the next runs faster):
``pytest -m "not slow"`` leaves it out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytorch_warmup import __version__

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
EXTRAS = ["", "cli", "integrations", "test", "docs"]

pytestmark = pytest.mark.slow


def _run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=900, env=env, check=False
    )
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT)
    (built,) = dist.glob("*.whl")
    assert built.name == f"pytorch_warmup-{__version__}-py3-none-any.whl"
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", path)  # no --system-site-packages: a clean slate
    python = path / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS, "torch")
    return path


def _pip_install(venv: Path, requirement: str) -> str:
    python = venv / "bin" / "python"
    return _run(python, "-m", "pip", "install", "-c", CONSTRAINTS, requirement).stdout


def _torch_version(venv: Path) -> str:
    code = "import torch; print(torch.__version__)"
    return _run(venv / "bin" / "python", "-c", code).stdout.strip()


def test_the_wheel_replaces_the_original_package(venv: Path, wheel: Path) -> None:
    python = venv / "bin" / "python"
    original = _run(python, "-m", "pip", "install", "-c", CONSTRAINTS, "pytorch-warmup==0.2.0",
                    check=False)  # fmt: skip
    if original.returncode != 0:
        pytest.skip(f"the original pytorch-warmup 0.2.0 is not reachable: {original.stderr}")
    code = "import pytorch_warmup as w; print(hasattr(w, 'WarmupLR'))"
    assert _run(python, "-c", code).stdout == "False\n"  # the original: no WarmupLR

    out = _pip_install(venv, str(wheel))
    assert "Successfully uninstalled pytorch-warmup-0.2.0" in out
    listed = _run(python, "-m", "pip", "list", "--format=freeze").stdout.splitlines()
    assert [line for line in listed if line.lower().startswith("pytorch")] == [
        f"pytorch-warmup=={__version__}"
    ]
    code = "import pytorch_warmup as w; print(w.__version__, hasattr(w, 'WarmupLR'))"
    assert _run(python, "-c", code).stdout == f"{__version__} True\n"
    # A later plain install of the name keeps this one: its version satisfies it.
    again = _pip_install(venv, "pytorch-warmup")
    assert "Requirement already satisfied: pytorch-warmup in" in again
    assert _torch_version(venv) == "2.13.0+cpu"


@pytest.mark.parametrize("extra", EXTRAS)
def test_each_extra_installs_and_the_command_runs(venv: Path, wheel: Path, extra: str) -> None:
    requirement = f"{wheel}[{extra}]" if extra else str(wheel)
    _pip_install(venv, requirement)
    assert _torch_version(venv) == "2.13.0+cpu"  # the constraint held
    command = venv / "bin" / "pytorch-warmup"
    assert _run(command, "--version").stdout == f"pytorch-warmup {__version__}\n"
    python = venv / "bin" / "python"
    if extra == "":
        # No matplotlib yet: plot says which extra to install, in one line.
        done = _run(command, "plot", "-o", venv / "x.png", check=False)
        assert done.returncode == 2
        assert 'needs matplotlib: the "cli" extra' in done.stderr
        assert _run(command, "period", "--beta2", "0.99").stdout.splitlines()[-1].split() == [
            "0.99", "100.0", "99.500", "99.501", "102.863"
        ]  # fmt: skip
    elif extra == "cli":
        output = venv / "schedule.png"
        assert _run(command, "plot", "-o", output).stdout == f"wrote {output}\n"
        assert output.read_bytes().startswith(b"\x89PNG")
    elif extra == "integrations":
        _run(python, "-c", "import lightning, transformers, accelerate")
    elif extra == "test":
        _run(python, "-c", "import pytest, hypothesis, mpmath, numpy, PIL")
    elif extra == "docs":
        code = "import importlib, sphinx, myst_parser\n"
        code += "importlib.import_module('sphinx-mathjax-offline')"
        _run(python, "-c", code)
    assert _run(python, "-m", "pip", "check").returncode == 0
