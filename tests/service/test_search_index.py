from __future__ import annotations

from pathlib import Path

from indexer.build import Indexer
from indexer.embedder import Embedder
from service.search_index import SearchIndex


def test_one_documents_many_chunks_do_not_crowd_out_another_document(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acme-annual.txt").write_text(
        "\n\n".join(f"Acme cloud revenue grew in region {i} as customers moved workloads [{i}]." for i in range(1, 9)),
        encoding="utf-8",
    )
    (corpus / "globex-annual.txt").write_text(
        "Globex cloud sales rose as clients shifted computing to its data centres [1].", encoding="utf-8"
    )
    Indexer(embedder, chunk_size=24, chunk_overlap=0, progress=False).run(corpus, tmp_path / "index")
    index = SearchIndex.open(tmp_path / "index", embedder)
    hits = index.search(embedder.embed_query("How did cloud revenue grow as customers moved workloads?"), 4)
    assert len(hits) == 4
    assert "globex-annual.txt" in [h.chunk.doc_id for h in hits]
    # Within one document the order is the similarity order.
    acme = [h.score for h in hits if h.chunk.doc_id == "acme-annual.txt"]
    assert acme == sorted(acme, reverse=True)


def test_a_document_prefix_limits_search_to_those_documents(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    for name, text in {
        "2023/acme.txt": "Acme cloud revenue grew 10% in 2023 [1].",
        "2024/acme.txt": "Acme cloud revenue grew 20% in 2024 [2].",
        "2024/globex.txt": "Globex cloud revenue fell in 2024 [3].",
    }.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(text, encoding="utf-8")
    Indexer(embedder, progress=False).run(corpus, tmp_path / "index")
    index = SearchIndex.open(tmp_path / "index", embedder)
    query = embedder.embed_query("How did Acme's cloud revenue change?")
    assert {h.chunk.doc_id for h in index.search(query, 5)} == {"2023/acme.txt", "2024/acme.txt", "2024/globex.txt"}
    assert [h.chunk.doc_id for h in index.search(query, 5, "2023/")] == ["2023/acme.txt"]
    assert {h.chunk.doc_id for h in index.search(query, 5, "2024/")} == {"2024/acme.txt", "2024/globex.txt"}
    assert index.search(query, 5, "2025/") == []
