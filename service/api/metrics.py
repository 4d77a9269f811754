"""Prometheus metrics: requests by route and status, latency, answers and abstentions, the index, reloads.

Each app has its own registry, so apps built side by side (as in the tests) do not share counts.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.answering.qa import NotReady, QuestionAnswering

# Any other method a client invents is counted as "other", so labels cannot grow without bound.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: an answer takes tens of milliseconds; a stream as long as the client reads.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The app's Prometheus registry: requests counted and timed as they end, the pipeline's figures read at
    each scrape."""

    def __init__(self, qa: QuestionAnswering) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "citeqa_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "citeqa_request_seconds",
            "time to answer, by route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_ServiceCollector(qa))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its time; a method outside the standard ones is counted as "other"."""
        self.requests.labels(method if method in _METHODS else "other", route, str(status)).inc()
        self.latency.labels(route).observe(seconds)


class _ServiceCollector(Collector):
    """Read from the pipeline at scrape time, so the figures follow reloads without bookkeeping."""

    def __init__(self, qa: QuestionAnswering) -> None:
        self.qa = qa

    def collect(self) -> Iterator[Metric]:
        """The answers, abstentions and reloads so far, readiness, and the size of the index once one is served."""
        counts = dict(self.qa.counts)
        answers = CounterMetricFamily("citeqa_answers", "answers given, and abstentions", labels=["outcome"])
        answers.add_metric(["answered"], counts.get("answered", 0))
        answers.add_metric(["abstained"], counts.get("abstained", 0))
        yield answers
        reloads = CounterMetricFamily("citeqa_index_reloads", "index reloads", labels=["result"])
        reloads.add_metric(["ok"], counts.get("reloaded", 0))
        reloads.add_metric(["failed"], counts.get("reload_failed", 0))
        yield reloads
        yield GaugeMetricFamily("citeqa_ready", "1 when model and index are loaded", value=self.qa.state == "ready")
        try:
            index = self.qa.index
        except NotReady:
            return
        sizes = (("documents", len(index.data.documents)), ("chunks", index.size), ("sentences", len(index.sentences)))
        for name, value in sizes:
            yield GaugeMetricFamily(f"citeqa_index_{name}", f"{name} in the index being served", value=value)
