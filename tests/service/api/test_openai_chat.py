"""`/v1/chat/completions` through the official OpenAI client, against the real server."""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI

from indexer.markers import markers_in

# Asks the server.
pytestmark = pytest.mark.slow

QUESTION = "How much did Meta pay for its stake in Scale AI?"


@pytest.fixture(scope="module")
def client(server: str) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0, timeout=30)


def test_a_completion_carries_the_answer_with_markers_and_its_citations(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="any-name", messages=[{"role": "user", "content": QUESTION}])
    assert completion.object == "chat.completion" and completion.model == "any-name"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    content = choice.message.content or ""
    assert "$14.8 billion" in content and "[1][6]" in content
    extra = completion.model_extra or {}
    assert {c["marker"] for c in extra["citations"]} == set(markers_in(content)) == {"[1]", "[6]"}
    assert extra["sources"] and extra["abstained"] is False
    cited = {s["chunk_id"] for s in extra["sources"]}
    assert all(c["chunk_id"] in cited for c in extra["citations"])


def test_a_streamed_completion_ends_with_the_citations(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUESTION}], stream=True)
    )
    assert all(c.object == "chat.completion.chunk" and c.model == "m" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "$14.8 billion" in content and "[1][6]" in content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert {c["marker"] for c in (last.model_extra or {})["citations"]} == {"[1]", "[6]"}
    assert all(not (c.model_extra or {}).get("citations") for c in chunks[:-1])


def test_earlier_turns_are_the_context_of_a_follow_up(client: OpenAI) -> None:
    first = client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUESTION}])
    completion = client.chat.completions.create(
        model="m",
        messages=[
            {"role": "system", "content": "Answer from the reports."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content or ""},
            {"role": "user", "content": [{"type": "text", "text": "Who will lead it?"}]},
        ],
    )
    assert "Alexandr Wang" in (completion.choices[0].message.content or "")


def test_a_question_sent_in_text_parts_is_read_as_written_in_one(client: OpenAI) -> None:
    parts = [{"type": "text", "text": "Who will lead"}, {"type": "text", "text": "Meta's superintelligence lab?"}]
    completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": parts}])
    assert "Alexandr Wang" in (completion.choices[0].message.content or "")


def test_an_unanswerable_question_says_so(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "What was Scale AI's revenue in 2024?"}]
    )
    extra = completion.model_extra or {}
    assert extra["abstained"] is True and extra["citations"] == []
    # The message claims nothing: markers come only with the closest sentences, quoted under it.
    first, *quoted = (completion.choices[0].message.content or "").split("\n")
    assert markers_in(first) == [] and all(line.startswith("> ") for line in quoted if line)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "m"}, "Field required"),
        ({"model": "m", "messages": []}, "at least 1 item"),
        ({"model": "m", "messages": [{"role": "system", "content": "Be brief."}]}, "at least one user message"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "calls no tools"),
        ({"model": "m", "messages": [{"role": "user", "content": 42}]}, "valid string"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, "'text'"),
        ({"model": "m", "messages": [{"role": "user", "content": "   "}]}, "must not be empty"),
        ({"model": "m", "messages": [{"role": "user", "content": "x" * 2001}]}, "at most 2000 characters"),
        ({"model": "m", "messages": "hello"}, "valid list"),
        ({"model": 7, "messages": [{"role": "user", "content": "Who?"}]}, "valid string"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_detail(server: str, body: dict[str, object], needle: str) -> None:
    response = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 422
    assert needle in str(response.json()["detail"])


def test_invalid_json_is_a_422(server: str) -> None:
    response = httpx.post(f"{server}/v1/chat/completions", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"]


def test_a_question_no_sentence_answers_gets_the_closest_sentences_quoted(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "When will the Meta Scale AI deal close?"}]
    )
    content = completion.choices[0].message.content or ""
    lead, *quotes = [line for line in content.splitlines() if line]
    assert lead == "No sentence of the reports answers this as asked; the closest they come:"
    assert 1 <= len(quotes) <= 3 and all(q.startswith("> ") and markers_in(q) for q in quotes)
    extra = completion.model_dump()
    assert extra["abstained"] is True and extra["citations"] == []
    assert [f"> {c['text']}" for c in extra["closest"]] == quotes


def test_a_developer_message_is_read_as_a_system_one(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="m",
        messages=[
            {"role": "developer", "content": "Answer from the reports."},
            {"role": "user", "content": QUESTION},
        ],
    )
    assert "$14.8 billion" in (completion.choices[0].message.content or "")


@pytest.mark.parametrize(
    ("role", "says"), [("tool", "calls no tools"), ("function", "calls no tools"), ("critic", "not one of")]
)
def test_a_role_that_means_nothing_here_is_refused_by_name(server: str, role: str, says: str) -> None:
    body = {"model": "m", "messages": [{"role": role, "content": "x"}, {"role": "user", "content": QUESTION}]}
    response = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 422
    assert f"role {role!r}" in response.text and says in response.text
