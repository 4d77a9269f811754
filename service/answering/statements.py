"""What a sentence asserts, read for checking against the passages: its content words, its quantities
with their scale, its months, and whether it negates, hedges or claims certainty.

A model's sentence and the report's sentence it restates differ in words but must agree on these:
"$14.8 million" is not "$14.8 billion", "did not terminate" is not "terminated", "guarantees" is not
"may". Read once per sentence (a passage's sentences are read once per answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from indexer.markers import strip_markers
from indexer.terms import NUMBER, content_terms, numbers_in, stem

# A number and the scale written after it; a table's bare figure (its scale in a header) has none.
_QUANTITY = re.compile(
    rf"({NUMBER.pattern})\s*(%|percent\b|per cent\b|thousand\b|million\b|billion\b|trillion\b|bn\b|mn\b|[kmb]\b)?",
    re.IGNORECASE,
)
_MULTIPLIERS = {
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
}
_SCALES = {
    "percent": "%",
    "per cent": "%",
    "bn": "billion",
    "b": "billion",
    "mn": "million",
    "m": "million",
    "k": "thousand",
}
MONTHS = frozenset("january february march april may june july august september october november december".split())
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Counts written as words are numbers too: "two board seats" states a number.
NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
}
# Read as numbers or months, not as words a support must share.
_NOT_TERMS = frozenset(
    {
        "maymonth",
        *(stem(w) for w in [*NUMBER_WORDS, "percent", "thousand", "million", "billion", "trillion"]),
        # How a figure is stated or computed, not what it is about.
        *(
            stem(w)
            for w in (
                "versus vs compared minus plus less divided times roughly approximately around nearly almost"
            ).split()
        ),
    }
)
# Uncertainty a restatement must keep: "may face investigations" is not "will face investigations".
_HEDGE_PHRASES = re.compile(
    r"\b(?:not (?:yet )?(?:clear|certain|known|sure|settled|decided)|remains? to be seen|open question|"
    r"it is unclear|has yet to|have yet to|yet to be|plans? to|aims? to|intends? to|expects? to)\b"
)
_HEDGES = frozenset(
    """may might could possibly possible potential potentially likely unlikely uncertain uncertainty unclear
    whether perhaps probably expected would""".split()
)
_NEGATIONS = frozenset(
    """not no never nor neither none nothing without cannot can't don't doesn't didn't isn't aren't wasn't
    weren't won't hasn't haven't hadn't avoid avoids avoided denied denies deny refused refuses lack lacks
    lacked absent fails failed fail non""".split()
)
# Certainty no report sentence is restated with unless it says so itself.
_CERTAINTY = frozenset(
    """guarantee guarantees guaranteed guaranteeing definitely certainly surely undoubtedly clearly always
    ensure ensures ensured assured proven inevitable inevitably entire entirely completely fully every all
    already permanently permanent exactly""".split()
)


# Clauses: a negation or a hedge reaches the end of its clause, not the whole sentence ("Although
# minority investments usually avoid reviews, the deal may still face investigations").
_NON = re.compile(r"\bnon[- ]+([a-z]+)")
_CLAUSE = re.compile(r"([,;:()]|\b(?:but|while|although|though|whereas|however|yet|and)\b)")
# A hedge reaches on through the clauses "and" or a comma join to it ("Meta might pursue open source and
# enterprise services"), not past a contrast or a semicolon.
_CARRIES_HEDGE = frozenset({",", "and"})


@dataclass(frozen=True)
class Clause:
    """A part of a sentence that a negation or a hedge reaches: its content words, and whether it negates or
    hedges them."""

    terms: frozenset[str]
    negated: bool
    hedged: bool


@dataclass(frozen=True)
class Statement:
    """What a sentence asserts (``statement``), as the checks hold a draft sentence against its support."""

    text: str
    terms: frozenset[str]
    numbers: frozenset[str]
    # Each number with its scale as written, and its value (a table's bare figure: as written).
    quantities: frozenset[tuple[str, str]]
    values: frozenset[Decimal]
    months: frozenset[str]
    clauses: tuple[Clause, ...]
    certain: frozenset[str]

    @property
    def negated(self) -> frozenset[str]:
        """The terms of its negated clauses."""
        return frozenset(t for c in self.clauses if c.negated for t in c.terms)

    @property
    def affirmed(self) -> frozenset[str]:
        """The terms of its clauses that negate nothing."""
        return frozenset(t for c in self.clauses if not c.negated for t in c.terms)

    @property
    def hedged(self) -> frozenset[str]:
        """The terms of its hedged clauses."""
        return frozenset(t for c in self.clauses if c.hedged for t in c.terms)

    @property
    def asserted(self) -> frozenset[str]:
        """The terms of its clauses that hedge nothing."""
        return frozenset(t for c in self.clauses if not c.hedged for t in c.terms)


@lru_cache(maxsize=8192)
def statement(text: str) -> Statement:
    """What ``text`` asserts, its markers left out; read once per text and kept."""
    plain = strip_markers(text)
    # "May 26" is a month, not a hedge.
    lower = re.sub(r"\bmay(?= \d)", "maymonth", plain.lower().replace("’", "'"))
    words = _WORDS.findall(_HEDGE_PHRASES.sub(" ", lower))
    counted = {NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS}
    quantities = frozenset((number.replace(",", ""), _scale(scale)) for number, scale in _QUANTITY.findall(plain)) | {
        (n, "") for n in counted
    }
    clauses = []
    pieces = _CLAUSE.split(lower)
    carried = False
    for position in range(0, len(pieces), 2):
        clause = pieces[position]
        joined_by = pieces[position - 1] if position else ""
        # "non-voting" negates voting, not the clause it is in.
        prefixed = {t for word in _NON.findall(clause) for t in content_terms(word)}
        clause = _NON.sub(" ", clause)
        terms = frozenset(t for t in content_terms(clause) if not t[:1].isdigit()) - _NOT_TERMS
        clause_words = set(_WORDS.findall(_HEDGE_PHRASES.sub(" ", clause)))
        hedged = bool(_HEDGE_PHRASES.search(clause)) or bool(_HEDGES & clause_words)
        hedged = hedged or (carried and joined_by in _CARRIES_HEDGE)
        carried = hedged
        clauses.append(Clause(terms, bool(_NEGATIONS & clause_words), hedged))
        if prefixed:
            clauses.append(Clause(frozenset(prefixed), True, hedged))
    return Statement(
        text=plain,
        terms=frozenset(t for t in content_terms(lower) if not t[:1].isdigit()) - _NOT_TERMS,
        numbers=frozenset(numbers_in(plain) | counted),
        quantities=quantities,
        values=frozenset(v for v in (value(n, scale) for n, scale in quantities) if v is not None),
        months=frozenset(MONTHS & set(words) - {"may"} | ({"may"} if "maymonth" in words else set())),
        clauses=tuple(c for c in clauses if c.terms),
        certain=frozenset(_CERTAINTY & set(words)),
    )


def value(number: str, scale: str) -> Decimal | None:
    """The amount a number and its scale write: "4.2" "billion" and "4,200,000,000" are one amount."""
    try:
        return Decimal(number.replace(",", "")) * _MULTIPLIERS.get(scale, 1)
    except InvalidOperation:
        return None


def _scale(written: str) -> str:
    lower = written.lower()
    return _SCALES.get(lower, lower)


def is_year(number: str) -> bool:
    """Whether ``number`` is written as a year (1900 to 2099)."""
    return YEAR.fullmatch(number) is not None
