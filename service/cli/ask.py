"""``citeqa ask``: one question answered in-process, printed as text or as ``POST /ask``'s JSON."""

from __future__ import annotations

import argparse
import json

from pydantic import ValidationError

from indexer.errors import InputError
from service.cli.options import request_problem
from service.cli.preflight import check_index
from service.config import Settings


def ask_command(settings: Settings, args: argparse.Namespace) -> int:
    """``citeqa ask``: answer one question in this process and print the answer; 0 once printed."""
    from service.api.schemas import AskRequest, AskResponse

    try:
        request = AskRequest(
            question=args.question,
            top_k=args.top_k,
            mode=args.mode,
            doc_prefix=args.doc_prefix,
            company=args.company,
            period=args.period,
        )
    except ValidationError as error:
        raise InputError(request_problem(error, args.command)) from None
    check_index(settings)
    from service.answering.qa import QuestionAnswering

    qa = QuestionAnswering(settings)
    qa.check_mode(request.mode)
    qa.warm_up()
    response = AskResponse.of(qa.ask(request.question, request.top_k, mode=request.mode, where=request.where))
    if args.json:
        print(json.dumps(response.model_dump(), indent=2, ensure_ascii=False))
        return 0
    print(response.answer)
    for closest in response.closest:
        print(f'  > {closest.text} ({closest.doc_id})')
    if response.note:
        print(f"  ({response.note})")
    # One line per quoted passage with all its markers: a claim cited [1][6] is one quote, not two.
    quoted: dict[tuple[str, str, str], list[str]] = {}
    for citation in response.citations:
        quoted.setdefault((citation.doc_id, citation.chunk_id, citation.quote), []).append(citation.marker)
    for (doc_id, chunk_id, quote), markers in quoted.items():
        print(f"  {''.join(markers)} {doc_id} ({chunk_id}): {quote}")
    return 0
