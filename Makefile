# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when it is missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# A working Python >= 3.12: the first candidate that actually runs and is new enough.
# (`python3` may be older, and pyenv shims may exist for versions that are not active.)
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python3 2>/dev/null) python3 python; do \
  "$$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && { command -v "$$p" || echo "$$p"; } && break; done)

.PHONY: demo test lint venv browser bench bench-sweep bench-calibrate morris cases clean-venv notebooks jupyterlab app

$(BIN)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found (tried python3.13, python3.12, pyenv versions, python3)"; exit 1; fi
	@[ -x $(BIN)/python ] || { echo "creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(BIN)/.installed

# The baseline what-if into its own folder (replaced on each `make demo`); sim-run prints the report's path.
demo: venv
	@$(BIN)/sim-run scenario=baseline replicates=200 months=36 seed=2025 hydra.run.dir=results/demo/baseline overwrite=true

# JupyterLab in .venv (the `notebooks` extra; `make test` installs it too), then the notebooks in it.
jupyterlab: venv
	@[ -x $(BIN)/jupyter-lab ] || $(BIN)/python -m pip install --quiet -e '.[notebooks]'

notebooks: jupyterlab
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# The teaching page on http://127.0.0.1:8765 (sim-app --port N for another port).
app: venv
	$(BIN)/sim-app

# Debian's Chromium for the browser test of the teaching page (never a browser download). As root (CI) it is
# installed; elsewhere the test says how to install it and is skipped.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium is missing and this is not root: sudo apt-get install chromium"; fi; fi

test: venv browser lint
	$(BIN)/python -m pytest -q --durations=15

# ruff: style and correctness checks over the package, the tests and the benchmarks (part of `make test`)
lint: venv
	$(BIN)/ruff check sim tests benchmarks hydra_plugins conftest.py
	$(BIN)/ruff format --check sim tests benchmarks hydra_plugins conftest.py

bench: venv
	$(BIN)/python benchmarks/bench_core.py

bench-sweep: venv
	$(BIN)/python benchmarks/bench_sweep.py

# The Morris screening kept in docs/morris.md: every actor has a parameter that matters (about 2 minutes).
MORRIS_DIR := results/sensitivity/morris-docs
morris: venv
	rm -rf $(MORRIS_DIR)
	$(BIN)/sim-run sweep=morris hydra.sweep.dir=$(MORRIS_DIR)
	$(BIN)/sim-report $(MORRIS_DIR)
	rm -rf docs/morris && mkdir -p docs/morris && cp -r $(MORRIS_DIR)/figures docs/morris/
	{ echo "<!-- Made by \`make morris\` (sim-run sweep=morris, then sim-report); do not edit by hand. -->"; \
	  echo; sed 's|(figures/|(morris/figures/|g' $(MORRIS_DIR)/sweep.md; } > docs/morris.md
	@echo "docs/morris.md"

# ABC-SMC to a final population of >= 1,000 particles (target <= 15 min on 2 cores with the real model);
# extra options through CALIBRATE_ARGS, e.g. CALIBRATE_ARGS="--problem pkg.module:factory --repeats 3"
bench-calibrate: venv
	$(BIN)/python benchmarks/bench_calibrate.py $(CALIBRATE_ARGS)

# Every case calibrated (installed as its default), validated by rolling origins, and the cross-case report
# docs/cases.md (about 15 minutes of calibration and 10 of validation per case on 2 cores). CASES picks some.
CASES ?= belarus nicaragua cuba venezuela
STAMP := $(shell date +%Y-%m-%d_%H-%M-%S)
cases: venv
	@for c in $(CASES); do \
	  $(BIN)/sim-calibrate $$c --install --out results/calibration/$$c/$(STAMP) || exit 1; \
	  $(BIN)/sim-validate case=$$c out=results/validation/$$c/$(STAMP) || exit 1; \
	done
	$(BIN)/sim-cases

clean-venv:
	rm -rf $(VENV)
