"""The real server on loopback, started as `citeqa serve`, asked over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from indexer.markers import markers_in
from service.local_server import free_port, started_server
from tests.support import ROOT, SEED_DOC, run_citeqa

# Starts `citeqa serve` processes.
pytestmark = pytest.mark.slow


def ask(server: str, question: str) -> dict:
    response = httpx.post(f"{server}/ask", json={"question": question}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_answer_keeps_the_report_markers_and_cites_the_passage(server: str) -> None:
    body = ask(server, "How much did Meta pay for its stake in Scale AI?")
    assert body["abstained"] is False
    assert "$14.8 billion" in body["answer"]
    assert "[1][6]" in body["answer"]
    cited = {c["marker"]: c for c in body["citations"]}
    assert set(cited) == set(markers_in(body["answer"])) == {"[1]", "[6]"}
    sources = {s["chunk_id"]: s for s in body["sources"]}
    for citation in cited.values():
        assert citation["doc_id"] == SEED_DOC
        passage = sources[citation["chunk_id"]]
        # The cited passage carries the marker and holds the quoted claim.
        assert citation["marker"] in passage["markers"]
        assert "$14.8 billion" in citation["quote"]
        assert citation["quote"].replace(" [1][6].", ".").removesuffix(".") in passage["text"]


def test_every_answer_marker_is_carried_by_its_cited_passage(server: str) -> None:
    for question in [
        "Who will lead Meta's superintelligence lab?",
        "Which major AI clients terminated their cooperation with Scale AI after the acquisition?",
        "What hybrid model may Meta build?",
        "What can Scale AI's platform help Meta build?",
    ]:
        body = ask(server, question)
        assert not body["abstained"], question
        passages = {s["chunk_id"]: s for s in body["sources"]}
        assert markers_in(body["answer"])
        for marker in markers_in(body["answer"]):
            citation = next(c for c in body["citations"] if c["marker"] == marker)
            assert marker in passages[citation["chunk_id"]]["markers"]


def test_a_question_the_report_does_not_answer_abstains(server: str) -> None:
    for question in ["What was Scale AI's revenue in 2024?", "What did Amazon do after the deal?"]:
        body = ask(server, question)
        assert body["abstained"] is True, (question, body["answer"])
        assert markers_in(body["answer"]) == [] and body["citations"] == []
        assert body["sources"], "the closest passages are still listed"


def test_health_endpoints(server: str) -> None:
    assert httpx.get(f"{server}/livez").json() == {"status": "ok", "detail": None, "documents": None, "chunks": None}
    ready = httpx.get(f"{server}/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 1 and ready["chunks"] > 0


def test_invalid_json_over_the_wire_is_a_422_not_a_500(server: str) -> None:
    response = httpx.post(f"{server}/ask", content=b"{oops", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_a_script_on_the_servers_own_machine_is_not_rate_limited(server: str) -> None:
    """The default limit (60 a minute) is for pages and other machines: a user's own eval loop or
    notebook on loopback asks as often as it likes."""
    with httpx.Client(base_url=server, timeout=30) as client:
        statuses = [
            client.post("/ask", json={"question": f"Who will lead the lab? ({i})"}).status_code for i in range(100)
        ]
    assert statuses == [200] * 100


def test_the_pid_file_names_the_server_once_ready_and_goes_with_it(seed_index: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "serve.pid"
    with started_server(seed_index, module=("service.cli", "serve", "--pid-file", str(pid_file))) as server:
        assert pid_file.read_text() == f"{server.pid}\n"
    assert not pid_file.exists(), "removed when the server stops"
    nowhere = tmp_path / "missing" / "serve.pid"
    refused = run_citeqa("serve", "--index-dir", str(seed_index), "--pid-file", str(nowhere))
    assert refused.returncode == 2
    assert refused.stderr == f"citeqa: --pid-file: the folder {nowhere.parent} does not exist\n"


STARTS = 20


def test_a_client_that_waits_for_the_pid_file_connects_at_once(seed_index: Path, tmp_path: Path) -> None:
    """The PID file is written once the server listens: a script that waits for it, then connects, is
    never refused (20 starts)."""
    refused = 0
    for start in range(STARTS):
        pid_file, port = tmp_path / f"serve-{start}.pid", free_port()
        command = [sys.executable, "-m", "service.cli", "serve", "--index-dir", str(seed_index), "--port", str(port)]
        process = subprocess.Popen([*command, "--pid-file", str(pid_file)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not pid_file.exists():
                assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.005)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            except ConnectionRefusedError:
                refused += 1
        finally:
            process.terminate()
            process.wait(30)
    assert refused == 0, f"{refused} of {STARTS} connections refused"
