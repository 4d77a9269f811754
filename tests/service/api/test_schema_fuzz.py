"""Every route against the app's own OpenAPI schema, with inputs schemathesis makes up: no server error,
and every answer (status, content type, body, headers) as the schema documents it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.answering.qa import QuestionAnswering
from service.api.app import create_app
from service.config import Settings

# Fuzzes the app over the seed index; the routes the fuzzing reached are counted in the same tier.
pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Generated examples per route and phase: enough to reach the edges of each input, few enough that the
# whole run takes seconds on two cores.
EXAMPLES = 25
cases: Counter[str] = Counter()


@pytest.fixture(scope="module")
def app(qa: QuestionAnswering) -> Iterator[FastAPI]:
    served = create_app(qa.settings.model_copy(update={"rate_limit": "off"}), qa)
    with TestClient(served):  # the lifespan runs, as under a server
        yield served


# The schema as the app publishes it at /openapi.json; it depends on the routes, not on the index.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_answers_as_documented(case: schemathesis.Case, app: FastAPI) -> None:
    response = case.call_and_validate(app=app, checks=CHECKS)
    assert response.status_code < 500, response.text
    cases[f"{case.method} {case.path}"] += 1


def test_the_fuzzing_reached_every_route() -> None:
    routes = {"POST /ask", "GET /search", "POST /ask/stream", "POST /v1/chat/completions", "POST /admin/reload"}
    assert routes <= set(cases), cases
    print(f"\nschemathesis: {sum(cases.values())} cases: {dict(cases)}")
