# driftloop: `make demo` and `make test` do all set-up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test lint typecheck install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/driftloop demo --dir driftloop-demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -x -q -n $(PYTEST_WORKERS) --dist loadfile

# The stream evaluation (~15 min on 2 idle cores): figures and plots into bench/stream_results
# and the "Stream evaluation" section of bench/README.md.
bench: $(STAMP)
	$(BIN)/python bench/stream_bench.py --readme

clean:
	rm -rf $(VENV) driftloop-demo build *.egg-info
