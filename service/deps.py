"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from service.qa import NotReady, QuestionAnswering
from service.search_index import SearchIndex


def get_qa(request: Request) -> QuestionAnswering:
    qa: QuestionAnswering = request.app.state.qa
    return qa


def get_ready_qa(qa: Annotated[QuestionAnswering, Depends(get_qa)]) -> QuestionAnswering:
    """The pipeline, or 503 while the model and index are loading (or failed to load)."""
    try:
        _: SearchIndex = qa.index
    except NotReady as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(error)) from None
    return qa


QADep = Annotated[QuestionAnswering, Depends(get_qa)]
ReadyQADep = Annotated[QuestionAnswering, Depends(get_ready_qa)]
