from __future__ import annotations

import pytest

from eval.datasets import Evidence, GoldItem
from eval.metrics import score, summarise, token_f1

ANSWERABLE = GoldItem(
    id="a",
    question="How much did Meta pay?",
    reference="Meta paid approximately $14.8 billion [1][6].",
    facts=("$14.8 billion",),
    markers=("[1]", "[6]"),
    evidence=(Evidence("r.txt", "Meta announced the acquisition for approximately $14.8 billion"),),
)
UNANSWERABLE = GoldItem(id="u", question="What was the revenue?", answerable=False)
PASSAGE = {
    "doc_id": "r.txt",
    "chunk_id": "r.txt#0",
    "text": "In June 2025, Meta announced the acquisition for approximately $14.8 billion [1][6]",
    "markers": ["[1]", "[6]"],
}
OTHER = {"doc_id": "r.txt", "chunk_id": "r.txt#1", "text": "Regulators may look [4][9]", "markers": ["[4]", "[9]"]}


def response(answer: str, citations: list[tuple[str, str]], sources: list[dict], abstained: bool = False) -> dict:
    return {
        "answer": answer,
        "abstained": abstained,
        "citations": [{"marker": m, "chunk_id": c, "doc_id": "r.txt", "quote": ""} for m, c in citations],
        "sources": sources,
    }


def test_a_right_answer_scores_full_marks() -> None:
    good = response(
        "Meta paid approximately $14.8 billion [1][6].", [("[1]", "r.txt#0"), ("[6]", "r.txt#0")], [OTHER, PASSAGE]
    )
    result = score(ANSWERABLE, good, 0.01)
    assert result.correct and result.fact_recall == 1.0 and result.unsupported_markers == []
    metrics = summarise([result], k=5)
    assert metrics["hit@1"] == 0.0 and metrics["hit@3"] == 1.0 and metrics["mrr"] == 0.5
    assert metrics["marker_precision"] == metrics["marker_recall"] == 1.0
    assert metrics["token_f1"] == pytest.approx(1.0)


def test_a_marker_the_cited_passage_does_not_carry_is_unsupported() -> None:
    # [4] is cited to the passage carrying [1][6]; [9] is not cited at all.
    bad = response("Meta paid $14.8 billion [1][4][9].", [("[1]", "r.txt#0"), ("[4]", "r.txt#0")], [PASSAGE, OTHER])
    result = score(ANSWERABLE, bad, 0.01)
    assert result.unsupported_markers == ["[4]", "[9]"]
    assert not result.correct
    metrics = summarise([result], k=5)
    assert metrics["unsupported_marker_rate"] == pytest.approx(2 / 3)
    assert metrics["marker_precision"] == pytest.approx(1 / 3) and metrics["marker_recall"] == pytest.approx(1 / 2)


def test_abstention_is_right_only_for_unanswerable_questions() -> None:
    abstain = response("The reports do not answer this question.", [], [PASSAGE], abstained=True)
    results = [score(UNANSWERABLE, abstain, 0.01), score(ANSWERABLE, abstain, 0.02)]
    assert [r.correct for r in results] == [True, False]
    metrics = summarise(results, k=5)
    assert metrics["abstain_precision"] == 0.5 and metrics["abstain_recall"] == 1.0
    assert metrics["fact_recall"] == 0.0 and metrics["answered_rate"] == 0.0
    assert metrics["accuracy"] == 0.5


def test_answering_an_unanswerable_question_is_wrong() -> None:
    answer = response("Revenue was high [4].", [("[4]", "r.txt#1")], [OTHER])
    result = score(UNANSWERABLE, answer, 0.01)
    assert not result.correct
    assert summarise([result], k=5)["abstain_recall"] == 0.0


def test_retrieval_counts_a_passage_only_when_it_holds_the_evidence() -> None:
    missed = response("x", [], [OTHER, OTHER])
    metrics = summarise([score(ANSWERABLE, missed, 0.0)], k=2)
    assert metrics["hit@1"] == 0.0 and metrics["hit@2"] == 0.0 and metrics["mrr"] == 0.0 and metrics["ndcg@2"] == 0.0


def test_token_f1_ignores_markers_and_articles() -> None:
    assert token_f1("The deal closed [1].", "deal closed") == 1.0
    assert token_f1("Nothing alike", "deal closed") == 0.0
    assert 0 < token_f1("the deal closed in June", "deal closed") < 1
