"""The sentence-transformers model, loaded once and run on lists of texts: the float32 unit vectors of the
library's own ``encode``, through whichever forward pass ``indexer/runtime.py`` chooses (ONNX Runtime, the
traced torch graph, or the library itself). A server runs it in a process of its own
(``indexer/model_process.py``).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from indexer.errors import ModelUnavailable
from indexer.forward import CHECK_TEXTS, PROBE_TEXT, tensors
from indexer.runtime import Runtime, forward_for, onnx_forward, traced_forward

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from indexer.forward import Forward

PROBE_DIMS = 8
# oneDNN keeps kernels and buffers for every input shape it meets: lengths padded to a multiple of 8 take few
# shapes, so memory stops growing once they have been met, and a larger step slows short questions (see
# eval/bench/BENCHMARKS.md#bfloat16-lengths-padded-to-8).
BF16_LENGTH_STEP = 8
# Least cosine between a traced or exported model's vectors and the library's for it to be used.
AGREEMENT = 0.999
Kind = Literal["query", "document"]


@dataclass(frozen=True)
class ModelInfo:
    """What loading a model found: its vectors' length, the tokens it reads, the probe that identifies its weights and
    what runs its forward pass."""

    dimension: int
    max_tokens: int
    probe: list[float]  # a few float32 coordinates of PROBE_TEXT's embedding
    traced: bool = False  # the forward pass runs as a traced graph (else the library's encode)
    runtime: Runtime = "torch"  # what runs the forward pass: ONNX Runtime, or torch


class Encoder:
    """Loads the model once (``load``) and encodes lists of texts into float32 unit vectors."""

    def __init__(
        self,
        source: str,
        precision: str,
        threads: int | None,
        device: str,
        batch_size: int,
        runtime: Runtime = "onnx",
    ) -> None:
        self.source = source
        self.precision = precision
        self.threads = threads
        self.device = device
        self.batch_size = batch_size
        self.runtime = runtime
        self._model: SentenceTransformer | None = None
        # ONNX Runtime's forward pass, for a few texts embedded together, and the traced graph's, for more.
        self._onnx: Forward | None = None
        self._traced: Forward | None = None
        self._dimension = 0

    def load(self) -> ModelInfo:
        """Load the model from disk, check the traced and exported forward passes against the library's ``encode`` and
        keep those that agree; ``ModelUnavailable`` when it cannot be loaded."""
        stay_offline()
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        self._onnx = self._traced = None  # the probe below is taken through the library, in float32
        if self.threads:
            torch.set_num_threads(self.threads)
        transformers_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(self.source, device=self.device, local_files_only=True)
        except OSError as error:
            if not Path(self.source).exists():  # a hub id: the library's message speaks of connecting
                raise ModelUnavailable(
                    f"cannot load embedding model {self.source!r}: not a folder, and not in the Hugging Face "
                    "cache (models are never downloaded at run time)"
                ) from None
            raise ModelUnavailable(f"cannot load embedding model {self.source!r}: {error}") from None
        probe = [round(float(x), 4) for x in self.encode("query", [PROBE_TEXT])[0][:PROBE_DIMS]]
        dimension = self._model.get_embedding_dimension()
        assert dimension is not None
        self._dimension = int(dimension)
        max_tokens = self._model.max_seq_length
        assert max_tokens is not None
        if self.runtime == "onnx":
            self._onnx = onnx_forward(self._model, self.device, self.precision, self.threads, self._agrees)
        if self.precision == "bfloat16":
            self._model.to(torch.bfloat16)
            for module in self._model:
                if hasattr(module, "processing_kwargs"):
                    # setattr: a Module's own __setattr__ is typed for tensors and modules only.
                    setattr(module, "processing_kwargs", {"text": {"pad_to_multiple_of": BF16_LENGTH_STEP}})  # noqa: B010
        self._traced = traced_forward(self._model, self.device, self._agrees)
        runtime: Runtime = "onnx" if self._onnx is not None else "torch"
        return ModelInfo(self._dimension, max_tokens, probe, traced=self._traced is not None, runtime=runtime)

    def _agrees(self, forward: Forward) -> bool:
        """Whether ``forward`` embeds texts of both kinds as the library does."""
        kinds: tuple[Kind, ...] = ("query", "document")
        for kind, texts in itertools.product(kinds, (CHECK_TEXTS[::-1], [PROBE_TEXT])):
            ours, theirs = self._encode_batched(forward, kind, texts), self._encode_reference(kind, texts)
            if not np.all(np.sum(ours * theirs, axis=1) >= AGREEMENT):  # NaN fails too
                return False
        return True

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model; ``RuntimeError`` before ``load``."""
        if self._model is None:
            raise RuntimeError("Embedder.warm_up() must be called before use")
        return self._model

    def encode(self, kind: Kind, texts: list[str], progress: bool = False) -> np.ndarray:
        """``texts`` as float32 unit vectors, one a row, through the forward pass ``forward_for`` picks for their
        number, else the library's ``encode``. ``kind``: questions are embedded in one batch, passages in batches of
        ``batch_size``."""
        forward = forward_for(len(texts), self._onnx, self._traced)
        if forward is None:
            return self._encode_reference(kind, texts, progress)
        return self._encode_batched(forward, kind, texts, progress)

    def _batch_size(self, kind: Kind, count: int) -> int:
        """Questions waiting together go in one batch; passages in batches of ``batch_size``."""
        return self.batch_size if kind == "document" else max(count, 1)

    def _encode_reference(self, kind: Kind, texts: list[str], progress: bool = False) -> np.ndarray:
        encode = self.model.encode_query if kind == "query" else self.model.encode_document
        vectors = encode(
            texts,
            batch_size=self._batch_size(kind, len(texts)),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return unit_float32(vectors)

    def _encode_batched(self, forward: Forward, kind: Kind, texts: list[str], progress: bool = False) -> np.ndarray:
        """What the library's ``encode`` does for a model without prompts: texts of like length batched
        together, so little of a batch is padding; the library's tokenizer and truncation."""
        from tqdm.auto import trange

        order = longest_first(texts)
        size = self._batch_size(kind, len(texts))
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for start in trange(0, len(texts), size, desc="Batches", disable=not progress):
            chosen = order[start : start + size]
            vectors[chosen] = forward(tensors(self.model.preprocess([texts[i] for i in chosen])))
        return unit_float32(vectors)


def stay_offline() -> None:
    """Weights come from disk only: a service must not reach for a model hub at run time. The hub's
    library reads this when first imported, so a command sets it before anything imports it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def longest_first(texts: list[str]) -> np.ndarray:
    """Positions of ``texts``, longest first (ties in order), as the library batches them: texts of
    like length together, so little of a batch is padding."""
    return np.argsort([-len(text) for text in texts], kind="stable")


def unit_float32(vectors: np.ndarray) -> np.ndarray:
    """float32 rows of length one: a bfloat16 model normalises with a few parts in a thousand of error."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)
