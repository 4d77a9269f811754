"""BM25 over chunk texts and, apart, over the words naming each document: built with the index.

Two fields, not one: a document's name and metadata are a few words against a chunk's hundreds, so
in one field they would barely count; apart, each is scored and weighed on its own
(``service/answering/search_index.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from indexer.terms import lexical_terms

TEXT_DIR = "text"
NAMES_DIR = "names"
# A text with no terms still needs a row; no question produces this term.
_NO_TERMS = " "

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """Scores a question against every chunk text and every document's naming words."""

    def __init__(self, texts: bm25s.BM25, names: bm25s.BM25) -> None:
        self._texts = texts
        self._names = names

    @classmethod
    def build(cls, chunk_texts: list[str], document_names: list[str]) -> LexicalIndex:
        """BM25 over ``chunk_texts`` (by chunk row) and over ``document_names`` (by document, in the index's order)."""
        return cls(_bm25([lexical_terms(t) for t in chunk_texts]), _bm25([lexical_terms(n) for n in document_names]))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Its score arrays mapped read-only, shared in the page cache like the vectors."""
        return cls(*(bm25s.BM25.load(folder / part, mmap=True, show_progress=False) for part in (TEXT_DIR, NAMES_DIR)))

    def save(self, folder: Path) -> None:
        """Write both BM25 indexes into ``folder``, for ``load``."""
        for part, index in ((TEXT_DIR, self._texts), (NAMES_DIR, self._names)):
            index.save(folder / part, show_progress=False)

    @property
    def sizes(self) -> tuple[int, int]:
        """(chunks, documents) indexed."""
        return int(self._texts.scores["num_docs"]), int(self._names.scores["num_docs"])

    def text_scores(self, query: str) -> np.ndarray:
        """BM25 of ``query`` for each chunk, by row."""
        return _scores(self._texts, lexical_terms(query))

    def name_scores(self, query: str) -> np.ndarray:
        """BM25 of ``query`` for each document's naming words, by document (in id order); words of the
        question written together count too ("Best Buy" meets "BESTBUY_2023_10K")."""
        return _scores(self._names, lexical_terms(query, joined=True))


def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
    index = bm25s.BM25()
    index.index([terms or [_NO_TERMS] for terms in corpus] or [[_NO_TERMS]], show_progress=False)
    return index


def _scores(index: bm25s.BM25, terms: list[str]) -> np.ndarray:
    if not terms:
        return np.zeros(int(index.scores["num_docs"]), dtype=np.float32)
    return np.asarray(index.get_scores(terms), dtype=np.float32)
