"""The kind of thing a question asks for (a name, an amount of money, a share, a date, a count, an age),
and whether a sentence holds one the question does not already give.

A sentence naming what a question names can still not answer it: "how old is Alexandr Wang?" is not
answered by the sentence saying he will join Meta. A sentence answers "how old" only with an age, "how
much" only with an amount, "who" only with a name the question does not give, "how many" only with a
count; a near miss asking for a thing the report states nowhere (a headcount, an age, an exact day) finds
no sentence holding one and abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from indexer.markers import strip_markers
from indexer.terms import content_terms, stem, whole_names
from service.answering.statements import MONTHS, YEAR


class AnswerType(Enum):
    """The kinds of thing a question can ask for (``asked_type``): only a sentence holding one of that kind
    answers it (``holds_type``)."""

    NAME = "name"
    MONEY = "money"
    AMOUNT = "amount"  # a bare "how much": money or a share ("how much did sales grow?")
    SHARE = "share"
    DATE = "date"
    DAY = "day"
    COUNT = "count"
    AGE = "age"
    SIZE = "size"  # "how large", "how big": a count or an amount


@dataclass(frozen=True)
class Asked:
    """What a question asks for: the type and whether it asks for an amount per unit ("per-share
    price"), with what the question gives."""

    type: AnswerType
    per_unit: bool
    # What the question gives is no answer: its values of the type asked for, and its terms.
    given_values: frozenset[str]
    given_terms: frozenset[str]


# Sentences whose names and values (amounts, dates, ...) are kept once read.
INSTANCES_CACHE = 65536
_MONTHS = "|".join(sorted(MONTHS))
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)
_SCALE = r"(?:\s?(?:thousand|million|billion|trillion|bn|mn|m|k)\b)?"
_MONEY = re.compile(
    rf"[$€£¥]\s?\d[\d.,]*{_SCALE}|\b(?:usd|eur|gbp|rmb|cny)\s?\d[\d.,]*{_SCALE}"
    rf"|\b\d[\d.,]*{_SCALE}\s?(?:dollars|euros|pounds|yuan)\b",
    re.IGNORECASE,
)
_PER_UNIT = re.compile(r"^\s*(?:per|a|each|/)\s?\w+", re.IGNORECASE)
_SHARE = re.compile(r"\b\d[\d.,]*\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
_DATE = re.compile(rf"{_MONTH.pattern}|{YEAR.pattern}|\b[qh][1-4]\b", re.IGNORECASE)
_DAY = re.compile(
    rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b"
    r"|\b\d{4}-\d\d-\d\d\b",
    re.IGNORECASE,
)
_AGE = re.compile(r"\b\d+[- ]years?[- ]old\b|\baged?\s+\d+\b", re.IGNORECASE)
_COUNT = re.compile(
    r"\b\d[\d,]*(?:\.\d+)?\b"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds|thousands)\b",
    re.IGNORECASE,
)
# A question asking for an amount per unit: "the per-share price", "how much per share", not "per the analyst".
_PER_UNIT_ASKED = re.compile(r"\bper[-\s]+(?!the\b|cent\b)[a-z]")

# The words that, asked about, name the type; what a question asks follows its question word.
_TYPE_WORDS: dict[AnswerType, frozenset[str]] = {
    AnswerType.MONEY: frozenset("price prices cost costs money amount sum paid pay dollars".split()),
    AnswerType.SHARE: frozenset("percentage percent share stake slice portion proportion fraction piece".split()),
    AnswerType.DATE: frozenset("year month quarter time".split()),
    AnswerType.DAY: frozenset("day date".split()),
}
# The words asking "how large": they name the type asked only after "how", not as adjectives ("big clients").
_SIZE_WORDS = frozenset("large big size".split())
_ASKING = re.compile(r"\b(?:what|which)\b|\bhow (?:big|large|much) (?:a|of)\b")
_WORD = re.compile(r"[a-z%]+(?:'[a-z]+)?")
# Between the question word and what it asks about: "what was the price", "how big a slice".
_LEAD_IN = frozenset("is was are were the a an exact exactly big large much of".split())
# Where the words naming what is asked end: "what price target | does the analyst put ...".
_PHRASE_END = frozenset(
    """did does do will would could can has have had should may might must is was are were of in on for
    to from with at by""".split()
)
_PHRASE_WORDS = 3
_OTHER_QUESTION = re.compile(r"\b(?:how|why|when|where|who)\b")
# A question asking yes or no starts with its verb: "does meta's piece of scale come with votes?".
_YES_NO = re.compile(r"\W*(?:is|are|was|were|do|does|did|will|would|can|could|has|have|had|should|may|might|must)\b")


def asked_type(question: str) -> Asked | None:
    """What ``question`` asks for, or None when its answer is not of one of the types (why, how, what
    happened, yes or no)."""
    lower = strip_markers(question).lower().replace("’", "'")
    kind = _kind(lower)
    if kind is None:
        return None
    given = frozenset() if kind is AnswerType.NAME else frozenset(_values(kind, False, lower))
    return Asked(kind, bool(_PER_UNIT_ASKED.search(lower)), given, frozenset(content_terms(question)))


