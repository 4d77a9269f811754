"""The client of an OpenAI-compatible chat server gives a draft, or gives up in bounded time saying why: one
retry for a failure that may pass, none once the draft has begun, none past the deadline."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from service.answering.llm import ChatClient, LLMSettings, LLMUnavailable, Message

MESSAGES: list[Message] = [{"role": "system", "content": "Cite."}, {"role": "user", "content": "How much?"}]
PIECES = ["Meta paid ", "$14.8 billion ", "[1][6]."]
Handler = Callable[[httpx.Request], httpx.Response]


def chat(handler: Handler, api_key: str | None = None, deadline: float = 30.0) -> ChatClient:
    settings = LLMSettings(url="http://llm.test/v1/", model="stub", api_key=api_key, deadline=deadline)
    return ChatClient(settings, transport=httpx.MockTransport(handler))


def completion(content: str | None) -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})


def streamed(lines: list[str]) -> httpx.Response:
    events = "".join(f"{line}\n\n" for line in lines)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events)


def chunk(delta: dict[str, str]) -> str:
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]})


def answers(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``responses`` in turn (raising those that are errors), and the requests it got."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        response = responses[len(received) - 1]
        if isinstance(response, Exception):
            raise response
        return response

    return handle, received


def test_a_streamed_draft_comes_piece_by_piece_until_the_stream_is_done() -> None:
    lines = [chunk({"role": "assistant"}), *(chunk({"content": p}) for p in PIECES), "data: [DONE]", "data: {not json"]
    handler, _ = answers(streamed(lines), streamed(lines))
    client = chat(handler)
    assert list(client.stream(MESSAGES)) == PIECES
    assert client.complete(MESSAGES) == "".join(PIECES)


def test_a_plain_completion_is_the_whole_draft() -> None:
    handler, _ = answers(completion("Meta paid $14.8 billion [1][6]."), completion(None))
    client = chat(handler)
    assert client.complete(MESSAGES) == "Meta paid $14.8 billion [1][6]."
    assert client.complete(MESSAGES) == ""


def test_the_configured_model_is_asked_to_stream_without_sampling() -> None:
    handler, received = answers(completion("x"), completion("x"))
    chat(handler, api_key="secret").complete(MESSAGES)
    chat(handler).complete(MESSAGES)
    keyed, unkeyed = received
    assert keyed.method == "POST" and str(keyed.url) == "http://llm.test/v1/chat/completions"
    assert json.loads(keyed.content) == {"model": "stub", "messages": MESSAGES, "stream": True, "temperature": 0}
    assert keyed.headers["Authorization"] == "Bearer secret" and "Authorization" not in unkeyed.headers


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(429), httpx.ConnectError("refused")],
    ids=["503", "429", "unreachable"],
)
def test_a_failure_that_may_pass_is_tried_once_more(failure: httpx.Response | Exception) -> None:
    handler, received = answers(failure, completion("Meta paid $14.8 billion [1][6]."))
    assert chat(handler).complete(MESSAGES) == "Meta paid $14.8 billion [1][6]."
    assert len(received) == 2


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (httpx.Response(503), "the model server answered 503"),
        (httpx.ReadTimeout("slow"), "the model server did not answer (ReadTimeout)"),
    ],
)
def test_a_second_failure_gives_up_saying_why(failure: httpx.Response | Exception, said: str) -> None:
    handler, received = answers(failure, failure, completion("never asked for"))
    with pytest.raises(LLMUnavailable, match=re.escape(said)):
        chat(handler).complete(MESSAGES)
    assert len(received) == 2


def test_a_refusal_is_not_tried_again_and_says_what_the_server_said() -> None:
    handler, received = answers(httpx.Response(401, text="invalid API key"), completion("never asked for"))
    with pytest.raises(LLMUnavailable, match="answered 401: invalid API key"):
        chat(handler).complete(MESSAGES)
    assert len(received) == 1


@pytest.mark.parametrize(
    ("response", "said"),
    [
        (httpx.Response(200, json={"error": "overloaded"}), "not a chat completion"),
        (streamed(['data: {"id": 1}']), "not chat completion chunks"),
    ],
)
def test_an_answer_that_is_not_a_chat_completion_says_so(response: httpx.Response, said: str) -> None:
    handler, _ = answers(response)
    with pytest.raises(LLMUnavailable, match=said):
        chat(handler).complete(MESSAGES)


def test_a_draft_cut_off_after_its_first_piece_is_not_asked_again() -> None:
    def cut_off() -> Iterator[bytes]:
        yield f"{chunk({'content': PIECES[0]})}\n\n".encode()
        raise httpx.ReadError("connection reset")

    handler, received = answers(
        httpx.Response(200, headers={"content-type": "text/event-stream"}, content=cut_off()), completion("again")
    )
    pieces: list[str] = []
    with pytest.raises(LLMUnavailable, match="ReadError"):
        pieces.extend(chat(handler).stream(MESSAGES))
    assert pieces == [PIECES[0]] and len(received) == 1


def test_past_the_deadline_the_draft_is_given_up_and_a_failure_not_tried_again() -> None:
    streaming, _ = answers(streamed([chunk({"content": p}) for p in PIECES]))
    with pytest.raises(LLMUnavailable, match="no complete draft within"):
        chat(slowly(streaming), deadline=0.01).complete(MESSAGES)
    failing, received = answers(httpx.Response(503), completion("too late"))
    with pytest.raises(LLMUnavailable, match="answered 503"):
        chat(slowly(failing), deadline=0.01).complete(MESSAGES)
    assert len(received) == 1


def slowly(handler: Handler) -> Handler:
    """``handler``, answering after longer than the deadlines above."""

    def handle(request: httpx.Request) -> httpx.Response:
        time.sleep(0.02)
        return handler(request)

    return handle
