# One command each: `make run` (set up, ingest data/, start the app), `make test`, `make lint`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup setup-dev run test lint clean eval-report

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first: pinned, it takes the CPU build from local disk instead of a CUDA one
	$(PIP) install torch==2.13.0
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) install -e '.[dev]'
	touch $@

setup: $(VENV)/.base

setup-dev: $(VENV)/.dev

run: setup
	$(PY) -m ingest data/
	$(PY) -m rag stats
	$(PY) -m rag search "How do I read data from a file into a data frame?" -k 3

test: setup-dev
	$(PY) -m pytest

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# retrieval quality on SciFact (the full benchmark, minutes on a CPU): bench/eval_report.{md,png}
eval-report: setup-dev
	$(PY) bench/eval_report.py --beir ../shared/data/beir/scifact

clean:
	rm -rf $(VENV) .rag .pytest_cache .mypy_cache .ruff_cache
