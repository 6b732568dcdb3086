# Everything a developer or CI needs, in a local virtual environment (.venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check -q -c constraints.txt

.PHONY: help venv test lint typecheck pytest docs pages doctest demo bench figures clean

help:
	@echo "make demo   - train the demo models and write demo-output/"
	@echo "make test   - lint, type-check, tests (doctests included), docs build, browser check"
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

test: lint typecheck pytest docs pages doctest

# The manual: -E rereads every page so that no warning hides in an incremental build.
SPHINX := $(BIN)/sphinx-build -E -W --keep-going

docs: $(STAMP)
	$(SPHINX) -q -b html docs docs/_build/html

# The built manual opened in headless Chromium (docs/check_pages.py): fails on raw TeX or
# directive text in a rendered page, a missing image, a broken internal link or a request
# to the network, and keeps a screenshot in docs/_build/screenshots/index.png. Without
# Chromium it is skipped with a message, except in CI (CI set), where .ci/run installs it.
pages: docs
	@status=0; $(PY) docs/check_pages.py docs/_build/html || status=$$?; \
	if [ $$status -eq 3 ] && [ -z "$$CI" ]; then \
		echo "make pages: SKIPPED the browser check of the manual: Chromium not found" \
			"(apt-get install chromium)"; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

doctest: $(STAMP)
	$(SPHINX) -b doctest docs docs/_build/doctest

demo: $(STAMP)
	$(BIN)/pytorch-warmup demo --output demo-output

# The pictures of the README and the manual, regenerated with the project's own commands.
figures: $(STAMP)
	mkdir -p docs/images
	$(BIN)/pytorch-warmup plot --beta2 0.999 --steps 3000 --output docs/images/warmup_schedule.png
	$(BIN)/pytorch-warmup period --output docs/images/effective_period.png
	$(BIN)/pytorch-warmup preview examples.schedules:quickstart --updates 5000 -o docs/images/preview_quickstart.png
	$(BIN)/pytorch-warmup preview examples.schedules:zero_start --updates 2000 -o docs/images/preview_zero_start.png
	$(BIN)/pytorch-warmup preview examples.schedules:jump_at_warmup_end --updates 3000 -o docs/images/preview_jump.png
	$(BIN)/pytorch-warmup preview examples.schedules:warmup_too_long --updates 1000 -o docs/images/preview_warmup_too_long.png
	$(BIN)/pytorch-warmup preview examples.schedules:still_rising --updates 3000 -o docs/images/preview_still_rising.png
	$(BIN)/pytorch-warmup preview examples.schedules:lightning_per_epoch --updates 3000 --updates-per-epoch 300 -o docs/images/preview_flat_epochs.png
	$(BIN)/pytorch-warmup preview examples.schedules:dampening_without_with --updates 3000 -o docs/images/preview_never_advances.png
	$(BIN)/pytorch-warmup preview examples.schedules:cosine_too_short --updates 3000 -o docs/images/preview_decay_ended.png
	$(BIN)/pytorch-warmup preview examples.schedules:scheduler_after_warmup --updates 3000 -o docs/images/preview_scheduler_after_warmup.png
	$(BIN)/pytorch-warmup plot --scheduler cosine --total-steps 10000 --warmup linear --beta2 0.999 -o docs/images/preview_composed.png
	$(BIN)/pytorch-warmup plot --scheduler step --total-steps 3000 --warmup radam --beta2 0.99 -o docs/images/preview_radam.png
	$(BIN)/pytorch-warmup plot --scheduler constant --warmup linear --beta2 0.99 --total-steps 1000 --cooldown 1-sqrt --cooldown-fraction 0.2 -o docs/images/wsd_schedule.png
	$(BIN)/pytorch-warmup preview examples.schedules:checkpoint_and_rewarm --updates 10000 -o docs/images/wsd_checkpoint_rewarm.png
	$(BIN)/pytorch-warmup preview examples.schedules:cooldown_during_warmup --updates 10000 -o docs/images/wsd_cooldown_during_warmup.png
	$(BIN)/pytorch-warmup preview examples.schedules:cooldown_ended_early --updates 10000 -o docs/images/wsd_cooldown_ended_early.png
	$(BIN)/pytorch-warmup demo --output demo-output --no-progress
	cp demo-output/loss.png docs/images/demo_loss.png
	cp demo-output/lr.png docs/images/demo_lr.png

bench: $(STAMP)
	$(PY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) docs/_build demo-output .mypy_cache .ruff_cache .pytest_cache

# The core tests against another torch release and/or another Python (PYTHON=3.10: a
# minor version, found under pyenv or on PATH), in .venv-compat-$(TORCH)/, .venv-py$(PYTHON)/
# or .venv-py$(PYTHON)-compat-$(TORCH)/ (the registry's CUDA build of torch, run on CPU;
# several GB). Not part of make test. See docs/compat.md.
.PHONY: compat
compat:
	@case "$(PYTHON)" in [0-9]*.[0-9]*) pyver="$(PYTHON)" ;; *) pyver= ;; esac; \
	if [ -z "$(TORCH)$$pyver" ]; then \
		echo "usage: make compat TORCH=x.y.z and/or PYTHON=3.x" >&2; exit 2; fi; \
	echo "bash tools/compat.sh $${pyver:+--python $$pyver }$(TORCH)"; \
	bash tools/compat.sh $${pyver:+--python $$pyver} $(TORCH)
