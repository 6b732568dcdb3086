#!/usr/bin/env bash
# Run the core test suite against another torch release, in a venv of its own.
#
#   tools/compat.sh 2.4.1        (or: make compat TORCH=2.4.1)
#
# The venv is .venv-compat-<version>/ at the repository root. It holds the registry's
# default (CUDA) build of that torch, which runs on CPU, the package in editable mode
# without its dependencies, and the test dependencies. A second run reuses it.
#
# The core tests are every file of tests/ except those that need the command line,
# plotting, the demo, the manual or a training framework:
#   tests/integrations/  Lightning, transformers, accelerate, DDP, torch.compile
#   test_cli*.py         command line and plots (matplotlib)
#   test_demo.py         demo training runs (matplotlib, tqdm)
#   test_readme.py       README examples (part of the manual's checks)
# plus the doctests of the package's core modules (cli.py, _demo.py and _plotting.py
# left out for the same reasons).
#
# Environment: PYTHON (interpreter for the venv, default python3), PYTEST_ARGS (extra
# pytest arguments, e.g. "-x" or "-k tensor").
set -euo pipefail

if [[ $# -ne 1 || ! $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "usage: $0 TORCH_VERSION   (for example 2.4.1)" >&2
    exit 2
fi
version=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

python=${PYTHON:-python3}
venv=.venv-compat-$version
py=$venv/bin/python
stamp=$venv/.compat-installed
pip=("$py" -m pip install --disable-pip-version-check -q)

IFS=. read -r major minor _ <<<"$version"
# Wheels before 2.3 were built against NumPy 1.x and break under NumPy 2.
if ((major < 2 || (major == 2 && minor < 3))); then
    numpy='numpy>=1.24,<2'
else
    numpy='numpy>=1.24'
fi

if [[ ! -f $stamp ]]; then
    echo "compat: building $venv (torch $version; the CUDA wheels are several GB)"
    test -x "$py" || "$python" -m venv "$venv"
    "${pip[@]}" --upgrade pip
    "${pip[@]}" "torch==$version"
    # Pin torch while the rest goes in, so that nothing replaces it.
    pins=$(mktemp)
    trap 'rm -f "$pins"' EXIT
    echo "torch==$version" >"$pins"
    "${pip[@]}" -c "$pins" "pytest>=8" "hypothesis>=6.100" "mpmath>=1.3" "$numpy" "pillow>=10"
    "${pip[@]}" -c "$pins" --no-deps -e .
    touch "$stamp"
fi

got=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')
if [[ $got != "$version" ]]; then
    echo "compat: $venv holds torch $got, not $version; remove it and rerun" >&2
    exit 1
fi
# The editable install must point at this checkout.
"$py" - <<'EOF'
import pathlib, sys
import pytorch_warmup
here = pathlib.Path.cwd().resolve() / "src" / "pytorch_warmup"
if pathlib.Path(pytorch_warmup.__file__).resolve().parent != here:
    sys.exit(f"compat: pytorch_warmup comes from {pytorch_warmup.__file__}, not {here}")
EOF

echo "compat: torch $("$py" -c 'import torch; print(torch.__version__)'), $("$py" --version)"
# shellcheck disable=SC2086  # PYTEST_ARGS is split on purpose
exec "$py" -m pytest -p no:cacheprovider ${PYTEST_ARGS:-} \
    tests src/pytorch_warmup \
    --ignore=tests/integrations \
    --ignore-glob='tests/test_cli*.py' \
    --ignore=tests/test_demo.py \
    --ignore=tests/test_readme.py \
    --ignore=src/pytorch_warmup/cli.py \
    --ignore=src/pytorch_warmup/__main__.py \
    --ignore=src/pytorch_warmup/_demo.py \
    --ignore=src/pytorch_warmup/_plotting.py
