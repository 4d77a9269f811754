"""``GET /livez`` (the process is up) and ``GET /readyz`` (the model and index are loaded), HEAD too."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.answering.qa import EMPTY_INDEX
from service.api.deps import QADep
from service.api.schemas import Status

router = APIRouter()


# Probes are async, like the other routes: a plain ``def`` runs in the thread pool, where a probe waits
# for a thread (eval/bench/BENCHMARKS.md#async-probes).
@router.get("/livez", response_model=Status)
async def livez() -> Status:
    """The process is up (it answers before the model and index are loaded)."""
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: {"model": Status}})
async def readyz(qa: QADep) -> Status | JSONResponse:
    """Ready once the model and index are loaded, with the index's size; 503 with the reason until then, or
    when they could not be loaded."""
    if qa.state != "ready":
        body = Status(status=qa.state, detail=qa.error or "the model and index are still loading")
        return JSONResponse(body.model_dump(), status_code=503)
    documents = len(qa.index.data.documents)
    return Status(status="ready", documents=documents, chunks=qa.index.size, detail=None if documents else EMPTY_INDEX)


# HEAD too, as uptime monitors and load balancers probe; one operation each in the schema.
for path, probe in (("/livez", livez), ("/readyz", readyz)):
    router.add_api_route(path, probe, methods=["HEAD"], response_model=Status, include_in_schema=False)
