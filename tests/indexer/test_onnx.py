"""The model on ONNX Runtime: the vectors of torch float32, indexes that serve with either runtime, an
export made once, and torch when the model cannot be exported."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from indexer.build import Indexer
from indexer.claims import split_claims
from indexer.embedder import Embedder
from indexer.normalise import normalise
from indexer.onnx_export import onnx_cache
from indexer.runtime import ONNX_BATCH
from service.answering.qa import QuestionAnswering
from service.config import Settings

# Loads the model on each runtime and exports it to ONNX.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"


def seed_sentences() -> list[str]:
    """The seed report's sentences with their markers, as the index splits them."""
    texts = [normalise(path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.txt"))]
    return [sentence.render() for text in texts for sentence in split_claims(text)]


def gold_questions() -> list[str]:
    lines = (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def runtimes() -> dict[str, Embedder]:
    embedders = {runtime: Embedder(query_cache=0, runtime=runtime) for runtime in ("onnx", "torch")}
    for embedder in embedders.values():
        embedder.warm_up()
    assert embedders["onnx"].info.runtime == "onnx" and embedders["torch"].info.runtime == "torch"
    return embedders


def test_onnx_gives_the_float32_vectors_of_torch(runtimes: dict[str, Embedder]) -> None:
    onnx, torch = runtimes["onnx"], runtimes["torch"]
    sentences, questions = seed_sentences(), gold_questions()
    assert len(sentences) > 10 and len(questions) > 20
    # ONNX Runtime takes texts alone or a few together (larger batches go to the traced torch graph).
    fours = [questions[i : i + ONNX_BATCH] for i in range(0, len(questions), ONNX_BATCH)]
    for ours, theirs in (
        (np.concatenate([onnx.embed_documents([s]) for s in sentences]), torch.embed_documents(sentences)),
        (np.stack([onnx.embed_query(q) for q in questions]), torch.embed_queries(questions)),
        (np.concatenate([onnx.embed_queries(four) for four in fours]), torch.embed_queries(questions)),
    ):
        assert ours.dtype == np.float32 and ours.shape == theirs.shape
        assert np.all(np.sum(ours * theirs, axis=1) >= 0.9999)
    assert onnx.probe() == torch.probe()


@pytest.fixture(scope="module")
def indexes(runtimes: dict[str, Embedder], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("runtimes")
    built = {runtime: folder / runtime for runtime in runtimes}
    for runtime, index_dir in built.items():
        Indexer(runtimes[runtime], progress=False).run(CORPUS, index_dir)
    return built


@pytest.mark.parametrize(("built_with", "served_with"), [("torch", "onnx"), ("onnx", "torch")])
def test_an_index_built_with_one_runtime_serves_with_the_other(
    runtimes: dict[str, Embedder], indexes: dict[str, Path], built_with: str, served_with: str
) -> None:
    question = "How much did Meta pay for its stake in Scale AI?"
    answers = []
    for index_dir, runtime in ((indexes[built_with], built_with), (indexes[built_with], served_with)):
        qa = QuestionAnswering(Settings(index_dir=index_dir, runtime=runtime), embedder=runtimes[runtime])
        qa.warm_up()  # refuses an index whose probe is another model's
        answers.append(qa.ask(question))
    assert not answers[0].abstained and answers[0].text == answers[1].text
    assert answers[0].citations == answers[1].citations
    # Indexing again with the other runtime finds nothing to embed.
    report = Indexer(runtimes[served_with], progress=False).run(CORPUS, indexes[built_with])
    assert report.unchanged and not report.embedded_documents


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield onnx_cache()


def test_the_export_is_made_once_and_kept_whole(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Embedder(query_cache=0, runtime="onnx")
    first.warm_up()
    assert first.info.runtime == "onnx"
    assert [path.name for path in empty_cache.rglob("*") if path.is_file()] == ["model.onnx"]  # no temporary left
    monkeypatch.setattr("torch.onnx.export", _refuse)  # a second export would fail
    again = Embedder(query_cache=0, runtime="onnx")
    again.warm_up()
    assert again.info.runtime == "onnx"


def test_a_model_that_cannot_be_exported_runs_on_torch_saying_why(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, runtimes: dict[str, Embedder]
) -> None:
    monkeypatch.setattr("torch.onnx.export", _refuse)
    with caplog.at_level(logging.INFO, logger="indexer.runtime"):
        embedder = Embedder(query_cache=0, runtime="onnx")
        embedder.warm_up()
    assert embedder.info.runtime == "torch"
    said = [record.getMessage() for record in caplog.records if record.name == "indexer.runtime"]
    assert said == ["the model could not be exported to ONNX (no export for this model); running it on torch"]
    questions = gold_questions()[:4]
    theirs = runtimes["torch"].embed_queries(questions)
    assert np.all(np.sum(embedder.embed_queries(questions) * theirs, axis=1) >= 0.9999)


def _refuse(*args: object, **kwargs: object) -> None:
    raise RuntimeError("no export for this model")
