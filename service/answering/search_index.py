"""An index loaded into memory for serving: retrieval over its vectors and words, and its records.

What answers need beyond retrieval is kept beside it: the names documents and sentences give
(``names``) and the corpus's words with their rarity (``vocabulary``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from indexer.embedder import Embedder
from indexer.index_files import ChunkRecord, IndexData, SentenceRecord, check_model, read_index
from indexer.lexical import LexicalIndex
from indexer.metadata import describe
from indexer.records import StoredRecords
from indexer.store import EXACT_SEARCH_LIMIT, FaissStore
from indexer.terms import lexical_terms, numbers_in
from service.answering.filters import DocumentFilter
from service.answering.fusion import Fusion
from service.answering.names import Naming
from service.answering.vocabulary import Vocabulary

# How much lower each further chunk of an already listed document ranks (cosine units), and how
# many dense (and as many lexical) candidates per result are considered: measured on FinanceBench
# dev (eval/README.md).
REPEAT_PENALTY = 0.05
_CANDIDATES_PER_RESULT = 4
# Passages whose numbers are kept once read.
CHUNK_NUMBERS_CACHE = 2048
# Headings looked up, one per sentence an answer weighs.
HEADINGS_CACHE = 8192
# How many sentences back a sentence's heading is looked for.
HEADING_REACH = 64


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its document's title and its score."""

    chunk: ChunkRecord
    title: str
    score: float  # cosine similarity plus the weighted lexical scores


class SearchIndex:
    """Read-only, shared by all requests; built once when the service starts or reloads."""

    def __init__(self, data: IndexData, fusion: Fusion | None = None) -> None:
        # Read from disk (``open``): the records are read on demand, the term counts were stored.
        assert data.store is not None and data.claim_terms is not None and isinstance(data.chunks, StoredRecords)
        self.data = data
        self.store: FaissStore = data.store
        self.lexical: LexicalIndex | None = data.lexical
        self.fusion = fusion or Fusion()
        self.chunks = data.chunks
        self.sentences = data.sentences
        self.sentence_vectors = data.sentence_vectors
        assert data.clause_vectors is not None
        self.clause_vectors = data.clause_vectors
        self.claim_terms = data.claim_terms
        self.titles = {d.doc_id: d.title for d in data.documents}
        # The words naming each document (file name, company, period), as its lexical search reads them.
        self.naming = Naming(
            {d.doc_id: frozenset(lexical_terms(describe(d.doc_id, d.company, d.period))) for d in data.documents},
            data.sentences,
        )
        self.vocabulary = Vocabulary(data.claim_terms.frequency, data.claim_terms.claims)
        document_rows = {d.doc_id: i for i, d in enumerate(data.documents)}
        # The document (row in ``data.documents``) of each chunk: filters and name scores are per document.
        self._chunk_documents = np.array([document_rows[d] for d in data.chunks.column("doc_id")], dtype=np.int64)
        self._numbers_of_row = lru_cache(maxsize=CHUNK_NUMBERS_CACHE)(partial(_chunk_numbers, data.chunks))
        self.heading_terms = lru_cache(maxsize=HEADINGS_CACHE)(partial(_heading_terms, data.sentences))

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, fusion: Fusion | None = None) -> SearchIndex:
        """The index in ``index_dir``; ``IndexIncompatible`` when another model than ``embedder`` made its vectors."""
        data = read_index(index_dir)
        check_model(data.manifest, embedder.model_name, embedder.dimension, embedder.probe(), index_dir)
        return cls(data, fusion)

    @property
    def size(self) -> int:
        """The number of chunks (passages) in the index."""
        return len(self.chunks)

    def search(
        self, query_vector: np.ndarray, k: int, where: DocumentFilter | None = None, query: str = ""
    ) -> list[Hit]:
        """The ``k`` best chunks of the documents ``where`` admits, a document's further chunks each
        ranked a little lower.

        A chunk's score is its cosine similarity plus, when ``query`` is given, its BM25 scores (chunk
        text; the words naming its document) weighted by ``fusion``. The candidates are the best by
        each measure; every one is then scored by both. Ranking further chunks of a listed document
        lower keeps the pages of one filing from crowding the one holding the answer off the list.
        """
        rows = self.rows_for(where) if where else None
        if rows is not None and not len(rows):
            return []
        wanted = max(k, k * _CANDIDATES_PER_RESULT)
        candidates = self._dense_candidates(query_vector, wanted, rows)
        lexical = self._lexical_scores(query, rows) if query and self.fusion.lexical else None
        if lexical is not None:
            candidates = np.union1d(candidates, _best_rows(lexical, wanted, rows))
        scores = self.data.chunk_vectors[candidates] @ query_vector
        if lexical is not None:
            scores = scores + lexical[candidates]
        pool = [(float(score), int(row)) for score, row in zip(scores, candidates)]
        chosen: list[Hit] = []
        picked: Counter[int] = Counter()  # chunks chosen of each document
        while pool and len(chosen) < k:
            best = max(pool, key=lambda c: c[0] - REPEAT_PENALTY * picked[int(self._chunk_documents[c[1]])])
            pool.remove(best)
            chunk = self.chunks[best[1]]
            picked[int(self._chunk_documents[best[1]])] += 1
            chosen.append(Hit(chunk, self.titles.get(chunk.doc_id, ""), best[0]))
        return chosen

    def rows_for(self, where: DocumentFilter) -> np.ndarray:
        """The chunk rows, ascending, of the documents ``where`` admits."""
        admitted = np.array([where.matches(d) for d in self.data.documents], dtype=bool)
        return np.flatnonzero(admitted[self._chunk_documents]) if len(admitted) else np.zeros(0, np.int64)

    def _dense_candidates(self, query_vector: np.ndarray, wanted: int, rows: np.ndarray | None) -> np.ndarray:
        if rows is not None and len(rows) <= EXACT_SEARCH_LIMIT:
            # A few documents: exact search over their vectors, so the list is always full.
            return exact_search(self.data.chunk_vectors, query_vector, wanted, rows)
        _, found = self.store.search(query_vector, wanted, rows)
        return found[0][found[0] >= 0].astype(np.int64)

    def _lexical_scores(self, query: str, rows: np.ndarray | None) -> np.ndarray | None:
        """Each chunk's weighted lexical score, or None without a lexical index (an empty corpus)."""
        if self.lexical is None:
            return None
        text = self.lexical.text_scores(query)
        names = self.lexical.name_scores(query)[self._chunk_documents]
        return self.fusion.text_weight * _scaled(text, rows) + self.fusion.name_weight * _scaled(names, rows)

    def missing_numbers(self, text: str, chunk: ChunkRecord) -> list[str]:
        """Numbers ``text`` states and neither ``chunk`` nor its document's name does: a passage saying
        $14.8 billion does not support "Meta paid $18.4 billion"; a filing named for 2023 speaks of 2023."""
        return sorted(numbers_in(text) - self._numbers_of_row(chunk.row) - self.naming.naming_terms(chunk.doc_id))

    def reach(self, rows: list[int], query_vector: np.ndarray) -> np.ndarray:
        """How close each sentence of ``rows`` comes to the query: its own similarity, or one of its
        clauses' (``indexer/clauses.py``) where that is higher."""
        whole = self.sentence_vectors[rows] @ query_vector
        clauses = self.clause_vectors[rows]
        # An empty slot (a sentence of fewer clauses) is a zero vector: it must not lift a negative similarity to 0.
        parts = np.where(clauses.any(axis=2), clauses @ query_vector, -np.inf).max(axis=1)
        return np.maximum(whole, parts)

    def sentences_of(self, chunk: ChunkRecord) -> Sequence[SentenceRecord]:
        """The sentences of ``chunk``, in order."""
        return self.sentences[chunk.first_sentence : chunk.end_sentence]


