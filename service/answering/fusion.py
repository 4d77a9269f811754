"""How much lexical evidence counts next to dense similarity: settings kept apart from the search code,
so that reading them (``service/config.py``) loads nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass

# What BM25 adds to the cosine similarity, each scaled so the best chunk of the documents searched
# scores 1: over chunk texts, and over the words naming each document (file name, company, period).
# Measured on FinanceBench dev, tuned on one half and checked on the other (eval/README.md).
TEXT_WEIGHT = 0.05
NAME_WEIGHT = 0.2


@dataclass(frozen=True)
class Fusion:
    """The weights of the lexical scores added to the dense one; both 0 is dense retrieval alone."""

    text_weight: float = TEXT_WEIGHT
    name_weight: float = NAME_WEIGHT

    @property
    def lexical(self) -> bool:
        """Whether any lexical score counts; when none does, retrieval computes no BM25 scores."""
        return self.text_weight > 0 or self.name_weight > 0
