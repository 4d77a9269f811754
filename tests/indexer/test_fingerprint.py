"""An unchanged corpus is up to date without loading the model; other model files are still told apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from safetensors.numpy import load_file, save_file

from indexer.build import Indexer
from indexer.embedder import Embedder, resolve_model
from indexer.fingerprint import model_fingerprint, same_files
from tests.support import CORPUS


@pytest.fixture(scope="module")
def bundled() -> Path:
    return Path(resolve_model(None)[1])


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    built = tmp_path_factory.mktemp("fingerprint") / "index"
    Indexer(embedder, progress=False).run(CORPUS, built)
    return built


def test_an_unchanged_corpus_is_up_to_date_without_loading_the_model(index_dir: Path) -> None:
    fresh = Embedder()  # never warmed up here
    report = Indexer(fresh, progress=False).run(CORPUS, index_dir)
    assert report.unchanged and not report.embedded_documents
    with pytest.raises(RuntimeError, match="warm_up"):
        fresh.info  # noqa: B018 - the model was not loaded


def test_the_same_weights_in_another_folder_are_the_same_model(
    index_dir: Path, bundled: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copied-model"
    shutil.copytree(bundled, copy)
    assert same_files(model_fingerprint(str(bundled)), model_fingerprint(str(copy)))
    elsewhere = Embedder(str(copy))
    report = Indexer(elsewhere, progress=False).run(CORPUS, index_dir)
    assert report.unchanged


def test_other_weights_are_recognised_and_the_corpus_embedded_again(
    index_dir: Path, bundled: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-model"
    shutil.copytree(bundled, other)
    weights = other / "model.safetensors"
    tensors = load_file(weights)
    name = next(n for n in tensors if "word_embeddings" in n)
    tensors[name] = tensors[name] * 1.5
    save_file(tensors, weights)
    assert not same_files(model_fingerprint(str(bundled)), model_fingerprint(str(other)))
    own = tmp_path / "index"
    shutil.copytree(index_dir, own)
    report = Indexer(Embedder(str(other)), progress=False).run(CORPUS, own)
    assert not report.unchanged and report.embedded_documents == ["meta-scale-ai-acquisition.txt"]


def test_a_file_whose_size_and_time_are_unchanged_is_not_hashed_again(bundled: Path) -> None:
    taken = model_fingerprint(str(bundled))
    assert taken is not None
    pretended = {**taken, "sha256": "kept"}
    assert model_fingerprint(str(bundled), pretended) is pretended
    assert model_fingerprint("sentence-transformers/some-hub-id") is None
