"""Each step of answering is swapped by handing in another object with the same method (``steps.py``):
what it returns is what the user gets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.embedder import Embedder
from service.answering.answerer import Answer, Answerer, Evidence
from service.answering.closest import Closest
from service.answering.filters import DocumentFilter
from service.answering.qa import QuestionAnswering
from service.answering.search_index import Hit, IndexRetriever, SearchIndex
from service.answering.steps import Reader, Retriever
from service.config import Settings

QUESTION = "How much did Meta pay for its stake in Scale AI?"
NEAR_MISS = "When will the Meta Scale AI deal close?"


class LastPassageOnly:
    """A retriever wrapping the index's own, as a reranker would: it keeps one passage of those found."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def retrieve(
        self, index: SearchIndex, query_vector: np.ndarray, k: int, where: DocumentFilter | None, query: str
    ) -> list[Hit]:
        self.queries.append(query)
        return IndexRetriever().retrieve(index, query_vector, k, where, query)[-1:]


class FirstSentenceReader:
    """A reader of its own: the first passage's opening line, whatever the question."""

    def run(self, question: str, question_vector: np.ndarray, hits: list[Hit], index: SearchIndex) -> Answer:
        return Answer(index.sentences_of(hits[0].chunk)[0].text, abstained=False, sources=hits)


class ReportOrder:
    """A ranker of its own: the sentences in the order the report writes them."""

    def __init__(self) -> None:
        self.weighed: list[Evidence] = []

    def rank(
        self, weighed: Sequence[Evidence], index: SearchIndex, question_vector: np.ndarray, limit: int
    ) -> list[Closest]:
        self.weighed = list(weighed)
        return [Closest(e.sentence, e.hit, 0.0) for e in sorted(weighed, key=lambda e: e.sentence.row)[:limit]]


def _answering(
    seed_index: Path, embedder: Embedder, retriever: Retriever | None = None, reader: Reader | None = None
) -> QuestionAnswering:
    qa = QuestionAnswering(Settings(index_dir=seed_index), embedder=embedder, reader=reader, retriever=retriever)
    qa.warm_up()
    return qa


def test_a_retriever_handed_in_chooses_the_passages_of_searches_and_answers(
    seed_index: Path, embedder: Embedder
) -> None:
    retriever = LastPassageOnly()
    qa = _answering(seed_index, embedder, retriever=retriever)
    found = qa.search(QUESTION, 5)
    answer = qa.ask(QUESTION, 5)
    assert retriever.queries == [QUESTION, QUESTION]
    assert len(found) == 1 and [hit.chunk.chunk_id for hit in answer.sources] == [found[0].chunk.chunk_id]
    assert all(citation.chunk_id == found[0].chunk.chunk_id for citation in answer.citations)


def test_a_reader_handed_in_writes_the_answer(seed_index: Path, embedder: Embedder) -> None:
    qa = _answering(seed_index, embedder, reader=FirstSentenceReader())
    answer = qa.ask(QUESTION)
    assert not answer.abstained
    assert answer.text == qa.index.sentences_of(answer.sources[0].chunk)[0].text


def test_a_sentence_ranker_handed_to_the_answerer_orders_the_closest_sentences(
    seed_index: Path, embedder: Embedder
) -> None:
    ranker = ReportOrder()
    answer = _answering(seed_index, embedder, reader=Answerer(ranker=ranker)).ask(NEAR_MISS)
    assert answer.abstained and len(ranker.weighed) > 3
    first_rows = sorted(e.sentence.row for e in ranker.weighed)[:3]
    assert [c.sentence.row for c in answer.closest] == first_rows
