#!/usr/bin/env bash
# Run the core test suite against another torch release and/or another Python, in a
# venv of its own.
#
#   tools/compat.sh 2.4.1                  (or: make compat TORCH=2.4.1)
#   tools/compat.sh --python 3.10          (or: make compat PYTHON=3.10)
#   tools/compat.sh --python 3.13 2.7.1    (or: make compat PYTHON=3.13 TORCH=2.7.1)
#
# The venv is at the repository root:
#   .venv-compat-<torch>/             TORCH only, with the default python3
#   .venv-py<X.Y>/                    PYTHON only: the newest torch the registry offers
#                                     for that Python when the venv is built
#   .venv-py<X.Y>-compat-<torch>/     both
# It holds the registry's default (CUDA) build of torch, which runs on CPU, and the
# package in editable mode with its test extra (pytest, hypothesis, mpmath, numpy,
# pillow; not the cli or integrations extras). A second run reuses it.
#
# The interpreter for PYTHON=X.Y is the newest pyenv install of X.Y
# ($PYENV_ROOT or ~/.pyenv, versions/X.Y.*/bin/pythonX.Y), else pythonX.Y on PATH.
#
# The core tests are every file of tests/ except those that need the command line,
# plotting, the demo, the manual or a training framework:
#   tests/integrations/  Lightning, transformers, accelerate, DDP, torch.compile
#   test_cli*.py         command line and plots (matplotlib)
#   test_demo.py         demo training runs (matplotlib, tqdm)
#   test_readme.py       README examples (part of the manual's checks)
# plus the doctests of the package's core modules (cli.py or the cli/ package, _demo.py
# and _plotting.py left out for the same reasons). With --python, tests/test_install.py
# is left out too: it checks the development pin (constraints.txt: torch 2.13.0, CPU
# build), whose wheel lies on this machine for Python 3.11 only; under another Python
# pip fetches the CUDA build into its temporary venv (several GB more) and its "+cpu"
# assertions fail.
#
# At the end it prints a table row: Python, torch, passed, failed (errors included),
# skipped, and the wall time of the test run. The exit status is pytest's.
#
# Environment: PYTHON (a version X.Y, same as --python; otherwise, without --python, the
# interpreter for a .venv-compat-<torch>/ venv, default python3), PYTEST_ARGS (extra
# pytest arguments, e.g. "-x" or "-k tensor").
set -euo pipefail

usage() {
    echo "usage: $0 [--python X.Y] [TORCH_VERSION]   (for example: 2.4.1; --python 3.10)" >&2
    exit 2
}

