"""Question answering over a loaded index: the one path shared by the HTTP API, the CLI and the eval."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from indexer.embedder import Embedder
from indexer.index_files import IndexUnavailable
from service.answerer import Answer, Answerer
from service.config import Settings
from service.followup import resolve
from service.search_index import Hit, SearchIndex

State = Literal["loading", "ready", "failed"]


@dataclass(frozen=True)
class Retrieval:
    """The passages for a question, kept apart from answering so a stream can send them first."""

    question: str  # as read: a follow-up carries the subject of the question before it
    vector: np.ndarray
    hits: list[Hit]


class NotReady(Exception):
    """The model or index is not loaded (yet, or at all); the message says which."""


class QuestionAnswering:
    """Holds the model and index; ``warm_up`` loads them once, the other methods are cheap and thread-safe."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, answerer: Answerer | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model)
        self.answerer = answerer or Answerer()
        self._index: SearchIndex | None = None
        self.state: State = "loading"
        self.error: str | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load model and index; on failure keep the reason for ``/readyz`` and re-raise."""
        with self._lock:
            if self._index is not None:
                return
            try:
                self.embedder.warm_up()
                self._index = SearchIndex.open(self.settings.index_dir, self.embedder)
            except (IndexUnavailable, ValueError) as error:
                self.state, self.error = "failed", str(error)
                raise
            self.state, self.error = "ready", None

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            raise NotReady(self.error or "the model and index are still loading")
        return self._index

    def search(self, query: str, k: int) -> list[Hit]:
        index = self.index
        return index.search(self.embedder.embed_query(query), k)

    def ask(self, question: str, top_k: int | None = None, history: Sequence[str] = ()) -> Answer:
        return self.answer(self.retrieve(question, top_k, history))

    def retrieve(self, question: str, top_k: int | None = None, history: Sequence[str] = ()) -> Retrieval:
        """``history``: the conversation's earlier questions, oldest first, for reading a follow-up."""
        read = resolve(question, history)
        vector = self.embedder.embed_query(read)
        return Retrieval(read, vector, self.index.search(vector, top_k or self.settings.top_k))

    def answer(self, retrieval: Retrieval) -> Answer:
        return self.answerer.run(retrieval.question, retrieval.vector, retrieval.hits, self.index)
