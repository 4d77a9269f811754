"""``POST /ask``: a question answered with the reports' own sentences, their markers and citations."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import GUARDED_JSON, ReadyQADep
from service.api.errors import QUESTION_ERRORS
from service.api.schemas import AskRequest, AskResponse

router = APIRouter()


@router.post("/ask", response_model=AskResponse, dependencies=GUARDED_JSON, responses=QUESTION_ERRORS)
async def ask(request: AskRequest, qa: ReadyQADep) -> AskResponse:
    """Answer a question from the reports: each sentence ends with the markers of the claims it rests on, and
    each citation quotes the sentence its marker stands for. When no sentence is verified to answer the
    question as asked, ``abstained`` is true and ``closest`` lists where the reports come closest."""
    qa.check_mode(request.mode)  # ModeUnavailable (a 400) before any work
    return AskResponse.of(
        await qa.ask_async(request.question, request.top_k, request.history, request.mode, request.where)
    )
