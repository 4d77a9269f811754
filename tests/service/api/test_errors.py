"""A ``CiteqaError`` raised in a route is answered by its kind, in the one handler of the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eval.datasets import GoldFormatError
from indexer.errors import CiteqaError, ConfigurationError, InputError, ModelUnavailable
from indexer.index_files import IndexUnavailable
from indexer.model_process import ModelProcessError
from service.answering.llm import LLMUnavailable
from service.answering.qa import ModeUnavailable, NotReady
from service.api.app import create_app
from service.api.reload import IndexNotReloaded
from service.config import Settings


def client_raising(error: Exception, index_dir: Path) -> TestClient:
    """A client of an app with a route that raises ``error`` (the app is not started: nothing loads)."""
    app = create_app(Settings(index_dir=index_dir))

    async def raises() -> None:
        raise error

    app.add_api_route("/raises", raises)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("the question must not be empty"), 422),
        (GoldFormatError("gold.jsonl holds no questions"), 422),
        (ModeUnavailable("generated answers are off"), 400),
        (IndexNotReloaded("the index was not reloaded: no index at x"), 409),
        (NotReady("the model and index are still loading"), 503),
        (ModelUnavailable("cannot load embedding model 'x'"), 503),
        (LLMUnavailable("no complete draft within 20 s"), 503),
    ],
)
def test_an_error_gets_the_status_of_its_kind_and_its_message(error: CiteqaError, status: int, tmp_path: Path) -> None:
    response = client_raising(error, tmp_path).get("/raises")
    assert response.status_code == status
    assert response.json() == {"detail": str(error)}
    assert "retry-after" not in response.headers


def test_a_model_process_that_stopped_is_a_503_to_retry(tmp_path: Path) -> None:
    error = ModelProcessError("the model process stopped; it is started again on the next request")
    response = client_raising(error, tmp_path).get("/raises")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json() == {"detail": str(error)}


@pytest.mark.parametrize("error", [ConfigurationError("a site key is bad"), IndexUnavailable("no index at x")])
def test_a_kind_no_request_causes_is_a_500_without_its_message(error: CiteqaError, tmp_path: Path) -> None:
    response = client_raising(error, tmp_path).get("/raises")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("internal error (request ")
