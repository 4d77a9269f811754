"""Calls timed one by one, and sides compared in alternating rounds, so drift in a shared machine's load is
shared between them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

from eval.bench.questions import Questions
from eval.bench.results import Figures

ROUNDS = 4
Arg = TypeVar("Arg")


def timed_ms(call: Callable[[Arg], object], arguments: list[Arg]) -> list[float]:
    """Milliseconds each call of ``call`` on one of ``arguments`` took."""
    timings = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` of ``values`` (0.95: the p95), by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(timings: list[float]) -> Figures:
    """The median, p95 and p99 of ``timings`` (milliseconds) and their number, as bench.json keeps them."""
    return {
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(percentile(timings, 0.95), 3),
        "p99_ms": round(percentile(timings, 0.99), 3),
        "n": len(timings),
    }


def alternate(sides: dict[str, Callable[[str], object]], questions: Questions, rounds: int = ROUNDS) -> Figures:
    """Each side timed on fresh texts, whole rounds in turn, so no side runs while another is timed and
    drift in the machine's load is shared between them."""
    timings: dict[str, list[float]] = {name: [] for name in sides}
    for call in sides.values():  # warm-up round: lazy imports, first allocations
        timed_ms(call, questions.batch())
    for _ in range(rounds):
        for name, call in sides.items():
            timings[name].extend(timed_ms(call, questions.batch()))
    return {name: spread(values) for name, values in timings.items()}
