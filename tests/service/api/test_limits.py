"""Bad input a client can send: oversized and non-JSON bodies, request ids, unknown routes; each a JSON 4xx."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from service.answering.qa import QuestionAnswering
from service.api.app import create_app

# The app over the model and the seed index.
pytestmark = pytest.mark.slow

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def client(qa: QuestionAnswering) -> Iterator[TestClient]:
    with TestClient(create_app(qa.settings, qa)) as test_client:
        yield test_client


@pytest.mark.parametrize("route", ["/ask", "/ask/stream", "/v1/chat/completions"])
def test_a_body_over_the_limit_gets_a_json_413(client: TestClient, route: str) -> None:
    body = b'{"question": "' + b"x" * LIMIT + b'"}'
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"the request body is larger than {LIMIT} bytes"}


def test_a_chunked_body_is_cut_off_at_the_limit_while_it_is_read(server: str) -> None:
    """No Content-Length to judge by: the server answers 413 once the chunks pass the limit, without
    waiting for the rest of a body that could be endless."""
    address = urlsplit(server)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(
            b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 16384
        for _ in range(LIMIT // len(chunk) + 1):
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        # The body is not finished (no last chunk): the answer comes anyway, and the server hangs up.
        received = b""
        while piece := connection.recv(65536):
            received += piece
        answer = received.decode()
    assert answer.startswith("HTTP/1.1 413")
    assert '{"detail":"the request body is larger than' in answer.replace(": ", ":")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"question": "Who?"}', "text/plain"),
        (b"question=Who%3F", "application/x-www-form-urlencoded"),
        (b'{"question": "Who?"}', None),
        (b"<question>Who?</question>", "application/xml"),
    ],
)
def test_a_body_that_is_not_json_gets_415(client: TestClient, content: bytes, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for route in ["/ask", "/ask/stream", "/v1/chat/completions"]:
        response = client.post(route, content=content, headers=headers)
        assert response.status_code == 415, route
        assert "must be JSON" in response.json()["detail"]


def test_json_with_a_charset_or_a_json_subtype_is_accepted(client: TestClient) -> None:
    for content_type in ["application/json; charset=utf-8", "application/vnd.api+json"]:
        response = client.post(
            "/ask", content=b'{"question": "Who leads the lab?"}', headers={"content-type": content_type}
        )
        assert response.status_code == 200, response.text


def test_a_body_that_is_not_utf8_gets_a_4xx_with_a_detail(client: TestClient) -> None:
    response = client.post("/ask", content=b'{"question": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not UTF-8 text: byte 14 is 0xff")


def test_a_sane_request_id_is_echoed_and_any_other_replaced(client: TestClient) -> None:
    given = client.get("/livez", headers={"X-Request-ID": "portal-7f3a:42"})
    assert given.headers["x-request-id"] == "portal-7f3a:42"
    for insane in ["has spaces", "x" * 200, "<script>", ""]:
        replaced = client.get("/livez", headers={"X-Request-ID": insane}).headers["x-request-id"]
        assert replaced != insane and len(replaced) == 32
    first, second = (client.get("/livez").headers["x-request-id"] for _ in range(2))
    assert first != second


def test_unknown_routes_and_methods_get_json_errors(client: TestClient) -> None:
    assert client.get("/nowhere").json() == {"detail": "Not Found"}
    wrong = client.get("/ask")
    assert wrong.status_code == 405 and wrong.json()["detail"]


def test_the_openapi_schema_documents_every_refusal(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in ["/ask", "/ask/stream", "/v1/chat/completions"]:
        assert {"401", "413", "415", "422", "429", "503"} <= set(paths[route]["post"]["responses"]), route
    assert {"401", "422", "429", "503"} <= set(paths["/search"]["get"]["responses"])
    assert {"401", "403", "404", "409"} <= set(paths["/admin/reload"]["post"]["responses"])
