"""Scores for one answered gold question and for a whole run. Each metric is defined in eval/README.md."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eval.datasets import GoldItem
from indexer.markers import markers_in, strip_markers
from indexer.terms import content_terms

# Share of an evidence quote's words a passage must hold to count as retrieving that evidence.
QUOTE_OVERLAP = 0.6
# How many of the closest sentences ``visible@n`` looks at.
VISIBLE_AT = (1, 3)


@dataclass
class Scored:
    """One gold question, the service's response to it, and what the response is worth."""

    item: GoldItem
    response: dict[str, Any]
    seconds: float
    evidence_ranks: list[int | None] = field(default_factory=list)
    answer_markers: list[str] = field(default_factory=list)
    unsupported_markers: list[str] = field(default_factory=list)
    fact_recall: float | None = None
    token_f1: float | None = None
    correct: bool = False
    # How many closest sentences it takes, beside the answer, to show every gold fact with its markers
    # (0: the answer alone); None when the first three do not.
    visible_from: int | None = None
    why: str = ""  # why the question failed, for the report

    @property
    def abstained(self) -> bool:
        """Whether the response claimed nothing."""
        return bool(self.response.get("abstained"))


def score(item: GoldItem, response: dict[str, Any], seconds: float) -> Scored:
    """What ``response`` to ``item`` is worth: evidence ranks, markers, fact recall, token F1, whether it passed, and
    why not."""
    answer = str(response.get("answer", ""))
    scored = Scored(item, response, seconds)
    scored.evidence_ranks = [_rank_of(evidence, response.get("sources", [])) for evidence in item.evidence]
    scored.answer_markers = markers_in(answer)
    scored.unsupported_markers = _unsupported(scored.answer_markers, response)
    if item.answerable:
        scored.fact_recall = _fact_recall(item.facts, answer) if not scored.abstained else 0.0
        scored.token_f1 = token_f1(answer, item.reference) if not scored.abstained and item.reference else 0.0
        markers_right = set(scored.answer_markers) <= set(item.markers) and (
            not item.markers or bool(set(scored.answer_markers) & set(item.markers))
        )
        scored.correct = not scored.abstained and scored.fact_recall == 1.0 and markers_right
        scored.visible_from = _visible_from(item, answer if markers_right and not scored.abstained else "", response)
        scored.why = "" if scored.correct else _why_failed(item, scored, markers_right)
    else:
        scored.correct = scored.abstained
        scored.why = "" if scored.correct else "answered a question the reports do not answer (a near miss)"
    return scored


def _visible_from(item: GoldItem, answer: str, response: dict[str, Any]) -> int | None:
    """The fewest closest sentences that, with the answer (when its markers are right), hold every gold
    fact, each in a sentence carrying only gold markers; 0 for the answer alone."""
    shown = [answer] if answer else []
    closest = response.get("closest") or []
    for count in range(max(VISIBLE_AT) + 1):
        if count:
            if count > len(closest):
                return None
            sentence = closest[count - 1]
            if _markers_right(sentence.get("markers", []), item.markers):
                shown.append(str(sentence.get("text", "")))
        if shown and all(any(_normalised(fact) in _normalised(text) for text in shown) for fact in item.facts):
            return count
    return None


def _markers_right(markers: list[str], gold: tuple[str, ...]) -> bool:
    return set(markers) <= set(gold) and (not gold or bool(set(markers) & set(gold)))


def _why_failed(item: GoldItem, scored: Scored, markers_right: bool) -> str:
    if scored.abstained:
        seen = f"; the closest sentences show it from #{scored.visible_from}" if scored.visible_from else ""
        return f"no sentence verified{seen}"
    missing = [fact for fact in item.facts if _normalised(fact) not in _normalised(str(scored.response.get("answer")))]
    if missing:
        return "a fact missing: " + ", ".join(f'"{fact}"' for fact in missing)
    if not markers_right:
        return f"markers {' '.join(scored.answer_markers) or 'none'} where the gold has {' '.join(item.markers)}"
    return "wrong"


