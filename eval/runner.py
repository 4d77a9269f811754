"""Ask every gold question through the same pipeline users get: in-process, or a server over HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tqdm.auto import tqdm

from eval.datasets import GoldItem
from eval.metrics import Scored, score, summarise
from service.qa import QuestionAnswering
from service.schemas import AskResponse


class Asker(Protocol):
    """Answers a question with a body shaped like ``POST /ask``'s response."""

    def __call__(self, question: str, top_k: int) -> dict[str, Any]: ...


def in_process(qa: QuestionAnswering) -> Asker:
    def ask(question: str, top_k: int) -> dict[str, Any]:
        return AskResponse.of(qa.ask(question, top_k)).model_dump()

    return ask


class ServerError(RuntimeError):
    """The server did not answer a gold question; the message gives the status and its detail."""


def over_http(client: httpx.Client) -> Asker:
    def ask(question: str, top_k: int) -> dict[str, Any]:
        try:
            response = client.post("/ask", json={"question": question, "top_k": top_k})
        except httpx.TransportError as error:
            raise ServerError(f"cannot reach {client.base_url}: {error}") from None
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
