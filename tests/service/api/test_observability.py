"""What an operator sees: one JSON log line per request, and Prometheus metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.answering.qa import QuestionAnswering
from service.api.app import create_app
from service.logs import JsonFormatter

# The app over the model and the seed index.
pytestmark = pytest.mark.slow


@pytest.fixture
def client(qa: QuestionAnswering) -> Iterator[TestClient]:
    with TestClient(create_app(qa.settings, qa)) as test_client:
        yield test_client


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_each_request_is_one_json_line_with_its_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="citeqa.access"):
        response = client.get("/search", params={"q": "Who leads the lab?"}, headers={"X-Request-ID": "trace-1"})
    assert response.headers["x-request-id"] == "trace-1"
    [record] = [r for r in caplog.records if r.name == "citeqa.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "info" and line["ts"].endswith("Z")
    assert line["method"] == "GET" and line["path"] == "/search" and line["route"] == "/search"
    assert line["status"] == 200 and line["request_id"] == "trace-1" and line["duration_ms"] > 0
    assert "Who leads" not in json.dumps(line), "the query string (the question) is not logged"


def test_metrics_count_requests_answers_and_describe_the_index(client: TestClient, qa: QuestionAnswering) -> None:
    before = samples(client)
    client.post("/ask", json={"question": "How much did Meta pay for its stake in Scale AI?"})
    client.post("/ask", json={"question": "What was Scale AI's revenue in 2024?"})
    client.post("/ask", json={"question": ""})
    client.get("/nowhere/1")
    client.get("/nowhere/2")
    after = samples(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("citeqa_requests_total", method="POST", route="/ask", status="200") == 2
    assert grew("citeqa_requests_total", method="POST", route="/ask", status="422") == 1
    # Paths nobody routes share one label, so clients cannot grow the metrics without bound.
    assert grew("citeqa_requests_total", method="GET", route="unmatched", status="404") == 2
    assert grew("citeqa_request_seconds_count", route="/ask") == 3
    assert grew("citeqa_answers_total", outcome="answered") == 1
    assert grew("citeqa_answers_total", outcome="abstained") == 1
    assert after[("citeqa_index_documents", ())] == 1
    assert after[("citeqa_index_chunks", ())] == qa.index.size
    assert after[("citeqa_ready", ())] == 1
    assert ("citeqa_index_reloads_total", (("result", "ok"),)) in after
