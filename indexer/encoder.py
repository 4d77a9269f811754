"""The sentence-transformers model itself, in this process or in one of its own.

A server keeps the model in a child process (``EncoderProcess``): between torch's operations the
model's Python code needs the interpreter lock, and a server's HTTP handling holds that lock about half
the time under load, which halved the model's throughput (measured: 438 questions/s alone, 213/s beside
a thread busy half the time). In a process of its own it runs at full speed, and only the texts and
the vectors cross the pipe.

The model's forward pass is traced into a frozen TorchScript graph at load: the Python of the model's
hundred-odd modules cost more than a short question's arithmetic (the benchmark's precision part,
bfloat16: one question 9.6 ms traced against 13.6 ms through ``SentenceTransformer.encode_query``, 16
questions 26 against 32 ms). ``torch.jit.trace`` is deprecated in favour of ``torch.compile``, which
needs 15 to 45 s of compiling at every start; the Makefile and the Docker image pin torch, and the
traced model is checked against the library's own ``encode`` at load, falling back to it when they
disagree or tracing fails.

Under the ``onnx`` runtime (the default) the same module chain (transformer, pooling, normalisation: the
model's own modules.json) is exported once with ``torch.onnx.export`` and run by ONNX Runtime, which
computes the same float32 vectors (cosine >= 0.9999 to torch's, checked at load like the trace). It
embeds a question alone in under half torch's time and a few together faster too, but large batches in
more (16 questions 1.17x, 128 passages 1.33x: eval/bench/BENCHMARKS.md), so it takes up to
``ONNX_BATCH`` texts, and the traced torch graph larger batches: a lone question, the common case, is
fast, and the index build is not slowed. The export is cached under
``$XDG_CACHE_HOME/citeqa/onnx/<hash of the weights>/``; a model that cannot be exported, or whose
exported graph disagrees with the library, runs on torch as before.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from citeqa_errors import ModelError, ModelUnavailable

if TYPE_CHECKING:
    import onnxruntime
    import torch
    from sentence_transformers import SentenceTransformer

    Features = dict[str, torch.Tensor]
    # One batch of the library's features to its sentence embeddings.
    Forward = Callable[[Features], np.ndarray]

# Embedding this text identifies a model's weights: two indexes built with different weights differ here.
PROBE_TEXT = "citeqa model probe: quarterly revenue grew 12% [1]."
PROBE_DIMS = 8
# Texts embedded together at most for ONNX Runtime to take them; more go to the traced torch graph. On
# one thread, as served, questions in batches of 1, 2, 3, 4 took 7.4, 13.4, 17, 25 ms on ONNX Runtime against
# 12.5, 16, 20, 28 on torch, and 8 took 48 against 45: with 4 clients, 98 to 108 answers/s became 126
# (`python -m eval.bench.load --clients 4`), with 16 the same within noise.
ONNX_BATCH = 4
# oneDNN keeps kernels and buffers for every input shape it meets: with lengths padded to a multiple of 8
# there are few shapes, and memory stops growing once they have been met (unpadded, it grew past 1.3 GB
# and on; padded to 16, short questions cost 15 % more model time).
BF16_LENGTH_STEP = 8
# Least cosine between a traced or exported model's vectors and the library's for it to be used.
AGREEMENT = 0.999
ONNX_OPSET = 17
Kind = Literal["query", "document"]
Runtime = Literal["onnx", "torch"]
# Texts a traced or exported model must embed as the library does before it is used, for both kinds of text: a
# batch of lengths and size unlike the two it was traced with, and one text alone, unpadded.
_CHECK_TEXTS = [PROBE_TEXT, "Net revenue by segment, fiscal 2023 against 2022 (in millions) " * 6, "margin"]
_ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
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
        self._forward: Forward | None = None
        # ONNX Runtime's forward pass, for a few texts embedded together (``ONNX_BATCH``).
        self._few: Forward | None = None
        self._dimension = 0

    def load(self) -> ModelInfo:
        stay_offline()
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        self._forward = self._few = None  # the probe below is taken through the library, in float32
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
        max_tokens = int(self._model.max_seq_length)
        if self.runtime == "onnx":
            self._few = self._onnx()
        if self.precision == "bfloat16":
            self._model.to(torch.bfloat16)
            for module in self._model:
                if hasattr(module, "processing_kwargs"):
                    module.processing_kwargs = {"text": {"pad_to_multiple_of": BF16_LENGTH_STEP}}
        self._forward = self._trace()
        runtime: Runtime = "onnx" if self._few is not None else "torch"
        return ModelInfo(self._dimension, max_tokens, probe, traced=self._forward is not None, runtime=runtime)

    def _trace(self) -> Forward | None:
        """The forward pass as a frozen graph, or None when it cannot be traced or its vectors differ
        from the library's (a model with prompts, or whose modules branch on their input)."""
        import torch

        model = self.model
        if self.device != "cpu" or any(model.prompts.values()):
            logger.info("the model runs through the library's encode (prompts, or a device other than the CPU)")
            return None
        try:
            with _quiet(), torch.inference_mode():
                example = _tensors(model.preprocess(_CHECK_TEXTS[:2]))
                traced = torch.jit.freeze(torch.jit.trace(model.eval(), (example,), strict=False))

            def forward(features: Features) -> np.ndarray:
                with torch.inference_mode():
                    return traced(features)["sentence_embedding"].float().numpy()

            if not self._agrees(forward):
                logger.warning("the traced model disagrees with the library's; using the library's encode")
                return None
        except Exception as error:  # any failure leaves the library's encode, which works
            logger.warning("the model could not be traced (%s); using the library's encode", error)
            return None
        return forward

    def _onnx(self) -> Forward | None:
        """The model exported to ONNX (or its earlier export) run by ONNX Runtime, or None, said in one
        log line, when it cannot be exported or run, or its vectors differ from the library's."""
        model = self.model
        if self.device != "cpu" or any(model.prompts.values()) or self.precision != "float32":
            logger.info("the model runs on torch: ONNX runs float32 models without prompts on the CPU")
            return None
        try:
            path = onnx_path(model)
            if not path.exists():
                export_onnx(model, path)
            session = onnx_session(path, self.threads)
            names = [node.name for node in session.get_inputs()]

            def forward(features: Features) -> np.ndarray:
                return session.run(None, {name: features[name].numpy() for name in names})[0]

            agrees = self._agrees(forward)
        except Exception as error:  # any failure leaves torch, which works
            logger.warning("the model could not be exported to ONNX (%s); running it on torch", error)
            return None
        if not agrees:
            logger.warning("the ONNX model disagrees with the library's; running it on torch")
            return None
        return forward

    def _agrees(self, forward: Forward) -> bool:
        """Whether ``forward`` embeds texts of both kinds as the library does."""
        for kind, texts in itertools.product(("query", "document"), (_CHECK_TEXTS[::-1], [PROBE_TEXT])):
            ours, theirs = self._encode_batched(forward, kind, texts), self._encode_reference(kind, texts)
            if not np.all(np.sum(ours * theirs, axis=1) >= AGREEMENT):  # NaN fails too
                return False
        return True

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            raise RuntimeError("Embedder.warm_up() must be called before use")
        return self._model

    def encode(self, kind: Kind, texts: list[str], progress: bool = False) -> np.ndarray:
        if self._few is not None and len(texts) <= ONNX_BATCH:
            return self._encode_batched(self._few, kind, texts, progress)
        if self._forward is not None:
            return self._encode_batched(self._forward, kind, texts, progress)
        return self._encode_reference(kind, texts, progress)

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
            vectors[chosen] = forward(_tensors(self.model.preprocess([texts[i] for i in chosen])))
        return unit_float32(vectors)


