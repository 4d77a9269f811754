from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build import Indexer
from indexer.embedder import Embedder
from service.answering.filters import DocumentFilter
from service.answering.fusion import Fusion
from service.answering.search_index import SearchIndex

# Searches indexes built with the model.
pytestmark = pytest.mark.slow


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
    assert [h.chunk.doc_id for h in index.search(query, 5, DocumentFilter("2023/"))] == ["2023/acme.txt"]
    assert {h.chunk.doc_id for h in index.search(query, 5, DocumentFilter("2024/"))} == {
        "2024/acme.txt",
        "2024/globex.txt",
    }
    assert index.search(query, 5, DocumentFilter("2025/")) == []


# Annual reports on one topic in the same words, told apart only by company and year: the text never
# names them, as in filings where the company is "we" and the year is in the file name.
SAME_TOPIC = {
    f"{company}_{year}_annual.txt": f"Revenue grew {growth}% as demand for cloud storage rose [1]."
    for company, year, growth in (("acme", 2023, 4), ("acme", 2024, 9), ("globex", 2024, 6), ("initech", 2024, 2))
}
QUESTION = "How did demand for cloud storage change Acme's revenue in FY24?"


def same_topic_index(tmp_path: Path, embedder: Embedder) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in SAME_TOPIC.items():
        (corpus / name).write_text(text, encoding="utf-8")
    Indexer(embedder, progress=False).run(corpus, tmp_path / "index")
    return tmp_path / "index"


def test_a_question_naming_company_and_year_reaches_that_document(tmp_path: Path, embedder: Embedder) -> None:
    index_dir = same_topic_index(tmp_path, embedder)
    query = embedder.embed_query(QUESTION)

    fused = SearchIndex.open(index_dir, embedder).search(query, 4, query=QUESTION)
    assert [h.chunk.doc_id for h in fused][:2] == ["acme_2024_annual.txt", "acme_2023_annual.txt"]
    # What the lexical side adds over dense similarity alone: most to the report named by both the
    # company and the year, then to the company's other year (BM25 arithmetic, the same on every CPU).
    dense = SearchIndex.open(index_dir, embedder, Fusion(0.0, 0.0)).search(query, 4, query=QUESTION)
    cosine = {h.chunk.doc_id: h.score for h in dense}
    added = {h.chunk.doc_id: h.score - cosine[h.chunk.doc_id] for h in fused}
    assert sorted(added, key=added.__getitem__, reverse=True)[:2] == ["acme_2024_annual.txt", "acme_2023_annual.txt"]
    assert added["acme_2024_annual.txt"] - added["acme_2023_annual.txt"] > 0.05


def test_company_and_period_filters_keep_only_matching_documents(tmp_path: Path, embedder: Embedder) -> None:
    index = SearchIndex.open(same_topic_index(tmp_path, embedder), embedder)
    query = embedder.embed_query("cloud storage revenue")

    def found(where: DocumentFilter) -> set[str]:
        return {h.chunk.doc_id for h in index.search(query, 5, where, "cloud storage revenue")}

    assert found(DocumentFilter(company="ACME")) == {"acme_2023_annual.txt", "acme_2024_annual.txt"}
    assert found(DocumentFilter(period="FY2024")) == {
        "acme_2024_annual.txt",
        "globex_2024_annual.txt",
        "initech_2024_annual.txt",
    }
    assert found(DocumentFilter(company="acme", period="2024")) == {"acme_2024_annual.txt"}
    assert found(DocumentFilter(doc_prefix="globex", period="2023")) == set()
    assert found(DocumentFilter(company="Umbrella")) == set()


def test_each_question_is_held_to_the_numbers_of_its_passage_and_the_names_of_its_sentence(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acme-annual.txt").write_text(
        "Acme paid $2.5 billion for 30% of Globex in 2024. Its clients Initech and Hooli may leave [1].",
        encoding="utf-8",
    )
    Indexer(embedder, progress=False).run(corpus, tmp_path / "index")
    index = SearchIndex.open(tmp_path / "index", embedder)
    chunk = index.chunks[0]
    paid, clients = (frozenset(sentence.terms) for sentence in index.sentences_of(chunk))
    assert index.missing_numbers("Did Acme pay $2.5 billion for Globex?", chunk) == []
    assert index.missing_numbers("Did Acme pay $5.2 billion for 35% of Globex?", chunk) == ["35", "5.2"]

    def missing(question: str, sentence_terms: frozenset[str]) -> list[str]:
        naming = index.naming
        names = naming.names_of(question)
        return naming.missing_names(naming.unnamed(names, naming.document_names(names, chunk.doc_id)), sentence_terms)

    # Acme names the document, so any of its sentences may speak for it; Globex must be in the sentence.
    names = index.naming.names_of("What did Acme pay for Globex?")
    assert index.naming.document_names(names, chunk.doc_id) == {"acm"}
    assert missing("What did Acme pay for Globex?", paid) == []
    assert missing("What did Acme pay for Globex?", clients) == ["globex"]
    # A client named beside the sentence on what was paid does not make that sentence about the client.
    assert missing("What did Initech pay for Globex?", paid) == ["initech"]
    assert missing("What did Amazon pay for Globex?", clients) == ["amazon", "globex"]
