"""Hold a model's draft to the marker rules, sentence by sentence.

A model restates: it paraphrases, shortens, merges two facts, computes. So a draft sentence is
judged by its content, not by how close it reads: it is kept when one or two retrieved sentences
hold most of its content words, all of its names, numbers (with their scale: million is not
billion), and months, and agree with it on polarity ("did not", "avoid") and on certainty (a
passage's "may" is not restated as "will", nor anything as "guarantees"). A number no passage holds
is kept only when the sentence shows how it was computed from numbers the passages hold
(``service/answering/arithmetic.py``). A kept sentence ends with exactly the union of its supporting
claims' markers, in the report's order, whatever the model wrote; everything else is dropped and
listed with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from indexer.claims import render_with_group, split_claims
from indexer.embedder import Embedder
from indexer.markers import strip_markers
from indexer.normalise import normalise
from indexer.terms import stem
from service.answering.acronyms import acronym_phrases
from service.answering.figures import numbers_supported, writes_amount, wrong_direction, wrong_years
from service.answering.judge import CLOSE_WORDING, EntailmentJudge
from service.answering.names import Names
from service.answering.relations import (
    deal_in,
    direction_conflict,
    names_written,
    owner_swap,
    party_conflict,
    resolved,
    role_conflict,
    unstated_details,
    unstated_link,
)
from service.answering.search_index import SearchIndex
from service.answering.statements import Statement, is_year, statement
from service.answering.supports import Support, terms_of, with_acronyms

# The reason given for a sentence with no content word and no number ("Yes.", "In short:").
NOTHING_TO_CHECK = "nothing in it to check"
# A clause stating as fact this many of the words its support only hedges ("may face investigations"
# restated "faces investigations") is not the support's.
HEDGED_TERMS = 1
# Words besides a name a second sentence must share with a draft sentence to lend it that name.
_NAME_LENDER_WORDS = 2
# Share of a draft sentence's content words its support must hold, unless the draft sentence and a
# supporting one are this close in meaning (a paraphrase: its other checks still apply). Fitted on the odd-numbered
# drafts of eval/drafts.jsonl, reported on the even-numbered ones (eval/README.md).
MIN_COVERAGE = 0.5
MIN_SIMILARITY = 0.7
# A sentence whose figures are in its support (a table row, a stated amount, a computation's
# operands) needs fewer of its words there: the figures pin the fact down (each is checked), and the
# words around them are the model's.
MIN_ANCHORED_COVERAGE = 0.4
# A first word that opens a sentence rather than names someone: "Yes", "Together", "Possibly".
_OPENER = re.compile(
    r"yes|no|together|still|instead|indeed|so|also|again|overall|first|second|third|fourth|\w+ly", re.IGNORECASE
)
# Supports tried in pairs for a sentence that merges two facts: the best this many single ones.
PAIR_CANDIDATES = 6


@dataclass(frozen=True)
class Dropped:
    """A draft sentence that was not kept, and why: listed with the answer (``dropped``)."""

    sentence: str
    reason: str


@dataclass(frozen=True)
class Supported:
    """A kept sentence: its words as drafted, the claims that support it, in the report's order."""

    text: str
    supports: tuple[Support, ...]

    @property
    def group(self) -> str:
        """The marker groups of its supports, each once, in the report's order: what the kept sentence ends with."""
        groups = [s.sentence.group for s in self.supports]
        return "".join(dict.fromkeys(g for g in groups if g))

    def render(self) -> str:
        """The sentence as the answer writes it: its words with ``group`` before the closing punctuation."""
        return render_with_group(self.text, self.group)


def draft_sentences(draft: str) -> list[str]:
    """The draft cut into sentences, markers removed (they are replaced, never trusted)."""
    return [strip_markers(s.text) for s in split_claims(normalise(draft)) if strip_markers(s.text)]


