"""Questions that ask two things ("What did the stake cost, and who runs the lab now?"): each part is
retrieved and answered by itself, so the passage answering one part does not crowd out the other's."""

from __future__ import annotations

import re

from indexer.terms import content_terms

# Where a second question starts: a comma, "and", a semicolon or a question mark, then a question word.
_QUESTION_WORDS = (
    r"what|which|who|whom|whose|why|how|when|where|is|are|was|were|do|does|did|will|would|can|could|has|have|had|"
    r"should|may|might"
)
_SECOND_QUESTION = re.compile(
    rf"(?:\s*[,;]\s*(?:and\s+)?|\s+and\s+|\?\s+)(?=(?:{_QUESTION_WORDS})\b)", re.IGNORECASE
)
# A part must ask about something of its own: "how and why?" is one question.
_MIN_TERMS = 2


def question_parts(question: str) -> list[str]:
    """The questions ``question`` asks, each as a question of its own; one when it asks one thing."""
    pieces = [piece.strip(" ,;") for piece in _SECOND_QUESTION.split(question.strip())]
    if len(pieces) < 2 or any(len(content_terms(piece)) < _MIN_TERMS for piece in pieces):
        return [question]
    return [piece if piece.endswith("?") else f"{piece}?" for piece in pieces]
