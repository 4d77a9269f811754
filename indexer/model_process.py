"""The model in a process of its own, as a server runs it: between torch's operations the model's Python code
needs the interpreter lock, which a server's HTTP handling holds much of the time under load, slowing the model
beside it (see eval/bench/BENCHMARKS.md#the-model-in-its-own-process). In a process of its own it runs at full
speed, and only the texts and the vectors cross the pipe.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from indexer.encoder import Encoder, Kind, ModelInfo
from indexer.errors import ModelError, ModelUnavailable

_ROOT = Path(__file__).resolve().parent.parent


class ModelProcessError(ModelError, RuntimeError):
    """The model's process failed to start or stopped."""


class EncoderProcess:
    """An ``Encoder`` run in a child process (``python -m indexer.model_process``), with the same ``load`` and
    ``encode``. One caller at a time (the embedder's model thread); a child that has died is started
    again on the next call."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder  # not loaded: only its settings go to the child
        self._connection: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def load(self) -> ModelInfo:
        """Start the child, which loads the model: what it loaded, or ``ModelUnavailable`` with the child's reason."""
        with self._lock:
            return self._start()

    def _start(self) -> ModelInfo:
        ours, theirs = socket.socketpair()
        # The project's folder first on the path, so the child imports this very code.
        path = os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))
        process = subprocess.Popen(
            [sys.executable, "-m", "indexer.model_process", str(theirs.fileno())],
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
        """``Encoder.encode`` in the child (no progress bar), started again first if it has stopped;
        ``ModelProcessError`` when it stops meanwhile or the model fails."""
        with self._lock:
            if self._connection is None or self._process is None or self._process.poll() is not None:
                self._close_unlocked()
                self._start()
            assert self._connection is not None and self._process is not None
            try:
                self._connection.send((kind, texts))
            except OSError:
                self._close_unlocked()
                stopped = "the model process has stopped; it is started again on the next request"
                raise ModelProcessError(stopped) from None
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
        """Stop the child; the next ``encode`` starts another."""
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
