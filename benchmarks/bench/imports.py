"""What ``import pytorch_warmup`` costs after ``import torch``, next to the original package.

The original, ``pytorch-warmup==0.2.0`` from PyPI, is installed into a temporary
directory (``pip install --no-deps --target``), never into the environment. Each import
runs in a fresh process whose ``sys.path`` starts with the package's directory, once
uncounted (so that its bytecode is cached) and then under callgrind: the instructions of
the import alone, and the modules it loads that ``import torch`` did not. The bytecode
goes to a directory of the run's own (``PYTHONPYCACHEPREFIX``, written even where
``PYTHONDONTWRITEBYTECODE`` is set), so that neither package is compiled from source
when it is counted, and no source tree gets a ``__pycache__``. Wall-clock milliseconds,
from more fresh processes, are given beside them; they depend on the load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytorch_warmup as pw

from . import callgrind, timing

ORIGINAL = "pytorch-warmup==0.2.0"
COUNT = """\
import json, os, sys, time
import torch
before = set(sys.modules)
os.getppid()
t0 = time.perf_counter()
import pytorch_warmup
t1 = time.perf_counter()
os.getppid()
t2 = time.perf_counter()
t3 = time.perf_counter()
os.getppid()
new = sorted(set(sys.modules) - before)
print(json.dumps({"version": pytorch_warmup.__version__, "ms": 1e3 * (t1 - t0), "modules": new}))
sys.stdout.flush()
os._exit(0)
"""


def this_package_dir() -> str:
    """The directory that holds the ``pytorch_warmup`` under test."""
    return os.path.dirname(os.path.dirname(os.path.abspath(pw.__file__)))


def install_original(into: str) -> str | None:
    """Installs the original release into ``into``; None (and a message) if pip cannot."""
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    cmd += ["--no-deps", "--target", into, ORIGINAL]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        print(f"(could not install {ORIGINAL}: {done.stderr.strip()[-300:]})", file=sys.stderr)
        return None
    return into


def empty_package(into: str, modules: int) -> str:
    """A ``pytorch_warmup`` of ``modules`` modules that hold one assignment each, in ``into``.

    Its import is what loading that many modules costs whatever they hold: the import
    system's part, which a package split into more modules pays per module.
    """
    package = os.path.join(into, "pytorch_warmup")
    os.makedirs(package, exist_ok=True)
    names = [f"m{i}" for i in range(1, modules)]
    for name in names:
        with open(os.path.join(package, f"{name}.py"), "w", encoding="utf-8") as f:
            f.write("x = 1\n")
    with open(os.path.join(package, "__init__.py"), "w", encoding="utf-8") as f:
        f.writelines(f"from . import {name}\n" for name in names)
        f.write(f'__version__ = "{modules} empty modules"\n')
    return into


def _env(path: str, cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPATH": path, "PYTHONPYCACHEPREFIX": cache}


def _run(path: str, cache: str) -> dict[str, Any]:
    cmd = [sys.executable, "-c", COUNT]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(path, cache), check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def instructions(path: str, cache: str) -> dict[str, Any]:
    """Instructions of the import (warm: bytecode cached in ``cache``), the modules it loads."""
    first = _run(path, cache)  # caches the bytecode; the module list
    counts = callgrind.segments([sys.executable, "-c", COUNT], env=_env(path, cache))
    if len(counts) != 3:
        raise RuntimeError(f"{len(counts)} callgrind segments for an import, not 3")
    return {
        "version": first["version"],
        "instructions": counts[1] - counts[2],
        "modules": first["modules"],
    }


def wall_ms(paths: dict[str, str], cache: str, repeats: int) -> dict[str, Any]:
    """Milliseconds of the import in fresh processes, the packages alternating."""
    ms: dict[str, list[float]] = {name: [] for name in paths}
    for path in paths.values():
        _run(path, cache)  # caches the bytecode
    for _ in range(repeats):
        for name, path in paths.items():
            ms[name].append(_run(path, cache)["ms"])
    return {name: timing.summary(values) | {"repeats": repeats} for name, values in ms.items()}


def modules(path: str, cache: str) -> dict[str, Any]:
    """The modules the import loads, without counting its instructions."""
    first = _run(path, cache)
    return {"version": first["version"], "instructions": None, "modules": first["modules"]}
