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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import combinations, takewhile

from indexer.claims import render_with_group, split_claims
from indexer.embedder import Embedder
from indexer.index_files import SentenceRecord
from indexer.markers import strip_markers
from indexer.normalise import normalise
from indexer.terms import NUMBER, content_terms, stem
from service.answering.acronyms import acronym_phrases, writes
from service.answering.arithmetic import explained
from service.answering.judge import CLOSE_WORDING, EntailmentJudge
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
from service.answering.search_index import Hit, Names, SearchIndex
from service.answering.statements import YEAR, Statement, statement, value

# A line of a table that is only a figure: "(5,053)", "$", "50,710", "—", "12.5 %".
_FIGURE = re.compile(r"[\s$€£¥()%—–\-.,\d]*")
# The reason given for a sentence with no content word and no number ("Yes.", "In short:").
NOTHING_TO_CHECK = "nothing in it to check"
_UP = frozenset(
    "rose rise risen rising increase increased increasing grew grow grown growth up higher gain gained improved climbed jumped expanded".split()
)
_DOWN = frozenset(
    """fell fall fallen falling decline declined declining decrease decreased decreases dropped down lower shrank
    slipped contracted""".split()
)
# A clause stating as fact this many of the words its support only hedges ("may face investigations"
# restated "faces investigations") is not the support's.
HEDGED_TERMS = 1
# Words either side of a figure read for the way it went.
_NEAR = 4
# Words besides a name a second sentence must share with a draft sentence to lend it that name.
_LENDER_WORDS = 2
# How far back in its document a passage's table header is looked for, in lines.
_HEADER_REACH = 400
_CLAUSE_BREAK = re.compile(r"[;()]|,(?!\d)|\b(?:versus|vs|compared with|against|than|from)\b")
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
    sentence: str
    reason: str


@dataclass(frozen=True)
class Support:
    sentence: SentenceRecord
    hit: Hit
    # A table row's figures with the year of each: ("5053", "2022").
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Supported:
    """A kept sentence: its words as drafted, the claims that support it, in the report's order."""

    text: str
    supports: tuple[Support, ...]

    @property
    def group(self) -> str:
        groups = [s.sentence.group for s in self.supports]
        return "".join(dict.fromkeys(g for g in groups if g))

    def render(self) -> str:
        return render_with_group(self.text, self.group)


def draft_sentences(draft: str) -> list[str]:
    """The draft cut into sentences, markers removed (they are replaced, never trusted)."""
    return [strip_markers(s.text) for s in split_claims(normalise(draft)) if strip_markers(s.text)]


class DraftChecker:
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
            candidates = [_with_acronyms(c, phrases) for c in candidates]
        claim = statement(text)
        names = index.names_of(text, first_word=_first_word_names(text, passages))
        name_terms = {name.text for name in names.names}
        forms = {t: index.variants(t) | {t} for t in claim.terms if t not in name_terms}
        words = list(forms.values())
        coverage = {c.sentence.row: _coverage(words, _terms_of(c)) for c in candidates}
        # The sentences holding its figures support it too (a computed figure's operands, a table's
        # rows), when they say at least one of its words: the same number in another claim is not its.
        figures = [
            max(holding, key=lambda c: coverage[c.sentence.row])
            for number, scale in sorted(claim.quantities)
            if not _is_year(number)
            and (
                holding := [
                    c for c in candidates if coverage[c.sentence.row] and _holds(c.sentence.text, number, scale)
                ]
            )
        ]
        anchored = bool(figures)
        rows = [c.sentence.row for c in candidates]

        def closeness() -> dict[int, float]:
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
            supports, reason = _numbers_supported(claim, supports, candidates, index)
        if reason is None:
            reason = _wrong_years(text, supports) or _wrong_direction(text, supports)
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
            return list({s.sentence.row: s for s in figures + extra}.values())

        def covers(supports: list[Support]) -> bool:
            return _coverage(words, frozenset().union(*(_terms_of(s) for s in supports))) >= needed

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
    held = frozenset().union(*(_terms_of(s) for s in supports))
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