def stay_offline() -> None:
    """Weights come from disk only: a service must not reach for a model hub at run time. The hub's
    library reads this when first imported, so a command sets it before anything imports it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def onnx_cache() -> Path:
    """Where exported models are kept: ``$XDG_CACHE_HOME/citeqa/onnx`` (default ``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "citeqa" / "onnx"


def onnx_path(model: SentenceTransformer) -> Path:
    """The export of ``model``, keyed by a hash of its module chain (as its modules.json and module
    configs describe it) and of every weight: other weights or another pooling get an export of their own."""
    digest = hashlib.sha256(repr(model).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy())
    return onnx_cache() / digest.hexdigest()[:32] / "model.onnx"


def export_onnx(model: SentenceTransformer, path: Path) -> None:
    """``model``'s whole module chain (transformer, pooling, normalisation) as one ONNX graph from token
    ids to sentence embeddings, written to a temporary file and renamed into place: a reader never sees
    half an export, and two processes exporting at once both leave a whole one."""
    import torch

    class Chain(torch.nn.Module):
        """The model over positional tensors, as the exporter passes them."""

        def __init__(self, names: list[str]) -> None:
            super().__init__()
            self.model, self.names = model, names

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(self.names, tensors)))["sentence_embedding"]

    example = _tensors(model.preprocess(_CHECK_TEXTS[:2]))
    names = list(example)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        with _quiet():
            torch.onnx.export(
                Chain(names).eval(),
                tuple(example.values()),
                temporary,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={name: {0: "texts", 1: "tokens"} for name in names} | {"sentence_embedding": {0: "texts"}},
                opset_version=ONNX_OPSET,
                dynamo=False,  # the graph from tracing; the newer exporter needs onnxscript
            )
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def onnx_session(path: Path, threads: int | None) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session on the CPU with ``threads`` threads for an operation (None: one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its optimiser's notices are not the user's concern
    # Threads that wait for work sleep rather than spin: on two cores shared with the server and other
    # work, spinning threads took the cores the others needed (on every core, beside other work: one
    # question 13.0 instead of 21.6 ms, 16 questions 203 instead of 291 ms).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the tracer's warnings and the library's deprecation notices (the tracer reads every
    attribute of the model): whether the traced model is right is decided by comparing vectors."""
    libraries = [logging.getLogger(name) for name in ("sentence_transformers", "transformers")]
    levels = [library.level for library in libraries]
    for library in libraries:
        library.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for library, level in zip(libraries, levels):
            library.setLevel(level)


def longest_first(texts: list[str]) -> np.ndarray:
    """Positions of ``texts``, longest first (ties in order), as the library batches them: texts of
    like length together, so little of a batch is padding."""
    return np.argsort([-len(text) for text in texts], kind="stable")


def _tensors(features: dict[str, object]) -> Features:
    """The tensors among the library's features (it adds bookkeeping such as ``modality``)."""
    import torch

    return {name: value for name, value in features.items() if isinstance(value, torch.Tensor)}


