# Two entry points for newcomers: `make demo` and `make test`. Both create their own virtualenv
# (python3 -m venv, or virtualenv where Debian's python3-venv is not installed).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit fuzz-nightly bench clean

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { PIP_BREAK_SYSTEM_PACKAGES=1 $(PYTHON) -m pip install --quiet --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	@touch $(STAMP)

# `make demo PORT=8080` when 8000 is taken.
PORT ?= 8000
demo: $(STAMP)
	$(BIN)/secplan serve --demo --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q || [ $$? -eq 5 ]  # 5 = no tests collected

test: lint typecheck unit

# The fuzz targets with the long budget (docs/security.md); `make test` runs them briefly.
fuzz-nightly: $(STAMP)
	SECPLAN_FUZZ=nightly $(BIN)/pytest -q tests/fuzz tests/test_linear_time.py

bench: $(STAMP)
	$(BIN)/python bench/bench_check.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