class DraftChecker:
    """Keeps the draft sentences that one or two retrieved sentences support, by the module's checks, and
    drops the rest with the reason (a ``DraftCheck``)."""

    def __init__(
        self,
        min_coverage: float = MIN_COVERAGE,
        min_similarity: float = MIN_SIMILARITY,
        min_anchored_coverage: float = MIN_ANCHORED_COVERAGE,
        pair_candidates: int = PAIR_CANDIDATES,
        entailment: EntailmentJudge | None = None,
    ) -> None:
        """``entailment``: the model asked whether a sentence that passes every check, but shares few
        words with its support, is entailed by it (``CITEQA_LLM_JUDGE``)."""
        self.entailment = entailment
        self.min_anchored_coverage = min_anchored_coverage
        self.min_coverage = min_coverage
        self.min_similarity = min_similarity
        self.pair_candidates = pair_candidates

    def check(
        self, sentences: list[str], candidates: list[Support], index: SearchIndex, embedder: Embedder
    ) -> tuple[list[Supported], list[Dropped]]:
        """``candidates``: ``supports_in`` the retrieved passages, read once for a whole draft."""
        kept: list[Supported] = []
        dropped: list[Dropped] = []
        for text in sentences:
            if _says_nothing(text):
                dropped.append(Dropped(text, NOTHING_TO_CHECK))
            elif not candidates:
                dropped.append(Dropped(text, "no passage was retrieved"))
            else:
                supports, reason = self.judge(text, candidates, index, embedder)
                if reason is None and self.entailment is not None and _wording(text, supports) < CLOSE_WORDING:
                    reason = self.entailment.run(text, _passages_of(supports)).reason
                if reason:
                    dropped.append(Dropped(text, reason))
                else:
                    kept.append(Supported(text, supports))
        return kept, dropped

    def judge(
        self, text: str, candidates: list[Support], index: SearchIndex, embedder: Embedder
    ) -> tuple[tuple[Support, ...], str | None]:
        """The supports of ``text`` in the report's order, or why it has none."""
        passages = list({c.hit.chunk.row: c.hit.chunk.text for c in candidates}.values())
        phrases = acronym_phrases(text, passages)
        if phrases:
            candidates = [with_acronyms(c, phrases) for c in candidates]
        claim = statement(text)
        names = index.naming.names_of(text, first_word=_first_word_names(text, passages))
        name_terms = {name.text for name in names.names}
        forms = {t: index.vocabulary.variants(t) | {t} for t in claim.terms if t not in name_terms}
        words = list(forms.values())
        coverage = {c.sentence.row: _coverage(words, terms_of(c)) for c in candidates}
        # The sentences holding its figures support it too (a computed figure's operands, a table's
        # rows), when they say at least one of its words: the same number in another claim is not its.
        figures = [
            max(holding, key=lambda c: coverage[c.sentence.row])
            for number, scale in sorted(claim.quantities)
            if not is_year(number)
            and (
                holding := [
                    c for c in candidates if coverage[c.sentence.row] and writes_amount(c.sentence.text, number, scale)
                ]
            )
        ]
        anchored = bool(figures)
        rows = [c.sentence.row for c in candidates]

        def closeness() -> dict[int, float]:
            """Each candidate's similarity to ``text``, or one of its clauses' where higher; it embeds
            ``text``, so it is called only when the words fall short."""
            vector = embedder.embed_documents([text])[0]
            # A sentence restating one clause of a long one is as close to it as to that clause.
            return dict(zip(rows, (float(x) for x in index.reach(rows, vector))))

        supports, close = self._content_support(words, coverage, closeness, candidates, figures, anchored)
        if supports is None:
            return (), (
                f"no retrieved sentence says this (at most {max(coverage.values()):.0%} of its words; "
                f"the closest in meaning, {max(close.values()):.2f}, is not close enough)"
            )
        reason = _disagreement(claim, forms, supports)
        if reason is None:
            supports, reason = numbers_supported(claim, supports, candidates, index)
        if reason is None:
            reason = wrong_years(text, supports) or wrong_direction(text, supports)
        if reason is None:
            supports, reason = _names_supported(names, words, supports, candidates, index)
        if reason is None:
            reason = _relations_held(text, supports, passages)
        return tuple(sorted(supports, key=lambda s: s.sentence.row)), reason

    def _content_support(
        self,
        words: list[frozenset[str]],
        coverage: dict[int, float],
        closeness: Callable[[], dict[int, float]],
        candidates: list[Support],
        figures: list[Support],
        anchored: bool,
    ) -> tuple[list[Support] | None, dict[int, float]]:
        """The fewest sentences that say what the draft says, with its figures' sentences: the one
        holding most of its words; else the one closest in meaning (embedding the draft sentence only
        then); else two that together hold its words, for a sentence that merges two facts."""
        needed = self.min_anchored_coverage if anchored else self.min_coverage

        def with_figures(extra: list[Support]) -> list[Support]:
            """``extra`` together with the sentences holding the draft's figures, each once."""
            return list({s.sentence.row: s for s in figures + extra}.values())

        def covers(supports: list[Support]) -> bool:
            """Whether ``supports`` together hold the share of the draft's words it needs."""
            return _coverage(words, frozenset().union(*(terms_of(s) for s in supports))) >= needed

        by_words = max(candidates, key=lambda c: coverage[c.sentence.row])
        if covers(with_figures([by_words])):
            return with_figures([by_words]), {}
        close = closeness()
        by_meaning = max(candidates, key=lambda c: close[c.sentence.row])
        if close[by_meaning.sentence.row] >= self.min_similarity:
            return with_figures([by_meaning]), close
        ranked = sorted(candidates, key=lambda c: -(coverage[c.sentence.row] + close[c.sentence.row]))
        for pair in combinations(ranked[: self.pair_candidates], 2):
            if covers(with_figures(list(pair))):
                return with_figures(list(pair)), close
        return None, close


