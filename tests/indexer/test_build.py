from __future__ import annotations

import copy
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from indexer import build as build_module
from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.index_files import IndexUnavailable, read_index
from indexer.location import IndexLocation, IndexLocked, NotAnIndexFolder
from service.answering.search_index import SearchIndex
from tests.support import CORPUS, ROOT, SEED_DOC

# Builds indexes with the model, and `citeqa index` in processes of its own.
pytestmark = pytest.mark.slow


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(CORPUS / SEED_DOC, folder / SEED_DOC)
    (folder / "chips.md").write_text(
        "# Chip Outlook\n\nMemory prices rose 8% in the third quarter [1]. "
        "Demand from data centres stayed strong [2].\n",
        encoding="utf-8",
    )
    return folder


def doc_ids(index_dir: Path) -> list[str]:
    return [d.doc_id for d in read_index(index_dir).documents]


def test_index_holds_chunks_with_their_markers_and_a_manifest(seed_index: Path) -> None:
    data = read_index(seed_index)
    manifest = json.loads((seed_index / "manifest.json").read_text())
    assert manifest["model"]["name"] == "all-MiniLM-L6-v2" and manifest["model"]["dimension"] == 384
    assert manifest["documents"][SEED_DOC]["content_hash"]
    assert manifest["counts"] == {"documents": 1, "chunks": len(data.chunks), "sentences": len(data.sentences)}
    assert data.store is not None and data.store.size == len(data.chunks)
    assert all(c.chunk_id == f"{SEED_DOC}#{i}" for i, c in enumerate(data.chunks))
    event = next(c for c in data.chunks if "$14.8 billion" in c.text)
    assert "[1][6]" in event.text and {"[1]", "[6]"} <= set(event.markers)