def _names_supported(
    names: Names, words: list[frozenset[str]], supports: list[Support], candidates: list[Support], index: SearchIndex
) -> tuple[list[Support], str | None]:
    """Every name in a supporting sentence or its document's name. A sentence that merges two facts may
    take a name from a second sentence, when that one says at least two more of its words: "Scale AI's
    prospects with Microsoft are uncertain" lends Microsoft; "Microsoft is a client" does not lend it to
    a sentence on what Meta paid."""
    unnamed = index.unnamed(
        names, frozenset().union(*(_document_names(index, names, s.sentence.doc_id) for s in supports))
    )
    held = frozenset().union(*(_terms_of(s) for s in supports))
    missing = index.missing_names(unnamed, held)
    if not missing:
        return supports, None
    lenders = [
        c
        for c in candidates
        if c not in supports
        and any(name in _terms_of(c) for name in missing)
        and sum(bool(forms & _terms_of(c)) for forms in words) >= _LENDER_WORDS
    ]
    for lender in lenders:
        supports = supports + [lender]
        held |= _terms_of(lender)
        missing = index.missing_names(unnamed, held)
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
    naming = index.naming_terms(doc_id)
    short = {n.text for n in names.names if len(n.text) >= 3 and any(t.startswith(n.text) for t in naming)}
    return index.document_names(names, doc_id) | short


def _with_header(index: SearchIndex, hit: Hit) -> list[SentenceRecord]:
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
    sentences: list[SentenceRecord], first_row: int
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
            _is_year(f.text.strip()) for f in figures
        ):  # the header: "Years ended ...", "2022", "2021"
            years = [y for line in [sentence, *figures] for y in YEAR.findall(line.text)]
            continue
        values = [n for line in [sentence, *figures] for n in NUMBER.findall(line.text) if not _is_year(n)]
        if not figures and len(values) < 2:
            years += [y for y in YEAR.findall(sentence.text) if y not in years]
            continue
        if not values or sentence.row < first_row:
            continue
        text = " ".join([sentence.text, *(f.text for f in figures)])
        row = replace(sentence, text=text, terms=sentence.terms + tuple(t for f in figures for t in f.terms))
        columns = tuple(zip((v.replace(",", "") for v in values), years)) if len(values) == len(years) > 1 else ()
        yield row, columns


def _wrong_years(text: str, supports: list[Support]) -> str | None:
    """A figure a table gives for one year, stated for another: the year its clause gives it (the
    first after it, "$4,290 million in 2021", else the last before it, "in 2022, $5,053 million")."""
    for support in supports:
        for figure, year in support.columns:
            for clause in _CLAUSE_BREAK.split(text):
                for m in NUMBER.finditer(clause):
                    if m[0].replace(",", "") != figure:
                        continue
                    after = [y for y in YEAR.finditer(clause) if y.start() > m.start()]
                    before = [y for y in YEAR.finditer(clause) if y.start() < m.start()]
                    stated = after[0][0] if after else before[-1][0] if before else year
                    if stated != year:
                        return f"{m[0]} is the figure for {year}, not {stated}"
    return None


