"""The steps a question goes through, each behind a small typed contract.

``QuestionAnswering`` (``qa.py``) runs them in order: retrieve passages, read them into an answer (the
reader ranks sentences for being the answer and, when none is verified, for being the closest), and, with
a language model configured, check the model's draft sentence by sentence. A step is swapped by handing
``QuestionAnswering`` (a retriever, a reader), ``Answerer`` (a sentence ranker) or ``GeneratedAnswerer`` (a
draft check) another object with the same method: a reranker wraps a ``Retriever``; a reader model a user
brings is a ``Reader``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from indexer.embedder import Embedder
    from service.answering.answerer import Answer, Evidence
    from service.answering.closest import Closest
    from service.answering.draft_check import Dropped, Supported
    from service.answering.filters import DocumentFilter
    from service.answering.search_index import Hit, SearchIndex
    from service.answering.supports import Support


class Retriever(Protocol):
    """The passages for a question, best first."""

    def retrieve(
        self, index: SearchIndex, query_vector: np.ndarray, k: int, where: DocumentFilter | None, query: str
    ) -> list[Hit]: ...


class Reader(Protocol):
    """An answer from retrieved passages: sentences verified to answer, each with its claim's markers, or
    the closest sentences said to be the closest."""

    def run(self, question: str, question_vector: np.ndarray, hits: list[Hit], index: SearchIndex) -> Answer: ...


class SentenceRanker(Protocol):
    """The sentences that come closest to a question none is verified to answer, best first."""

    def rank(
        self, weighed: Sequence[Evidence], index: SearchIndex, question_vector: np.ndarray, limit: int
    ) -> list[Closest]: ...


class DraftCheck(Protocol):
    """A model's draft sentences split into those the passages support, with their supports, and those
    dropped, with the reason."""

    def check(
        self, sentences: list[str], candidates: list[Support], index: SearchIndex, embedder: Embedder
    ) -> tuple[list[Supported], list[Dropped]]: ...
