from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from eval.bench.scale import SyntheticEmbeddings
from indexer.store import EXACT_SEARCH_LIMIT, FaissStore, choose_index_type

K = 10


# Drawing these and building indexes of 20,000 vectors takes seconds: the tests that use them are slow.
@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray]:
    """20,000 corpus vectors and 200 held-out queries from one clustered mixture, as real embeddings are."""
    rng = np.random.default_rng(3)
    seeds = rng.standard_normal((300, 384)).astype(np.float32)
    seeds /= np.linalg.norm(seeds, axis=1, keepdims=True)
    source = SyntheticEmbeddings(seeds, topics=100, rng=rng)
    return source.draw(20_000), source.draw(200)


def recall_at_k(store: FaissStore, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, K)
    _, found = store.search(queries, K)
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))


def test_auto_picks_exact_search_for_small_corpora() -> None:
    assert choose_index_type(3) == "flat"
    assert choose_index_type(EXACT_SEARCH_LIMIT) == "flat"
    assert choose_index_type(EXACT_SEARCH_LIMIT + 1) == "ivf"
    assert choose_index_type(EXACT_SEARCH_LIMIT + 1, "flat") == "flat"
    assert choose_index_type(10, "ivf") == "ivf"


@pytest.mark.slow
def test_small_corpus_gets_the_exact_index(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, queries = clustered
    store = FaissStore.build(vectors[:2_000])
    assert store.kind == "flat"
    assert recall_at_k(store, vectors[:2_000], queries) == 1.0


@pytest.mark.slow
def test_approximate_index_keeps_recall_at_10(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, queries = clustered
    store = FaissStore.build(vectors, exact_limit=5_000)
    assert store.kind == "ivf"
    assert store.size == len(vectors)
    assert recall_at_k(store, vectors, queries) >= 0.95


@pytest.mark.slow
def test_approximate_index_is_a_quarter_of_exact_and_survives_saving(
    clustered: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    vectors, queries = clustered
    store = FaissStore.build(vectors, "ivf")
    assert store.serialized_bytes() < FaissStore.build(vectors, "flat").serialized_bytes() / 3
    store.save(tmp_path / "chunks.faiss")
    loaded = FaissStore.load(tmp_path / "chunks.faiss")
    assert loaded.kind == "ivf"
    assert np.array_equal(loaded.search(queries, K)[1], store.search(queries, K)[1])


def test_search_asks_for_no_more_than_the_index_holds() -> None:
    store = FaissStore.build(np.eye(3, 384, dtype=np.float32))
    scores, ids = store.search(np.eye(1, 384, dtype=np.float32), 10)
    assert ids.shape == (1, 3)
    assert ids[0, 0] == 0 and scores[0, 0] == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("index_type", ["flat", "ivf"])
def test_a_row_range_limits_the_search(clustered: tuple[np.ndarray, np.ndarray], index_type: str) -> None:
    vectors, queries = clustered
    store = FaissStore.build(vectors, index_type)  # type: ignore[arg-type]
    _, found = store.search(queries[:20], K, rows=(2_000, 14_000))
    assert ((found >= 2_000) & (found < 14_000)).all()
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors[2_000:14_000])
    _, truth = exact.search(queries[:20], K)
    assert np.mean([len(set(f) & set(t + 2_000)) / K for f, t in zip(found, truth)]) >= 0.9
