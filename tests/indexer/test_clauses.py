"""A sentence joining two statements gets a vector for each; one statement gets none of its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.clauses import CLAUSE_SLOTS, clauses_of
from indexer.embedder import Embedder
from indexer.index_files import read_index


def test_a_sentence_is_cut_where_a_second_statement_starts() -> None:
    sentence = (
        "After the deal, Scale AI will continue independent operation, but its cooperation prospects with "
        "clients like Microsoft and Google are uncertain"
    )
    assert clauses_of(sentence) == [
        "After the deal, Scale AI will continue independent operation",
        "but its cooperation prospects with clients like Microsoft and Google are uncertain",
    ]
    # A comma alone, or a short aside, does not make a clause.
    assert clauses_of("In June 2025, Meta announced the acquisition of a 49% stake.") == []
    assert clauses_of("Revenue rose, and fast.") == []


def test_clauses_beyond_the_slots_share_the_last_one() -> None:
    sentence = "Sales rose in May, but costs rose too, while margins fell sharply, and the outlook dimmed for now"
    parts = clauses_of(sentence)
    assert len(parts) == CLAUSE_SLOTS
    assert parts[-1] == "while margins fell sharply, and the outlook dimmed for now"


def test_each_clause_vector_is_its_clause_embedded(seed_index: Path, embedder: Embedder) -> None:
    data = read_index(seed_index)
    assert data.clause_vectors is not None and data.clause_vectors.shape[1:] == (CLAUSE_SLOTS, embedder.dimension)
    for sentence in data.sentences:
        parts = clauses_of(sentence.text) if sentence.kind != "heading" else []
        stored = data.clause_vectors[sentence.row]
        assert not stored[len(parts) :].any()
        if parts:
            assert np.allclose(stored[: len(parts)], embedder.embed_documents(parts), atol=5e-3)
