"""Hot reload of the index: ``POST /admin/reload`` (with the admin key) and SIGHUP to `citeqa serve`,
reaching every worker when there are several (service/serving.py).

Both load the index on disk aside and swap it in (``QuestionAnswering.reload``); requests running
meanwhile finish on the old index, and an index that cannot be loaded leaves the old one serving.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from indexer.index_files import IndexUnavailable
from service.api.access import key_hash, matches, presented_key, unauthorized
from service.api.deps import AccessDep, QADep
from service.api.errors import documented
from service.answering.qa import QuestionAnswering
from service.api.schemas import ReloadResult
from service.answering.search_index import SearchIndex

logger = logging.getLogger("citeqa")

router = APIRouter(prefix="/admin")


async def admin(request: Request, access: AccessDep) -> None:
    """404 when no admin key is configured (the route does not exist then), 429 past the rate limit of
    the caller's address (each reload reads a whole index, and guessing the key must be slow too), 401
    without a key, 403 with a wrong one."""
    configured = request.app.state.settings.admin_key
    if configured is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
    access.throttle(f"admin:{request.client.host if request.client else 'unknown'}")
    given = presented_key(request)
    if given is None:
        raise unauthorized("the admin key is required: send Authorization: Bearer KEY")
    if matches(given, [configured.get_secret_value()]) is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="the admin key is not valid")
    request.state.client = f"admin:{key_hash(given)}"


AdminDep = Annotated[None, Depends(admin)]


@router.post(
    "/reload",
    response_model=ReloadResult,
    responses=documented(401, 403, 404, 409, 429),
)
async def reload(request: Request, qa: QADep, _: AdminDep) -> ReloadResult | JSONResponse:
    """Load the index on disk and serve it from now on (in every worker: this one answers once it has)."""
    index = await run_in_threadpool(reload_logged, qa, "admin")
    if isinstance(index, str):
        return JSONResponse({"detail": f"the index was not reloaded: {index}"}, status_code=409)
    reload_other_workers(request.app.state.supervisor)
    return ReloadResult(status="reloaded", documents=len(index.data.documents), chunks=index.size)


def reload_other_workers(supervisor: int | None) -> None:
    """SIGHUP to the ``supervisor`` of several workers, which forwards it to all but this one; nothing when
    this process serves alone, or its supervisor is gone (the process id may be another's by now)."""
    if supervisor is not None and os.getppid() == supervisor:
        os.kill(supervisor, signal.SIGHUP)


def reload_logged(qa: QuestionAnswering, trigger: str) -> SearchIndex | str:
    """The index now served, or why the one on disk was refused."""
    try:
        index = qa.reload()
    except (IndexUnavailable, ValueError) as error:
        logger.error("index reload (%s) failed, the previous index keeps serving: %s", trigger, error)
        return str(error)
    logger.info("index reloaded (%s): %d documents, %d chunks", trigger, len(index.data.documents), index.size)
    return index


def reload_on_sighup(qa: QuestionAnswering) -> None:
    """SIGHUP reloads in a thread of its own, so the server keeps answering while the index loads."""

    def handle(signum: int, frame: object) -> None:
        threading.Thread(target=reload_logged, args=(qa, "SIGHUP"), name="citeqa-reload", daemon=True).start()

    signal.signal(signal.SIGHUP, handle)
