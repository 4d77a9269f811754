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
# A number as written: digits with decimal points or thousands commas ("14.8", "4,200,000,000").
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_stemmer = snowballstemmer.stemmer("english")
# Inside a word: lower to upper case ("PepsiCo"), an acronym before a word ("JPMorgan"), letters to
# digits and back ("FY2022", "3M", "2023Q2").
_WORD_PARTS = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
# A fiscal year written with two digits ("FY22") is that year ("2022"); "FY2022" splits by itself.
_SHORT_FISCAL_YEAR = re.compile(r"^fy(\d{2})$")
_JOINED_MAX = 3


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case ``word``, cached: the same words recur in every passage and
    question."""
    return _stemmer.stemWord(word)


def content_terms(text: str) -> list[str]:
    """Stemmed content words in order; numbers keep their digits ("14.8", "2025", "49")."""
    return [term for _, term in content_words(text)]


def content_words(text: str) -> list[tuple[str, str]]:
    """Content words in order, each as written and as its term (``content_terms``)."""
    words: list[tuple[str, str]] = []
    for written in _WORD.findall(strip_markers(text)):
        word = written.lower().replace("’", "'").removesuffix("'s")
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        words.append((written[: len(word)], _term(word)))
    return words


def _term(word: str) -> str:
    """One lower-case word as a term: numbers without their thousands commas, other words stemmed."""
    if any(ch.isdigit() for ch in word):
        return word.replace(",", "")
    return stem(word.replace("'", ""))


def lexical_terms(text: str, joined: bool = False) -> list[str]:
    """Terms for BM25: ``content_terms``, plus the parts of words that join several ("FY2022" ->
    "fy2022", "fy", "2022"; "3M_2018_10K" -> "3m", "3", "m", "2018", "10k", "10", "k"), so a question's
    "FY2022" meets a file named "..._2022_...". ``joined``: also adjacent words written as one
    ("Best Buy" -> "bestbuy"), as names are in file names; for questions, not for indexed text."""
    terms: list[str] = []
    words: list[str] = []
    for word in _WORD.findall(strip_markers(text).replace("’", "'")):
        lower = word.lower().removesuffix("'s")
        if lower in STOPWORDS:
            continue
        words.append(lower)
        parts = [] if any(ch in word for ch in ".,'") else [p.lower() for p in _WORD_PARTS.split(word) if p]
        if len(parts) > 1:
            terms.append(_term(lower))
            terms.extend(_term(part) for part in parts)
        elif len(lower) > 1 or lower.isdigit():
            terms.append(_term(lower))
        short_year = _SHORT_FISCAL_YEAR.match(lower)
        if short_year:
            terms.append(full_year(short_year[1]))
    if joined:
        for size in range(2, _JOINED_MAX + 1):
            for start in range(len(words) - size + 1):
                together = "".join(words[start : start + size])
                if together.isalpha():
                    terms.append(_term(together))
    return terms


def full_year(two_digits: str) -> str:
    """The year a fiscal year written with two digits means: "22" -> "2022", "98" -> "1998"."""
    return ("20" if int(two_digits) < 50 else "19") + two_digits


def numbers_in(text: str) -> set[str]:
    """Numbers written in ``text`` ("FY2022" -> "2022", "$14.8 billion" -> "14.8"), markers left out."""
    return {n.replace(",", "") for n in NUMBER.findall(strip_markers(text))}


def names_in(text: str, first_word: bool = False) -> list[str]:
    """Stemmed names: capitalised words (past the first unless ``first_word``: a question's first word
    is capitalised by position) and words with inner capitals (OpenAI, xAI)."""
    return [name for _, word in _name_words(text, first_word) for name in content_terms(word)]


def whole_names(text: str, first_word: bool = False) -> list[frozenset[str]]:
    """Each name as a whole, adjacent name words together ("Alexandr Wang" -> {"alexandr", "wang"});
    ``first_word`` as for ``names_in``."""
    runs: list[tuple[int, set[str]]] = []
    for position, word in _name_words(text, first_word):
        if not runs or runs[-1][0] != position - 1:
            runs.append((position, set()))
        runs[-1] = (position, runs[-1][1] | set(content_terms(word)))
    return [frozenset(parts) for _, parts in runs if parts]


def joined_names(text: str) -> dict[str, frozenset[str]]:
    """Names next to each other written as one word, as file names write them ("Best Buy's" ->
    "bestbuy"), each with its parts' stems ("best", "buy"). A capitalised first word may start one
    ("Best Buy closed ...")."""
    words = _name_words(text, first_word=True)
    joined: dict[str, frozenset[str]] = {}
    for start in range(len(words)):
        for size in range(2, _JOINED_MAX + 1):
            run = words[start : start + size]
            if len(run) < size or run[-1][0] - run[0][0] != size - 1:  # not adjacent in the text
                break
            together = "".join(word.lower().replace("’", "'").removesuffix("'s") for _, word in run)
            if together.isalpha():
                joined[_term(together)] = frozenset(name for _, word in run for name in content_terms(word))
    return joined


def _name_words(text: str, first_word: bool) -> list[tuple[int, str]]:
    """(position among the text's words, word) of each word that is a name (see ``names_in``)."""
    found: list[tuple[int, str]] = []
    for position, word in enumerate(_WORD.findall(strip_markers(text))):
        if any(ch.isdigit() for ch in word) or word.lower() in STOPWORDS:
            continue
        inner_capital = any(ch.isupper() for ch in word[1:])
        if inner_capital or ((position > 0 or first_word) and word[:1].isupper()):
            found.append((position, word))
    return found