def _wording(text: str, supports: tuple[Support, ...]) -> float:
    """Share of ``text``'s content words its supports write."""
    held = frozenset().union(*(terms_of(s) for s in supports))
    return _coverage([frozenset({t}) for t in statement(text).terms], held)


def _passages_of(supports: Sequence[Support]) -> list[str]:
    """The passages ``supports`` come from, each once."""
    return list(dict.fromkeys(s.hit.chunk.text for s in supports))


def _relations_held(text: str, supports: list[Support], passages: list[str]) -> str | None:
    """Who is on which side of what the sentence says, its roles resolved, any link it draws, and the
    specifics it adds, against its supports (``relations``)."""
    deal = deal_in(tuple(passages))
    plain = resolved(text, deal)
    said = [s.sentence.text for s in supports]
    return (
        role_conflict(text, deal)
        or direction_conflict(plain, said, names_written(tuple(passages)))
        or party_conflict(plain, said, deal.parties if deal else frozenset())
        or next((r for support in said if (r := owner_swap(plain, support))), None)
        or unstated_link(text, said)
        or unstated_details(text, _passages_of(supports))
    )


def _names_supported(
    names: Names, words: list[frozenset[str]], supports: list[Support], candidates: list[Support], index: SearchIndex
) -> tuple[list[Support], str | None]:
    """Every name in a supporting sentence or its document's name. A sentence that merges two facts may
    take a name from a second sentence, when that one says at least two more of its words: "Scale AI's
    prospects with Microsoft are uncertain" lends Microsoft; "Microsoft is a client" does not lend it to
    a sentence on what Meta paid."""
    unnamed = index.naming.unnamed(
        names, frozenset().union(*(_document_names(index, names, s.sentence.doc_id) for s in supports))
    )
    held = frozenset().union(*(terms_of(s) for s in supports))
    missing = index.naming.missing_names(unnamed, held)
    if not missing:
        return supports, None
    name_lenders = [
        c
        for c in candidates
        if c not in supports
        and any(name in terms_of(c) for name in missing)
        and sum(bool(forms & terms_of(c)) for forms in words) >= _NAME_LENDER_WORDS
    ]
    for name_lender in name_lenders:
        supports = supports + [name_lender]
        held |= terms_of(name_lender)
        missing = index.naming.missing_names(unnamed, held)
        if not missing:
            return supports, None
    return supports, f"{', '.join(missing)} is not named in the supporting sentence"


