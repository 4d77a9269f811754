"""Extractive, grounded answers: sentences of the retrieved passages, each with its claim's markers.

A cosine score alone cannot tell a question the reports answer from one they merely resemble (a question
about Scale AI's revenue scores high against any sentence about Scale AI). So a sentence must also
*cover* the question: the rare words the question asks about (weighted by how rare they are in the
corpus) must appear in the sentence's claim (the sentences its marker group closes); names and years
that only the document's name gives leave the share. Every number the question names must be in the
passage. Names are held closer: each must be in the sentence itself or in the name of its document, and
when the question names a party its document is not named for, its rare words must be in that sentence
too, as a claim may speak of several companies. A question asking for a kind of thing (an age, a count,
an amount, a date, a name) is answered only by a sentence holding one (``answer_types``). And a sentence
is held to the question as asked (``verification``): every word the question asks with is in it, what it
gives an owner or ties to a party is the question's. Thresholds were measured on the gold set
(``eval/gold.jsonl``).

When no sentence is verified, the answer claims nothing: it lists the sentences that come closest
(``closest``), said to be the closest, and a note saying what the closest one lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from indexer.claims import render_with_group, says_no_information
from indexer.index_files import SentenceRecord
from indexer.terms import content_words
from service.answering.answer_types import Asked, asked_type, asks_why, gives_reason, holds_type, type_terms
from service.answering.closest import CLOSEST_LIMIT, Closest, ClosestRanker
from service.answering.search_index import Hit, SearchIndex
from service.answering.steps import SentenceRanker
from service.answering.verification import ASKING_WORDS, VERB_FORMS, SameWord, owner_conflict, party_conflict, read

if TYPE_CHECKING:
    from service.answering.draft_check import Dropped

# What an unverified answer says, by whether some sentence comes close: never that the reports do not
# answer, which a sentence put in other words may well do.
NOT_VERIFIED = "No sentence of the reports answers this as asked; the closest they come:"
NOTHING_CLOSE = "Nothing in the reports is close to this question."


@dataclass(frozen=True)
class Citation:
    """Where one marker of an answer comes from: the passage (``chunk_id``) and, as ``quote``, the sentence
    carrying it, with its claim's markers."""

    marker: str
    doc_id: str
    chunk_id: str
    quote: str


@dataclass(frozen=True)
class Evidence:
    """Why a sentence was (or was not) good enough, kept for the response and for tuning."""

    sentence: SentenceRecord
    hit: Hit
    similarity: float
    claim_coverage: float
    sentence_coverage: float
    names_found: bool
    # The question names a party its document is not named for: the sentence naming it must say what
    # is asked, as the claim's other sentences may be about someone else.
    judged_alone: bool = False
    # The question's words (as written) the sentence does not hold, and why it speaks of another party.
    unheld: tuple[str, ...] = ()
    conflict: str | None = None
    typed: bool = True  # holds a thing of the kind asked for (a reason, for "why")

    @property
    def coverage(self) -> float:
        """The share of the question's weight (rare words weigh more) that ``verified`` holds to a threshold:
        the sentence's own when it is judged alone, else its claim's."""
        return self.sentence_coverage if self.judged_alone else self.claim_coverage

    @property
    def score(self) -> float:
        """Ranking only: among a claim's sentences, the one holding the question's words comes first."""
        return self.similarity + COVERAGE_WEIGHT * (self.claim_coverage + self.sentence_coverage) / 2


@dataclass(frozen=True)
class Answer:
    """What a question gets: its text (sentences ending with their markers, or a line saying none answers),
    whether it abstained, and what it rests on or comes closest to."""

    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    sources: list[Hit] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    mode: Literal["extractive", "generated"] = "extractive"
    # Draft sentences a model wrote that the passages did not support, and why the answer is not
    # the generated one when it was asked for.
    dropped: list[Dropped] = field(default_factory=list)
    note: str | None = None
    # When nothing (or a part of a question) is verified: the sentences that come closest, best first.
    closest: list[Closest] = field(default_factory=list)


