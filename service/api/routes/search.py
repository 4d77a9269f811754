"""``GET /search``: the passages closest to a query, best first, each with the markers it carries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.answering.filters import COMPANY, DOC_PREFIX, MAX_DOC_PREFIX, PERIOD, DocumentFilter
from service.api.deps import GUARDED, ReadyQADep
from service.api.errors import documented
from service.api.schemas import MAX_QUESTION_CHARS, MAX_TOP_K, Company, Period, Question, SearchResponse, Source

router = APIRouter()


@router.get("/search", response_model=SearchResponse, dependencies=GUARDED, responses=documented(401, 422, 429, 503))
async def search(
    qa: ReadyQADep,
    q: Annotated[Question, Query(description=f"the query: 1 to {MAX_QUESTION_CHARS} characters, trimmed")],
    k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description="how many passages")] = 5,
    doc_prefix: Annotated[str | None, Query(min_length=1, max_length=MAX_DOC_PREFIX, description=DOC_PREFIX)] = None,
    company: Annotated[Company | None, Query(description=COMPANY)] = None,
    period: Annotated[Period | None, Query(description=PERIOD)] = None,
) -> SearchResponse:
    """The ``k`` passages closest to ``q`` among the documents the filters admit, best first, each with the
    markers it carries."""
    where = DocumentFilter(doc_prefix, company, period)
    return SearchResponse(results=[Source.of(hit) for hit in await qa.search_async(q, k, where)])
