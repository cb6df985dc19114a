# skassess developer commands. Each target creates .venv on first use.
#   make demo   install, then run the assessor demo on NAS-Bench-Graph (Cora)
#   make test   install with test extras, then run ruff and the test suite
#   make docs   build the documentation site (warnings are errors)
#   make bench  run the benchmarks in quick mode
#
# torch: the CPU build is installed first so that pip does not pull a
# multi-GB CUDA build. Override for your machine, e.g.
#   make test TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu124
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin
PIP_INDEX := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)

.PHONY: demo test lint docs bench clean

$(BIN)/python:
	@echo "[1/3] creating $(VENV) and upgrading pip"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	@echo "[2/3] installing $(TORCH_SPEC) (the largest download)"
	$(BIN)/python -m pip install --progress-bar on $(PIP_INDEX) "$(TORCH_SPEC)"
	touch $@

# The demo needs the package and its dependencies only, not the extras.
$(VENV)/.package: pyproject.toml $(VENV)/.torch
	@echo "[3/3] installing skassess and its dependencies"
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	@echo "[3/3] installing skassess with its test, docs, benchmarks and dask extras"
	$(BIN)/python -m pip install --quiet -e ".[test,docs,benchmarks,dask]"
	touch $@ $(VENV)/.package

demo: $(VENV)/.package
	$(BIN)/skassess demo

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 -q -rs

docs: $(VENV)/.installed
	$(BIN)/mkdocs build --strict

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py --quick

clean:
	rm -rf $(VENV) site build dist *.egg-info
