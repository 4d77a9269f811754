"""Extractive, grounded answers: sentences of the retrieved passages, each with its claim's markers.

A cosine score alone cannot tell a question the reports answer from one they merely resemble (a question
about Scale AI's revenue scores high against any sentence about Scale AI). So a sentence must also
*cover* the question: the rare words the question asks about (weighted by how rare they are in the
corpus) must appear in the sentence's claim (the sentences its marker group closes); names and years
that only the document's name gives leave the share. Every number the question names must be in the
passage. Names are held closer: each must be in the sentence itself or in the name of its document, and
when the question names a party its document is not named for, its rare words must be in that sentence
too, as a claim may speak of several companies. A question asking for a kind of thing (an age, a count,
an amount, a date, a name) is answered only by a sentence holding one (``answer_types``). Thresholds were
measured on the gold set (``eval/gold.jsonl``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from indexer.claims import render_with_group
from indexer.index_files import SentenceRecord
from indexer.terms import content_terms, content_words
from service.answering.answer_types import asked_type, holds_type
from service.answering.search_index import Hit, SearchIndex

if TYPE_CHECKING:
    from service.answering.draft_check import Dropped

ABSTENTION = "The reports do not answer this question."


@dataclass(frozen=True)
class Citation:
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

    @property
    def coverage(self) -> float:
        return self.sentence_coverage if self.judged_alone else self.claim_coverage

    @property
    def score(self) -> float:
        """Ranking only: among a claim's sentences, the one holding the question's words comes first."""
        return self.similarity + COVERAGE_WEIGHT * (self.claim_coverage + self.sentence_coverage) / 2


@dataclass(frozen=True)
class Answer:
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


COVERAGE_WEIGHT = 0.5


class Answerer:
    def __init__(
        self,
        min_similarity: float = 0.3,
        min_coverage: float = 0.5,
        max_sentences: int = 3,
        similarity_margin: float = 0.1,
        duplicate_similarity: float = 0.9,
    ) -> None:
        self.min_similarity = min_similarity
        self.min_coverage = min_coverage
        self.max_sentences = max_sentences
        self.similarity_margin = similarity_margin
        self.duplicate_similarity = duplicate_similarity

    def run(self, question: str, question_vector: np.ndarray, hits: list[Hit], index: SearchIndex) -> Answer:
        ranked = sorted(self.weigh(question, question_vector, hits, index), key=lambda e: -e.score)
        asked = asked_type(question)
        typed = [e for e in ranked if asked is None or holds_type(asked, e.sentence.text)]
        if not typed or not self._answers(typed[0]):
            note = unused_words_note(question, hits, index)
            return Answer(ABSTENTION, abstained=True, sources=hits, evidence=ranked[:1], note=note)
        return answer_of(self._choose(typed, index), hits)

    def weigh(self, question: str, question_vector: np.ndarray, hits: list[Hit], index: SearchIndex) -> list[Evidence]:
        """Every answer-worthy sentence of the retrieved passages, with its similarity and coverage."""
        terms = list(dict.fromkeys(content_terms(question)))
        in_corpus = [index.variants(t) for t in terms]
        variants = [forms | {t} for t, forms in zip(terms, in_corpus)]
        weights = [index.idf(v) for v in variants]  # Python floats: summed per sentence, where numpy's are slow
        names = index.names_of(question)
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
            given = index.document_names(names, hit.chunk.doc_id)
            unnamed = index.unnamed(names, given)
            named = _named_by_document(terms, in_corpus, given, index.naming_terms(hit.chunk.doc_id))
            for sentence, similarity in zip(sentences, similarities):
                claim_terms = index.claim_terms.of(sentence.unit)
                sentence_terms = frozenset(sentence.terms)
                # The document's name does not stand in for a party when the sentence names another.
                required = index.named_by_document_only(names, given, sentence, hit.chunk.doc_id) if given else []
                held, alone = named, unnamed
                if required:
                    forms = frozenset().union(*(name.forms for name in required))
                    held, alone = [n and t not in forms for t, n in zip(terms, named)], unnamed + required
                evidence.append(
                    Evidence(
                        sentence,
                        hit,
                        float(similarity),
                        _coverage(variants, weights, claim_terms, held),
                        _coverage(variants, weights, sentence_terms, held),
                        numbers_found and not index.missing_names(alone, sentence_terms),
                        judged_alone=bool(alone),
                    )
                )
        return evidence

    def _answers(self, evidence: Evidence) -> bool:
        return (
            evidence.names_found
            and evidence.similarity >= self.min_similarity
            and evidence.coverage >= self.min_coverage
        )

    def _choose(self, ranked: list[Evidence], index: SearchIndex) -> list[Evidence]:
        """The best sentence, then close runners-up that answer too, each by itself (not just through
        its claim: a follow-up is not pulled back to the sentence that answered the question before),
        and do not repeat it."""
        best = ranked[0]
        chosen = [best]
        for candidate in ranked[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if candidate.similarity < best.similarity - self.similarity_margin or not self._answers(candidate):
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


def unused_words_note(question: str, hits: list[Hit], index: SearchIndex) -> str | None:
    """Which words of an unanswered question no sentence of the reports uses (nor the name of a document
    retrieved for it): a typo, a word the reports put otherwise, or a thing they never mention. A
    user who sees it knows what to change, rather than guessing the reports' wording."""
    # The words naming each document, and the question's names it writes as one ("Lockheed Martin",
    # LOCKHEEDMARTIN_2020_10K).
    names = index.names_of(question)
    doc_ids = {hit.chunk.doc_id for hit in hits}
    given = frozenset().union(*(index.naming_terms(d) | index.document_names(names, d) for d in doc_ids))
    unused = dict.fromkeys(w for w, t in content_words(question) if not index.variants(t) and t not in given)
    if not unused:
        return None
    quoted = [f'"{word}"' for word in unused]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"no sentence of the reports uses the word{'s' if len(quoted) > 1 else ''} {listed}"


def answer_of(chosen: list[Evidence], sources: list[Hit], note: str | None = None) -> Answer:
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
