from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from indexer.embedder import Embedder, QueryCache

QUESTIONS = [f"What did the report say about revenue in quarter {n}?" for n in range(24)]


def test_concurrent_questions_get_the_vectors_they_would_get_alone(embedder: Embedder) -> None:
    alone = Embedder(query_cache=0, batch_queries=False)
    alone.warm_up()
    expected = [alone.embed_query(q) for q in QUESTIONS]
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(Embedder.embed_query, [embedder] * len(QUESTIONS), QUESTIONS))
    # bfloat16 rounds at the third digit, and a batch's shape decides the order of its sums.
    close = 1e-5 if embedder.precision == "float32" else 5e-3
    for got, want in zip(together, expected):
        assert np.allclose(got, want, atol=close)
        assert float(got @ want) > 1 - close
        assert abs(float(np.linalg.norm(got)) - 1) < 1e-5


def test_bfloat16_vectors_agree_with_float32_and_keep_the_float32_probe(embedder: Embedder) -> None:
    exact = Embedder(query_cache=0, precision="float32")
    fast = Embedder(query_cache=0, precision="bfloat16")
    exact.warm_up()
    fast.warm_up()
    assert fast.probe() == exact.probe()
    for question in QUESTIONS[:4] + ["Which regulators may review the deal?"]:
        a, b = exact.embed_query(question), fast.embed_query(question)
        assert b.dtype == np.float32 and abs(float(np.linalg.norm(b)) - 1) < 1e-5
        assert float(a @ b) > 0.995


def test_a_repeated_question_comes_from_the_cache_read_only(embedder: Embedder) -> None:
    first = embedder.embed_query("Who will lead the new lab?")
    again = embedder.embed_query("Who will lead the new lab?")
    assert again is first
    assert not first.flags.writeable


def test_the_cache_forgets_the_least_recently_used() -> None:
    cache = QueryCache(2)
    vectors = {text: np.full(3, i, dtype=np.float32) for i, text in enumerate("abc")}
    cache.put("a", vectors["a"])
    cache.put("b", vectors["b"])
    assert cache.get("a") is vectors["a"]
    cache.put("c", vectors["c"])
    assert cache.get("b") is None
    assert cache.get("a") is vectors["a"] and cache.get("c") is vectors["c"]
    none = QueryCache(0)
    none.put("a", vectors["a"])
    assert none.get("a") is None


def test_a_failing_batch_fails_every_waiting_question(embedder: Embedder) -> None:
    broken = Embedder(query_cache=0)
    broken._embed_queries = _fail  # type: ignore[method-assign]
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(_outcome, [broken] * 8, QUESTIONS[:8]))
    assert outcomes == ["RuntimeError"] * 8


def test_a_text_the_model_cannot_take_fails_only_its_own_question(embedder: Embedder) -> None:
    picky = Embedder(query_cache=0)

    def refuses_bad(texts: list[str]) -> np.ndarray:
        time.sleep(0.05)  # slow enough that the questions asked meanwhile wait together in one batch
        if any("BAD" in text for text in texts):
            raise RuntimeError("model failed")
        return embedder._embed_queries(texts)

    picky._embed_queries = refuses_bad  # type: ignore[method-assign]
    questions = QUESTIONS[:7] + ["BAD question"]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(_outcome, [picky] * 8, questions))
    assert outcomes == ["ok"] * 7 + ["RuntimeError"]


def _fail(texts: list[str]) -> np.ndarray:
    raise RuntimeError("model failed")


def _outcome(embedder: Embedder, question: str) -> str:
    try:
        embedder.embed_query(question)
    except RuntimeError as error:
        return type(error).__name__
    return "ok"
