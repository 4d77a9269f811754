"""The vector index at sizes no bundled corpus reaches (eval/bench/scale.py), seeded by the FinanceBench
pages' embeddings."""

from __future__ import annotations

from eval.bench.results import Figures
from eval.bench.workspace import FINANCEBENCH, ensure_index
from indexer.index_files import read_index


def bench_scale(sizes: list[int]) -> Figures:
    """``measure`` at each of ``sizes`` vectors, drawn around the FinanceBench pages' chunk embeddings."""
    from eval.bench.scale import measure

    seeds = read_index(ensure_index(FINANCEBENCH, "financebench-index"), with_store=False).chunk_vectors
    results = []
    for size in sizes:
        result = measure(seeds, size).as_dict()
        print(f"   {size:>9,} vectors: {result}", flush=True)
        results.append(result)
    return {"seed_embeddings": len(seeds), "sizes": results}
