"""Error answers: a ``CiteqaError`` by its kind, what the OpenAPI schema documents for them, and the last
resort for real bugs."""

from __future__ import annotations

import logging
import math

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from indexer.errors import CiteqaError, InputError, ModelError
from indexer.model_process import ModelProcessError
from service.answering.qa import ModeUnavailable, NotReady
from service.api.reload import IndexNotReloaded
from service.api.schemas import ErrorBody

# The most of one text of the input a 422 repeats back.
ECHOED_CHARS = 200

logger = logging.getLogger("citeqa")

# The status of each kind of error a request can meet: that of the first of an error's classes listed. A kind
# not listed (a configuration error, say) is the server's fault, not the request's: a 500, logged as a bug.
STATUS: dict[type[CiteqaError], int] = {
    InputError: 422,
    ModeUnavailable: 400,
    IndexNotReloaded: 409,
    NotReady: 503,
    ModelError: 503,
}
# The model's process stopped under a request and is started again on the next one: a retry is the answer.
MODEL_RESTART_SECONDS = 5

_MEANINGS = {
    400: "the body cannot be parsed (not UTF-8 text), or generated answers were asked for but are off",
    401: "no valid API key or site key (when keys are configured)",
    403: "the admin key is wrong",
    404: "not found (the admin route, when no admin key is configured)",
    409: "the index on disk cannot be loaded; the previous one keeps serving",
    413: "the request body is too large",
    415: "the body is not JSON",
    422: "invalid input",
    429: "too many requests from this client: retry after Retry-After seconds",
    503: "the model and index are not loaded (yet, or at all), or the model's process is being restarted",
}


def documented(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` for error ``codes``, each a JSON ``{"detail": ...}``."""
    return {code: {"model": ErrorBody, "description": _MEANINGS[code]} for code in codes}


# What a question route (``/ask``, ``/ask/stream``, the chat endpoint) may answer instead of an answer.
QUESTION_ERRORS = documented(400, 401, 413, 415, 422, 429, 503)


async def internal_error(request: Request, error: Exception) -> JSONResponse:
    """A bug, not bad input: logged with its request id, answered as JSON without internals."""
    request_id = request.scope.get("citeqa.request_id", "")
    logger.exception("unhandled error in %s %s (request %s)", request.method, request.url.path, request_id)
    return JSONResponse({"detail": f"internal error (request {request_id})"}, status_code=500)


async def citeqa_error(request: Request, error: Exception) -> JSONResponse:
    """A ``CiteqaError`` answered with the status of its kind (``STATUS``) and its message as ``detail``; a
    failing model is logged too, as the operator's to see to."""
    assert isinstance(error, CiteqaError)
    status = next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), None)
    if status is None:
        return await internal_error(request, error)
    if isinstance(error, ModelError):
        logger.error("model failed during %s %s: %s", request.method, request.url.path, error)
    retry = {"Retry-After": str(MODEL_RESTART_SECONDS)} if isinstance(error, ModelProcessError) else None
    return JSONResponse({"detail": str(error)}, status_code=status, headers=retry)


async def invalid_request(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422, whose body echoes the input: a lone surrogate in it (valid in JSON, not in UTF-8)
    is replaced, and NaN or Infinity (which Python's JSON reader takes, and strict JSON cannot carry)
    is written as text, so that the answer can be sent at all."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {key: _encodable(item, ECHOED_CHARS if key == "input" else None) for key, item in problem.items()}
        for problem in jsonable_encoder(error.errors())
    ]
    return JSONResponse({"detail": problems}, status_code=422)


async def http_error(request: Request, error: Exception) -> Response:
    """FastAPI's own answer, but for a body that is not UTF-8, where it only says it could not parse the
    body: the caller is told which byte is wrong."""
    assert isinstance(error, HTTPException)
    cause = error.__cause__
    if error.status_code == 400 and isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start]
        detail = f"the body is not UTF-8 text: byte {cause.start} is {byte:#04x} (send JSON encoded as UTF-8)"
        return JSONResponse({"detail": detail}, status_code=400)
    return await http_exception_handler(request, error)


def _encodable(value: object, cut: int | None = None) -> object:
    """``value`` as JSON can carry it; with ``cut``, its texts longer than that cut short (the input a 422
    echoes: a 64 KB question need not come back whole)."""
    if isinstance(value, str):
        if cut is not None and len(value) > cut:
            value = f"{value[:cut]}… ({len(value)} characters)"
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_encodable(item, cut) for item in value]
    if isinstance(value, dict):
        return {key: _encodable(item, cut) for key, item in value.items()}
    return value
