"""The corpus's words as answers weigh them: which stored terms are forms of a question's word, and how rare
each is. A question says "regulators", a report "regulatory"; a word every claim uses tells nothing."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

# Stems sharing this many leading letters may be variants of one word ("regul", "regulatori"),
# but not fewer: "open" and "openai" are different words.
_PREFIX = 5


class Vocabulary:
    """Built once per index from the number of claims each term appears in (``frequency``, out of ``claims``)."""

    def __init__(self, frequency: Mapping[str, int], claims: int) -> None:
        self._df = frequency
        self._units = max(claims, 1)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for term in frequency:
            if len(term) >= _PREFIX:
                self._by_prefix[term[:_PREFIX]].append(term)

    def variants(self, term: str) -> frozenset[str]:
        """Corpus terms that are forms of ``term``: equal stems, or one a prefix-variant of the other."""
        if term[:1].isdigit() or len(term) < _PREFIX:
            return frozenset({term}) if term in self._df else frozenset()
        return frozenset(t for t in self._by_prefix.get(term[:_PREFIX], ()) if _same_word(term, t))

    def idf(self, variants: frozenset[str]) -> float:
        """Rarity of a question term across claims; a term the corpus never uses is rarest of all."""
        frequency = max((self._df.get(t, 0) for t in variants), default=0)
        return math.log((self._units + 1) / (frequency + 0.5))


def _same_word(a: str, b: str) -> bool:
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return a == b or common >= max(_PREFIX, min(len(a), len(b)) - 2)
