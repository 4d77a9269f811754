"""Server-Sent Events: ``POST /ask/stream`` and the streaming form of the chat endpoint.

The passages go out as soon as they are retrieved, then the answer sentence by sentence, each with
its whole marker group, so a reader sees where a claim comes from as the claim appears.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from indexer.claims import render_with_group
from service.answerer import Answer
from service.deps import ReadyQADep
from service.qa import QuestionAnswering
from service.schemas import AskRequest, CitationOut, Source

router = APIRouter()

# Proxies must pass events on as they come, and nobody may serve a stored copy.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: str, event: str | None = None) -> str:
    """One event; ``data`` is a single line (JSON escapes its newlines)."""
    return f"event: {event}\ndata: {data}\n\n" if event else f"data: {data}\n\n"


def event_stream(request: Request, events: AsyncGenerator[str, None]) -> StreamingResponse:
    """Send ``events``, asking for the next one only while the client is still there: when it goes, the
    work behind the remaining events is not done."""

    async def until_disconnected() -> AsyncIterator[str]:
        try:
            while not await request.is_disconnected():
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    return
                yield event
        finally:
            await events.aclose()

    return StreamingResponse(until_disconnected(), media_type="text/event-stream", headers=SSE_HEADERS)


def answer_pieces(answer: Answer) -> list[str]:
    """The answer text in sentences, each ending with its marker group; joined they are ``answer.text``."""
    if answer.abstained or not answer.evidence:
        return [answer.text]
    rendered = [render_with_group(e.sentence.text, e.sentence.group) for e in answer.evidence]
    return [rendered[0], *(f" {piece}" for piece in rendered[1:])]


def dump(models: list[Source] | list[CitationOut]) -> str:
    return json.dumps([m.model_dump() for m in models], ensure_ascii=False)


async def ask_events(qa: QuestionAnswering, body: AskRequest) -> AsyncGenerator[str, None]:
    retrieval = await run_in_threadpool(qa.retrieve, body.question, body.top_k, body.history)
    yield sse(dump([Source.of(hit) for hit in retrieval.hits]), "sources")
    answer = await run_in_threadpool(qa.answer, retrieval)
    for piece in answer_pieces(answer):
        yield sse(json.dumps({"text": piece}, ensure_ascii=False), "delta")
    yield sse(dump([CitationOut.of(c) for c in answer.citations]), "citations")
    yield sse(json.dumps({"abstained": answer.abstained}), "done")


@router.post(
    "/ask/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "sources, delta..., citations, done"}},
)
def ask_stream(body: AskRequest, request: Request, qa: ReadyQADep) -> StreamingResponse:
    """The answer to the same body as ``/ask`` as Server-Sent Events."""
    return event_stream(request, ask_events(qa, body))

