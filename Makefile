# Quick start: `make serve` (set up, index corpus/, serve on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INDEX_DIR ?= .citeqa/index
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install index serve test clean

install: $(INSTALLED)

# torch first and pinned: 2.13.0 is the CPU build; a looser requirement pulls a CUDA build of several GB.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Incremental: on an unchanged corpus this re-embeds nothing.
index: $(INSTALLED)
	$(BIN)/citeqa index corpus --index-dir $(INDEX_DIR)

serve: index
	$(BIN)/citeqa serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

test: $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .citeqa .pytest_cache
