# One command each, on a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install test demo bench lint

# torch is pinned in the same pip command as sentence-transformers: pip then takes the CPU wheel.
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0" -e ".[dev,lab,near-dup,io,postgresql,ann]"
	touch $@

install: $(VENV)/.installed

# Two workers, each taking whole test files (module fixtures are built once). On a quiet 2-core
# machine: 7 min 27 s for 348 tests, against 11 min run serially (much of a test is a subprocess
# importing torch, one core each).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check embed_lab hooks tests benchmarks
	$(BIN)/ruff format --check embed_lab hooks tests benchmarks

# Bake a lab into ./demo (kept as it is when it exists) and run its baseline offline on the
# packaged all-MiniLM-L6-v2; each run adds a folder under demo/results/exp_01_baseline/.
demo: install
	$(BIN)/emb init demo --no-input --no-git
	cd demo && ../$(BIN)/python experiments/exp_01_baseline.py
	$(BIN)/emb runs demo

bench: install
	$(BIN)/python benchmarks/bench_init.py