def summarise(results: list[Scored], k: int) -> dict[str, float | int | None]:
    """The run's metrics; a metric with nothing to measure (no unanswerable questions, say) is None."""
    answerable = [r for r in results if r.item.answerable]
    with_evidence = [r for r in answerable if r.evidence_ranks]
    unanswerable = [r for r in results if not r.item.answerable]
    abstentions = [r for r in results if r.abstained]
    metrics: dict[str, float | int | None] = {
        "questions": len(results),
        "accuracy": _mean([r.correct for r in results]),
    }
    for cutoff in sorted({1, 3, 5, 10, k}):
        if cutoff <= k:
            metrics[f"hit@{cutoff}"] = _mean([_ranked_within(_first_rank(r), cutoff) for r in with_evidence])
    metrics["mrr"] = _mean([1 / rank if (rank := _first_rank(r)) else 0.0 for r in with_evidence])
    metrics[f"ndcg@{min(k, 10)}"] = _mean([_ndcg(r.evidence_ranks, min(k, 10)) for r in with_evidence])
    metrics["fact_recall"] = _mean([r.fact_recall for r in answerable if r.item.facts])
    metrics["token_f1"] = _mean([r.token_f1 for r in answerable if r.item.reference])
    given = sum(len(r.answer_markers) for r in answerable)
    gold = sum(len(r.item.markers) for r in answerable)
    agreed = sum(len(set(r.answer_markers) & set(r.item.markers)) for r in answerable)
    metrics["marker_precision"] = agreed / given if given else None
    metrics["marker_recall"] = agreed / gold if gold else None
    all_markers = sum(len(r.answer_markers) for r in results)
    metrics["unsupported_marker_rate"] = (
        sum(len(r.unsupported_markers) for r in results) / all_markers if all_markers else 0.0
    )
    right_abstentions = sum(not r.item.answerable for r in abstentions)
    metrics["abstain_precision"] = right_abstentions / len(abstentions) if abstentions else None
    metrics["abstain_recall"] = right_abstentions / len(unanswerable) if unanswerable else None
    metrics["answered_rate"] = _mean([not r.abstained for r in answerable])
    for count in VISIBLE_AT:
        metrics[f"visible@{count}"] = _mean(
            [r.visible_from is not None and r.visible_from <= count for r in answerable if r.item.facts]
        )
    metrics["near_misses_answered"] = sum(not r.abstained for r in unanswerable)
    latencies = sorted(r.seconds * 1000 for r in results)
    metrics["latency_p50_ms"] = statistics.median(latencies) if latencies else None
    metrics["latency_p95_ms"] = _percentile(latencies, 95)
    return metrics


def _ranked_within(rank: int | None, cutoff: int) -> bool:
    return rank is not None and rank <= cutoff


def token_f1(answer: str, reference: str) -> float:
    """SQuAD's token F1 with markers left out: word overlap between answer and reference."""
    predicted, gold = _tokens(answer), _tokens(reference)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if not predicted or not gold or not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def relevant(source: dict[str, Any], evidence_doc: str, quote: str | None) -> bool:
    """A passage retrieves the evidence when it is from the same document and, where a quote is
    given, holds most of the quote's words (chunk borders may cut a quote)."""
    if source.get("doc_id") != evidence_doc:
        return False
    if not quote:
        return True
    wanted = set(content_terms(quote))
    return not wanted or len(wanted & set(content_terms(str(source.get("text", ""))))) >= QUOTE_OVERLAP * len(wanted)


def _rank_of(evidence: Any, sources: list[dict[str, Any]]) -> int | None:
    for rank, source in enumerate(sources, start=1):
        if relevant(source, evidence.doc_id, evidence.quote):
            return rank
    return None


def _first_rank(result: Scored) -> int | None:
    return min((rank for rank in result.evidence_ranks if rank is not None), default=None)


def _ndcg(ranks: list[int | None], cutoff: int) -> float:
    """Binary gains, one per evidence item at the first rank that retrieves it."""
    dcg = sum(1 / math.log2(rank + 1) for rank in ranks if rank is not None and rank <= cutoff)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(ranks), cutoff) + 1))
    return dcg / ideal if ideal else 0.0


def _unsupported(markers: list[str], response: dict[str, Any]) -> list[str]:
    """Answer markers that no citation backs with a passage carrying that very marker."""
    passages = {s.get("chunk_id"): set(s.get("markers", [])) for s in response.get("sources", [])}
    cited = {c.get("marker"): c.get("chunk_id") for c in response.get("citations", [])}
    return [m for m in markers if m not in cited or m not in passages.get(cited[m], set())]


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*-\s*", "-", strip_markers(text).lower())).strip()


def _fact_recall(facts: tuple[str, ...], answer: str) -> float:
    if not facts:
        return 1.0
    text = _normalised(answer)
    return sum(_normalised(fact) in text for fact in facts) / len(facts)


def _tokens(text: str) -> list[str]:
    words = re.findall(r"\w+(?:[.,]\d+)*", strip_markers(text).lower())
    return [w for w in words if w not in {"a", "an", "the"}]


def _mean(values: list[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    position = (len(values) - 1) * percent / 100
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)
