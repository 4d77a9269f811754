"""Content words, stemmed: the lexical side of matching a question with a passage."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from indexer.markers import strip_markers

# Function words and the words that frame a question rather than name what it asks about.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own same
    she should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom whose why will
    with would you your yours yourself yourselves may might must shall according report reports say
    says said tell mention mentioned describe described much many kind sort way ever however although
    also meanwhile moreover furthermore additionally overall thus therefore yes""".split()
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def content_terms(text: str) -> list[str]:
    """Stemmed content words in order; numbers keep their digits ("14.8", "2025", "49")."""
    terms: list[str] = []
    for word in _WORD.findall(strip_markers(text).lower()):
        word = word.replace("’", "'").removesuffix("'s")
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        if any(ch.isdigit() for ch in word):
            terms.append(word.replace(",", ""))
        else:
            terms.append(stem(word.replace("'", "")))
    return terms


def numbers_in(text: str) -> set[str]:
    """Numbers written in ``text`` ("FY2022" -> "2022", "$14.8 billion" -> "14.8"), markers left out."""
    return {n.replace(",", "") for n in _NUMBER.findall(strip_markers(text))}


def names_in(text: str, first_word: bool = False) -> list[str]:
    """Stemmed names: capitalised words (past the first unless ``first_word``: a question's first word
    is capitalised by position) and words with inner capitals (OpenAI, xAI)."""
    names: list[str] = []
    for position, word in enumerate(_WORD.findall(strip_markers(text))):
        if any(ch.isdigit() for ch in word) or word.lower() in STOPWORDS:
            continue
        inner_capital = any(ch.isupper() for ch in word[1:])
        if inner_capital or ((position > 0 or first_word) and word[:1].isupper()):
            names.extend(content_terms(word))
    return names
