"""The index build against the model's raw encode of the same texts, each in a process of its own."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from eval.bench.commands import build_command, indexer_seconds, run_measured
from eval.bench.results import Figures
from eval.bench.workspace import WORK
from indexer.index_files import read_index


def bench_build() -> Figures:
    """Fresh builds and raw encodes of exactly the texts each build embedded, both in processes of their
    own, twice in turn; the best of each kept."""
    builds: list[tuple[float, float, int]] = []
    encodes: list[float] = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="build-", dir=WORK) as folder:
            index_dir = Path(folder) / "index"
            builds.append(timed_build(index_dir))
            output, _, _ = run_measured([sys.executable, "-m", "eval.bench.encode", str(index_dir)])
            encoded = json.loads(output)
            encodes.append(float(encoded["seconds"]))
            data = read_index(index_dir, with_store=False)
    index_seconds, wall_seconds, _ = min(builds)
    encode_seconds = min(encodes)
    texts = int(encoded["texts"])
    return {
        "corpus": "FinanceBench pages",
        "documents": len(data.documents),
        "chunks": len(data.chunks),
        "texts_embedded": texts,
        "index_seconds": index_seconds,
        "command_seconds": round(wall_seconds, 1),
        "chunks_per_second": round(len(data.chunks) / index_seconds, 1),
        "texts_per_second": round(texts / index_seconds, 1),
        "encode_seconds": round(encode_seconds, 1),
        "encode_texts_per_second": round(texts / encode_seconds, 1),
        "build_over_encode": round(encode_seconds / index_seconds, 2),
        "peak_rss_mb": round(max(build[2] for build in builds) / 2**20),
    }


def timed_build(index_dir: Path) -> tuple[float, float, int]:
    """(indexer's own seconds, command's wall seconds, peak RSS bytes) of `citeqa index` into an empty folder."""
    output, wall_seconds, peak_rss = run_measured(build_command(index_dir))
    return indexer_seconds(output), wall_seconds, peak_rss