def _kind(lower: str) -> AnswerType | None:
    """The type a lower-case question asks for."""
    if re.search(r"\bhow old\b|\bwhat age\b", lower):
        return AnswerType.AGE
    if re.search(r"\bhow many\b", lower):
        return AnswerType.COUNT
    if re.search(r"\bwho(?:'s|m|se)?\b", lower):
        return AnswerType.NAME
    # The last word naming a type heads the phrase: a "per-share price" is money, a "price target" too;
    # but a time before another word says when, not what ("third-quarter revenue", "year-end cash").
    words = _asked_words(lower)
    for position in reversed(range(len(words))):
        for kind, naming in _TYPE_WORDS.items():
            if words[position] in naming and not (kind is AnswerType.DATE and position < len(words) - 1):
                return kind
    if re.search(r"\bwhen\b", lower):
        return AnswerType.DAY if re.search(r"\bexact(?:ly)?\b", lower) else AnswerType.DATE
    if re.search(r"\bhow much\b", lower):
        return AnswerType.AMOUNT
    if re.search(r"\bhow (?:large|big)\b", lower):
        return AnswerType.SIZE
    return None


def _asked_words(lower: str) -> list[str]:
    """The words naming what ``lower`` asks about: the few after "what", "which" or "how big a" (past
    "is the", "exact", ...), or all of a question written without a question word or a leading verb
    ("meta scale ai price?"); compounds split ("per-share")."""
    found = _ASKING.search(lower)
    if not found and (_OTHER_QUESTION.search(lower) or _YES_NO.match(lower)):
        return []
    words = [w for part in _WORD.findall(lower[found.end() :] if found else lower) for w in part.split("-")]
    picked: list[str] = []
    for word in words:
        if not picked and word in _LEAD_IN:
            continue
        if word in _PHRASE_END or len(picked) == _PHRASE_WORDS:
            break
        if word.endswith("'s"):  # the owner of what is asked: "what was initech's third-quarter revenue"
            picked = []
            continue
        picked.append(word)
    return picked if found else words


_WHY = re.compile(r"\bwhy\b|\bwhat (?:is|was|were|are) the reasons?\b|\bfor what reason\b", re.IGNORECASE)
# A reason as reports write one: "due to concerns", "because", "to strengthen data capabilities".
_REASON = re.compile(
    r"\b(?:due to|because|owing to|thanks to|in order to|so as to|so that|driven by|as a result of|aim(?:s|ed)? to)\b"
    r"|\bto (?!the\b|a\b|an\b|its\b|their\b)[a-z]+(?:e|en|ize|ise|y|ate|ify|ect|ild|ide|ance)\b",
    re.IGNORECASE,
)


def asks_why(question: str) -> bool:
    """Whether ``question`` asks for a reason ("why", "for what reason"): only a sentence giving one answers
    it (``gives_reason``)."""
    return bool(_WHY.search(question))


def gives_reason(sentence: str) -> bool:
    """Whether ``sentence`` states a reason or a purpose: what a "why" question is after."""
    return bool(_REASON.search(strip_markers(sentence)))


def type_terms(asked: Asked | None) -> frozenset[str]:
    """The stems of the words that name the type asked for ("percentage", "price", "date"): a sentence
    holding a thing of that type holds what they ask, in whatever words."""
    if asked is None:
        return frozenset()
    kinds = [asked.type, *((AnswerType.MONEY, AnswerType.SHARE) if asked.type is AnswerType.AMOUNT else ())]
    words = _SIZE_WORDS if asked.type is AnswerType.SIZE else frozenset()
    return frozenset(stem(word) for kind in kinds for word in _TYPE_WORDS.get(kind, words))


def holds_type(asked: Asked, sentence: str) -> bool:
    """Whether ``sentence`` holds a thing of the asked type that the question does not already give. A
    name is given when the question gives any part of it ("Alexandr Wang" by "wang")."""
    if asked.type is AnswerType.NAME:
        return any(not name & asked.given_terms for name in _names(sentence))
    return any(value not in asked.given_values for value in _values(asked.type, asked.per_unit, sentence))


# Read once a sentence and kept: every question asking for a type reads the sentences retrieved for it.
@lru_cache(maxsize=INSTANCES_CACHE)
def _names(sentence: str) -> tuple[frozenset[str], ...]:
    """Each name in ``sentence`` as its words' stems, its first word too (a statement starts with its
    subject: "Nimbus labels data"); months are capitalised but name no one."""
    return tuple(whole_names(_MONTH.sub(" ", strip_markers(sentence)), first_word=True))


@lru_cache(maxsize=INSTANCES_CACHE)
def _values(kind: AnswerType, per_unit: bool, sentence: str) -> tuple[str, ...]:
    """The amounts, shares, dates, days, counts or ages in ``sentence``, as written, in lower case."""
    text = strip_markers(sentence)
    if kind is AnswerType.MONEY:
        amounts = [m for m in _MONEY.finditer(text) if not per_unit or _PER_UNIT.match(text[m.end() :])]
        return tuple(m.group(0).lower() for m in amounts)
    if kind is AnswerType.AMOUNT:
        return _values(AnswerType.MONEY, per_unit, sentence) + _values(AnswerType.SHARE, per_unit, sentence)
    if kind is AnswerType.SIZE:
        return _values(AnswerType.AMOUNT, per_unit, sentence) + _values(AnswerType.COUNT, per_unit, sentence)
    if kind is AnswerType.COUNT:
        # A count is a number that is not an amount, a share, a year or an age.
        for pattern in (_MONEY, _SHARE, YEAR, _AGE):
            text = pattern.sub(" ", text)
    pattern = {
        AnswerType.SHARE: _SHARE,
        AnswerType.DATE: _DATE,
        AnswerType.DAY: _DAY,
        AnswerType.COUNT: _COUNT,
        AnswerType.AGE: _AGE,
    }[kind]
    return tuple(m.group(0).lower() for m in pattern.finditer(text))
