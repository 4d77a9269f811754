"""Shared fixtures: the real model loaded once, the bundled corpus indexed once, a real server on loopback.
Tests that use them are slow (``tests/tiers.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.build import Indexer
from indexer.embedder import Embedder
from service.answering.qa import QuestionAnswering
from service.config import Settings
from tests.support import CORPUS, serving

pytest_plugins = ["tests.tiers"]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    # The precision a user would get from the environment: the suite must pass under either.
    model = Embedder(precision=Settings().precision)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    Indexer(embedder, progress=False).run(CORPUS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def qa(seed_index: Path, embedder: Embedder) -> QuestionAnswering:
    pipeline = QuestionAnswering(Settings(index_dir=seed_index), embedder=embedder)
    pipeline.warm_up()
    return pipeline


@pytest.fixture(scope="session")
def server(seed_index: Path) -> Iterator[str]:
    with serving(seed_index) as url:
        yield url
