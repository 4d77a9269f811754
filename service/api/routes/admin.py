"""``POST /admin/reload``: the index on disk reloaded on an operator's request (service/api/reload.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from service.api.access import key_hash, matches, presented_key, unauthorized
from service.api.deps import AccessDep, QADep
from service.api.errors import documented
from service.api.reload import reload_logged, reload_other_workers
from service.api.schemas import ReloadResult

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
async def reload(request: Request, qa: QADep, _: AdminDep) -> ReloadResult:
    """Load the index on disk and serve it from now on (in every worker: this one answers once it has)."""
    index = await run_in_threadpool(reload_logged, qa, "admin")
    reload_other_workers(request.app.state.supervisor)
    return ReloadResult(status="reloaded", documents=len(index.data.documents), chunks=index.size)
