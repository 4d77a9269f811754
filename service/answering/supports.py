"""What a draft sentence may rest on: the statements of the retrieved passages, a table's rows among them.

In a filing's text a table comes apart into lines: a row's label and each of its figures are often lines
of their own ("Net loss", "(5,053)", "(4,290)"), and its years stand in a header that may lie in an
earlier passage. Each row is read back as one statement whose figures carry their years.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import takewhile

from indexer.index_files import SentenceRecord
from indexer.terms import NUMBER, content_terms
from service.answering.acronyms import writes
from service.answering.search_index import Hit, SearchIndex
from service.answering.statements import YEAR, is_year

# A line of a table that is only a figure: "(5,053)", "$", "50,710", "—", "12.5 %".
_FIGURE = re.compile(r"[\s$€£¥()%—–\-.,\d]*")
# How far back in its document a passage's table header is looked for, in lines.
_HEADER_REACH = 400


@dataclass(frozen=True)
class Support:
    """A retrieved sentence (or a table's row read as one) that a draft sentence may rest on, with the passage
    it was retrieved in."""

    sentence: SentenceRecord
    hit: Hit
    # A table row's figures with the year of each: ("5053", "2022").
    columns: tuple[tuple[str, str], ...] = ()


def supports_in(hits: list[Hit], index: SearchIndex) -> list[Support]:
    """What a draft sentence may rest on: the statements of the retrieved passages, each once."""
    seen: set[int] = set()
    candidates: list[Support] = []
    for hit in hits:
        for sentence, columns in _statements_of(_with_header(index, hit), hit.chunk.first_sentence):
            if sentence.row not in seen:
                seen.add(sentence.row)
                candidates.append(Support(sentence, hit, columns))
    return candidates


def _with_header(index: SearchIndex, hit: Hit) -> Sequence[SentenceRecord]:
    """A passage's sentences and those of its document before it, up to a table's header: a table
    split across passages keeps its years in the first."""
    start = hit.chunk.first_sentence
    while (
        start > 0
        and hit.chunk.first_sentence - start < _HEADER_REACH
        and index.sentences[start - 1].doc_id == hit.chunk.doc_id
    ):
        start -= 1
    return index.sentences[start : hit.chunk.end_sentence]


def _statements_of(
    sentences: Sequence[SentenceRecord], first_row: int
) -> Iterator[tuple[SentenceRecord, tuple[tuple[str, str], ...]]]:
    """The sentences that state something, each with the year of each of its figures where a table
    says it: text and claims, and a table's rows (in a filing's text a row's label and each of its
    figures are often lines of their own: "Net loss", "(5,053)", "(4,290)"), read as one statement
    whose k-th figure is the k-th year of the table's header. Titles say nothing a draft could rest on."""
    years: list[str] = []
    for i, sentence in enumerate(sentences):
        if sentence.kind != "heading":
            if sentence.row >= first_row:
                yield sentence, ()
            continue
        if _FIGURE.fullmatch(sentence.text) or not any(c.isalpha() for c in sentence.text):
            continue
        figures = list(takewhile(lambda s: s.kind == "heading" and _FIGURE.fullmatch(s.text), sentences[i + 1 :]))
        if figures and all(
            is_year(f.text.strip()) for f in figures
        ):  # the header: "Years ended ...", "2022", "2021"
            years = [y for line in [sentence, *figures] for y in YEAR.findall(line.text)]
            continue
        values = [n for line in [sentence, *figures] for n in NUMBER.findall(line.text) if not is_year(n)]
        if not figures and len(values) < 2:
            years += [y for y in YEAR.findall(sentence.text) if y not in years]
            continue
        if not values or sentence.row < first_row:
            continue
        text = " ".join([sentence.text, *(f.text for f in figures)])
        row = replace(sentence, text=text, terms=sentence.terms + tuple(t for f in figures for t in f.terms))
        columns = tuple(zip((v.replace(",", "") for v in values), years)) if len(values) == len(years) > 1 else ()
        yield row, columns


def with_acronyms(support: Support, phrases: dict[str, str]) -> Support:
    """``support`` holding each acronym whose words it writes: "diluted earnings per share" says
    "diluted EPS"."""
    text = support.sentence.text
    said = [t for acronym, phrase in phrases.items() if writes(text, phrase) for t in content_terms(acronym)]
    if not said:
        return support
    return replace(support, sentence=replace(support.sentence, terms=support.sentence.terms + tuple(said)))


def terms_of(support: Support) -> frozenset[str]:
    """The terms ``support`` holds, those of the acronyms it spells out included (``with_acronyms``)."""
    return frozenset(support.sentence.terms)
