"""An index loaded into memory for serving: vectors, records and the term statistics answers need."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
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
from indexer.terms import joined_names, lexical_terms, names_in, numbers_in
from service.answering.filters import DocumentFilter
from service.answering.fusion import Fusion

# Stems sharing this many leading letters may be variants of one word ("regul", "regulatori"),
# but not fewer: "open" and "openai" are different words.
_PREFIX = 5


# How much lower each further chunk of an already listed document ranks (cosine units), and how
# many dense (and as many lexical) candidates per result are considered: measured on FinanceBench
# dev (eval/README.md).
REPEAT_PENALTY = 0.05
_CANDIDATES_PER_RESULT = 4
# Passages whose numbers are kept once read.
CHUNK_NUMBERS_CACHE = 2048
# Names each sentence gives, read when a question relies on its document's name for one of its own.
SENTENCE_NAMES_CACHE = 8192
# How many sentences back a sentence's heading is looked for.
HEADING_REACH = 64


@dataclass(frozen=True)
class Name:
    text: str  # stemmed
    # Only itself: a name is not a prefix-variant of a longer word ("Intel" is not "intelligence").
    forms: frozenset[str]


@dataclass(frozen=True)
class Names:
    names: tuple[Name, ...]
    joined: dict[str, frozenset[str]]  # adjacent names written as one word, with their parts


@dataclass(frozen=True)
class Hit:
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
        self._naming_terms = {
            d.doc_id: frozenset(lexical_terms(describe(d.doc_id, d.company, d.period))) for d in data.documents
        }
        document_rows = {d.doc_id: i for i, d in enumerate(data.documents)}
        # The document (row in ``data.documents``) of each chunk: filters and name scores are per document.
        self._chunk_documents = np.array([document_rows[d] for d in data.chunks.column("doc_id")], dtype=np.int64)
        self._numbers_of_row = lru_cache(maxsize=CHUNK_NUMBERS_CACHE)(partial(_chunk_numbers, data.chunks))
        self._names_of_sentence = lru_cache(maxsize=SENTENCE_NAMES_CACHE)(partial(_sentence_names, data.sentences))
        self.heading_terms = lru_cache(maxsize=SENTENCE_NAMES_CACHE)(partial(_heading_terms, data.sentences))
        self._df = data.claim_terms.frequency
        self._units = max(data.claim_terms.claims, 1)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for term in self._df:
            if len(term) >= _PREFIX:
                self._by_prefix[term[:_PREFIX]].append(term)

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, fusion: Fusion | None = None) -> SearchIndex:
        data = read_index(index_dir)
        check_model(data.manifest, embedder.model_name, embedder.dimension, embedder.probe(), index_dir)
        return cls(data, fusion)

    @property
    def size(self) -> int:
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
        return sorted(numbers_in(text) - self._numbers_of_row(chunk.row) - self.naming_terms(chunk.doc_id))

    def names_of(self, text: str, first_word: bool = False) -> Names:
        """The names ``text`` gives; read once per text, then held
        against each document (``document_names``) and sentence (``missing_names``). ``first_word``: whether a
        capitalised first word is a name (in a statement, not a question)."""
        names = tuple(Name(name, frozenset({name})) for name in dict.fromkeys(names_in(text, first_word)))
        return Names(names, joined_names(text) if names else {})

    def document_names(self, names: Names, doc_id: str) -> frozenset[str]:
        """Those of ``names`` (and parts of names written together) that the words naming document
        ``doc_id`` (file name, company, period) hold: a filing's sentences say "we", and its name says
        who. Names written together meet a document named by them as one word ("Best Buy",
        BESTBUY_2023_10K)."""
        naming = self.naming_terms(doc_id)
        joined = {part for term, parts in names.joined.items() if term in naming for part in parts}
        return frozenset(joined | {name.text for name in names.names if name.forms & naming})

    def named_by_document_only(
        self, names: Names, given: frozenset[str], sentence: SentenceRecord, doc_id: str
    ) -> list[Name]:
        """Those of the ``given`` names that ``sentence`` does not name while it names another party its
        document is named by: in a report named for Meta and Scale AI, a sentence on Scale AI's clients
        does not say what Meta's clients did. Such names must be in the sentence itself."""
        terms = frozenset(sentence.terms)
        absent = [name for name in names.names if name.text in given and not name.forms & terms]
        if not absent:
            return []
        parties = self._names_of_sentence(sentence.row) & self.naming_terms(doc_id)
        return absent if parties - frozenset().union(*(name.forms for name in absent)) else []

    @staticmethod
    def unnamed(names: Names, given: frozenset[str]) -> list[Name]:
        """Those of ``names`` a document's name does not give (``given``, from ``document_names``)."""
        return [name for name in names.names if name.text not in given]

    def naming_terms(self, doc_id: str) -> frozenset[str]:
        return self._naming_terms.get(doc_id, frozenset())

    @staticmethod
    def missing_names(names: list[Name], sentence_terms: frozenset[str]) -> list[str]:
        """Those of ``names`` that a sentence of ``sentence_terms`` does not name: a passage about Google
        does not answer "What did Amazon do?", and a sentence on what Meta paid does not answer "What
        did Microsoft pay?", even beside one naming Microsoft as a client."""
        return [name.text for name in names if not name.forms & sentence_terms]

    def variants(self, term: str) -> frozenset[str]:
        """Corpus terms that are forms of ``term``: equal stems, or one a prefix-variant of the other."""
        if term[:1].isdigit() or len(term) < _PREFIX:
            return frozenset({term}) if term in self._df else frozenset()
        return frozenset(t for t in self._by_prefix.get(term[:_PREFIX], ()) if _same_word(term, t))

    def idf(self, variants: frozenset[str]) -> float:
        """Rarity of a question term across claims; a term the corpus never uses is rarest of all."""
        frequency = max((self._df.get(t, 0) for t in variants), default=0)
        return math.log((self._units + 1) / (frequency + 0.5))

    def reach(self, rows: list[int], query_vector: np.ndarray) -> np.ndarray:
        """How close each sentence of ``rows`` comes to the query: its own similarity, or one of its
        clauses' (``indexer/clauses.py``) where that is higher."""
        whole = self.sentence_vectors[rows] @ query_vector
        clauses = self.clause_vectors[rows]
        # An empty slot (a sentence of fewer clauses) is a zero vector: it must not lift a negative similarity to 0.
        parts = np.where(clauses.any(axis=2), clauses @ query_vector, -np.inf).max(axis=1)
        return np.maximum(whole, parts)

    def sentences_of(self, chunk: ChunkRecord) -> list[SentenceRecord]:
        return self.sentences[chunk.first_sentence : chunk.end_sentence]


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


def _same_word(a: str, b: str) -> bool:
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return a == b or common >= max(_PREFIX, min(len(a), len(b)) - 2)


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


def _sentence_names(sentences: Sequence[SentenceRecord], row: int) -> frozenset[str]:
    return frozenset(names_in(sentences[row].text, first_word=True))
