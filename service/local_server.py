"""`citeqa serve` in a child process on a free loopback port, for the tests and the measurements."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from indexer.errors import ServerError

ROOT = Path(__file__).resolve().parent.parent


class ServerFailed(ServerError):
    """The server exited or did not become ready; the message holds what it printed."""


def free_port() -> int:
    """A loopback port free now (another process may still take it before it is used)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LocalServer:
    """A server ``started_server`` started: where it answers, its process id and how long it took to be ready."""

    url: str
    pid: int
    ready_seconds: float  # from starting the process to the first 200 of ``/readyz``


@contextmanager
def local_server(
    index_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None, timeout: float = 120
) -> Iterator[str]:
    """The URL of `citeqa serve --index-dir index_dir` once ``/readyz`` says ready; stopped on exit.

    ``env`` is added to this process's environment (e.g. ``CITEQA_ALLOWED_ORIGINS``).
    """
    with started_server(index_dir, env, port, timeout) as server:
        yield server.url


@contextmanager
def started_server(
    index_dir: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    timeout: float = 120,
    module: Sequence[str] = ("service.cli", "serve"),
) -> Iterator[LocalServer]:
    """`python -m MODULE --index-dir index_dir --port PORT` as a server process, once ready; stopped on exit.

    ``module`` is `citeqa serve` unless a measurement serves the same index another way; the server must
    answer ``/readyz`` with 200 when ready. Rate limits are off unless ``env`` sets ``CITEQA_RATE_LIMIT``:
    measurements and tests send bursts on purpose.
    """
    port = port or free_port()
    # A file, not a pipe: nobody reads the access log while the server runs, and a full pipe blocks it.
    log = tempfile.TemporaryFile(mode="w+")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", *module, "--index-dir", str(index_dir), "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "CITEQA_RATE_LIMIT": "off", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise ServerFailed(f"{' '.join(module)} exited: {log.read()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"{' '.join(module)} did not become ready in {timeout:.0f} s")
            time.sleep(0.05)
        yield LocalServer(url, process.pid, time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