def _says_nothing(text: str) -> bool:
    """A sentence with no figure and no content word but openers: "Yes.", "Possibly.", "In short:"."""
    said = statement(text)
    return not said.numbers and all(
        _OPENER.fullmatch(word) for word in re.findall(r"[^\W\d_]+", text) if stem(word.lower()) in said.terms
    )


def _first_word_names(text: str, passages: list[str]) -> bool:
    """Whether a sentence's capitalised first word may be a name: not when it opens a sentence ("Yes",
    "Together", "Possibly"), nor when the passages write it in lower case ("Fourth-quarter", "Total")
    or capitalise it only where a sentence or a line starts ("Diluted earnings per share")."""
    first = re.match(r"\W*([^\W\d_]+)", text)
    if not first or _OPENER.fullmatch(first[1]):
        return False
    word = re.escape(first[1])
    lower = re.compile(rf"\b{word.lower()}\b")
    # Capitalised after a word or a comma on the same line: a name, not a sentence's first word.
    named = re.compile(rf"[\w,][ \t]+{word}\b")
    return not any(lower.search(p) for p in passages) and any(named.search(p) for p in passages)


def _document_names(index: SearchIndex, names: Names, doc_id: str) -> frozenset[str]:
    """The names a document's name gives, a short name included: "Ulta" is given by a filing named
    ULTABEAUTY_2023Q4_EARNINGS."""
    naming = index.naming.naming_terms(doc_id)
    short = {n.text for n in names.names if len(n.text) >= 3 and any(t.startswith(n.text) for t in naming)}
    return index.naming.document_names(names, doc_id) | short


def _coverage(words: list[frozenset[str]], terms: frozenset[str]) -> float:
    """Share of the words (each with its forms in the corpus) that ``terms`` hold."""
    if not words:
        return 1.0
    return sum(bool(forms & terms) for forms in words) / len(words)


def _disagreement(claim: Statement, words: dict[str, frozenset[str]], supports: list[Support]) -> str | None:
    """Polarity and certainty, clause by clause: a clause the draft negates must meet a negation in
    the support, one it affirms must not meet a word the support only negates, one it asserts must not
    restate ``HEDGED_TERMS`` of the words the support only hedges."""
    said = [statement(s.sentence.text) for s in supports]
    negated = frozenset().union(*(s.negated for s in said))
    affirmed = frozenset().union(*(s.affirmed for s in said))
    hedged = frozenset().union(*(s.hedged for s in said))
    asserted = frozenset().union(*(s.asserted for s in said))
    for clause in claim.clauses:
        forms = [(t, words[t]) for t in clause.terms if t in words]
        mentioned = [(t, f) for t, f in forms if f & (negated | affirmed)]
        if clause.negated and mentioned and not any(f & negated for _, f in mentioned):
            return f'the supporting sentence does not negate "{mentioned[0][0]}" as this does'
        opposite = [t for t, f in forms if not clause.negated and f & negated and not f & affirmed]
        if opposite:
            return f'the supporting sentence says the opposite: it negates "{opposite[0]}"'
        only_hedged = [t for t, f in forms if not clause.hedged and f & hedged and not f & asserted]
        if len(only_hedged) >= HEDGED_TERMS:
            return f'the supporting sentence is not so certain: it hedges "{only_hedged[0]}"'
    overclaimed = claim.certain - frozenset().union(*(s.certain for s in said))
    if overclaimed:
        return f"the supporting sentence does not say {', '.join(sorted(overclaimed))}"
    missing_months = claim.months - frozenset().union(*(s.months for s in said))
    if missing_months:
        return f"{', '.join(sorted(missing_months)).title()} is not in the supporting sentence"
    return None


