"""Ask every gold question through the same pipeline users get: in-process, or a server over HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tqdm.auto import tqdm

from eval.datasets import GoldItem
from eval.metrics import Scored, score, summarise
from service.qa import Mode, QuestionAnswering
from service.schemas import AskResponse


class Asker(Protocol):
    """Answers a question with a body shaped like ``POST /ask``'s response."""

    def __call__(self, question: str, top_k: int) -> dict[str, Any]: ...


def in_process(qa: QuestionAnswering, mode: Mode | None = None) -> Asker:
    def ask(question: str, top_k: int) -> dict[str, Any]:
        return AskResponse.of(qa.ask(question, top_k, mode=mode)).model_dump()

    return ask


_RATE_LIMITED_TRIES = 30
_MAX_WAIT_SECONDS = 10.0


class ServerError(RuntimeError):
    """The server did not answer a gold question; the message gives the status and its detail."""


def over_http(client: httpx.Client, mode: Mode | None = None) -> Asker:
    def ask(question: str, top_k: int) -> dict[str, Any]:
        body: dict[str, Any] = {"question": question, "top_k": top_k}
        if mode:
            body["mode"] = mode
        for _ in range(_RATE_LIMITED_TRIES):
            try:
                response = client.post("/ask", json=body)
            except httpx.TransportError as error:
                raise ServerError(f"cannot reach {client.base_url}: {error}") from None
            if response.status_code != 429:
                break
            # A rate-limited server says when to come back; an eval run waits rather than fails.
            time.sleep(min(float(response.headers.get("Retry-After", "1")), _MAX_WAIT_SECONDS))
        if response.status_code != 200:
            raise ServerError(f"{client.base_url}/ask answered {response.status_code}: {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    return ask


@dataclass
class EvalRun:
    results: list[Scored]
    metrics: dict[str, float | int | None]
    k: int
    target: str


def run_eval(
    items: list[GoldItem],
    ask: Asker,
    k: int,
    target: str,
    progress: bool = True,
) -> EvalRun:
    results: list[Scored] = []
    for item in tqdm(items, desc="Evaluating", unit="question", disable=not progress):
        started = time.perf_counter()
        response = ask(item.question, k)
        results.append(score(item, response, time.perf_counter() - started))
    return EvalRun(results, summarise(results, k), k, target)
