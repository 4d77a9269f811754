"""Ask every gold question through the same pipeline users get: in-process, or a server over HTTP."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tqdm.auto import tqdm

from eval.datasets import GoldItem
from eval.metrics import Scored, score, summarise
from indexer.errors import ServerError
from service.answering.qa import Mode, QuestionAnswering
from service.api.schemas import AskResponse


class Asker(Protocol):
    """Answers a question with a body shaped like ``POST /ask``'s response, and the seconds answering
    took (for HTTP, the round trip of the request answered: waits imposed by a rate limit are not
    the service's latency)."""

    def __call__(self, question: str, top_k: int) -> tuple[dict[str, Any], float]: ...


def in_process(qa: QuestionAnswering, mode: Mode | None = None) -> Asker:
    """An ``Asker`` that asks ``qa`` in this process."""

    def ask(question: str, top_k: int) -> tuple[dict[str, Any], float]:
        """``Asker``: the answer as ``POST /ask`` would give it, and the seconds ``ask`` took."""
        started = time.perf_counter()
        answer = qa.ask(question, top_k, mode=mode)
        return AskResponse.of(answer).model_dump(), time.perf_counter() - started

    return ask


_RATE_LIMITED_TRIES = 30
_MAX_WAIT_SECONDS = 10.0


def over_http(client: httpx.Client, mode: Mode | None = None) -> Asker:
    """An ``Asker`` that posts to ``/ask`` through ``client``, waiting as a server that rate-limits says;
    ``ServerError`` when it cannot be reached or answers an error."""
    waited = 0.0

    def ask(question: str, top_k: int) -> tuple[dict[str, Any], float]:
        """``Asker``: the server's answer, and the round trip of the request it answered."""
        nonlocal waited
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
            pause = min(float(response.headers.get("Retry-After", "1")), _MAX_WAIT_SECONDS)
            if not waited:
                print(
                    f"citeqa eval: {client.base_url} rate-limits this client; waiting as it asks "
                    "(the waits are not counted as latency)",
                    file=sys.stderr,
                )
            waited += pause
            time.sleep(pause)
        if response.status_code != 200:
            raise ServerError(f"{client.base_url}/ask answered {response.status_code}: {response.text[:300]}")
        answered: dict[str, Any] = response.json()
        return answered, response.elapsed.total_seconds()

    return ask


@dataclass
class EvalRun:
    """Every question scored, the run's metrics, the ``k`` passages retrieved a question, and what was asked: the index
    folder or the server's URL."""

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
    """Ask every gold question through ``ask`` for ``k`` passages and score the answers; ``target`` names what was
    asked, for the reports."""
    results: list[Scored] = []
    for item in tqdm(items, desc="Evaluating", unit="question", disable=not progress):
        response, seconds = ask(item.question, k)
        results.append(score(item, response, seconds))
    return EvalRun(results, summarise(results, k), k, target)
