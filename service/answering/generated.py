"""Answers written by a language model, kept only where the passages support them.

The model is asked whenever retrieval found a relevant passage, not only when the extractive
answerer would answer: a question in the user's own words is the model's strength, and the checks
hold what it writes. Each sentence of the draft is checked as soon as it is complete
(``service/answering/draft_check.py``) and, when kept, carries exactly the markers of its supporting
claims. When the model fails, is too slow, says the passages do not answer, or no sentence survives,
the extractive answer (or its abstention) is returned instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from indexer.embedder import Embedder
from service.answering.answerer import Answer, citations_for
from service.answering.draft_check import DraftChecker, Dropped, Supported, draft_sentences
from service.answering.llm import ChatClient, LLMUnavailable
from service.answering.prompt import NOT_ANSWERED, messages_for
from service.answering.search_index import Hit, SearchIndex
from service.answering.steps import DraftCheck
from service.answering.supports import Support, supports_in

# Cosine between the question and the closest retrieved sentence below which the model is not asked
# (the extractive answerer's own floor): "what's the weather in Paris?" gets no draft.
MIN_RELEVANCE = 0.3
# The end of a complete sentence in a growing draft: closing punctuation (and any marker group after
# it) followed by the start of the next sentence.
_SENTENCE_END = re.compile(
    r"[.!?。！？][\"”’)]*(?:\s*(?:\[[^\]\n]{1,20}\]|【[^】\n]{1,20}】|［[^］\n]{1,20}］))*\s+(?=\S)"
)


class GeneratedAnswerer:
    """Asks the language model for a draft and keeps the sentences ``checker`` finds supported; when none is
    kept, the extractive answer stands (see the module)."""

    def __init__(
        self, client: ChatClient, checker: DraftCheck | None = None, min_relevance: float = MIN_RELEVANCE
    ) -> None:
        self.client = client
        self.checker: DraftCheck = checker or DraftChecker()
        self.min_relevance = min_relevance

    def stream(
        self,
        question: str,
        vector: np.ndarray,
        hits: list[Hit],
        extractive: Answer,
        index: SearchIndex,
        embedder: Embedder,
    ) -> Iterator[str | Answer]:
        """Each kept sentence as soon as it is checked (with its markers), then the final ``Answer``."""
        if extractive.abstained and not self.relevant(vector, hits, index):
            yield extractive
            return
        kept: list[Supported] = []
        dropped: list[Dropped] = []
        note: str | None = None
        pending = ""
        candidates = supports_in(hits, index)
        try:
            for piece in self.client.stream(messages_for(question, hits, index)):
                pending += piece
                if pending.lstrip().startswith(NOT_ANSWERED):
                    note = "the model found no answer in the passages"
                    break
                ends = list(_SENTENCE_END.finditer(pending))
                if not ends:
                    continue
                complete, pending = pending[: ends[-1].end()], pending[ends[-1].end() :]
                yield from self._check(complete, candidates, index, embedder, kept, dropped)
            else:
                yield from self._check(pending, candidates, index, embedder, kept, dropped)
        except LLMUnavailable as error:
            note = f"the model did not answer: {error}"
        if not kept:
            note = note or "no sentence of the model's draft was supported by the passages"
            yield replace(extractive, mode="extractive", dropped=dropped, note=note)
            return
        yield Answer(
            " ".join(s.render() for s in kept),
            abstained=False,
            citations=citations_for([(support.sentence, support.hit) for s in kept for support in s.supports]),
            sources=hits,
            mode="generated",
            dropped=dropped,
            note=note,
        )

    def relevant(self, vector: np.ndarray, hits: list[Hit], index: SearchIndex) -> bool:
        """Whether some retrieved sentence is close enough to the question to be worth a draft."""
        rows = [s.row for hit in hits for s in index.sentences_of(hit.chunk)]
        return bool(rows) and float(np.max(index.sentence_vectors[rows] @ vector)) >= self.min_relevance

    def _check(
        self,
        text: str,
        candidates: list[Support],
        index: SearchIndex,
        embedder: Embedder,
        kept: list[Supported],
        dropped: list[Dropped],
    ) -> Iterator[str]:
        supported, unsupported = self.checker.check(draft_sentences(text), candidates, index, embedder)
        dropped.extend(unsupported)
        for sentence in supported:
            yield sentence.render() if not kept else f" {sentence.render()}"
            kept.append(sentence)
