"""``POST /v1/chat/completions``: the answer in OpenAI's chat completions format (service/api/chat_schemas.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from service.answering.answerer import Answer
from service.answering.closest import quoted
from service.answering.qa import QuestionAnswering
from service.api.chat_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    Grounding,
)
from service.api.deps import GUARDED_JSON, ReadyQADep
from service.api.errors import QUESTION_ERRORS
from service.api.streaming import answer_deltas, event_stream, sse

router = APIRouter(prefix="/v1", dependencies=GUARDED_JSON, responses=QUESTION_ERRORS)


def _closest_quoted(answer: Answer) -> str:
    """The closest sentences, quoted after the message's text: a chat client shows only the content."""
    return f"\n\n{quoted(c.text for c in answer.closest)}" if answer.closest else ""


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {}}, "description": "chat.completion.chunk events if streaming"}},
)
async def chat_completions(
    body: ChatRequest, request: Request, qa: ReadyQADep
) -> ChatCompletion | StreamingResponse:
    """``/ask`` in OpenAI's chat completions format: the last user message is the question, the earlier ones
    the conversation; ``citations``, ``sources``, ``abstained`` and ``closest`` are extra fields (in the last
    chunk when streaming)."""
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return event_stream(request, _chunks(qa, body, completion_id, created))
    answer = await qa.ask_async(body.question, None, body.history)
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=answer.text + _closest_quoted(answer)))],
        **Grounding.of(answer).model_dump(),
    )


async def _chunks(
    qa: QuestionAnswering, body: ChatRequest, completion_id: str, created: int
) -> AsyncGenerator[str, None]:
    def chunk(delta: Delta, finish: Literal["stop"] | None = None, grounding: Grounding | None = None) -> str:
        """One ``chat.completion.chunk`` event; with ``grounding``, the last one."""
        extra = grounding.model_dump() if grounding else {}
        choice = ChunkChoice(delta=delta, finish_reason=finish)
        data = ChatCompletionChunk(id=completion_id, created=created, model=body.model, choices=[choice], **extra)
        return sse(data.model_dump_json(exclude_none=True))

    yield chunk(Delta(role="assistant", content=""))
    retrieval = await qa.retrieve_async(body.question, None, body.history)
    answer: Answer | None = None
    async for piece, latest in answer_deltas(qa, retrieval, None):
        answer = latest
        if piece:
            yield chunk(Delta(content=piece))
    assert answer is not None
    if answer.closest:
        yield chunk(Delta(content=_closest_quoted(answer)))
    yield chunk(Delta(), "stop", Grounding.of(answer))
    yield sse("[DONE]")
