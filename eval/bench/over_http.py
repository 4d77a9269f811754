"""Asking a server over HTTP with httpx: one request at a time, and closed-loop throughput."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from eval.bench.questions import Questions


def request(path: str, text: str) -> tuple[str, str, dict[str, object]]:
    """(method, path, httpx keyword arguments) asking ``text`` of ``/ask`` or a ``/search`` endpoint."""
    if path == "/ask":
        return "POST", path, {"json": {"question": text}}
    return "GET", path, {"params": {"q": text, "k": 5}}


def http_call(client: httpx.Client, path: str) -> Callable[[str], object]:
    """A call asking ``text`` of ``path`` through ``client``, raising on an error status."""

    def call(text: str) -> object:
        """Ask ``text`` of ``path``: the response, or ``httpx.HTTPStatusError`` for an error status."""
        method, url, arguments = request(path, text)
        return client.request(method, url, **arguments).raise_for_status()  # type: ignore[arg-type]

    return call


async def _load(url: str, path: str, texts: list[str], clients: int) -> float:
    """Requests per second with ``clients`` connections each sending its next request on an answer."""
    pending = iter(texts)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            """One connection: the next text as soon as the last is answered, until the texts run out."""
            for text in pending:
                method, target, arguments = request(path, text)
                (await client.request(method, target, **arguments)).raise_for_status()  # type: ignore[arg-type]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return len(texts) / (time.perf_counter() - started)


def throughput(url: str, path: str, questions: Questions, clients: int, passes: int = 2) -> float:
    """The best of ``passes`` bounded runs: load from other users of the machine only ever slows a run."""
    requests = max(100, 24 * clients)
    return round(max(asyncio.run(_load(url, path, questions.stream(requests), clients)) for _ in range(passes)), 1)