COVERAGE_WEIGHT = 0.5


class Answerer:
    """The extractive reader (a ``Reader``): sentences of the passages verified to answer the question as
    asked, or, when none is, the closest ones (``ranker``)."""

    def __init__(
        self,
        min_similarity: float = 0.3,
        min_coverage: float = 0.5,
        max_sentences: int = 3,
        similarity_margin: float = 0.1,
        duplicate_similarity: float = 0.9,
        ranker: SentenceRanker | None = None,
    ) -> None:
        """``ranker``: orders the closest sentences when none is verified."""
        self.min_similarity = min_similarity
        self.min_coverage = min_coverage
        self.max_sentences = max_sentences
        self.similarity_margin = similarity_margin
        self.duplicate_similarity = duplicate_similarity
        self.ranker: SentenceRanker = ranker or ClosestRanker()

    def run(self, question: str, question_vector: np.ndarray, hits: list[Hit], index: SearchIndex) -> Answer:
        """The best sentences of ``hits`` verified to answer ``question`` (``verified``), or, when the best is
        not, an abstention listing the closest sentences (``ranker``) and a note on what they lack."""
        asked = asked_type(question)
        weighed = self.gather_evidence(question, question_vector, hits, index, asked)
        ranked = sorted(weighed, key=lambda e: -e.score)
        typed = [e for e in ranked if e.typed]
        if typed and self.verified(typed[0]):
            return verified_answer(self._answering_sentences(typed, index), hits)
        return unverified(
            question, hits, index, self.ranker.rank(weighed, index, question_vector, CLOSEST_LIMIT), weighed
        )

    def gather_evidence(
        self, question: str, question_vector: np.ndarray, hits: list[Hit], index: SearchIndex, asked: Asked | None
    ) -> list[Evidence]:
        """Every answer-worthy sentence of the retrieved passages, with its similarity and coverage and
        what it lacks to answer the question as asked."""
        vocabulary, naming = index.vocabulary, index.naming
        words = list({term: written for written, term in content_words(question)}.items())
        terms = [term for term, _ in words]
        in_corpus = [vocabulary.variants(t) for t in terms]
        variants = [forms | {t} for t, forms in zip(terms, in_corpus)]
        # What a sentence must hold of each word: any of its forms, irregular ones too ("bought" for "buy").
        held_as = [forms | VERB_FORMS.get(t, frozenset()) for t, forms in zip(terms, variants)]
        weights = [vocabulary.idf(v) for v in variants]  # Python floats: summed per sentence, where numpy's are slow
        names = naming.names_of(question)
        asking = read(question, question=True)
        same = SameWord(dict(zip(terms, variants)))
        kind_words = type_terms(asked)
        why = asked is None and asks_why(question)
        seen: set[int] = set()
        evidence: list[Evidence] = []
        for hit in hits:
            sentences = [s for s in index.sentences_of(hit.chunk) if s.kind != "heading" and s.row not in seen]
            if not sentences:
                continue
            seen.update(s.row for s in sentences)
            similarities = index.sentence_vectors[[s.row for s in sentences]] @ question_vector
            # Numbers the question gives must be in the passage, and names in the sentence unless the
            # document is named by them, however similar it reads.
            numbers_found = not index.missing_numbers(question, hit.chunk)
            given = naming.document_names(names, hit.chunk.doc_id)
            unnamed = naming.unnamed(names, given)
            named = _named_by_document(terms, in_corpus, given, naming.naming_terms(hit.chunk.doc_id))
            for sentence, similarity in zip(sentences, similarities):
                claim_terms = index.claim_terms.of(sentence.unit)
                sentence_terms = frozenset(sentence.terms)
                # The document's name does not stand in for a party when the sentence names another.
                required = naming.named_by_document_only(names, given, sentence, hit.chunk.doc_id) if given else []
                # Which question words the document's name gives this sentence, and the names it must write.
                by_document, must_name = named, unnamed
                if required:
                    forms = frozenset().union(*(name.forms for name in required))
                    by_document = [n and t not in forms for t, n in zip(terms, named)]
                    must_name = unnamed + required
                typed = holds_type(asked, sentence.text) if asked else not why or gives_reason(sentence.text)
                heading = index.heading_terms(sentence.row)
                unheld = tuple(
                    written
                    for (term, written), forms, from_name in zip(words, held_as, by_document)
                    if not (from_name or forms & sentence_terms or term in heading or term in ASKING_WORDS)
                    and not (typed and term in kind_words)
                )
                statement = read(sentence.text, question=False)
                evidence.append(
                    Evidence(
                        sentence,
                        hit,
                        float(similarity),
                        _coverage(variants, weights, claim_terms, by_document),
                        _coverage(variants, weights, sentence_terms, by_document),
                        numbers_found and not naming.missing_names(must_name, sentence_terms),
                        judged_alone=bool(must_name),
                        unheld=unheld,
                        conflict=owner_conflict(asking, statement, same) or party_conflict(asking, statement),
                        typed=typed,
                    )
                )
        return evidence

    def verified(self, evidence: Evidence) -> bool:
        """Whether the sentence answers the question as asked, by itself."""
        return (
            evidence.names_found
            and evidence.typed
            and not evidence.unheld
            and evidence.conflict is None
            and evidence.similarity >= self.min_similarity
            and evidence.coverage >= self.min_coverage
        )

    def _answering_sentences(self, ranked: list[Evidence], index: SearchIndex) -> list[Evidence]:
        """The best sentence, then close runners-up verified by themselves too (a sentence only near the
        answer is padding), that do not repeat it."""
        best = ranked[0]
        chosen = [best]
        for candidate in ranked[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if candidate.similarity < best.similarity - self.similarity_margin or not self.verified(candidate):
                continue
            if candidate.sentence_coverage < self.min_coverage:
                continue
            vector = index.sentence_vectors[candidate.sentence.row]
            if any(float(vector @ index.sentence_vectors[c.sentence.row]) >= self.duplicate_similarity for c in chosen):
                continue
            chosen.append(candidate)
        return chosen


def _named_by_document(
    terms: list[str], in_corpus: list[frozenset[str]], given: frozenset[str], naming: frozenset[str]
) -> list[bool]:
    """Which question words the document's name gives: who and when the question asks about (the names
    it is named by, years, words no sentence of the corpus uses, such as a company a filing calls
    "we"), not what (a file named "deal-report" does not answer every question about a deal)."""
    return [t in given or ((t[:1].isdigit() or not forms) and t in naming) for t, forms in zip(terms, in_corpus)]


def _coverage(variants: list[frozenset[str]], weights: list[float], terms: frozenset[str], named: list[bool]) -> float:
    """Share of the question's weight (rare words weigh more) whose words appear in ``terms``. A word
    the document's name gives (``named``) and ``terms`` lack leaves the share: it is known, and its
    weight must not stand in for what is asked (a company named only in a file name is the rarest word
    of all)."""
    found = [bool(v & terms) for v in variants]
    total = sum(w for w, f, n in zip(weights, found, named) if f or not n)
    if total <= 0:
        return 0.0
    return sum(w for w, f in zip(weights, found) if f) / total


def unused_words(question: str, hits: list[Hit], index: SearchIndex) -> tuple[str | None, list[str]]:
    """Which words of an unanswered question no sentence of the reports uses (nor the name of a document
    retrieved for it), said in a note, and the words themselves. A user who sees it knows what to
    change, rather than guessing the reports' wording."""
    # The words naming each document, and the question's names it writes as one ("Lockheed Martin",
    # LOCKHEEDMARTIN_2020_10K).
    naming = index.naming
    names = naming.names_of(question)
    doc_ids = {hit.chunk.doc_id for hit in hits}
    given = frozenset().union(*(naming.naming_terms(d) | naming.document_names(names, d) for d in doc_ids))
    words = content_words(question)
    unused = list(dict.fromkeys(w for w, t in words if not index.vocabulary.variants(t) and t not in given))
    if not unused:
        return None, []
    listed = _listed(unused)
    return f"no sentence of the reports uses the word{'s' if len(unused) > 1 else ''} {listed}", unused


def _listed(words: Sequence[str]) -> str:
    """``"a"``, ``"a" or "b"``, ``"a", "b" or "c"``."""
    quoted = [f'"{word}"' for word in words]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def unverified(
    question: str, hits: list[Hit], index: SearchIndex, closest: list[Closest], weighed: list[Evidence]
) -> Answer:
    """The answer when no sentence is verified: the closest sentences (their evidence kept), or that
    nothing is close, and a note saying why."""
    by_row = {e.sentence.row: e for e in weighed}
    evidence = [by_row[c.sentence.row] for c in closest]
    return Answer(
        NOT_VERIFIED if closest else NOTHING_CLOSE,
        abstained=True,
        sources=hits,
        evidence=evidence,
        note=unverified_note(question, hits, index, closest, evidence),
        closest=closest,
    )


def unverified_note(
    question: str, hits: list[Hit], index: SearchIndex, closest: list[Closest], evidence: list[Evidence]
) -> str:
    """Why nothing is verified: what the closest sentence lacks, and the question's words no sentence of the
    reports uses (a typo, a word the reports put otherwise, or a thing they never mention)."""
    unused, words = unused_words(question, hits, index)
    if not closest:
        return unused or "no sentence of the retrieved passages comes close to this question"
    best = evidence[0]
    if says_no_information(best.sentence.text):
        line = best.sentence.text
        return f'the report says it has no information on this: "{line}" ({best.sentence.doc_id})'
    # Words no report uses are said once, as such.
    unheld = [word for word in best.unheld if word not in words]
    if unused and not unheld and not best.conflict:
        return unused
    lack = f"the closest sentence {lacks(replace(best, unheld=tuple(unheld)))}"
    return f"{lack}; {unused}" if unused else lack


def lacks(evidence: Evidence) -> str:
    """What ``evidence``'s sentence lacks to answer the question as asked, said after "the closest sentence"."""
    if evidence.unheld:
        return f"does not say {_listed(evidence.unheld)}"
    if evidence.conflict:
        return evidence.conflict
    if not evidence.typed:
        return "does not hold the kind of thing the question asks for"
    if not evidence.names_found:
        return "does not name every party the question names"
    return "is not close enough to the question to be taken as its answer"


def verified_answer(chosen: list[Evidence], sources: list[Hit], note: str | None = None) -> Answer:
    """The answer ``chosen`` sentences make: each once, in the report's order, each ending with its
    claim's markers, and one citation per marker."""
    ordered = sorted({e.sentence.row: e for e in chosen}.values(), key=lambda e: e.sentence.row)
    return Answer(
        text=" ".join(render_with_group(e.sentence.text, e.sentence.group) for e in ordered),
        abstained=False,
        citations=citations_for([(e.sentence, e.hit) for e in ordered]),
        sources=sources,
        evidence=ordered,
        note=note,
    )


def citations_for(supports: list[tuple[SentenceRecord, Hit]]) -> list[Citation]:
    """One citation per marker in the answer, pointing at the passage whose sentence carries it."""
    citations: dict[str, Citation] = {}
    for sentence, hit in supports:
        quote = render_with_group(sentence.text, sentence.group)
        for marker in sentence.markers:
            citations.setdefault(marker, Citation(marker, sentence.doc_id, hit.chunk.chunk_id, quote))
    return list(citations.values())