class IndexRetriever:
    """Retrieval as the index does it: dense and lexical scores fused (``SearchIndex.search``)."""

    def retrieve(
        self, index: SearchIndex, query_vector: np.ndarray, k: int, where: DocumentFilter | None, query: str
    ) -> list[Hit]:
        """The ``k`` best chunks for the query, dense and lexical scores fused (``SearchIndex.search``)."""
        return index.search(query_vector, k, where, query)


def _chunk_numbers(chunks: Sequence[ChunkRecord], row: int) -> frozenset[str]:
    """The numbers a passage states, read once and kept (``CHUNK_NUMBERS_CACHE``): every question that
    retrieves a passage asks for them (reading passages for their numbers took a tenth of the server's
    time under load)."""
    return frozenset(numbers_in(chunks[row].text))


def exact_search(vectors: np.ndarray, query_vector: np.ndarray, k: int, rows: np.ndarray) -> np.ndarray:
    """The rows of the ``k`` best of ``vectors[rows]`` by inner product, best first."""
    scores = vectors[rows] @ query_vector
    return rows[np.argsort(-scores, kind="stable")[:k]]


def _scaled(scores: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """``scores`` divided by their best among ``rows`` (all when None), so the best is 1."""
    best = float(scores.max() if rows is None else scores[rows].max())
    return scores / best if best > 0 else np.zeros_like(scores)


def _best_rows(scores: np.ndarray, count: int, rows: np.ndarray | None) -> np.ndarray:
    """Up to ``count`` rows (among ``rows``) with the highest positive ``scores``, in no order."""
    among = np.arange(len(scores)) if rows is None else rows
    positive = among[scores[among] > 0]
    if len(positive) <= count:
        return positive
    return positive[np.argpartition(-scores[positive], count)[:count]]


def _heading_terms(sentences: Sequence[SentenceRecord], row: int) -> frozenset[str]:
    """The terms of the heading a sentence stands under ("Core Viewpoints"): a question may name the section."""
    doc_id = sentences[row].doc_id
    for above in range(row - 1, max(row - HEADING_REACH, 0) - 1, -1):
        sentence = sentences[above]
        if sentence.doc_id != doc_id:
            break
        if sentence.kind == "heading":
            return frozenset(sentence.terms)
    return frozenset()
