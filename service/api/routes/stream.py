"""``POST /ask/stream``: the answer to ``/ask``'s body as Server-Sent Events (service/api/streaming.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from service.api.deps import GUARDED_JSON, ReadyQADep
from service.api.errors import QUESTION_ERRORS
from service.api.schemas import AskRequest
from service.api.streaming import ask_events, event_stream

router = APIRouter(dependencies=GUARDED_JSON, responses=QUESTION_ERRORS)


@router.post(
    "/ask/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "sources, delta..., citations, done"}},
)
def ask_stream(body: AskRequest, request: Request, qa: ReadyQADep) -> StreamingResponse:
    """The answer to the same body as ``/ask`` as Server-Sent Events."""
    qa.check_mode(body.mode)  # ModeUnavailable (a 400) before the stream starts
    return event_stream(request, ask_events(qa, body))
