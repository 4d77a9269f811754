"""A verified answer, or the sentences where the reports come closest said to be the closest: never a
dead end, never a wrong answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from indexer.markers import markers_in
from service.answering.answer_types import asked_type
from service.answering.answerer import NOT_VERIFIED, NOTHING_CLOSE, Answerer
from service.answering.answerer import lacks as lacks_of
from service.answering.qa import QuestionAnswering

# Answers with the model.
pytestmark = pytest.mark.slow

GOLD = Path(__file__).resolve().parents[3] / "eval" / "gold.jsonl"


@pytest.mark.parametrize(
    ("question", "tempting", "lacks"),
    [
        # A predicate the report does not state: announced is not closed, "will reflect" is not approved.
        ("When will the Meta Scale AI deal close?", "Meta announced the acquisition", '"close"'),
        ("Did the FTC approve the acquisition?", "The responses of the FTC and DOJ", '"approve"'),
        # A party asked about in a role the report does not give it.
        ("Who founded xAI?", "and xAI terminated", '"founded"'),
        # Who did what with whom: the clients left Scale AI, not Google.
        ("Which clients terminated their cooperation with Google?", "and xAI terminated", 'after "with"'),
        # "will join" is not "leave".
        ("Will Alexandr Wang leave Meta?", "will join Meta", '"leave"'),
        # Whose founder: Scale AI's, not Meta's.
        ("Who founded Meta?", "Scale AI's founder", "founder of a party the question does not name"),
        # Whose stake: Meta's in Scale AI, not Scale AI's in Meta.
        ("How much did Scale AI's stake in Meta cost?", "Meta announced the acquisition", 'after "in"'),
    ],
)
def test_a_near_miss_gets_the_closest_sentences_and_is_not_answered_by_the_tempting_one(
    qa: QuestionAnswering, question: str, tempting: str, lacks: str
) -> None:
    answer = qa.ask(question)
    assert answer.abstained and answer.citations == [] and markers_in(answer.text) == []
    assert answer.text == NOT_VERIFIED
    assert 1 <= len(answer.closest) <= 3 and answer.note
    # The sentence that reads like the answer is turned away, and what it lacks is said (whichever
    # sentence the model ranks closest, which this does not assert).
    retrieval = asyncio.run(qa.retrieve_async(question))
    index = retrieval.index
    reader = qa.reader
    assert isinstance(reader, Answerer)
    weighed = reader.gather_evidence(question, retrieval.vector, retrieval.hits, index, asked_type(question))
    (evidence,) = [e for e in weighed if tempting in e.sentence.text]
    assert not reader.verified(evidence)
    assert lacks in lacks_of(evidence)


def test_closest_sentences_are_whole_sentences_of_retrieved_passages_with_their_claims_markers(
    qa: QuestionAnswering,
) -> None:
    answer = qa.ask("how much was the scale ai deal worth?")
    assert answer.abstained and answer.text == NOT_VERIFIED
    passages = {hit.chunk.chunk_id: hit.chunk for hit in answer.sources}
    rows = [c.sentence.row for c in answer.closest]
    assert len(rows) == len(set(rows)) and 1 <= len(rows) <= 3
    for closest in answer.closest:
        passage = passages[closest.hit.chunk.chunk_id]
        assert closest.sentence.text.rstrip(".") in passage.text
        # The claim's own group, as the report writes it, and no marker its passage does not carry.
        assert markers_in(closest.text) == list(closest.sentence.markers)
        assert set(closest.sentence.markers) <= set(passage.markers)
    scores = [c.score for c in answer.closest]
    assert scores == sorted(scores, reverse=True)


def test_a_question_about_what_the_reports_never_mention_is_said_to_be_far_from_them(qa: QuestionAnswering) -> None:
    answer = qa.ask("Who won the 2022 World Cup?")
    assert answer.abstained and answer.text == NOTHING_CLOSE and answer.closest == []
    assert answer.note


def test_an_answer_is_not_padded_with_a_sentence_only_near_it(qa: QuestionAnswering) -> None:
    answer = qa.ask("Who will lead Meta's superintelligence lab?")
    assert not answer.abstained
    assert "Alexandr Wang" in answer.text
    # Not "Scale AI's platform can help Meta ... for its superintelligence lab": it names no leader.
    assert len(answer.evidence) == 1 and "platform" not in answer.text


def test_a_sentence_naming_no_regulator_does_not_answer_which_regulators(qa: QuestionAnswering) -> None:
    answer = qa.ask("Which regulators may review the deal?")
    assert "potential investigations" not in (answer.text if not answer.abstained else "")


def test_every_gold_question_without_a_verified_answer_says_why(qa: QuestionAnswering) -> None:
    questions = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines()]
    silent = [q for q in questions if (answer := qa.ask(q)).abstained and not answer.note]
    assert silent == []


def test_a_two_part_question_gets_the_closest_sentences_of_the_part_not_verified(qa: QuestionAnswering) -> None:
    answer = qa.ask("Who will lead Meta's superintelligence lab, and when will the deal close?")
    assert not answer.abstained and "Alexandr Wang" in answer.text
    assert answer.note and "when will the deal close?" in answer.note
    answered = {e.sentence.row for e in answer.evidence}
    assert answer.closest and not answered & {c.sentence.row for c in answer.closest}
