"""An index loaded into memory for serving: vectors, records and the term statistics answers need."""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.embedder import Embedder
from indexer.index_files import ChunkRecord, IndexData, SentenceRecord, check_model, read_index
from indexer.store import EXACT_SEARCH_LIMIT, FaissStore
from indexer.terms import names_in, numbers_in

# Stems sharing this many leading letters may be variants of one word ("regul", "regulatori"),
# but not fewer: "open" and "openai" are different words.
_PREFIX = 5


# How much lower each further chunk of an already listed document ranks (cosine units), and how
# many dense candidates per result are considered: measured on FinanceBench dev (eval/README.md).
REPEAT_PENALTY = 0.05
_CANDIDATES_PER_RESULT = 4


@dataclass(frozen=True)
class Hit:
    chunk: ChunkRecord
    title: str
    score: float


class SearchIndex:
    """Read-only, shared by all requests; built once when the service starts or reloads."""

    def __init__(self, data: IndexData) -> None:
        assert data.store is not None
        self.data = data
        self.store: FaissStore = data.store
        self.chunks = data.chunks
        self.sentences = data.sentences
        self.sentence_vectors = data.sentence_vectors
        self.titles = {d.doc_id: d.title for d in data.documents}
        self._chunk_doc_ids = [c.doc_id for c in data.chunks]
        assert self._chunk_doc_ids == sorted(self._chunk_doc_ids), "chunks are stored in document id order"
        self.unit_terms = _unit_terms(data.sentences)
        document_frequency: Counter[str] = Counter()
        for terms in self.unit_terms.values():
            document_frequency.update(terms)
        self._df = document_frequency
        self._units = max(len(self.unit_terms), 1)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for term in document_frequency:
            if len(term) >= _PREFIX:
                self._by_prefix[term[:_PREFIX]].append(term)

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder) -> SearchIndex:
        data = read_index(index_dir)
        check_model(data.manifest, embedder.model_name, embedder.dimension, embedder.probe())
        return cls(data)

    @property
    def size(self) -> int:
        return len(self.chunks)

    def search(self, query_vector: np.ndarray, k: int, doc_prefix: str | None = None) -> list[Hit]:
        """The ``k`` best chunks, a document's further chunks each ranked a little lower.

        Without that, the pages of one filing crowd the top of the list and the filing that holds
        the answer falls off it: on FinanceBench dev, page hit@5 rose from 0.87 to 0.93 and MRR from
        0.73 to 0.75 (both halves of dev alike). Within one document the order does not change.
        """
        rows = self.rows_of(doc_prefix) if doc_prefix else (0, len(self.chunks))
        if rows[0] >= rows[1]:
            return []
        candidates_wanted = max(k, k * _CANDIDATES_PER_RESULT)
        if doc_prefix and rows[1] - rows[0] <= EXACT_SEARCH_LIMIT:
            # A few documents: exact search over their vectors, so the list is always full.
            scores, found = exact_search(self.data.chunk_vectors, query_vector, candidates_wanted, rows)
        else:
            scores, found = self.store.search(query_vector, candidates_wanted, rows if doc_prefix else None)
        candidates = [(float(score), int(row)) for score, row in zip(scores[0], found[0]) if row >= 0]
        chosen: list[Hit] = []
        picked: Counter[str] = Counter()
        while candidates and len(chosen) < k:
            best = max(candidates, key=lambda c: c[0] - REPEAT_PENALTY * picked[self.chunks[c[1]].doc_id])
            candidates.remove(best)
            chunk = self.chunks[best[1]]
            picked[chunk.doc_id] += 1
            chosen.append(Hit(chunk, self.titles.get(chunk.doc_id, ""), best[0]))
        return chosen

    def rows_of(self, doc_prefix: str) -> tuple[int, int]:
        """The chunk rows ``[start, end)`` of the documents whose id starts with ``doc_prefix``: documents
        are stored in id order, so they are one range."""
        return (
            bisect.bisect_left(self._chunk_doc_ids, doc_prefix),
            bisect.bisect_left(self._chunk_doc_ids, doc_prefix + "\U0010ffff"),
        )

    def missing_facts(self, text: str, chunk: ChunkRecord, first_word: bool = False) -> tuple[list[str], list[str]]:
        """(numbers, names) that ``text`` states and ``chunk`` does not: a passage about Google does not
        answer "What did Amazon do?", nor support "Meta paid $18.4 billion" when it says $14.8 billion.
        ``first_word``: whether a capitalised first word is a name (in a statement, not a question)."""
        numbers = sorted(numbers_in(text) - numbers_in(chunk.text))
        chunk_terms = {t for s in self.sentences_of(chunk) for t in s.terms}
        names = [n for n in dict.fromkeys(names_in(text, first_word)) if not self.variants(n) & chunk_terms]
        return numbers, names

    def variants(self, term: str) -> frozenset[str]:
        """Corpus terms that are forms of ``term``: equal stems, or one a prefix-variant of the other."""
        if term[:1].isdigit() or len(term) < _PREFIX:
            return frozenset({term}) if term in self._df else frozenset()
        return frozenset(t for t in self._by_prefix.get(term[:_PREFIX], ()) if _same_word(term, t))

    def idf(self, variants: frozenset[str]) -> float:
        """Rarity of a question term across claims; a term the corpus never uses is rarest of all."""
        frequency = max((self._df[t] for t in variants), default=0)
        return math.log((self._units + 1) / (frequency + 0.5))

    def sentences_of(self, chunk: ChunkRecord) -> list[SentenceRecord]:
        return self.sentences[chunk.first_sentence : chunk.end_sentence]


def exact_search(
    vectors: np.ndarray, query_vector: np.ndarray, k: int, rows: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of ``vectors[start:end]`` by inner product, shaped like FAISS's answer."""
    scores = vectors[rows[0] : rows[1]] @ query_vector
    best = np.argsort(-scores, kind="stable")[:k]
    return scores[best][None, :], (best + rows[0])[None, :]


def _same_word(a: str, b: str) -> bool:
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return a == b or common >= max(_PREFIX, min(len(a), len(b)) - 2)


def _unit_terms(sentences: list[SentenceRecord]) -> dict[int, frozenset[str]]:
    """Terms of each claim as a whole: a sentence is judged with the claim it belongs to."""
    terms: dict[int, set[str]] = defaultdict(set)
    for sentence in sentences:
        if sentence.kind != "heading":
            terms[sentence.unit].update(sentence.terms)
    return {unit: frozenset(found) for unit, found in terms.items()}
