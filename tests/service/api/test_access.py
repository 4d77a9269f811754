"""API keys, the widget's site keys and per-client rate limits, as a client meets them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.answering.qa import QuestionAnswering
from service.api.access import key_hash
from service.api.app import create_app
from service.config import Settings

# The app over the model and the seed index.
pytestmark = pytest.mark.slow

KEY, OTHER_KEY = "k-7d1f0c2a9b", "k-55e0a1"
SITE_KEY, PORTAL = "pk-portal-1", "https://portal.example.com"
ASK = {"question": "Who will lead Meta's superintelligence lab?"}


def keyed_client(qa: QuestionAnswering, **settings: object) -> TestClient:
    values = {"api_keys": f"{KEY},{OTHER_KEY}", "site_keys": f"{SITE_KEY}@{PORTAL}", "rate_limit": "off", **settings}
    return TestClient(create_app(Settings(index_dir=qa.settings.index_dir, **values), qa))


@pytest.fixture(scope="module")
def client(qa: QuestionAnswering) -> Iterator[TestClient]:
    with keyed_client(qa) as test_client:
        yield test_client


def test_without_a_key_the_api_answers_401_with_the_reason(client: TestClient) -> None:
    for response in [
        client.post("/ask", json=ASK),
        client.get("/search", params={"q": "lab"}),
        client.post("/ask/stream", json=ASK),
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Who?"}]}),
        client.get("/metrics"),
        client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    ]:
        assert response.status_code == 401, response.request.url
        assert "API key" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_key_is_refused_and_a_right_one_in_either_header_answers(client: TestClient) -> None:
    wrong = client.post("/ask", json=ASK, headers={"Authorization": "Bearer k-guess"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "the API key is not valid"
    assert client.post("/ask", json=ASK, headers={"Authorization": f"Bearer {KEY}"}).json()["abstained"] is False
    assert client.post("/ask", json=ASK, headers={"X-API-Key": OTHER_KEY}).status_code == 200
    assert client.get("/metrics", headers={"X-API-Key": KEY}).status_code == 200


def test_health_widget_and_demo_page_stay_open(client: TestClient) -> None:
    for path in ["/livez", "/readyz", "/widget.js", "/"]:
        assert client.get(path).status_code == 200, path


def test_a_site_key_works_only_from_its_own_origin(client: TestClient) -> None:
    from_portal = {"X-Site-Key": SITE_KEY, "Origin": PORTAL}
    assert client.post("/ask/stream", json=ASK, headers=from_portal).status_code == 200
    copied = client.post("/ask", json=ASK, headers={"X-Site-Key": SITE_KEY, "Origin": "https://copycat.example"})
    assert copied.status_code == 401 and "origin" in copied.json()["detail"]
    assert client.post("/ask", json=ASK, headers={"X-Site-Key": SITE_KEY}).status_code == 401
    assert client.post("/ask", json=ASK, headers={"X-Site-Key": "pk-guess", "Origin": PORTAL}).status_code == 401
    # A site key is public: it opens the question routes, not the operator's metrics.
    assert client.get("/metrics", headers=from_portal).status_code == 401


def test_the_site_key_origin_passes_the_browser_preflight(client: TestClient) -> None:
    preflight = client.options(
        "/ask/stream",
        headers={
            "Origin": PORTAL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-site-key",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == PORTAL


def test_keys_never_reach_the_log_only_a_hash_prefix(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="citeqa"):
        client.post("/ask", json=ASK, headers={"X-API-Key": KEY})
        client.post("/ask", json=ASK, headers={"Authorization": "Bearer k-guess"})
        client.post("/ask", json=ASK, headers={"X-Site-Key": SITE_KEY, "Origin": PORTAL})
    logged = [(record.getMessage(), getattr(record, "fields", {})) for record in caplog.records]
    text = repr(logged)
    assert KEY not in text and "k-guess" not in text and SITE_KEY not in text
    clients = [fields["client"] for _, fields in logged if fields.get("event") == "request"]
    assert clients == [f"key:{key_hash(KEY)}", None, f"site:{key_hash(SITE_KEY)}"]


def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_are_not_slowed(qa: QuestionAnswering) -> None:
    with keyed_client(qa, rate_limit="2/minute", rate_burst=3) as client:
        site = {"X-Site-Key": SITE_KEY, "Origin": PORTAL}
        page = [client.get("/search", params={"q": "lab"}, headers=site) for _ in range(4)]
        assert [r.status_code for r in page] == [200, 200, 200, 429]
        assert page[3].json()["detail"].startswith("too many requests")
        assert 1 <= int(page[3].headers["retry-after"]) <= 30
        # A caller with a valid API key is the operator's own: no limit it did not choose.
        mine = [client.get("/search", params={"q": "lab"}, headers={"X-API-Key": KEY}) for _ in range(6)]
        assert [r.status_code for r in mine] == [200] * 6
        # Guessing keys from one address is throttled by address.
        guesses = [client.get("/search", params={"q": "lab"}, headers={"X-API-Key": f"g{i}"}) for i in range(4)]
        assert [r.status_code for r in guesses] == [401, 401, 401, 429]


def test_the_rate_limit_holds_pages_and_other_machines_not_the_servers_own(qa: QuestionAnswering) -> None:
    settings = Settings(index_dir=qa.settings.index_dir, rate_limit="2/minute", rate_burst=2)

    def statuses(address: str, headers: dict[str, str]) -> list[int]:
        with TestClient(create_app(settings, qa), client=(address, 50000)) as client:
            return [client.get("/search", params={"q": "lab"}, headers=headers).status_code for _ in range(5)]

    assert statuses("127.0.0.1", {}) == [200] * 5
    assert statuses("::1", {}) == [200] * 5
    # A page in a browser on the same machine is a page like any other.
    assert statuses("127.0.0.1", {"Origin": "http://127.0.0.1:3000"}) == [200, 200, 429, 429, 429]
    assert statuses("203.0.113.7", {}) == [200, 200, 429, 429, 429]
    # Behind a proxy that does not forward the caller's address, everyone comes from loopback.
    settings = Settings(index_dir=qa.settings.index_dir, rate_limit="2/minute", rate_burst=2, rate_limit_local=True)
    assert statuses("127.0.0.1", {}) == [200, 200, 429, 429, 429]


def test_without_keys_configured_the_api_is_open_and_any_authorization_is_ignored(qa: QuestionAnswering) -> None:
    with TestClient(create_app(qa.settings, qa)) as open_client:
        # The OpenAI client always sends a bearer token, whatever it is.
        response = open_client.post("/ask", json=ASK, headers={"Authorization": "Bearer unused"})
        assert response.status_code == 200