def unit_float32(vectors: np.ndarray) -> np.ndarray:
    """float32 rows of length one: a bfloat16 model normalises with a few parts in a thousand of error."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


class ModelProcessError(ModelError, RuntimeError):
    """The model's process failed to start or stopped."""


class EncoderProcess:
    """An ``Encoder`` run in a child process (``python -m indexer.encoder``), with the same ``load`` and
    ``encode``. One caller at a time (the embedder's model thread); a child that has died is started
    again on the next call."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder  # not loaded: only its settings go to the child
        self._connection: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def load(self) -> ModelInfo:
        with self._lock:
            return self._start()

    def _start(self) -> ModelInfo:
        ours, theirs = socket.socketpair()
        # The project's folder first on the path, so the child imports this very code.
        path = os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))
        process = subprocess.Popen(
            [sys.executable, "-m", "indexer.encoder", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env={**os.environ, "PYTHONPATH": path},
        )
        theirs.close()
        connection = Connection(ours.detach())
        connection.send(self._encoder)
        status, value = self._receive(connection, process)
        if status != "ready":
            _end(connection, process)
            raise ModelUnavailable(value)
        self._connection, self._process = connection, process
        return value  # type: ignore[return-value]

    def encode(self, kind: Kind, texts: list[str], progress: bool = False) -> np.ndarray:
        with self._lock:
            if self._connection is None or self._process is None or self._process.poll() is not None:
                self._close_unlocked()
                self._start()
            assert self._connection is not None and self._process is not None
            try:
                self._connection.send((kind, texts))
            except OSError:
                self._close_unlocked()
                raise ModelProcessError("the model process has stopped; it is started again on the next request") from None
            status, value = self._receive(self._connection, self._process)
        if status != "ok":
            raise ModelProcessError(f"the model failed: {value}")
        return value  # type: ignore[return-value]

    def _receive(self, connection: Connection, process: subprocess.Popen[bytes]) -> tuple[str, object]:
        try:
            reply: tuple[str, object] = connection.recv()
        except (EOFError, OSError):
            _end(connection, process)
            if connection is self._connection:
                self._connection = self._process = None
            raise ModelProcessError(
                f"the model process stopped (exit code {process.returncode}); it is started again on the next request"
            ) from None
        return reply

    def close(self) -> None:
        with self._lock:
            self._close_unlocked()

    def _close_unlocked(self) -> None:
        if self._connection is not None and self._process is not None:
            _end(self._connection, self._process)
        self._connection = self._process = None


def _end(connection: Connection, process: subprocess.Popen[bytes]) -> None:
    """Close the pipe (the child sees the end of its input and exits) and wait for the child, killing it
    when it does not go: no socket or zombie is left behind by a child that stopped or is replaced."""
    connection.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve(connection: Connection) -> None:
    """The child: load, say so, then encode what comes until the parent closes the pipe or goes."""
    # Ctrl-C and SIGHUP are for the server, which stops or reloads; this process follows its pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    encoder: Encoder = connection.recv()
    try:
        info = encoder.load()
    except Exception as error:  # the parent reports it; a traceback here would only be noise
        connection.send(("error", str(error)))
        return
    connection.send(("ready", info))
    while True:
        try:
            kind, texts = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, object] = ("ok", encoder.encode(kind, texts))
        except Exception as error:
            reply = ("error", f"{type(error).__name__}: {error}")
        connection.send(reply)


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
