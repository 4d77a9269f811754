"""One JSON log line and one metrics observation per request, under a request id the client sees.

A client's ``X-Request-ID`` is kept when it is a sane token (so a request can be followed through a
proxy); otherwise one is made. The id is echoed in the response. Only the path is logged, never the
query string (it holds the question) nor a key: the client appears as a short hash of its key.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
WORKER_HEADER = "X-Worker"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger("citeqa.access")


class RequestLog:
    """``worker``: the process id of this worker when several answer on one port, sent as ``X-Worker``
    and logged, so a client or a log line says which one answered."""

    def __init__(self, app: ASGIApp, metrics: Metrics, worker: int | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self._worker_header = [(WORKER_HEADER.lower().encode(), str(worker).encode())] if worker else []
        self.worker = worker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope["citeqa.request_id"] = request_id
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped

        async def send_with_id(message: Message) -> None:
            """Pass the response on with ``X-Request-ID`` (and ``X-Worker``) added, keeping its status for the log."""
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *self._worker_header,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            fields = {
                "event": "request",
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "request_id": request_id,
                "client": scope.get("state", {}).get("client"),
                **({"worker": self.worker} if self.worker else {}),
            }
            access_log.info("%s %s %s", scope["method"], scope["path"], status, extra={"fields": fields})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


def _route(scope: Scope) -> str:
    """The route's template (``/ask``), so metrics do not grow a label per path a client invents. A
    request refused before routing (a body too large) is labelled by its path when that is a route."""
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path", "unmatched"))
    app = scope.get("app")
    if app is not None and scope["path"] in app.openapi()["paths"]:
        return str(scope["path"])
    return "unmatched"
