"""Follow-up questions are read with the conversation's earlier questions."""

from __future__ import annotations

import pytest

from service.answering.qa import QuestionAnswering

# Answers with the model.
pytestmark = pytest.mark.slow

FIRST = "How much did Meta pay for its stake in Scale AI?"


def test_a_pronoun_follow_up_is_answered_from_the_previous_subject(qa: QuestionAnswering) -> None:
    alone = qa.ask("Who will lead it?")
    assert alone.abstained, "on its own the question names nothing the reports can answer"
    answer = qa.ask("Who will lead it?", history=[FIRST])
    assert not answer.abstained and "Alexandr Wang" in answer.text and "[1][6]" in answer.text
    # Not pulled back to the previous answer, though that sentence closes the same claim.
    assert "$14.8 billion" not in answer.text


def test_a_short_follow_up_and_a_chain_of_them(qa: QuestionAnswering) -> None:
    assert "Alexandr Wang" in qa.ask("And the founder?", history=[FIRST]).text
    assert "Alexandr Wang" in qa.ask("Who is its founder?", history=[FIRST, "Who will lead it?"]).text


def test_a_question_that_names_its_subject_is_not_changed_by_history(qa: QuestionAnswering) -> None:
    question = "Which major AI clients terminated their cooperation with Scale AI?"
    assert qa.ask(question, history=[FIRST]).text == qa.ask(question).text
    assert qa.ask("What was Scale AI's revenue in 2024?", history=[FIRST]).abstained