def _wrong_direction(text: str, supports: list[Support]) -> str | None:
    """A change stated the wrong way: "rose" where the table's later figure is the smaller. Rows of
    losses in parentheses are left alone (a loss that grows is a figure that falls)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    up, down = bool(words & _UP), bool(words & _DOWN)
    if up == down:
        return None
    numbers = NUMBER.findall(text)
    # Said in words next to the same figure: "adding $394 million" is not "a $394 million decrease".
    for number in numbers:
        ours = _change_near(text, number)
        for support in supports:
            theirs = _change_near(support.sentence.text, number)
            if ours and theirs and ours != theirs:
                return f"the supporting sentence says {number} went {theirs}"
    stated = {n.replace(",", "") for n in numbers}
    by_year = {
        year: Decimal(figure)
        for support in supports
        if "(" not in support.sentence.text
        for figure, year in support.columns
        if figure in stated
    }
    if len(by_year) < 2:
        return None
    change = by_year[max(by_year)] - by_year[min(by_year)]
    if (up and change < 0) or (down and change > 0):
        return f"the figures went {'down' if change < 0 else 'up'} from {min(by_year)} to {max(by_year)}"
    return None


def _change_near(text: str, number: str) -> str | None:
    """"up" or "down" when the words around ``number`` in ``text`` say only one of them, else None."""
    words = re.findall(r"[a-z]+|[\d.,]+", text.lower())
    at = [i for i, word in enumerate(words) if word.strip(".,") == number.lower()]
    near = {w for i in at for w in words[max(0, i - _NEAR) : i + _NEAR + 1]}
    up, down = bool(near & _UP), bool(near & _DOWN)
    return None if up == down else "up" if up else "down"


def _with_acronyms(support: Support, phrases: dict[str, str]) -> Support:
    """``support`` holding each acronym whose words it writes: "diluted earnings per share" says
    "diluted EPS"."""
    text = support.sentence.text
    said = [t for acronym, phrase in phrases.items() if writes(text, phrase) for t in content_terms(acronym)]
    if not said:
        return support
    return replace(support, sentence=replace(support.sentence, terms=support.sentence.terms + tuple(said)))


def _terms_of(support: Support) -> frozenset[str]:
    return frozenset(support.sentence.terms)


def _coverage(words: list[frozenset[str]], terms: frozenset[str]) -> float:
    """Share of the words (each with its forms in the corpus) that ``terms`` hold."""
    if not words:
        return 1.0
    return sum(bool(forms & terms) for forms in words) / len(words)


def _disagreement(claim: Statement, words: dict[str, frozenset[str]], supports: list[Support]) -> str | None:
    """Polarity and certainty, clause by clause: a clause the draft negates must meet a negation in
    the support, one it affirms must not meet a word the support only negates, one it asserts must not
    restate two words the support only hedges."""
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


def _numbers_supported(
    claim: Statement, supports: list[Support], candidates: list[Support], index: SearchIndex
) -> tuple[list[Support], str | None]:
    """Every number of ``claim`` in a supporting passage as the same amount, or computed from numbers
    that are (or that were computed so: a difference, then a percentage of it); the sentences holding
    those operands join the supports."""
    passages = list({s.hit.chunk.row: s.hit for s in supports}.values())
    missing = list(dict.fromkeys(n for n, scale in claim.quantities if not _held(n, scale, passages, index)))
    if not missing:
        return supports, None
    sources = {
        n: next((c for c in supports + candidates if _holds(c.sentence.text, n, scale)), None)
        for n, scale in claim.quantities
        if n not in missing and not _is_year(n)
    }
    known = [n for n, source in sources.items() if source is not None]
    unexplained = [n for n in missing if _is_year(n)]
    pending = [n for n in missing if not _is_year(n)]
    while pending:
        found = [n for n in pending if explained(n, known)]
        if not found:
            break
        known += found
        pending = [n for n in pending if n not in found]
    unexplained += pending
    if unexplained:
        return supports, f"{', '.join(unexplained)} is not in the supporting passage"
    used = [s for s in sources.values() if s is not None]
    return list({s.sentence.row: s for s in supports + used}.values()), None


def _held(number: str, scale: str, hits: list[Hit], index: SearchIndex) -> bool:
    """In a passage, or in the document's name (a filing named for 2023 speaks of 2023)."""
    return any(_holds(h.chunk.text, number, scale) or number in index.naming_terms(h.chunk.doc_id) for h in hits)


def _holds(text: str, number: str, scale: str) -> bool:
    """Whether ``text`` writes the amount: with the same scale or another that makes it equal
    ("$4.2 billion" is "$4,200,000,000"), or either bare (a table's scale is in its header; a
    sentence may leave its scale out; "900.0" is "900")."""
    written = statement(text)
    if value(number, scale) in written.values:
        return True
    bare = value(number, "")
    return any(value(n, "") == bare for n, s in written.quantities if not s or not scale)


def _is_year(number: str) -> bool:
    return YEAR.fullmatch(number) is not None
