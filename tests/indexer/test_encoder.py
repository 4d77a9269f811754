"""The model in a process of its own, as the server runs it: the same vectors, a clear error when it
cannot load, and a process that died is replaced on the next question."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from indexer.embedder import Embedder
from indexer.encoder import unit_float32
from indexer.model_process import EncoderProcess

# Loads models of its own, some in processes of their own.
pytestmark = pytest.mark.slow

QUESTION = "How much did Meta pay for its stake in Scale AI?"


@pytest.fixture(scope="module")
def separate() -> Iterator[Embedder]:
    embedder = Embedder(query_cache=0, own_process=True, threads=1)
    embedder.warm_up()
    yield embedder
    embedder.close()


def child_pid(embedder: Embedder) -> int:
    assert isinstance(embedder._encoder, EncoderProcess) and embedder._encoder._process is not None
    return embedder._encoder._process.pid


def test_the_model_process_gives_the_vectors_of_the_model_in_this_process(
    separate: Embedder, embedder: Embedder
) -> None:
    assert child_pid(separate) != os.getpid()
    assert separate.probe() == embedder.probe() and separate.dimension == embedder.dimension == 384
    assert float(separate.embed_query(QUESTION) @ embedder.embed_query(QUESTION)) > 0.999
    passages = ["Meta paid $14.8 billion [1][6].", "Regulators may review the deal [4]."]
    assert np.allclose(separate.embed_documents(passages), embedder.embed_documents(passages), atol=5e-3)


def test_a_model_process_that_died_is_replaced_on_the_next_question(separate: Embedder) -> None:
    before = child_pid(separate)
    os.kill(before, signal.SIGKILL)
    os.waitpid(before, 0)
    vector = separate.embed_query(QUESTION)
    assert child_pid(separate) != before
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5


def test_a_model_that_cannot_load_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="model"):
        Embedder(str(broken), own_process=True).warm_up()


def test_closing_stops_the_model_process() -> None:
    embedder = Embedder(query_cache=0, own_process=True, threads=1)
    embedder.warm_up()
    pid = child_pid(embedder)
    embedder.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_request_caught_by_a_dying_model_gets_503_and_the_next_one_an_answer(seed_index: Path) -> None:
    from fastapi.testclient import TestClient

    from service.answering.qa import QuestionAnswering
    from service.api.app import create_app
    from service.config import Settings

    settings = Settings(index_dir=seed_index, rate_limit="off", model_threads=1)
    qa = QuestionAnswering(settings)
    qa.warm_up()
    encoder = qa.embedder._encoder
    assert isinstance(encoder, EncoderProcess)
    dying = encoder.encode

    def dies_once(*args: object, **kwargs: object) -> np.ndarray:
        encoder.encode = dying  # type: ignore[method-assign]
        os.kill(child_pid(qa.embedder), signal.SIGKILL)
        return dying(*args, **kwargs)  # type: ignore[arg-type]

    encoder.encode = dies_once  # type: ignore[method-assign]
    try:
        with TestClient(create_app(settings, qa)) as client:
            caught = client.post("/ask", json={"question": QUESTION})
            assert caught.status_code == 503 and caught.headers["Retry-After"] == "5"
            assert "model process stopped" in caught.json()["detail"]
            again = client.post("/ask", json={"question": QUESTION})
            assert again.status_code == 200 and "[1][6]" in again.json()["answer"]
    finally:
        qa.embedder.close()


PASSAGES = [
    "Meta paid $14.8 billion [1][6].",
    "Regulators may review the deal [4]. " * 40,  # past the model's 256 tokens: truncated alike
    "Scale AI's founder will lead Meta's new superintelligence lab, according to people familiar [2][7].",
]


def library_vectors(embedder: Embedder, kind: str, texts: list[str]) -> np.ndarray:
    encode = embedder.model.encode_query if kind == "query" else embedder.model.encode_document
    return unit_float32(encode(texts, convert_to_numpy=True))  # bfloat16 normalises to a few parts in 1000


@pytest.fixture(scope="module")
def traced() -> Embedder:
    embedder = Embedder(query_cache=0, runtime="torch")
    embedder.warm_up()
    return embedder


def test_the_traced_model_gives_the_librarys_vectors(traced: Embedder) -> None:
    assert traced.info.traced
    for kind, ours in (("document", traced.embed_documents(PASSAGES)), ("query", traced.embed_queries(PASSAGES))):
        theirs = library_vectors(traced, kind, PASSAGES)
        assert ours.dtype == np.float32 and ours.shape == theirs.shape == (3, 384)
        assert np.all(np.sum(ours * theirs, axis=1) > 0.9999)


def test_many_passages_of_mixed_lengths_come_back_in_their_order(embedder: Embedder) -> None:
    # More than one batch, lengths shuffled: each vector must land on its own text's row.
    texts = [f"Revenue of segment {n} was ${n}.{n % 7} million in fiscal 20{10 + n % 15}. " * (1 + n * 7 % 5)
             for n in range(embedder.batch_size + 9)]
    ours = embedder.embed_documents(texts)
    assert np.all(np.sum(ours * library_vectors(embedder, "document", texts), axis=1) > 0.9999)


def test_a_model_that_cannot_be_traced_runs_through_the_library(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import torch

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no tracing here")

    monkeypatch.setattr(torch.jit, "trace", refuse)
    untraced = Embedder(query_cache=0, runtime="torch")
    untraced.warm_up()
    assert not untraced.info.traced
    assert "could not be traced (no tracing here)" in caplog.text
    theirs = library_vectors(untraced, "document", PASSAGES)
    assert np.all(np.sum(untraced.embed_documents(PASSAGES) * theirs, axis=1) > 0.9999)


def test_a_model_whose_export_or_trace_disagrees_with_the_library_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("indexer.encoder.AGREEMENT", 1.5)  # no model agrees this well
    untraced = Embedder(query_cache=0)
    untraced.warm_up()
    assert untraced.info.runtime == "torch" and not untraced.info.traced
    assert "the ONNX model disagrees" in caplog.text and "the traced model disagrees" in caplog.text
