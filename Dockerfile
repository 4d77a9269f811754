# CPU image that carries the model, indexes corpus/ at build time and serves it.
# The steps are the Makefile's: `make install`, `make index`, then its `serve` command on 0.0.0.0
# (tests/test_dockerfile.py holds them equal; `make lint` runs hadolint on this file).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    CITEQA_INDEX_DIR=/app/.citeqa/index

# make runs the Makefile's own steps below. Its version is the base image's Debian release's: pinning
# one would break the build at that release's next point update.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Dependencies first, so editing code or corpus does not reinstall them. The CPU build of torch
# comes from PyTorch's CPU wheel index; PyPI's default build for Linux carries CUDA (several GB).
COPY pyproject.toml README.md Makefile ./
COPY indexer/ indexer/
COPY service/ service/
COPY eval/ eval/
RUN PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make install PYTHON=python3

COPY corpus/ corpus/
RUN make index

EXPOSE 8000
CMD [".venv/bin/citeqa", "serve", "--index-dir", ".citeqa/index", "--host", "0.0.0.0", "--port", "8000", "--pid-file", ".citeqa/serve.pid"]
