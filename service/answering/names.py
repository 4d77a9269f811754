"""The names a question or a sentence gives, held against the documents' and sentences' own.

A filing's sentences say "we" and its name says who, so a name may be given by a document's name rather
than by the sentence; but a report named for two companies speaks of both, and a sentence naming one of
them does not say what the other did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

from indexer.index_files import SentenceRecord
from indexer.terms import joined_names, names_in

# Names each sentence gives, read when a question relies on its document's name for one of its own.
SENTENCE_NAMES_CACHE = 8192


@dataclass(frozen=True)
class Name:
    """One name a text gives, as a stemmed word, held against a sentence's terms by its ``forms``."""

    text: str  # stemmed
    # Only itself: a name is not a prefix-variant of a longer word ("Intel" is not "intelligence").
    forms: frozenset[str]


@dataclass(frozen=True)
class Names:
    """The names a text gives (``Naming.names_of``), read once and held against each document and sentence."""

    names: tuple[Name, ...]
    joined: dict[str, frozenset[str]]  # adjacent names written as one word, with their parts


class Naming:
    """The words naming each document (file name, company, period), and the names its sentences give."""

    def __init__(self, naming_terms: Mapping[str, frozenset[str]], sentences: Sequence[SentenceRecord]) -> None:
        self._naming_terms = naming_terms
        self._names_of_sentence = lru_cache(maxsize=SENTENCE_NAMES_CACHE)(partial(_sentence_names, sentences))

    def naming_terms(self, doc_id: str) -> frozenset[str]:
        """The words naming document ``doc_id`` (file name, company, period); none for a document the index lacks."""
        return self._naming_terms.get(doc_id, frozenset())

    @staticmethod
    def names_of(text: str, first_word: bool = False) -> Names:
        """The names ``text`` gives; read once per text, then held against each document
        (``document_names``) and sentence (``missing_names``). ``first_word``: whether a capitalised first
        word is a name (in a statement, not a question)."""
        names = tuple(Name(name, frozenset({name})) for name in dict.fromkeys(names_in(text, first_word)))
        return Names(names, joined_names(text) if names else {})

    def document_names(self, names: Names, doc_id: str) -> frozenset[str]:
        """Those of ``names`` (and parts of names written together) that the words naming document
        ``doc_id`` hold. Names written together meet a document named by them as one word ("Best Buy",
        BESTBUY_2023_10K)."""
        naming = self.naming_terms(doc_id)
        joined = {part for term, parts in names.joined.items() if term in naming for part in parts}
        return frozenset(joined | {name.text for name in names.names if name.forms & naming})

    def named_by_document_only(
        self, names: Names, given: frozenset[str], sentence: SentenceRecord, doc_id: str
    ) -> list[Name]:
        """Those of the ``given`` names that ``sentence`` does not name while it names another party its
        document is named by: in a report named for Meta and Scale AI, a sentence on Scale AI's clients
        does not say what Meta's clients did. Such names must be in the sentence itself."""
        terms = frozenset(sentence.terms)
        absent = [name for name in names.names if name.text in given and not name.forms & terms]
        if not absent:
            return []
        parties = self._names_of_sentence(sentence.row) & self.naming_terms(doc_id)
        return absent if parties - frozenset().union(*(name.forms for name in absent)) else []

    @staticmethod
    def unnamed(names: Names, given: frozenset[str]) -> list[Name]:
        """Those of ``names`` a document's name does not give (``given``, from ``document_names``)."""
        return [name for name in names.names if name.text not in given]

    @staticmethod
    def missing_names(names: list[Name], sentence_terms: frozenset[str]) -> list[str]:
        """Those of ``names`` that a sentence of ``sentence_terms`` does not name: a passage about Google
        does not answer "What did Amazon do?", and a sentence on what Meta paid does not answer "What
        did Microsoft pay?", even beside one naming Microsoft as a client."""
        return [name.text for name in names if not name.forms & sentence_terms]


def _sentence_names(sentences: Sequence[SentenceRecord], row: int) -> frozenset[str]:
    return frozenset(names_in(sentences[row].text, first_word=True))
