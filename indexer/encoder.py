"""The sentence-transformers model itself, in this process or in one of its own.

A server keeps the model in a child process (``EncoderProcess``): between torch's operations the
model's Python code needs the interpreter lock, and a server's HTTP handling holds that lock about half
the time under load, which halved the model's throughput (measured: 438 questions/s alone, 213/s beside
a thread busy half the time). In a process of its own it runs at full speed, and only the texts and
the vectors cross the pipe.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Embedding this text identifies a model's weights: two indexes built with different weights differ here.
PROBE_TEXT = "citeqa model probe: quarterly revenue grew 12% [1]."
PROBE_DIMS = 8
# oneDNN keeps kernels and buffers for every input shape it meets: with lengths padded to a multiple of 8
# there are few shapes, and memory stops growing once they have been met (unpadded, it grew past 1.3 GB
# and on; padded to 16, short questions cost 15 % more model time).
BF16_LENGTH_STEP = 8
Kind = Literal["query", "document"]
_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ModelInfo:
    dimension: int
    max_tokens: int
    probe: list[float]  # a few float32 coordinates of PROBE_TEXT's embedding


class Encoder:
    """Loads the model once (``load``) and encodes lists of texts into float32 unit vectors."""

    def __init__(self, source: str, precision: str, threads: int | None, device: str, batch_size: int) -> None:
        self.source = source
        self.precision = precision
        self.threads = threads
        self.device = device
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None

    def load(self) -> ModelInfo:
        # Weights come from disk only: a service must not reach for a model hub at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        if self.threads:
            torch.set_num_threads(self.threads)
        transformers_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(self.source, device=self.device, local_files_only=True)
        except OSError as error:
            raise ValueError(f"cannot load embedding model {self.source!r}: {error}") from None
        probe = [round(float(x), 4) for x in self.encode("query", [PROBE_TEXT])[0][:PROBE_DIMS]]
        if self.precision == "bfloat16":
            self._model.to(torch.bfloat16)
            for module in self._model:
                if hasattr(module, "processing_kwargs"):
                    module.processing_kwargs = {"text": {"pad_to_multiple_of": BF16_LENGTH_STEP}}
        dimension = self._model.get_embedding_dimension()
        assert dimension is not None
        return ModelInfo(int(dimension), int(self._model.max_seq_length), probe)

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            raise RuntimeError("Embedder.warm_up() must be called before use")
        return self._model

    def encode(self, kind: Kind, texts: list[str], progress: bool = False) -> np.ndarray:
        encode = self.model.encode_query if kind == "query" else self.model.encode_document
        vectors = encode(
            texts,
            batch_size=self.batch_size if kind == "document" else max(len(texts), 1),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return unit_float32(vectors)


def unit_float32(vectors: np.ndarray) -> np.ndarray:
    """float32 rows of length one: a bfloat16 model normalises with a few parts in a thousand of error."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


class ModelProcessError(RuntimeError):
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
            raise ValueError(value)
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
