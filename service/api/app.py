"""The FastAPI application: ``create_app`` wires settings, lifespan, middleware, routes and error handlers;
the routes are in service/api/routes/, one module per group."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from indexer.errors import CiteqaError
from service.answering.qa import QuestionAnswering
from service.api.access import API_KEY_HEADER, SITE_KEY_HEADER, Access
from service.api.body_limit import BodyLimit
from service.api.cors import CORS
from service.api.errors import citeqa_error, http_error, internal_error, invalid_request
from service.api.mcp import create_mcp
from service.api.metrics import Metrics
from service.api.request_log import REQUEST_ID_HEADER, RequestLog
from service.api.routes import admin, api_docs, ask, chat, health, mcp, metrics, search, stream, widget
from service.config import Settings

logger = logging.getLogger("citeqa")


def create_app(
    settings: Settings | None = None, qa: QuestionAnswering | None = None, supervisor: int | None = None
) -> FastAPI:
    """An app serving ``qa`` (built from ``settings`` when not given); loading happens in the background
    so that ``/livez`` answers at once and ``/readyz`` says when questions can be asked. ``supervisor``: the
    process id of the supervisor when this app is one of several workers (service/serving.py)."""
    settings = settings or Settings()
    qa = qa or QuestionAnswering(settings)
    agents = mcp.GuardedMCP(create_mcp(qa))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Start loading the model and index in the background (unless loaded), and run ``/mcp`` while the app runs."""
        if qa.state != "ready":
            threading.Thread(target=_load, args=(qa,), name="citeqa-load", daemon=True).start()
        async with agents.running():
            yield

    # /docs and /redoc with their JavaScript and CSS served from here: the CDN that FastAPI's pages load
    # them from is out of reach offline and on many company networks, and the page stays blank.
    app = FastAPIOffline(
        redoc_url=None,  # served whole from here, its logo included (service/api/routes/api_docs.py)
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
    # In the order the API's docs list them: the questions, then the probes and the operators' routes.
    for routes in (ask, stream, search, chat, health, metrics, admin, widget, api_docs):
        app.include_router(routes.router)
    app.include_router(mcp.router_for(agents))
    return app


def _load(qa: QuestionAnswering) -> None:
    try:
        qa.warm_up()
    except CiteqaError as error:  # kept for /readyz and /ask to answer with
        logger.error("citeqa cannot serve: %s", error)
