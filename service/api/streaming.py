"""Server-Sent Events as the answer is made, for ``POST /ask/stream`` and the chat endpoint's streaming form.

The passages go out as soon as they are retrieved, then the answer sentence by sentence, each with
its whole marker group, so a reader sees where a claim comes from as the claim appears.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from indexer.claims import render_with_group
from service.answering.answerer import Answer
from service.answering.qa import Mode, QuestionAnswering, Retrieval
from service.api.schemas import AskRequest, CitationOut, ClosestOut, Source

# Proxies must pass events on as they come, and nobody may serve a stored copy.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: str, event: str | None = None) -> str:
    """One event; ``data`` is a single line (JSON escapes its newlines)."""
    return f"event: {event}\ndata: {data}\n\n" if event else f"data: {data}\n\n"


def event_stream(request: Request, events: AsyncGenerator[str, None]) -> StreamingResponse:
    """Send ``events``, asking for the next one only while the client is still there: when it goes, the
    work behind the remaining events is not done."""

    async def until_disconnected() -> AsyncIterator[str]:
        """``events`` while the client is connected; closed however the stream ends."""
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
    """``models`` as one JSON array, an event's data."""
    return json.dumps([m.model_dump() for m in models], ensure_ascii=False)


async def ask_events(qa: QuestionAnswering, body: AskRequest) -> AsyncGenerator[str, None]:
    """The events of ``POST /ask/stream``: ``sources``, a ``delta`` per piece of the answer, ``citations``,
    then ``done``."""
    retrieval = await qa.retrieve_async(body.question, body.top_k, body.history, body.where)
    yield sse(dump([Source.of(hit) for hit in retrieval.hits]), "sources")
    answer: Answer | None = None
    async for piece, latest in answer_deltas(qa, retrieval, body.mode):
        answer = latest
        if piece:
            yield sse(json.dumps({"text": piece}, ensure_ascii=False), "delta")
    assert answer is not None
    yield sse(dump([CitationOut.of(c) for c in answer.citations]), "citations")
    done: dict[str, Any] = {"abstained": answer.abstained, "mode": answer.mode, "note": answer.note}
    done["closest"] = [ClosestOut.of(c).model_dump() for c in answer.closest]
    done["dropped"] = [{"sentence": d.sentence, "reason": d.reason} for d in answer.dropped]
    yield sse(json.dumps(done, ensure_ascii=False), "done")


async def answer_deltas(
    qa: QuestionAnswering, retrieval: Retrieval, mode: Mode | None
) -> AsyncGenerator[tuple[str, Answer | None], None]:
    """(piece, answer so far) as answer sentences become ready: a generated answer's sentences as each is
    checked, an extractive answer's all at once; the last pair carries the final answer."""
    updates = iterate_in_threadpool(qa.answer_stream(retrieval, mode))
    sent = False
    async for update in updates:
        if isinstance(update, str):
            sent = True
            yield update, None
        elif not sent:
            pieces = answer_pieces(update)
            for piece in pieces[:-1]:
                yield piece, None
            yield pieces[-1], update
        else:
            yield "", update
