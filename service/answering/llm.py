"""A client for any OpenAI-compatible chat server (llama.cpp, vLLM, Ollama, a hosted API), via httpx.

Failures never reach the user as errors: the caller falls back to the extractive answer. So the
client's job is to give up in bounded time: a timeout per request, one retry for a failure that may
pass (connection error, 5xx, 429), and a deadline for the whole attempt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from indexer.errors import ModelError

Message = dict[str, str]
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


class LLMUnavailable(ModelError):
    """The model gave no usable reply in time (an error, a reply that is no chat completion, or none by the
    deadline); the message says why (for logs and the response)."""


@dataclass(frozen=True)
class LLMSettings:
    """The chat server and model, and how long to wait: ``timeout`` seconds for one request, ``deadline``
    seconds for a whole reply, its retry included."""

    url: str
    model: str
    api_key: str | None = None
    timeout: float = 20.0
    deadline: float = 30.0


class ChatClient:
    """Sends chat messages to the configured server and returns the reply's text, giving up in bounded time
    (see the module); shared by the drafts and the judge."""

    def __init__(self, settings: LLMSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._http = httpx.Client(
            base_url=settings.url.rstrip("/"), headers=headers, timeout=settings.timeout, transport=transport
        )

    def close(self) -> None:
        """Close the connections kept open to the server."""
        self._http.close()

    def complete(self, messages: list[Message]) -> str:
        """The whole draft at once."""
        return "".join(self.stream(messages))

    def stream(self, messages: list[Message]) -> Iterator[str]:
        """The draft as the model writes it. A retry happens only before the first piece arrives."""
        body = {"model": self.settings.model, "messages": messages, "stream": True, "temperature": 0}
        started = time.monotonic()
        for attempt in (1, 2):
            received = False
            try:
                for piece in self._stream_once(body, started):
                    received = True
                    yield piece
                return
            except _Retryable as error:
                if received or attempt == 2 or time.monotonic() - started >= self.settings.deadline:
                    raise LLMUnavailable(str(error)) from None

    def _stream_once(self, body: dict[str, object], started: float) -> Iterator[str]:
        try:
            with self._http.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code in _RETRYABLE:
                    raise _Retryable(f"the model server answered {response.status_code}")
                if response.status_code != 200:
                    response.read()
                    raise LLMUnavailable(f"the model server answered {response.status_code}: {response.text[:200]}")
                for piece in _pieces(response):
                    if time.monotonic() - started > self.settings.deadline:
                        raise LLMUnavailable(f"no complete draft within {self.settings.deadline:.0f} s")
                    yield piece
        except (httpx.TimeoutException, httpx.TransportError) as error:
            raise _Retryable(f"the model server did not answer ({type(error).__name__})") from None


class _Retryable(Exception):
    pass


def _pieces(response: httpx.Response) -> Iterator[str]:
    """Text from a streamed (``data:`` lines) or a plain JSON chat completion."""
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        response.read()
        try:
            yield str(response.json()["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMUnavailable("the model server's answer is not a chat completion") from None
        return
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            delta = json.loads(data)["choices"][0].get("delta", {})
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMUnavailable("the model server's stream is not chat completion chunks") from None
        if delta.get("content"):
            yield str(delta["content"])
