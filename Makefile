# Everything a developer or CI needs, in a local virtual environment (.venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check -q -c constraints.txt

.PHONY: help venv test lint typecheck pytest docs doctest demo bench figures clean

help:
	@echo "make demo   - train the demo models and write demo-output/"
	@echo "make test   - lint, type-check, tests (doctests included), docs build"
	@echo "make bench  - warmup overhead benchmark"
	@echo "make docs   - build the HTML manual into docs/_build/html"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) torch==2.13.0
	$(PY) -m pip install $(PIP_FLAGS) -e '.[dev]'
	@$(PY) -m pip list 2>/dev/null | grep -i '^torch ' | grep -q '2.13.0' || \
		(echo "error: torch is not the pinned 2.13.0 CPU build" >&2; exit 1)
	@! $(PY) -m pip list 2>/dev/null | grep -qi '^torchvision ' || \
		(echo "error: torchvision was pulled in" >&2; exit 1)
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/ruff format --check src tests benchmarks examples docs

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest docs doctest

# The manual: -E rereads every page so that no warning hides in an incremental build.
SPHINX := $(BIN)/sphinx-build -E -W --keep-going

docs: $(STAMP)
	$(SPHINX) -q -b html docs docs/_build/html

doctest: $(STAMP)
	$(SPHINX) -b doctest docs docs/_build/doctest

demo: $(STAMP)
	$(BIN)/pytorch-warmup demo --output demo-output

# The pictures of the README and the manual, regenerated with the project's own commands.
figures: $(STAMP)
	mkdir -p docs/images
	$(BIN)/pytorch-warmup plot --beta2 0.999 --steps 3000 --output docs/images/warmup_schedule.png
	$(BIN)/pytorch-warmup period --output docs/images/effective_period.png
	$(BIN)/pytorch-warmup demo --output demo-output --no-progress
	cp demo-output/loss.png docs/images/demo_loss.png
	cp demo-output/lr.png docs/images/demo_lr.png

bench: $(STAMP)
	$(PY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) docs/_build demo-output .mypy_cache .ruff_cache .pytest_cache
