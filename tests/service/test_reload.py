"""The index changes while the service runs: reload by the admin route or SIGHUP, damaged indexes, two
`citeqa index` runs at once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.index_files import (
    CHUNK_VECTORS,
    FAISS_FILE,
    MANIFEST,
    METADATA,
    SENTENCE_VECTORS,
    IndexUnavailable,
    read_index,
)
from indexer.location import IndexLocation
from service.answering.qa import QuestionAnswering
from service.api.app import create_app
from service.config import Settings
from service.local_server import ServerFailed, started_server
from tests.support import CORPUS, ROOT, SEED_DOC, asking_without_pause, run_citeqa

# Reloads indexes built with the model; runs `citeqa index` in processes of its own.
pytestmark = pytest.mark.slow

ADMIN = "admin-6c1e9f"
SEED_QUESTION = "How much did Meta pay for its stake in Scale AI?"
FREIGHT_DOC = "orbital-freight.txt"
FREIGHT = (
    "Orbital Freight Outlook\n\nOrbital Freight's cargo drone fleet grew to 340 aircraft by the end of the year, "
    "after the company opened two maintenance hubs in Nevada [1]. Its largest customer remains a grocery chain [2].\n"
)
FREIGHT_QUESTION = "How large is Orbital Freight's cargo drone fleet?"
LEDGER_DOC = "harbour-ledger.txt"
LEDGER = (
    "Harbour Ledger Review\n\nHarbour Ledger processed its settlements through a new clearing partner in Rotterdam, "
    "cutting settlement times by a third [1].\n"
)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(CORPUS / SEED_DOC, folder / SEED_DOC)
    return folder


@pytest.fixture
def index_dir(tmp_path: Path, corpus: Path, embedder: Embedder) -> Path:
    index = tmp_path / "index"
    Indexer(embedder, progress=False).run(corpus, index)
    return index


def damage(index_dir: Path, name: str) -> None:
    """Cut a file of the published build to half its length, as a full disk or a bad copy would."""
    path = index_dir.resolve() / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("name", [MANIFEST, FAISS_FILE, CHUNK_VECTORS, SENTENCE_VECTORS, METADATA])
def test_a_truncated_index_file_is_a_clear_error(index_dir: Path, name: str) -> None:
    damage(index_dir, name)
    with pytest.raises(IndexUnavailable, match="rebuild with `citeqa index CORPUS --index-dir"):
        read_index(index_dir)


def test_serve_refuses_a_damaged_index_at_start_with_the_reason(index_dir: Path) -> None:
    damage(index_dir, FAISS_FILE)
    result = run_citeqa("serve", "--index-dir", str(index_dir), "--port", "1", timeout=120)
    assert result.returncode == 2
    assert "is damaged" in result.stderr and "rebuild with `citeqa index CORPUS --index-dir" in result.stderr


@pytest.fixture
def admin_client(index_dir: Path, embedder: Embedder) -> Iterator[tuple[TestClient, QuestionAnswering]]:
    settings = Settings(index_dir=index_dir, admin_key=ADMIN)
    qa = QuestionAnswering(settings, embedder=embedder)
    qa.warm_up()
    with TestClient(create_app(settings, qa)) as client:
        yield client, qa


def test_the_admin_route_needs_the_admin_key_and_is_absent_without_one(
    admin_client: tuple[TestClient, QuestionAnswering], qa: QuestionAnswering
) -> None:
    client, _ = admin_client
    assert client.post("/admin/reload").status_code == 401
    assert client.post("/admin/reload", headers={"Authorization": "Bearer guess"}).status_code == 403
    assert client.post("/admin/reload", headers={"X-API-Key": ADMIN}).json()["status"] == "reloaded"
    with TestClient(create_app(qa.settings, qa)) as without_admin:
        response = without_admin.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
        assert response.status_code == 404 and response.json()["detail"] == "Not Found"


def test_reload_requests_are_rate_limited_so_neither_floods_nor_key_guessing_get_through(
    index_dir: Path, qa: QuestionAnswering
) -> None:
    settings = Settings(index_dir=index_dir, admin_key=ADMIN, rate_limit="2/minute")
    with TestClient(create_app(settings, qa)) as client:
        guesses = [client.post("/admin/reload", headers={"Authorization": f"Bearer guess{i}"}) for i in range(2)]
        assert [response.status_code for response in guesses] == [403, 403]
        refused = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "too many requests" in refused.json()["detail"]


def test_a_damaged_new_index_is_refused_and_the_old_one_keeps_serving(
    admin_client: tuple[TestClient, QuestionAnswering], corpus: Path, index_dir: Path, embedder: Embedder
) -> None:
    client, qa = admin_client
    (corpus / FREIGHT_DOC).write_text(FREIGHT, encoding="utf-8")
    Indexer(embedder, progress=False).run(corpus, index_dir)
    damage(index_dir, METADATA)
    refused = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "not reloaded" in detail and "rebuild with `citeqa index CORPUS --index-dir" in detail
    assert client.get("/readyz").json()["documents"] == 1
    assert client.post("/ask", json={"question": SEED_QUESTION}).json()["abstained"] is False
    assert qa.counts["reload_failed"] == 1


def test_reindexing_and_reloading_under_load_fails_no_request(
    corpus: Path, index_dir: Path, embedder: Embedder
) -> None:
    """A few clients ask without pause while the corpus changes, is indexed and reloaded, by the admin
    route and then by SIGHUP: every answer is a 200, and afterwards answers come from the new corpus."""
    env = {"CITEQA_ADMIN_KEY": ADMIN}
    try:
        with started_server(index_dir, env) as server:
            with asking_without_pause(server.url, SEED_QUESTION) as statuses:
                time.sleep(0.5)
                (corpus / FREIGHT_DOC).write_text(FREIGHT, encoding="utf-8")
                Indexer(embedder, progress=False).run(corpus, index_dir)
                reload = httpx.post(
                    f"{server.url}/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
                )
                assert reload.json() == {"status": "reloaded", "documents": 2, "chunks": reload.json()["chunks"]}
                (corpus / LEDGER_DOC).write_text(LEDGER, encoding="utf-8")
                Indexer(embedder, progress=False).run(corpus, index_dir)
                os.kill(server.pid, signal.SIGHUP)
                deadline = time.monotonic() + 60
                while httpx.get(f"{server.url}/readyz").json()["documents"] != 3 and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(0.5)
            assert set(statuses) == {200} and statuses[200] > 20, statuses
            answer = httpx.post(f"{server.url}/ask", json={"question": FREIGHT_QUESTION}, timeout=30).json()
            assert "340 aircraft" in answer["answer"] and answer["citations"][0]["doc_id"] == FREIGHT_DOC
            found = httpx.get(f"{server.url}/search", params={"q": "Harbour Ledger clearing partner", "k": 1}).json()
            assert found["results"][0]["doc_id"] == LEDGER_DOC
    except ServerFailed as error:
        pytest.fail(str(error))


def test_two_index_runs_at_once_leave_one_whole_index(corpus: Path, tmp_path: Path) -> None:
    """Two real `citeqa index` processes on one index: one builds, the other is refused by the lock (or
    runs after it); either way the index is whole and no stray build is left."""
    sentences = " ".join(f"Segment {i} revenue grew {i}% on strong demand [{i % 9 + 1}]." for i in range(60))
    for n in range(4):
        (corpus / f"bulk-{n}.txt").write_text(f"Bulk report {n}. {sentences}\n", encoding="utf-8")
    index_dir = tmp_path / "shared-index"
    command = [sys.executable, "-m", "service.cli", "index", str(corpus), "--index-dir", str(index_dir), "--quiet"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(run.wait(timeout=300), run.communicate()[1]) for run in runs]
    assert any(code == 0 for code, _ in results), results
    for code, stderr in results:
        assert code == 0 or (code == 2 and "another `citeqa index` is building" in stderr), (code, stderr)
    assert len(read_index(index_dir).documents) == 5
    assert [b.name for b in IndexLocation(index_dir).builds.iterdir()] == [index_dir.resolve().name]
