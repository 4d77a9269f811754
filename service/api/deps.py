"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from service.answering.qa import QuestionAnswering
from service.answering.search_index import SearchIndex
from service.api.access import Access, Client


async def get_qa(request: Request) -> QuestionAnswering:
    """The pipeline (async, like every dependency here: a plain ``def`` would cost each request two
    trips through the thread pool for an attribute read)."""
    qa: QuestionAnswering = request.app.state.qa
    return qa


async def get_ready_qa(qa: Annotated[QuestionAnswering, Depends(get_qa)]) -> QuestionAnswering:
    """The pipeline, or ``NotReady`` (a 503) while the model and index are loading, or failed to load."""
    _: SearchIndex = qa.index
    return qa


async def get_access(request: Request) -> Access:
    """The app's keys and rate limiter."""
    access: Access = request.app.state.access
    return access


AccessDep = Annotated[Access, Depends(get_access)]


async def admit(request: Request, access: AccessDep) -> Client:
    """The client of a question route: rate-limited, and with a key when keys are configured."""
    return access.admit(request)


async def admit_operator(request: Request, access: AccessDep) -> None:
    """The caller of ``/metrics``, admitted: with an API key when API keys are configured."""
    access.admit_operator(request)


async def json_body(request: Request) -> None:
    """415 for a body that is not JSON, rather than a 422 about its parsed form."""
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if has_body and not (media_type == "application/json" or media_type.endswith("+json")):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"the body must be JSON (Content-Type: application/json), not {media_type or 'untyped'}",
        )


QADep = Annotated[QuestionAnswering, Depends(get_qa)]
ReadyQADep = Annotated[QuestionAnswering, Depends(get_ready_qa)]
# Every question route: its client admitted first, so refused clients cost no parsing or answering.
GUARDED = [Depends(admit)]
GUARDED_JSON = [Depends(admit), Depends(json_body)]