def test_reindexing_embeds_only_what_changed(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    indexer = Indexer(embedder, progress=False)
    first = indexer.run(corpus, index_dir)
    assert sorted(first.embedded_documents) == ["chips.md", SEED_DOC]
    build = index_dir.resolve()

    again = indexer.run(corpus, index_dir)
    assert again.unchanged and again.embedded_documents == []
    assert index_dir.resolve() == build

    (corpus / "chips.md").write_text("# Chip Outlook\n\nMemory prices fell 3% [1].\n", encoding="utf-8")
    (corpus / "banks.txt").write_text("Bank lending slowed in May [4].\n", encoding="utf-8")
    changed = indexer.run(corpus, index_dir)
    assert sorted(changed.embedded_documents) == ["banks.txt", "chips.md"]
    assert changed.reused_documents == [SEED_DOC]

    (corpus / "chips.md").unlink()
    removed = indexer.run(corpus, index_dir)
    assert removed.removed_documents == ["chips.md"] and removed.embedded_documents == []
    assert doc_ids(index_dir) == ["banks.txt", SEED_DOC]
    index = SearchIndex(read_index(index_dir))
    assert all(hit.chunk.doc_id != "chips.md" for hit in index.search(embedder.embed_query("memory prices"), 10))
    # Reused vectors still line up with their sentences after rows shifted.
    fresh = Indexer(embedder, progress=False).run(corpus, tmp_path / "fresh")
    assert fresh.chunks == removed.chunks
    # (Batches padded differently move the last digits only.)
    assert np.allclose(
        read_index(index_dir).sentence_vectors, read_index(tmp_path / "fresh").sentence_vectors, atol=1e-5
    )


def test_a_failed_write_leaves_the_previous_index(
    corpus: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    before = sorted(doc_ids(index_dir))
    (corpus / "banks.txt").write_text("Bank lending slowed in May [4].\n", encoding="utf-8")

    def crash_half_way(directory: Path, data: object) -> None:
        (directory / "chunks.faiss").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(build_module, "write_index", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        Indexer(embedder, progress=False).run(corpus, index_dir)
    assert sorted(doc_ids(index_dir)) == before
    monkeypatch.undo()

    Indexer(embedder, progress=False).run(corpus, index_dir)
    assert "banks.txt" in doc_ids(index_dir)
    assert [b.name for b in IndexLocation(index_dir).builds.iterdir()] == [index_dir.resolve().name]
    # The layout the README describes: the link, its builds and the lock, side by side.
    assert {".index.builds", ".index.lock", "index"} <= {entry.name for entry in tmp_path.iterdir()}
    assert index_dir.is_symlink() and index_dir.resolve().parent == (tmp_path / ".index.builds").resolve()


def test_a_build_killed_half_way_leaves_the_previous_index_usable(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    command = [sys.executable, "-m", "service.cli", "index", str(corpus), "--index-dir", str(index_dir)]
    subprocess.run(command + ["--quiet"], cwd=ROOT, check=True, capture_output=True, timeout=300)
    before = index_dir.resolve()
    sentences = " ".join(f"Segment {i} revenue grew {i}% on strong demand [{i % 9 + 1}]." for i in range(150))
    for n in range(10):
        (corpus / f"bulk-{n}.txt").write_text(f"Bulk report {n}. {sentences}\n", encoding="utf-8")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    # Kill it while it embeds, once the progress bar has moved.
    seen = ""
    while "Embedding" not in seen and time.monotonic() < deadline:
        seen += process.stderr.read(64)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert "Embedding" in seen
    assert index_dir.resolve() == before
    assert doc_ids(index_dir) == ["chips.md", SEED_DOC]
    rerun = subprocess.run(command + ["--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert len(doc_ids(index_dir)) == 12


def test_two_builds_of_one_index_cannot_run_at_once(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    with IndexLocation(index_dir).lock():
        with pytest.raises(IndexLocked, match="another `citeqa index`"):
            Indexer(embedder, progress=False).run(corpus, index_dir)


def test_a_file_or_a_folder_of_other_files_is_never_replaced_by_an_index(
    corpus: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me", encoding="utf-8")
    single = tmp_path / "single.txt"
    single.write_text("keep me too", encoding="utf-8")
    mixed = tmp_path / "mixed"
    Indexer(embedder, progress=False).run(corpus, tmp_path / "built")
    shutil.copytree((tmp_path / "built").resolve(), mixed)
    (mixed / "results.csv").write_text("keep me as well", encoding="utf-8")  # an index, and a file beside it
    partial = tmp_path / "partial"  # names an index uses, but no manifest: not an index either
    (partial / "lexical").mkdir(parents=True)
    (partial / "lexical" / "notes.txt").write_text("mine", encoding="utf-8")
    (partial / "metadata.sqlite").write_bytes(b"")
    # Refused before the model is loaded: a typo costs no wait.
    monkeypatch.setattr(Indexer, "warm_up", lambda self: pytest.fail("the model was loaded before the refusal"))
    refused = [
        (corpus, "chips.md"),
        (notes, "todo.txt"),
        (single, "is a file"),
        (mixed, "results.csv"),
        (partial, "lexical"),
    ]
    for index_dir, refusal in refused:
        with pytest.raises(NotAnIndexFolder, match=refusal):
            Indexer(embedder, progress=False).run(corpus, index_dir)
    assert sorted(p.name for p in corpus.iterdir()) == ["chips.md", SEED_DOC]
    assert (notes / "todo.txt").read_text(encoding="utf-8") == "keep me"
    assert single.read_text(encoding="utf-8") == "keep me too"
    assert (mixed / "results.csv").read_text(encoding="utf-8") == "keep me as well"
    assert (partial / "lexical" / "notes.txt").read_text(encoding="utf-8") == "mine"
    # On the command line: one line saying why, exit status 2.
    command = [sys.executable, "-m", "service.cli", "index", str(corpus), "--index-dir", str(corpus)]
    result = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("citeqa: the index folder")
    assert len(result.stderr.splitlines()) == 1
    assert sorted(p.name for p in corpus.iterdir()) == ["chips.md", SEED_DOC]


def test_an_empty_folder_or_a_copied_index_can_be_built_into(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    Indexer(embedder, progress=False).run(corpus, empty)
    assert doc_ids(empty) == ["chips.md", SEED_DOC]
    # An index copied in as a plain folder is taken over, and only what changed is embedded.
    copied = tmp_path / "copied"
    shutil.copytree(empty.resolve(), copied)
    (corpus / "chips.md").unlink()
    report = Indexer(embedder, progress=False).run(corpus, copied)
    assert (
        doc_ids(copied) == [SEED_DOC] and report.embedded_documents == [] and report.removed_documents == ["chips.md"]
    )


def test_an_index_built_with_another_model_is_refused(seed_index: Path, embedder: Embedder, tmp_path: Path) -> None:
    other = copy.deepcopy(embedder.model)
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.mul_(0.9).add_(0.01)
    other.save(str(tmp_path / "other-model"))
    other_embedder = Embedder(str(tmp_path / "other-model"))
    other_embedder.warm_up()
    with pytest.raises(IndexUnavailable, match="built with model 'all-MiniLM-L6-v2'.*rebuild the index"):
        SearchIndex.open(seed_index, other_embedder)
    # The same weights stored elsewhere are the same model.
    embedder.model.save(str(tmp_path / "copy-model"))
    same = Embedder(str(tmp_path / "copy-model"))
    same.warm_up()
    assert SearchIndex.open(seed_index, same).size > 0


def test_the_lexical_index_is_written_beside_faiss_and_follows_incremental_builds(
    corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    assert (index_dir / "lexical" / "text").is_dir() and (index_dir / "lexical" / "names").is_dir()
    data = read_index(index_dir)
    assert data.lexical is not None and data.lexical.sizes == (len(data.chunks), len(data.documents))

    def best_by_words(question: str) -> str | None:
        index = SearchIndex(read_index(index_dir))
        assert index.lexical is not None
        scores = index.lexical.text_scores(question)
        return index.chunks[int(scores.argmax())].doc_id if scores.max() > 0 else None

    assert best_by_words("memory prices quarter") == "chips.md"
    (corpus / "chips.md").unlink()
    (corpus / "zinc.txt").write_text("Zinc smelters cut output in Yunnan [3].\n", encoding="utf-8")
    report = Indexer(embedder, progress=False).run(corpus, index_dir)
    assert report.embedded_documents == ["zinc.txt"] and report.reused_documents == [SEED_DOC]
    data = read_index(index_dir)
    assert data.lexical is not None and data.lexical.sizes == (len(data.chunks), len(data.documents))
    assert best_by_words("zinc smelters Yunnan") == "zinc.txt"
    assert best_by_words("memory prices quarter") != "chips.md"


def test_a_changed_sidecar_re_embeds_only_the_documents_it_changes(
    corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    (corpus / "metadata.jsonl").write_text(
        json.dumps({"doc_id": "chips.md", "company": "Hynix", "period": "2024Q3", "title": "Hynix memory outlook"})
        + "\n",
        encoding="utf-8",
    )
    report = Indexer(embedder, progress=False).run(corpus, index_dir)
    assert report.embedded_documents == ["chips.md"] and report.reused_documents == [SEED_DOC]
    chips = next(d for d in read_index(index_dir).documents if d.doc_id == "chips.md")
    assert (chips.company, chips.period, chips.title) == ("Hynix", "2024Q3", "Hynix memory outlook")
    (corpus / "metadata.jsonl").unlink()
    report = Indexer(embedder, progress=False).run(corpus, index_dir)
    assert report.embedded_documents == ["chips.md"]
    chips = next(d for d in read_index(index_dir).documents if d.doc_id == "chips.md")
    assert (chips.company, chips.period, chips.title) == ("", "", "Chip Outlook")


def test_a_missing_lexical_index_is_reported_as_damage(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    shutil.rmtree(index_dir.resolve() / "lexical" / "names")
    with pytest.raises(IndexUnavailable, match="damaged"):
        read_index(index_dir)


def test_every_stored_vector_is_its_own_texts(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    # Texts are embedded longest first across the corpus; each vector must still land on its own row.
    index_dir = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    data = read_index(index_dir)
    records = {document.doc_id: document for document in data.documents}
    chunk_texts = [build_module.passage_text(records[chunk.doc_id], chunk.text) for chunk in data.chunks]
    assert np.allclose(data.chunk_vectors, embedder.embed_documents(chunk_texts), atol=5e-3)
    embedded = [sentence for sentence in data.sentences if sentence.kind != "heading"]
    expected = embedder.embed_documents([sentence.text for sentence in embedded])
    assert np.allclose(data.sentence_vectors[[sentence.row for sentence in embedded]], expected, atol=5e-3)


def test_a_document_now_skipped_is_counted_as_removed(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    limit = (corpus / SEED_DOC).stat().st_size
    (corpus / "chips.md").write_text("Memory prices rose 8% in the third quarter [1].\n" * 400, encoding="utf-8")
    size = (corpus / "chips.md").stat().st_size
    report = Indexer(embedder, progress=False, max_file_bytes=limit).run(corpus, index_dir)
    assert report.removed_documents == ["chips.md"] and doc_ids(index_dir) == [SEED_DOC]
    assert (
        report.skipped["chips.md"]
        == f"too large ({size / 1024:.1f} KiB, the limit is {limit / 1024:.1f} KiB: CITEQA_MAX_FILE_BYTES)"
    )


def test_chunks_longer_than_the_model_reads_are_refused(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    # The model reads 256 tokens, two of them the tokenizer's own ([CLS] and [SEP]).
    assert embedder.text_tokens == embedder.max_tokens - 2
    with pytest.raises(ValueError, match=f"longer than the model reads \\({embedder.text_tokens}\\)"):
        Indexer(embedder, chunk_size=embedder.text_tokens + 1, progress=False).run(corpus, tmp_path / "index")
    assert not (tmp_path / "index").exists()


def test_a_file_given_as_the_corpus_is_refused_as_such(corpus: Path, tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="chips.md is a file; give the corpus folder"):
        Indexer(embedder, progress=False).run(corpus / "chips.md", tmp_path / "index")
