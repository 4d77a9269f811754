"""Questions that ask two things get both answers, each part with its own claim's markers."""

from __future__ import annotations

import pytest

from indexer.markers import markers_in
from service.answering.parts import question_parts
from service.answering.qa import QuestionAnswering


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "What did the stake cost, and who runs the lab now?",
            ["What did the stake cost?", "who runs the lab now?"],
        ),
        (
            "who's heading meta's superintelligence team and what does scale give that team?",
            ["who's heading meta's superintelligence team?", "what does scale give that team?"],
        ),
        (
            "Which regulators may review the deal? Did any client leave?",
            ["Which regulators may review the deal?", "Did any client leave?"],
        ),
        # One question: "and" joins what it asks about, or the second part names nothing of its own.
        ("What risks does the deal face from customers and from regulators?", None),
        ("How much did Meta pay for its stake, and what kind of stake was it?", None),
        ("How and why did it happen?", None),
    ],
)
def test_a_question_is_split_where_a_second_question_starts(question: str, parts: list[str] | None) -> None:
    assert question_parts(question) == (parts or [question])


def test_both_parts_are_answered_each_with_its_claims_markers(qa: QuestionAnswering) -> None:
    answer = qa.ask(
        "Who will lead Meta's superintelligence lab, and what will Scale AI's platform provide for that lab?"
    )
    assert not answer.abstained and answer.note is None
    wang, resources = answer.text.split("[1][6]")
    assert "Alexandr Wang" in wang
    assert "key resources" in resources and resources.strip().endswith("[2][7].")
    # Each sentence once, and one citation per marker used, pointing at a passage carrying it.
    assert len(answer.evidence) == len({e.sentence.row for e in answer.evidence})
    assert [c.marker for c in answer.citations] == markers_in(answer.text)
    sources = {hit.chunk.chunk_id: hit for hit in answer.sources}
    assert all(c.marker in sources[c.chunk_id].chunk.markers for c in answer.citations)


def test_a_part_the_reports_do_not_answer_is_named_and_the_other_answered(qa: QuestionAnswering) -> None:
    answer = qa.ask("How much did Meta pay for its stake in Scale AI, and what was Scale AI's revenue in 2024?")
    assert not answer.abstained
    assert "$14.8 billion" in answer.text and markers_in(answer.text) == ["[1]", "[6]"]
    assert answer.note == (
        "No sentence of the reports answers as asked: what was Scale AI's revenue in 2024? "
        "The closest they come is listed."
    )


def test_a_question_whose_parts_are_both_unanswered_abstains(qa: QuestionAnswering) -> None:
    answer = qa.ask("What was Scale AI's revenue in 2024, and how many employees does it have?")
    assert answer.abstained and answer.citations == []
