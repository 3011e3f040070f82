# zerodl: two commands do all the set-up on a fresh machine with Python 3.
#   make run    train SimpleConvNet on MNIST for a short run, print the test accuracy
#   make test   ruff + the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= $(if $(ZERODL_DATA),$(ZERODL_DATA),$(abspath ../shared/data))
PYTEST_FLAGS ?=

.PHONY: run test test-slow lint docs bench bench-quick gradcheck browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# One stamp file per set of extras, remade when pyproject.toml changes.
$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot]"
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot,io,test,dev,docs,notebook,lab-test,bench,dist]"
	touch $@

$(VENV)/.bench-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot,bench]"
	touch $@

run: $(VENV)/.run-deps
	ZERODL_DATA=$(DATA) OPENBLAS_THREAD_TIMEOUT=20 $(BIN)/zerodl train --dataset mnist --model simple-convnet \
	    --epochs 3 --out runs/simple-convnet

gradcheck: $(VENV)/.run-deps
	$(BIN)/zerodl gradcheck

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks examples notebooks docs

test: lint browser
	ZERODL_DATA=$(DATA) $(BIN)/python -m pytest -q $(PYTEST_FLAGS)

test-slow: $(VENV)/.test-deps
	ZERODL_DATA=$(DATA) $(BIN)/python -m pytest -q -m slow $(PYTEST_FLAGS)

# The API reference from the docstrings (pdoc) into build/api; fails on a broken link.
docs: $(VENV)/.test-deps
	$(BIN)/python docs/build_api.py --out build/api

# The web lab's tests drive Debian's chromium; install it where we may (root, apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	    && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "chromium not installed: browser tests will be skipped"; }

# The full suite (2 threads, every system interleaved) rewrites BENCHMARKS.md's tables;
# add TTA=1 for the time-to-accuracy runs (many minutes).
bench: $(VENV)/.bench-deps
	ZERODL_DATA=$(DATA) $(BIN)/python -m benchmarks.run --out BENCHMARKS.results.json \
	    --markdown BENCHMARKS.md $(if $(TTA),--tta)

bench-quick: $(VENV)/.bench-deps
	ZERODL_DATA=$(DATA) $(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) runs build .pytest_cache .ruff_cache
