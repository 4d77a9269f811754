"""The vector index at corpus sizes no bundled corpus reaches: build time, memory, latency and recall@10.

Vectors are drawn to resemble real embeddings rather than uniform noise, which no ANN index finds hard
or easy the way real data is: topic centres are mixtures of real chunk embeddings, and points scatter
around them along the directions in which the real embeddings vary, plus a little isotropic noise.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import faiss
import numpy as np

from indexer.store import FaissStore, choose_index_type

_POINTS_PER_TOPIC = 200
_TOPIC_SPREAD = 0.6
_POINT_SPREAD = 0.45
_ISOTROPIC = 0.05
_BLOCK = 100_000
K = 10


@dataclass(frozen=True)
class ScaleResult:
    """The figures of one corpus size: the chosen index's build time, size, search latency and recall@10 against exact
    search."""

    vectors: int
    index_type: str
    build_seconds: float
    index_bytes: int
    search_p50_ms: float
    search_p95_ms: float
    exact_p50_ms: float
    recall_at_10: float
    nearest_similarity: float  # mean cosine of a query to its nearest vector: how clustered the data is

    def as_dict(self) -> dict[str, object]:
        """The figures as bench.json keeps them."""
        return asdict(self)


class SyntheticEmbeddings:
    """Draws unit vectors from a clustered mixture seeded by real embeddings (rows of ``seeds``)."""

    def __init__(self, seeds: np.ndarray, topics: int, rng: np.random.Generator) -> None:
        self._rng = rng
        self._directions = (seeds - seeds.mean(axis=0)).astype(np.float32) / np.sqrt(len(seeds))
        weights = rng.uniform(0.5, 1.0, size=(topics, 1)).astype(np.float32)
        first, second = rng.integers(len(seeds), size=(2, topics))
        mixed = weights * seeds[first] + (1 - weights) * seeds[second]
        self._centres = _unit(mixed + _TOPIC_SPREAD * self._structured(topics))

    def _structured(self, count: int) -> np.ndarray:
        coefficients = self._rng.standard_normal((count, len(self._directions)), dtype=np.float32)
        return coefficients @ self._directions

    def draw(self, count: int) -> np.ndarray:
        """``count`` unit vectors, each near the centre of a topic picked at random."""
        blocks = []
        for start in range(0, count, _BLOCK):
            size = min(_BLOCK, count - start)
            topics = self._rng.integers(len(self._centres), size=size)
            noise = _POINT_SPREAD * self._structured(size)
            noise += self._rng.standard_normal(noise.shape, dtype=np.float32) * (_ISOTROPIC / np.sqrt(noise.shape[1]))
            blocks.append(_unit(self._centres[topics] + noise))
        return np.concatenate(blocks)


def synthetic(seeds: np.ndarray, count: int, seed: int = 7) -> SyntheticEmbeddings:
    """The source of ``count`` vectors: as many topics as a corpus of that size would hold."""
    return SyntheticEmbeddings(seeds, max(count // _POINTS_PER_TOPIC, 16), np.random.default_rng(seed))


def measure(
    seeds: np.ndarray, count: int, queries: int = 200, timed_queries: int = 500, seed: int = 7
) -> ScaleResult:
    """Build the automatically chosen index over ``count`` drawn vectors and score it against exact search."""
    source = synthetic(seeds, count, seed)
    vectors = source.draw(count)
    held_out = source.draw(max(queries, timed_queries))
    started = time.perf_counter()
    store = FaissStore.build(vectors)
    build_seconds = time.perf_counter() - started
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    true_scores, truth = exact.search(held_out[:queries], K)
    _, found = store.search(held_out[:queries], K)
    recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))
    search_ms = _single_query_ms(store.search, held_out[:timed_queries])
    exact_ms = _single_query_ms(lambda q, k: exact.search(q, k), held_out[: min(timed_queries, 100)])
    return ScaleResult(
        vectors=count,
        index_type=choose_index_type(count),
        build_seconds=build_seconds,
        index_bytes=store.serialized_bytes(),
        search_p50_ms=statistics.median(search_ms),
        search_p95_ms=statistics.quantiles(search_ms, n=20)[-1],
        exact_p50_ms=statistics.median(exact_ms),
        recall_at_10=recall,
        nearest_similarity=float(true_scores[:, 0].mean()),
    )


def _single_query_ms(search: object, queries: np.ndarray) -> list[float]:
    """One query a call, as the service asks: batching queries would hide the per-query cost."""
    assert callable(search)
    timings = []
    for row in range(len(queries)):
        query = queries[row : row + 1]
        started = time.perf_counter()
        search(query, K)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
