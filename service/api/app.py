"""The FastAPI application: ``create_app`` builds it, its lifespan loads model and index once."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from citeqa_errors import CiteqaError
from service.api import admin, api_docs, metrics, openai_chat, streaming, widget
from service.api.access import API_KEY_HEADER, SITE_KEY_HEADER, Access
from service.api.body_limit import BodyLimit
from service.config import Settings
from service.api.cors import CORS
from service.api.deps import GUARDED, GUARDED_JSON, QADep, ReadyQADep
from service.api.errors import citeqa_error, documented, http_error, internal_error, invalid_request
from service.answering.filters import COMPANY, DOC_PREFIX, MAX_DOC_PREFIX, PERIOD, DocumentFilter
from service.api.mcp import GuardedMCP, create_mcp
from service.api.metrics import Metrics
from service.answering.qa import EMPTY_INDEX, QuestionAnswering
from service.api.request_log import REQUEST_ID_HEADER, RequestLog
from service.api.schemas import (
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    AskRequest,
    AskResponse,
    Company,
    Period,
    Question,
    SearchResponse,
    Source,
    Status,
)

logger = logging.getLogger("citeqa")


def create_app(
    settings: Settings | None = None, qa: QuestionAnswering | None = None, supervisor: int | None = None
) -> FastAPI:
    """An app serving ``qa`` (built from ``settings`` when not given); loading happens in the background
    so that ``/livez`` answers at once and ``/readyz`` says when questions can be asked. ``supervisor``: the
    process id of the supervisor when this app is one of several workers (service/serving.py)."""
    settings = settings or Settings()
    qa = qa or QuestionAnswering(settings)
    agents = GuardedMCP(create_mcp(qa))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if qa.state != "ready":
            threading.Thread(target=_load, args=(qa,), name="citeqa-load", daemon=True).start()
        async with agents.running():
            yield

    # /docs and /redoc with their JavaScript and CSS served from here: the CDN that FastAPI's pages load
    # them from is out of reach offline and on many company networks, and the page stays blank.
    app = FastAPIOffline(
        redoc_url=None,  # served whole from here, its logo included (service/api/api_docs.py)
        title="citeqa",
        summary="Answers from research reports, each claim with the report's own citation markers.",
        lifespan=lifespan,
    )
    app.state.qa = qa
    app.state.settings = settings
    app.state.access = Access(settings)
    app.state.metrics = Metrics(qa)
    app.state.supervisor = supervisor
    # Innermost first: the body cap, then CORS (so its refusals carry CORS headers), then the request log.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Pages of other origins may call the API only when listed; a refused preflight fails the call at once.
    app.add_middleware(
        CORS,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization", API_KEY_HEADER, SITE_KEY_HEADER, REQUEST_ID_HEADER],
        expose_headers=["Retry-After", REQUEST_ID_HEADER],
    )
    app.add_middleware(RequestLog, metrics=app.state.metrics, worker=os.getpid() if supervisor else None)
    app.add_exception_handler(Exception, internal_error)
    app.add_exception_handler(CiteqaError, citeqa_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    question_errors = documented(400, 401, 413, 415, 422, 429, 503)
    app.include_router(streaming.router, dependencies=GUARDED_JSON, responses=question_errors)
    app.include_router(openai_chat.router, dependencies=GUARDED_JSON, responses=question_errors)
    app.include_router(widget.router)
    app.include_router(api_docs.router)
    # Agents ask over the Model Context Protocol (Streamable HTTP), as guarded as /ask.
    app.add_route("/mcp", agents, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    app.include_router(metrics.router)
    app.include_router(admin.router)

    # Probes are async, like the other routes: a plain ``def`` runs in the thread pool, where a probe took
    # 1.2 to 2.7 ms instead of 0.64 to 0.68 (the request log's duration, median of 100, two runs each).
    @app.get("/livez", response_model=Status)
    async def livez() -> Status:
        return Status(status="ok")

    @app.get("/readyz", response_model=Status, responses={503: {"model": Status}})
    async def readyz(qa: QADep) -> Status | JSONResponse:
        if qa.state != "ready":
            body = Status(status=qa.state, detail=qa.error or "the model and index are still loading")
            return JSONResponse(body.model_dump(), status_code=503)
        documents = len(qa.index.data.documents)
        return Status(
            status="ready", documents=documents, chunks=qa.index.size, detail=None if documents else EMPTY_INDEX
        )

    # HEAD too, as uptime monitors and load balancers probe; one operation each in the schema.
    for path, probe in (("/livez", livez), ("/readyz", readyz)):
        app.add_api_route(path, probe, methods=["HEAD"], response_model=Status, include_in_schema=False)

    @app.post("/ask", response_model=AskResponse, dependencies=GUARDED_JSON, responses=question_errors)
    async def ask(request: AskRequest, qa: ReadyQADep) -> AskResponse:
        qa.check_mode(request.mode)  # ModeUnavailable (a 400) before any work
        return AskResponse.of(
            await qa.ask_async(request.question, request.top_k, request.history, request.mode, request.where)
        )

    @app.get("/search", response_model=SearchResponse, dependencies=GUARDED, responses=documented(401, 422, 429, 503))
    async def search(
        qa: ReadyQADep,
        q: Annotated[Question, Query(description=f"the query: 1 to {MAX_QUESTION_CHARS} characters, trimmed")],
        k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description="how many passages")] = 5,
        doc_prefix: Annotated[str | None, Query(min_length=1, max_length=MAX_DOC_PREFIX, description=DOC_PREFIX)] = None,
        company: Annotated[Company | None, Query(description=COMPANY)] = None,
        period: Annotated[Period | None, Query(description=PERIOD)] = None,
    ) -> SearchResponse:
        where = DocumentFilter(doc_prefix, company, period)
        return SearchResponse(results=[Source.of(hit) for hit in await qa.search_async(q, k, where)])

    return app


def _load(qa: QuestionAnswering) -> None:
    try:
        qa.warm_up()
    except CiteqaError as error:  # kept for /readyz and /ask to answer with
        logger.error("citeqa cannot serve: %s", error)
