"""What an acronym stands for, as the passages write it.

A model writes "diluted EPS" where a filing's sentence says "diluted earnings per share" (and defines
the acronym once, elsewhere): read word by word, that sentence lacks the draft's "EPS". An acronym
whose letters begin consecutive words of the passages stands for those words, and a sentence writing
them writes the acronym.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from indexer.terms import content_terms

# Three letters or more: two ("AI", "US") begin too many word pairs by chance.
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")
_WORD = re.compile(r"[A-Za-z]+")
# Words of one phrase: nothing but spaces or a hyphen between them.
_JOIN = re.compile(r"[ \t-]+")


def acronym_phrases(text: str, passages: Iterable[str]) -> dict[str, str]:
    """The acronyms of ``text`` with the words, in lower case, they stand for in ``passages``
    ("EPS": "earnings per share"); an acronym they do not spell is left out."""
    acronyms = set(_ACRONYM.findall(text))
    if not acronyms:
        return {}
    passages = list(passages)
    phrases = {a: _phrase(a, passages) for a in acronyms}
    return {a: phrase for a, phrase in phrases.items() if phrase}


def writes(text: str, phrase: str) -> bool:
    """Whether ``text`` writes ``phrase`` as one run of words, in any case."""
    run = _JOIN.pattern.join(map(re.escape, phrase.split()))
    return re.search(rf"\b{run}\b", text, re.IGNORECASE) is not None


def _phrase(acronym: str, passages: list[str]) -> str | None:
    """The words, in lower case, whose initials spell ``acronym`` most often in ``passages``."""
    letters = acronym.lower()
    found: Counter[str] = Counter()
    for passage in passages:
        words = list(_WORD.finditer(passage))
        for start in range(len(words) - len(letters) + 1):
            run = words[start : start + len(letters)]
            if (
                all(w.group(0)[0].lower() == letter for w, letter in zip(run, letters))
                and all(_JOIN.fullmatch(passage[a.end() : b.start()]) for a, b in zip(run, run[1:]))
                # "earnings per share", not "for the company": a phrase starts and ends with a content word.
                and content_terms(run[0].group(0))
                and content_terms(run[-1].group(0))
            ):
                found[" ".join(w.group(0).lower() for w in run)] += 1
    return found.most_common(1)[0][0] if found else None
