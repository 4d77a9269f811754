"""What test modules share beside fixtures: the project's paths, small indexes of a test's own documents,
`citeqa` run as a user runs it, and a server under load."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from indexer.build import Indexer
from indexer.embedder import Embedder
from service.answering.qa import QuestionAnswering
from service.answering.search_index import SearchIndex
from service.config import Settings
from service.local_server import ServerFailed, local_server

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED_DOC = "meta-scale-ai-acquisition.txt"


def built_index(documents: Mapping[str, str], tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The folder of a built index of ``documents`` (file name: text), for a test's own small corpus."""
    corpus = tmp_path_factory.mktemp("corpus")
    for name, text in documents.items():
        (corpus / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    Indexer(embedder, progress=False).run(corpus, index_dir)
    return index_dir


def index_of(documents: Mapping[str, str], tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> SearchIndex:
    """A built and opened index of ``documents``."""
    return SearchIndex.open(built_index(documents, tmp_path_factory, embedder), embedder)


def answering_of(
    documents: Mapping[str, str], tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> QuestionAnswering:
    """Question answering, loaded, over a built index of ``documents``."""
    index_dir = built_index(documents, tmp_path_factory, embedder)
    pipeline = QuestionAnswering(Settings(index_dir=index_dir), embedder=embedder)
    pipeline.warm_up()
    return pipeline


def run_citeqa(*args: str, timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[arg-type]
    )


@contextmanager
def serving(index_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`citeqa serve` as a user starts it, in its own process on a free loopback port; fails the test
    with the server's output when it does not come up."""
    try:
        with local_server(index_dir, env) as url:
            yield url
    except ServerFailed as error:
        pytest.fail(str(error))


@contextmanager
def asking_without_pause(
    url: str, question: str, clients: int = 4, seconds: float = 60
) -> Iterator[Counter[int | str]]:
    """``clients`` threads asking ``question`` of the server at ``url`` back to back while the block runs (at
    most ``seconds``, whatever happens): each answer's status, or the error's name, counted."""
    statuses: Counter[int | str] = Counter()
    stop = threading.Event()
    deadline = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    statuses[http.post("/ask", json={"question": question}).status_code] += 1
                except httpx.HTTPError as error:
                    statuses[type(error).__name__] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        for thread in threads:
            thread.join()
