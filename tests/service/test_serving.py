"""`citeqa serve --workers 2` on loopback: both workers answer, each maps the index read-only, and a reload
by the admin route or SIGHUP reaches every worker while clients keep asking."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.index_files import CHUNK_VECTORS, FAISS_FILE
from service.api.request_log import WORKER_HEADER
from service.local_server import LocalServer, ServerFailed, free_port, started_server
from tests.service.test_reload import ADMIN, FREIGHT, FREIGHT_DOC, LEDGER, LEDGER_DOC, SEED_QUESTION, damage
from tests.support import CORPUS, SEED_DOC, asking_without_pause, run_citeqa

# Starts `citeqa serve` processes.
pytestmark = pytest.mark.slow

WORKERS = 2
# However long reaching every worker takes, the test ends: a worker that never answers fails it.
PATIENCE_SECONDS = 90


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workers") / "corpus"
    folder.mkdir()
    shutil.copy(CORPUS / SEED_DOC, folder / SEED_DOC)
    return folder


@pytest.fixture(scope="module")
def index_dir(corpus: Path, embedder: Embedder) -> Path:
    index = corpus.parent / "index"
    Indexer(embedder, progress=False).run(corpus, index)
    return index


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[LocalServer]:
    try:
        with started_server(index_dir, {"CITEQA_WORKERS": str(WORKERS), "CITEQA_ADMIN_KEY": ADMIN}) as started:
            yield started
    except ServerFailed as error:
        pytest.fail(str(error))


def from_every_worker(
    url: str, call: Callable[[httpx.Client], httpx.Response], done: Callable[[httpx.Response], bool] = bool
) -> dict[int, httpx.Response]:
    """The last response of each worker, asking on a new connection each time (the kernel hands each to
    one worker) until every worker has given one that is ``done``."""
    latest: dict[int, httpx.Response] = {}
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        with httpx.Client(base_url=url, timeout=30) as client:
            response = call(client)
        latest[int(response.headers[WORKER_HEADER])] = response
        if len(latest) == WORKERS and all(done(answer) for answer in latest.values()):
            return latest
    pytest.fail(f"not every worker answered as expected: {[(pid, r.text[:200]) for pid, r in latest.items()]}")


def test_both_workers_answer_questions(server: LocalServer) -> None:
    answers = from_every_worker(server.url, lambda client: client.post("/ask", json={"question": SEED_QUESTION}))
    assert server.pid not in answers  # the supervisor answers nothing itself
    for answer in answers.values():
        body = answer.json()
        assert answer.status_code == 200 and "$14.8 billion [1][6]" in body["answer"]
        assert {citation["doc_id"] for citation in body["citations"]} == {SEED_DOC}


def test_every_worker_maps_the_index_read_only(server: LocalServer, index_dir: Path) -> None:
    """FAISS and the vectors are mapped from the files (one copy in the page cache for all workers), and no
    mapping or open file of the index lets a worker write it."""
    build = str(index_dir.resolve())
    workers = from_every_worker(server.url, lambda client: client.get("/readyz"))
    for pid in workers:
        mapped = [line.split() for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if build in line]
        assert {Path(fields[-1]).name for fields in mapped} >= {FAISS_FILE, CHUNK_VECTORS}
        assert all("w" not in fields[1] for fields in mapped), mapped
        open_files = [fd for fd in Path(f"/proc/{pid}/fd").iterdir() if build in os.path.realpath(fd)]
        for fd in open_files:
            flags = int(Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().split("flags:")[1].split()[0], 8)
            assert flags & os.O_ACCMODE == os.O_RDONLY, (os.path.realpath(fd), oct(flags))


def test_a_reload_by_either_way_reaches_every_worker_and_fails_no_request(
    server: LocalServer, corpus: Path, index_dir: Path, embedder: Embedder
) -> None:
    """Clients ask without pause while the corpus grows and is reloaded, by the admin route (which one
    worker receives) and then by SIGHUP to the supervisor: every answer is a 200, and afterwards every
    worker finds the new document."""
    def found_everywhere(query: str, doc_id: str) -> None:
        def search(http: httpx.Client) -> httpx.Response:
            return http.get("/search", params={"q": query, "k": 1})

        from_every_worker(server.url, search, lambda found: found.json()["results"][0]["doc_id"] == doc_id)

    with asking_without_pause(server.url, SEED_QUESTION, seconds=3 * PATIENCE_SECONDS) as statuses:
        (corpus / FREIGHT_DOC).write_text(FREIGHT, encoding="utf-8")
        Indexer(embedder, progress=False).run(corpus, index_dir)
        reload = httpx.post(f"{server.url}/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
        assert reload.json()["documents"] == 2
        found_everywhere("Orbital Freight cargo drone fleet", FREIGHT_DOC)
        (corpus / LEDGER_DOC).write_text(LEDGER, encoding="utf-8")
        Indexer(embedder, progress=False).run(corpus, index_dir)
        os.kill(server.pid, signal.SIGHUP)
        found_everywhere("Harbour Ledger clearing partner", LEDGER_DOC)
    assert set(statuses) == {200} and statuses[200] > 20, statuses


def test_a_worker_that_dies_is_replaced(server: LocalServer) -> None:
    before = from_every_worker(server.url, lambda client: client.get("/readyz"))
    killed = min(before)
    os.kill(killed, signal.SIGKILL)
    after = from_every_worker(server.url, lambda client: client.get("/readyz"))
    assert killed not in after and all(answer.json()["status"] == "ready" for answer in after.values())


def test_workers_that_cannot_load_the_index_stop_the_server_with_the_reason(index_dir: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "index"
    shutil.copytree(index_dir.resolve(), damaged)
    damage(damaged, FAISS_FILE)  # the manifest still reads: the workers find the damage when they load
    result = run_citeqa("serve", "--index-dir", str(damaged), "--workers", "2", "--port", str(free_port()), timeout=300)
    assert result.returncode == 2
    assert f"citeqa: the index at {damaged} is damaged" in result.stderr
    assert "a worker exited (2) before it was ready; stopping" in result.stderr


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_no_workers_is_a_clear_error(tmp_path: Path, workers: str) -> None:
    result = run_citeqa("serve", "--index-dir", str(tmp_path), "--workers", workers, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("citeqa: --workers: Input should be greater than or equal to 1")
