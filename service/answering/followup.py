"""Follow-up questions: "who will lead it?" is read with the subject of the question before it.

A follow-up that points back ("it", "they", "this") or is too short to stand alone names nothing the
index can match. It is asked together with the names the previous question gave (its subject), so
that retrieval finds the passage about them and the answerer's coverage check counts them as asked.
Only the names are added, not the whole previous question: its other words ("how much", "pay")
would pull the answer back to the previous one.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from indexer.terms import content_terms, names_in

POINTERS = frozenset("it its they them their theirs he him his she her hers this that these those".split())
# A question of this many words or fewer ("And the founder?") is taken as a follow-up too.
SHORT = 3


def resolve(question: str, history: Sequence[str]) -> str:
    """``question`` as retrieval and the answerer read it, given the conversation's earlier questions."""
    previous = ""
    for earlier in history:
        previous = _with_subject(earlier, previous)
    return _with_subject(question, previous)


def is_follow_up(question: str) -> bool:
    """Points back or is very short, and names nothing of its own (a question naming a company stands alone)."""
    words = [w.strip(string.punctuation).lower() for w in question.split()]
    return not names_in(question) and (len(words) <= SHORT or any(w in POINTERS for w in words))


def _with_subject(question: str, previous: str) -> str:
    if not previous or not is_follow_up(question):
        return question
    return f"{question} {_subject(previous)}"


def _subject(question: str) -> str:
    """The names ``question`` gives, as written ("Meta Scale AI"); all of it when it names nothing."""
    names = set(names_in(question))
    words = [w.strip(string.punctuation) for w in question.split() if names.intersection(content_terms(w))]
    return " ".join(words) or question
