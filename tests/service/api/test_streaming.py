"""`POST /ask/stream` over a real connection: event order, headers, validation before the stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest

from indexer.markers import GROUP_RE, markers_in
from service.api.streaming import event_stream, sse

QUESTION = "How much did Meta pay for its stake in Scale AI?"


def stream(server: str, body: dict[str, object]) -> tuple[httpx.Headers, list[tuple[str, Any]]]:
    with httpx.stream("POST", f"{server}/ask/stream", json=body, timeout=30) as response:
        assert response.status_code == 200, response.read()
        events: list[tuple[str, Any]] = []
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((event, json.loads(line.removeprefix("data: "))))
        return response.headers, events


def test_events_come_in_order_with_the_answer_in_whole_sentences(server: str) -> None:
    headers, events = stream(server, {"question": QUESTION})
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache" and headers["x-accel-buffering"] == "no"
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-2:] == ["citations", "done"]
    assert set(names[1:-2]) == {"delta"}

    expected = httpx.post(f"{server}/ask", json={"question": QUESTION}, timeout=30).json()
    deltas = [data["text"] for name, data in events if name == "delta"]
    answer = "".join(deltas)
    assert answer == expected["answer"] and "$14.8 billion" in answer and "[1][6]" in answer
    # A marker group never straddles two deltas: each delta holds whole groups only.
    assert [g for d in deltas for g in GROUP_RE.findall(d)] == GROUP_RE.findall(answer)
    sources, citations, done = events[0][1], events[-2][1], events[-1][1]
    assert sources == expected["sources"]
    assert citations == expected["citations"] and {c["marker"] for c in citations} == set(markers_in(answer))
    assert done == {"abstained": False, "mode": "extractive", "note": None, "closest": [], "dropped": []}


def test_a_multi_sentence_answer_streams_sentence_by_sentence(server: str) -> None:
    question = "Who will lead Meta's superintelligence lab, and what will Scale AI's platform provide for that lab?"
    _, events = stream(server, {"question": question})
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) >= 2 and "Alexandr Wang" in "".join(deltas)
    assert all(markers_in(d) for d in deltas), "every sentence arrives with its markers"


def test_an_abstention_streams_as_one_delta_flagged_in_done(server: str) -> None:
    _, events = stream(server, {"question": "What was Scale AI's revenue in 2024?"})
    deltas = [data for name, data in events if name == "delta"]
    assert len(deltas) == 1 and markers_in(deltas[0]["text"]) == []
    assert events[-2] == ("citations", []) and events[-1][0] == "done" and events[-1][1]["abstained"] is True
    assert events[0][1], "the closest passages are still sent"
    # The sentences where the reports come closest, each with its claim's markers, in the done event.
    closest = events[-1][1]["closest"]
    assert 1 <= len(closest) <= 3 and all(c["markers"] and markers_in(c["text"]) == c["markers"] for c in closest)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"question": " "}, "must not be empty"),
        ({"question": "Who?", "top_k": 0}, "greater than or equal to 1"),
        ({"question": "Who?", "history": ["a"] * 6}, "at most 5 items"),
        ({"question": "Who?", "history": ["x" * 2001]}, "at most 2000 characters"),
        ({"question": "Who?", "history": "previous"}, "valid list"),
    ],
)
def test_bad_bodies_get_a_json_422_before_any_event(server: str, body: dict[str, object], needle: str) -> None:
    response = httpx.post(f"{server}/ask/stream", json=body, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert needle in str(response.json()["detail"])


def test_a_page_of_an_origin_not_allowed_is_refused_at_preflight(server: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    refused = httpx.options(f"{server}/ask/stream", headers={"Origin": "http://elsewhere.example", **preflight})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert refused.headers["content-type"] == "application/json"
    assert "CITEQA_ALLOWED_ORIGINS" in refused.json()["detail"]
    own = server.replace("127.0.0.1", "localhost")
    allowed = httpx.options(f"{server}/ask/stream", headers={"Origin": own, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == own


def test_no_further_work_once_the_client_is_gone() -> None:
    computed: list[str] = []
    checks = iter([False, True])

    class Leaving:
        """A request whose client leaves after the first event."""

        async def is_disconnected(self) -> bool:
            return next(checks)

    async def events() -> AsyncGenerator[str, None]:
        for step in ("sources", "answer"):
            computed.append(step)
            yield sse("{}", step)

    async def consume() -> list[str | bytes | memoryview]:
        response = event_stream(Leaving(), events())  # type: ignore[arg-type]
        return [chunk async for chunk in response.body_iterator]

    assert asyncio.run(consume()) == [sse("{}", "sources")]
    assert computed == ["sources"]
