"""Question answering over a loaded index: the one path shared by the HTTP API, the CLI and the eval."""

from __future__ import annotations

import threading
from typing import Literal

from indexer.embedder import Embedder
from indexer.index_files import IndexUnavailable
from service.answerer import Answer, Answerer
from service.config import Settings
from service.search_index import Hit, SearchIndex

State = Literal["loading", "ready", "failed"]


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

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        index = self.index
        vector = self.embedder.embed_query(question)
        hits = index.search(vector, top_k or self.settings.top_k)
        return self.answerer.run(question, vector, hits, index)
