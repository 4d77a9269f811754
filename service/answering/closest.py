"""The sentences that come closest to a question no sentence is verified to answer.

They are shown as the closest the reports come, for the reader to judge, never as an answer. They are
ranked for *being the answer* (measured on the gold set's fitting half, eval/README.md):

- similarity to the question (the sentence's, or one of its clauses' where higher: a question may ask
  about one half of a sentence joining two statements), less a share of the sentence's similarity to
  the other retrieved sentences (a sentence close to all of them, such as the one announcing the deal a
  report is about, is close to every question on its topic, and says least about any one of them);
- plus a share of the question's rare words its claim holds, and a bonus when it holds the kind of thing
  asked for (an amount for "how much", a name for "who").

Below a floor of similarity, fitted on questions about things the reports never mention, nothing is close.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from indexer.claims import render_with_group, says_no_information
from indexer.index_files import SentenceRecord
from service.answering.search_index import Hit, SearchIndex

if TYPE_CHECKING:
    from service.answering.answerer import Evidence

CLOSEST_LIMIT = 3
HUB_WEIGHT = 0.5
COVERAGE_WEIGHT = 0.25
TYPE_WEIGHT = 0.3
# The best sentence's similarity under which a question is about something the reports never mention.
NOTHING_CLOSE_FLOOR = 0.18


@dataclass(frozen=True)
class Closest:
    """A sentence shown as one of the closest the reports come to a question none is verified to answer, with
    its passage."""

    sentence: SentenceRecord
    hit: Hit
    score: float  # the ranking's, to compare the closest sentences of one answer

    @property
    def text(self) -> str:
        """The sentence with its claim's marker group where the report writes it: before the closing stop."""
        return render_with_group(self.sentence.text, self.sentence.group)


def quoted(texts: Iterable[str]) -> str:
    """The closest sentences as a quoted list, for a reply that is plain text (a chat message, a tool's)."""
    return "\n".join(f"> {text}" for text in texts)


class ClosestRanker:
    """Ranks sentences for being the answer, with the weights above (a ``SentenceRanker``)."""

    def rank(
        self, weighed: Sequence[Evidence], index: SearchIndex, question_vector: np.ndarray, limit: int = CLOSEST_LIMIT
    ) -> list[Closest]:
        """Up to ``limit`` sentences of ``weighed``, best first; none when even the best is not close."""
        if not weighed or max(e.similarity for e in weighed) < NOTHING_CLOSE_FLOOR:
            return []
        # Where the reports write claims with markers, a line without any (a heading run into the text) states none.
        if any(e.sentence.markers for e in weighed):
            weighed = [e for e in weighed if e.sentence.markers or says_no_information(e.sentence.text)]
        rows = [e.sentence.row for e in weighed]
        vectors = index.sentence_vectors[rows]
        hubness = vectors @ vectors.mean(axis=0)
        reach = index.reach(rows, question_vector)
        scored = sorted(
            ((closeness(e, float(near), float(hub)), e) for e, near, hub in zip(weighed, reach, hubness)),
            key=lambda pair: -pair[0],
        )
        return [Closest(e.sentence, e.hit, round(score, 4)) for score, e in scored[:limit]]


def closeness(evidence: Evidence, reach: float, hubness: float) -> float:
    """``reach``: the sentence's or one of its clauses' similarity to the question; ``hubness``: its
    similarity to the mean of the retrieved sentences."""
    return reach - HUB_WEIGHT * hubness + COVERAGE_WEIGHT * evidence.claim_coverage + TYPE_WEIGHT * evidence.typed
