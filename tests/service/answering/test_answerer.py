"""The extractive answerer: a sentence of the reports verified to answer the question, ending with its claim's
markers and cited; or, when none is, the closest sentences said to be the closest and why none is taken.

The index here is built with word vectors (``word_index``), so what is close follows from the words the
texts share, not from a model's ranking."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from indexer.index_files import SentenceRecord
from indexer.markers import markers_in
from service.answering.answerer import (
    NOT_VERIFIED,
    NOTHING_CLOSE,
    Answer,
    Answerer,
    Citation,
    Evidence,
    lacks,
    unused_words,
    verified_answer,
)
from service.answering.search_index import SearchIndex
from tests.service.answering.word_index import WordVectors, every_passage, word_index

DOC = "acme-globex-deal.txt"
AGREED = "In March 2024, Acme agreed to buy Globex for $2.1 billion in cash."
FOUNDER = "Globex's founder, Hank Scorpio, will lead Acme's robotics unit."
REGULATORS = "Regulators in the EU may review the deal."
# Each sentence as an answer gives it: ending with its claim's marker group.
AGREED_CITED = "In March 2024, Acme agreed to buy Globex for $2.1 billion in cash [1][6]."
FOUNDER_CITED = "Globex's founder, Hank Scorpio, will lead Acme's robotics unit [1][6]."
REGULATORS_CITED = "Regulators in the EU may review the deal [2]."
# One claim of two sentences closed by [1][6], then a claim of its own.
DEAL = {DOC: f"{AGREED} {FOUNDER_CITED}\n\n{REGULATORS_CITED}\n"}
# What a sentence that speaks of another party than the question's is said to do.
CONFLICT = 'puts another party after "with" than the question does'


@pytest.fixture(scope="module")
def deal(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return word_index(DEAL, tmp_path_factory.mktemp("deal"))


def ask(question: str, index: SearchIndex) -> Answer:
    return Answerer().run(question, WordVectors().embed_query(question), every_passage(index), index)


def sentence(index: SearchIndex, text: str) -> SentenceRecord:
    return next(s for s in index.sentences if s.text == text)


def evidence(index: SearchIndex, text: str, **changes: Any) -> Evidence:
    """Evidence for the sentence ``text`` that clears every bar, but for ``changes``."""
    (hit,) = every_passage(index)
    cleared = Evidence(sentence(index, text), hit, 0.8, claim_coverage=1.0, sentence_coverage=1.0, names_found=True)
    return replace(cleared, **changes)


def test_the_sentence_that_answers_is_the_answer_with_its_claims_markers_each_cited(deal: SearchIndex) -> None:
    answer = ask("Who will lead Acme's robotics unit?", deal)
    assert not answer.abstained and answer.text == FOUNDER_CITED
    assert answer.citations == [
        Citation("[1]", DOC, f"{DOC}#0", FOUNDER_CITED),
        Citation("[6]", DOC, f"{DOC}#0", FOUNDER_CITED),
    ]
    assert answer.note is None and answer.closest == []


def test_a_sentence_ends_with_the_markers_its_claim_closes_with_though_written_after_the_next(
    deal: SearchIndex,
) -> None:
    assert ask("When did Acme agree to buy Globex?", deal).text == AGREED_CITED


def test_a_figure_or_a_party_the_reports_do_not_give_is_not_answered(deal: SearchIndex) -> None:
    assert not ask("Did Acme agree to buy Globex for $2.1 billion?", deal).abstained
    for question, unknown in (
        ("Did Acme agree to buy Globex for $3.5 billion?", '"3.5"'),
        ("Who will lead Initech's robotics unit?", '"Initech"'),
    ):
        answer = ask(question, deal)
        assert answer.abstained and answer.citations == [] and markers_in(answer.text) == []
        assert answer.note is not None and unknown in answer.note, question


def test_unanswered_the_closest_sentences_are_shown_whole_and_the_unused_word_named(deal: SearchIndex) -> None:
    answer = ask("How much did Acme pay for Globex?", deal)
    assert answer.abstained and answer.text == NOT_VERIFIED and answer.citations == []
    assert answer.note == 'no sentence of the reports uses the word "pay"'
    # The sentence that answers in other words is among them, for the reader to judge, with its claim's markers.
    assert 1 <= len(answer.closest) <= 3 and all(markers_in(close.text) for close in answer.closest)
    assert AGREED_CITED in [close.text for close in answer.closest]


def test_a_question_about_what_the_reports_never_mention_is_close_to_nothing(deal: SearchIndex) -> None:
    answer = ask("Who founded Initech?", deal)
    assert answer.abstained and answer.text == NOTHING_CLOSE and answer.closest == []
    assert answer.note == 'no sentence of the reports uses the word "Initech"'


def test_the_words_no_report_uses_are_listed_as_the_question_writes_them(deal: SearchIndex) -> None:
    hits = every_passage(deal)
    assert unused_words("Did Initech and Hooli pay Globex?", hits, deal) == (
        'no sentence of the reports uses the words "Initech", "Hooli" or "pay"',
        ["Initech", "Hooli", "pay"],
    )
    assert unused_words("Did Initech pay Globex?", hits, deal)[0] == (
        'no sentence of the reports uses the words "Initech" or "pay"'
    )
    assert unused_words("Did Acme buy Globex?", hits, deal) == (None, [])


def test_a_report_saying_it_has_no_information_is_quoted_as_saying_so(tmp_path: Path) -> None:
    notes = word_index(
        {"globex-notes.txt": "No information provided regarding Globex's debt rating.\n\nGlobex makes robots [4].\n"},
        tmp_path,
    )
    answer = ask("What was Globex's debt rating in 2023?", notes)
    assert answer.abstained and answer.citations == []
    assert answer.note == (
        'the report says it has no information on this: "No information provided regarding Globex\'s debt rating." '
        "(globex-notes.txt)"
    )


@pytest.mark.parametrize(
    "short",
    [
        {"similarity": 0.29},
        {"claim_coverage": 0.49},
        {"judged_alone": True, "sentence_coverage": 0.49},
        {"names_found": False},
        {"typed": False},
        {"unheld": ("close",)},
        {"conflict": CONFLICT},
    ],
    ids=lambda short: ",".join(short),
)
def test_a_sentence_short_of_any_one_bar_is_not_verified(deal: SearchIndex, short: dict[str, Any]) -> None:
    answerer = Answerer()
    assert answerer.verified(evidence(deal, FOUNDER, similarity=0.3, claim_coverage=0.5))
    assert not answerer.verified(evidence(deal, FOUNDER, **short))


@pytest.mark.parametrize(
    ("short", "said"),
    [
        ({"unheld": ("close",)}, 'does not say "close"'),
        ({"unheld": ("close", "approve"), "typed": False}, 'does not say "close" or "approve"'),
        ({"conflict": CONFLICT, "names_found": False}, CONFLICT),
        ({"typed": False, "names_found": False}, "does not hold the kind of thing the question asks for"),
        ({"names_found": False}, "does not name every party the question names"),
        ({"similarity": 0.1}, "is not close enough to the question to be taken as its answer"),
    ],
)
def test_what_the_closest_sentence_lacks_is_said_first_thing_first(
    deal: SearchIndex, short: dict[str, Any], said: str
) -> None:
    assert lacks(evidence(deal, FOUNDER, **short)) == said


def test_an_answer_reads_its_sentences_once_each_in_the_reports_order_citing_each_marker_once(
    deal: SearchIndex,
) -> None:
    chosen = [evidence(deal, text) for text in (REGULATORS, FOUNDER, AGREED, FOUNDER)]
    answer = verified_answer(chosen, every_passage(deal))
    assert answer.text == f"{AGREED_CITED} {FOUNDER_CITED} {REGULATORS_CITED}"
    assert [(c.marker, c.quote) for c in answer.citations] == [
        ("[1]", AGREED_CITED),
        ("[6]", AGREED_CITED),
        ("[2]", REGULATORS_CITED),
    ]
