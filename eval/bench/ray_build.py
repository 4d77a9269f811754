"""The build on a Ray cluster (indexer/ray_build.py) against the local build, for the scale-out part.

Two Ray nodes of one CPU each on this machine against `citeqa index` on its 2 cores: the same work on the same
cores, so the ratio of their throughputs is what running on Ray costs (actor start-up, moving texts and
vectors between processes), and whether the two builds made the same index. Then the IVF index at 1M
synthetic vectors (eval/bench/scale.py), filled by one process against in shards on the two nodes.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from eval.bench.commands import build_command, indexer_seconds, run_measured
from eval.bench.results import Figures
from eval.bench.workspace import FINANCEBENCH, WORK, ensure_index
from indexer.embedder import Embedder
from indexer.index_files import read_index
from indexer.ray_build import fill_in_shards, local_cluster
from indexer.store import FaissStore, empty_index, ivf_lists
from service.answering.search_index import SearchIndex

NODES = 2
# Room for the 1M vectors the shards are shipped as (1.5 GB) without spilling to disk.
OBJECT_STORE_BYTES = 2 * 2**30
SHARDED_VECTORS = 1_000_000
ROUNDS = 2
K = 5


def bench_ray_build() -> Figures:
    """Fresh builds of the FinanceBench pages, local and on the cluster in turn, the best of each kept; then
    the shards."""
    WORK.mkdir(parents=True, exist_ok=True)
    local_seconds: list[float] = []
    ray_seconds: list[float] = []
    with local_cluster(NODES, OBJECT_STORE_BYTES) as address:
        for _ in range(ROUNDS):
            with tempfile.TemporaryDirectory(prefix="ray-build-", dir=WORK) as folder:
                local_dir, ray_dir = Path(folder) / "local", Path(folder) / "ray"
                output, _, _ = run_measured(build_command(local_dir))
                local_seconds.append(indexer_seconds(output))
                output, _, _ = run_measured(build_command(ray_dir, "--ray", address))
                ray_seconds.append(indexer_seconds(output))
                nodes = _texts_by_node(output)
                same = _same_index(local_dir, ray_dir, FINANCEBENCH.parent / "dev.jsonl")
        seeds = read_index(ensure_index(FINANCEBENCH, "financebench-index"), with_store=False).chunk_vectors
        shards = _shards(seeds, SHARDED_VECTORS)
    chunks = int(same["chunks"])
    local, remote = min(local_seconds), min(ray_seconds)
    return {
        "corpus": "FinanceBench pages",
        "nodes": f"{NODES} × 1 CPU",
        "ray_version": _ray_version(),
        "rounds": ROUNDS,
        **same,
        "texts_by_node": nodes,
        "local_seconds": local,
        "ray_seconds": remote,
        "local_chunks_per_second": round(chunks / local, 1),
        "ray_chunks_per_second": round(chunks / remote, 1),
        "ray_over_local": round(local / remote, 2),
        "shards": shards,
    }


def _texts_by_node(output: str) -> list[int]:
    """From the command's `Embedded N texts on 2 Ray nodes (a, b).`: how many texts each node embedded."""
    match = re.search(r"Embedded \d+ texts on \d+ Ray nodes \(([\d, ]+)\)", output)
    if match is None:
        raise RuntimeError(f"the Ray build did not say where it embedded: {output}")
    return [int(count) for count in match.group(1).split(", ")]


def _same_index(local_dir: Path, ray_dir: Path, questions: Path) -> Figures:
    """Whether the two builds hold the same chunks and vectors and rank the same top 5 for the dev questions."""
    local, remote = read_index(local_dir, with_store=False), read_index(ray_dir, with_store=False)
    embedder = Embedder()
    embedder.warm_up()
    searches = [SearchIndex.open(folder, embedder) for folder in (local_dir, ray_dir)]
    texts = [json.loads(line)["question"] for line in questions.read_text(encoding="utf-8").splitlines()]
    same_top = sum(
        len(
            {
                tuple(hit.chunk.chunk_id for hit in index.search(embedder.embed_query(text), K, query=text))
                for index in searches
            }
        )
        == 1
        for text in texts
    )
    return {
        "documents": len(local.documents),
        "chunks": len(local.chunks),
        "same_chunk_ids": [c.chunk_id for c in local.chunks] == [c.chunk_id for c in remote.chunks],
        "max_vector_difference": float(np.abs(local.chunk_vectors - remote.chunk_vectors).max()),
        "questions": len(texts),
        "same_top5": same_top,
    }


def _shards(seeds: np.ndarray, count: int) -> Figures:
    """Seconds to train the IVF index once, then to fill it in this process (FAISS on both cores) and in one
    shard a node (the vectors shipped, filled, shipped back and merged); and whether both find the same."""
    from eval.bench.scale import synthetic

    source = synthetic(seeds, count)
    vectors, queries = source.draw(count), source.draw(200)
    started = time.perf_counter()
    empty = empty_index(vectors, "ivf")
    trained = time.perf_counter()
    whole = faiss.clone_index(empty)
    whole.add(vectors)
    filled = time.perf_counter()
    sharded = fill_in_shards(empty, vectors, NODES)
    merged = time.perf_counter()
    _, expected = FaissStore(whole).search(queries, 10)
    _, found = sharded.search(queries, 10)
    return {
        "vectors": count,
        "lists": ivf_lists(count),
        "train_seconds": round(trained - started, 1),
        "local_fill_seconds": round(filled - trained, 1),
        "sharded_fill_seconds": round(merged - filled, 1),
        "same_results": bool(np.array_equal(found, expected)),
    }


def _ray_version() -> str:
    import ray

    return str(ray.__version__)
