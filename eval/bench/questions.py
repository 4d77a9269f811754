"""The gold questions as the benchmarks ask them: every text one no server in the run has seen, so caches
never stand in for the model."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

GOLD = Path(__file__).resolve().parent.parent / "gold.jsonl"


def gold_questions() -> list[str]:
    """The questions of ``eval/gold.jsonl``, in order."""
    return [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line]


def unseen(question: str, variant: int) -> str:
    """``question`` with its spaces widened by the base-8 digits of ``variant``: the same tokens, so the
    same embedding work and answer, but a text no cache has seen (distinct for variants below 8**spaces)."""
    words = question.split(" ")
    gaps = []
    for _ in words[:-1]:
        variant, digit = divmod(variant, 8)
        gaps.append(" " * (1 + digit))
    return "".join(word + gap for word, gap in zip(words, gaps)) + words[-1]


class Questions:
    """The gold questions in turn, each round of them with its spaces widened differently."""

    def __init__(self) -> None:
        self.gold = gold_questions()
        self._counter = itertools.count()

    def next(self) -> str:
        """The next gold question in turn, its spaces widened for its round: a text not returned before (``unseen``)."""
        n = next(self._counter)
        return unseen(self.gold[n % len(self.gold)], n // len(self.gold) + 1)

    def batch(self) -> list[str]:
        """The next round: every gold question once."""
        return self.stream(len(self.gold))

    def stream(self, count: int) -> list[str]:
        """The next ``count`` questions (``next``)."""
        return [self.next() for _ in range(count)]
