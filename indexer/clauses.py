"""The clauses of a long sentence, embedded apart from it.

A sentence joining two statements ("Scale AI will continue independent operation, but its cooperation
prospects with clients like Microsoft and Google are uncertain") reads, as one vector, like neither: a
question about one of them ("which customers' future with Scale got shaky?") finds it only among other
sentences. Each clause's own vector is kept beside the sentence's (``CLAUSE_SLOTS`` a sentence), so a
question can come close to the part of a sentence it asks about. Embedded at index time only.
"""

from __future__ import annotations

import re

# Slots per sentence for its clauses' vectors; a sentence of more clauses has the rest in its last slot.
CLAUSE_SLOTS = 3
# Where a clause starts: after a comma before a conjunction or a participle, or after a semicolon.
_BOUNDARY = re.compile(
    r",\s+(?=(?:but|while|and|which|whereas|although|though|so|yet)\b)|;\s+|,\s+(?=[a-z]+ing\b)", re.IGNORECASE
)
_MIN_WORDS = 3


def clauses_of(sentence: str) -> list[str]:
    """The clauses of ``sentence`` worth a vector of their own: none when it is one clause."""
    parts = [part.strip() for part in _BOUNDARY.split(sentence)]
    kept = [part for part in parts if len(part.split()) >= _MIN_WORDS]
    if len(kept) < 2:
        return []
    if len(kept) > CLAUSE_SLOTS:
        kept = kept[: CLAUSE_SLOTS - 1] + [", ".join(kept[CLAUSE_SLOTS - 1 :])]
    return kept