pyver=
version=
while (($#)); do
    case $1 in
    --python)
        (($# >= 2)) || usage
        pyver=$2
        shift 2
        ;;
    --python=*)
        pyver=${1#--python=}
        shift
        ;;
    -*) usage ;;
    *)
        [[ -z $version ]] || usage
        version=$1
        shift
        ;;
    esac
done
# make compat PYTHON=3.10 also puts PYTHON=3.10 into the environment.
if [[ -z $pyver && ${PYTHON:-} =~ ^[0-9]+\.[0-9]+$ ]]; then
    pyver=$PYTHON
fi
if [[ -n $version && ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then usage; fi
if [[ -n $pyver && ! $pyver =~ ^[0-9]+\.[0-9]+$ ]]; then
    echo "compat: --python takes a minor version such as 3.10, not '$pyver'" >&2
    exit 2
fi
[[ -n $version || -n $pyver ]] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The interpreter of Python X.Y: pyenv's installs (newest patch release first), then PATH.
find_python() {
    local want=$1 cand got
    local -a cands=()
    while IFS= read -r cand; do
        cands+=("$cand")
    done < <(compgen -G "${PYENV_ROOT:-$HOME/.pyenv}/versions/$want.*/bin/python$want" | sort -rV)
    if cand=$(command -v "python$want"); then cands+=("$cand"); fi
    for cand in "${cands[@]}"; do
        # pyenv has a shim for every installed version, which fails unless it is selected.
        got=$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
        if [[ $got == "$want" ]]; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

if [[ -n $pyver ]]; then
    if ! python=$(find_python "$pyver"); then
        echo "compat: Python $pyver is not installed (no ${PYENV_ROOT:-$HOME/.pyenv}/versions/$pyver.*/bin/python$pyver, no working python$pyver on PATH)" >&2
        exit 1
    fi
    venv=.venv-py$pyver${version:+-compat-$version}
else
    python=${PYTHON:-python3}
    venv=.venv-compat-$version
fi
py=$venv/bin/python
stamp=$venv/.compat-installed
pip=("$py" -m pip install --disable-pip-version-check -q)

pins=$(mktemp)
log=$(mktemp)
trap 'rm -f "$pins" "$log"' EXIT
if [[ -n $version ]]; then
    # Pin torch while the rest goes in, so that nothing replaces it.
    echo "torch==$version" >>"$pins"
    IFS=. read -r major minor _ <<<"$version"
    # Wheels before 2.3 were built against NumPy 1.x and break under NumPy 2.
    if ((major < 2 || (major == 2 && minor < 3))); then
        echo 'numpy<2' >>"$pins"
    fi
fi

if [[ ! -f $stamp ]]; then
    echo "compat: building $venv (${version:+torch $version, }$("$python" --version 2>&1);" \
        "the CUDA wheels of torch are several GB)"
    test -x "$py" || "$python" -m venv "$venv"
    "${pip[@]}" --upgrade pip
    if [[ -n $version ]]; then
        "${pip[@]}" "torch==$version"
    fi
    "${pip[@]}" -c "$pins" -e '.[test]'
    touch "$stamp"
fi

if [[ -n $pyver ]]; then
    got=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if [[ $got != "$pyver" ]]; then
        echo "compat: $venv holds Python $got, not $pyver; remove it and rerun" >&2
        exit 1
    fi
fi
if [[ -n $version ]]; then
    got=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')
    if [[ $got != "$version" ]]; then
        echo "compat: $venv holds torch $got, not $version; remove it and rerun" >&2
        exit 1
    fi
fi
# The editable install must point at this checkout.
"$py" - <<'EOF'
import pathlib, sys
import pytorch_warmup
here = pathlib.Path.cwd().resolve() / "src" / "pytorch_warmup"
if pathlib.Path(pytorch_warmup.__file__).resolve().parent != here:
    sys.exit(f"compat: pytorch_warmup comes from {pytorch_warmup.__file__}, not {here}")
EOF

torch_full=$("$py" -c 'import torch; print(torch.__version__)')
py_full=$("$py" -c 'import platform; print(platform.python_version())')
echo "compat: torch $torch_full, Python $py_full ($venv)"
skip=()
if [[ -n $pyver ]]; then
    skip=(--ignore=tests/test_install.py)
    echo "compat: tests/test_install.py left out (it checks the torch 2.13.0+cpu pin of .venv)"
fi
start=$SECONDS
set +e
# shellcheck disable=SC2086  # PYTEST_ARGS is split on purpose
"$py" -m pytest -p no:cacheprovider ${PYTEST_ARGS:-} \
    tests src/pytorch_warmup \
    --ignore=tests/integrations \
    --ignore-glob='tests/test_cli*.py' \
    --ignore=tests/test_demo.py \
    --ignore=tests/test_readme.py \
    --ignore=src/pytorch_warmup/cli.py \
    --ignore=src/pytorch_warmup/cli \
    --ignore=src/pytorch_warmup/__main__.py \
    --ignore=src/pytorch_warmup/_demo.py \
    --ignore=src/pytorch_warmup/_plotting.py \
    ${skip[@]+"${skip[@]}"} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
wall=$((SECONDS - start))

# pytest's closing line, e.g. "===== 2 failed, 1745 passed, 56 skipped in 190.12s =====".
summary=$(grep -E '([0-9]+ (passed|failed|skipped|errors?|deselected)|no tests ran).* in [0-9.]+s' \
    "$log" | tail -n 1 || true)
count() { # count WORD-REGEX: the number before it in the summary, 0 if absent
    local n
    n=$(grep -oE "[0-9]+ ($1)\b" <<<"$summary" | grep -oE '^[0-9]+' | head -n 1 || true)
    echo "${n:-0}"
}
if [[ -n $summary ]]; then
    passed=$(count passed)
    failed=$(($(count failed) + $(count 'errors?')))
    skipped=$(count skipped)
else
    passed='?' failed='?' skipped='?'
fi
printf '\n| Python | torch | passed | failed | skipped | wall time |\n'
printf '| %s | %s | %s | %s | %s | %d s |\n' \
    "$py_full" "$torch_full" "$passed" "$failed" "$skipped" "$wall"
exit "$status"
