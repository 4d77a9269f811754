"""A question asking for a kind of thing (an age, a count, an amount, a date, a name) is answered only by a
sentence holding one; a sentence that merely names what the question names does not answer it."""

from __future__ import annotations

import pytest

from indexer.embedder import Embedder
from service.answering.answer_types import AnswerType, asked_type, holds_type
from service.answering.answerer import Answer, Answerer
from service.answering.search_index import SearchIndex
from tests.support import index_of

NOTE = """Harbor Freight Lines: deal note

Summary - In May 2023, Harbor Freight Lines bought a 35% stake in Tidewater Cranes for about $600 million. \
Tidewater's founder, Priya Natarajan, will join Harbor to head its port automation unit [1][2] Outlook - \
Harbor's crane orders increased 12% after the deal [3]
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> SearchIndex:
    return index_of({"harbor-note.txt": NOTE}, tmp_path_factory, embedder)


def ask(question: str, index: SearchIndex, embedder: Embedder) -> Answer:
    vector = embedder.embed_query(question)
    return Answerer().run(question, vector, index.search(vector, 5, None, question), index)


@pytest.mark.parametrize(
    "question",
    [
        # Each names what one sentence says, and its words are that sentence's: only the kind of answer
        # it asks for tells it apart.
        "How old is Priya Natarajan, Tidewater's founder?",
        "How many port automation units does Harbor run?",
    ],
)
def test_a_question_asking_for_what_no_sentence_holds_abstains(
    question: str, index: SearchIndex, embedder: Embedder
) -> None:
    assert ask(question, index, embedder).abstained


@pytest.mark.parametrize(
    ("question", "fact", "markers"),
    [
        ("Who will head Harbor's port automation unit?", "Priya Natarajan", "[1][2]"),
        ("How much did Harbor Freight Lines pay for the Tidewater Cranes stake?", "$600 million", "[1][2]"),
        ("When did Harbor Freight Lines buy the stake in Tidewater Cranes?", "May 2023", "[1][2]"),
        ("How much did Harbor's crane orders increase after the deal?", "12%", "[3]"),
    ],
)
def test_a_sentence_holding_the_kind_of_thing_asked_for_answers(
    question: str, fact: str, markers: str, index: SearchIndex, embedder: Embedder
) -> None:
    answer = ask(question, index, embedder)
    assert not answer.abstained and fact in answer.text and markers in answer.text


def test_what_the_question_gives_is_not_its_answer() -> None:
    who = asked_type("Who hired Priya Natarajan?")
    assert who is not None
    assert not holds_type(who, "Priya Natarajan will join the company.")
    assert holds_type(who, "Harbor Freight Lines hired Priya Natarajan.")
    price = asked_type("What was the per-share price?")
    assert price is not None
    assert not holds_type(price, "The stake cost $600 million.") and holds_type(price, "It paid $12 per share.")
    count = asked_type("How many stores closed in 2023?")
    assert count is not None
    assert holds_type(count, "We closed 20 stores in 2023.") and not holds_type(count, "Stores closed in 2023.")
    assert asked_type("Why did the clients leave?") is None


def test_a_time_qualifying_what_is_asked_does_not_ask_for_a_date(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> None:
    assert asked_type("What was Initech's third-quarter revenue?") is None
    assert asked_type("What is Acme's year-end cash balance?") is None
    for question in ("Which quarter had the highest revenue?", "What year did Harbor buy the stake?"):
        asked = asked_type(question)
        assert asked is not None and asked.type is AnswerType.DATE, question
    notes = {"initech-notes.txt": "Initech's third-quarter revenue was $42 million, up 5% from a year earlier [1]."}
    answer = ask("What was Initech's third-quarter revenue?", index_of(notes, tmp_path_factory, embedder), embedder)
    assert not answer.abstained and "$42 million" in answer.text and answer.text.endswith("[1].")
