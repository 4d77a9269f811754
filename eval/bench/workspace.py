"""Where the benchmark works: the corpora it measures, and the folder it keeps its indexes and figures in
between runs."""

from __future__ import annotations

import os
from pathlib import Path

from eval.datasets import FINANCEBENCH_DIR
from indexer.build import Indexer
from indexer.embedder import Embedder

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "bench"
WORK = OUT / "work"
SEED_CORPUS = ROOT / "corpus"
FINANCEBENCH = Path(os.environ.get("CITEQA_FINANCEBENCH", FINANCEBENCH_DIR / "corpus"))
# The report kept with the code, beside this file.
BENCHMARKS = ROOT / "eval" / "bench" / "BENCHMARKS.md"


def ensure_index(corpus: Path, name: str) -> Path:
    """An index of ``corpus`` kept between runs (an unchanged corpus is not embedded again)."""
    index_dir = WORK / name
    Indexer(Embedder(), progress=False).run(corpus, index_dir)
    return index_dir
