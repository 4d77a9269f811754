"""`python -m eval.bench.load`, in a short run: it drives a real server on loopback and holds its bounds."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eval.bench.load import Phase, run_phase
from eval.bench.questions import Questions
from service.local_server import free_port
from tests.support import ROOT, serving


def test_a_short_load_run_fails_no_request_and_stays_within_its_bounds(seed_index: Path) -> None:
    # Latency under load is a benchmark figure (the full run's bound), not something a test may time.
    command = [
        sys.executable,
        "-m",
        "eval.bench.load",
        "--index-dir",
        str(seed_index),
        "--seconds",
        "3",
        "--clients",
        "4",
    ]
    command += ["--p95-factor", "0"]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = {
        name.strip(): value.strip()
        for name, _, value in (line.partition(" : ") for line in result.stdout.splitlines() if " : " in line)
    }
    assert summary["errors"] == "0"
    assert set(summary) == {"one client", "under load", "p95 ratio", "errors", "server RSS", "CPU/answer"}
    # The server and its model's process both worked for the answers.
    server_ms, model_ms = (float(n) for n in re.findall(r"(?:server|process) (\d+\.\d+)", summary["CPU/answer"]))
    assert server_ms > 0 and model_ms > 0


def test_the_load_clients_count_refusals_and_unreachable_servers_as_failures(seed_index: Path) -> None:
    with serving(seed_index, env={"CITEQA_API_KEYS": "load-key"}) as url:
        refused = run_phase(url, Questions(), clients=2, seconds=0.5)
    assert refused.latencies == [] and set(refused.failures) == {"HTTP 401"} and refused.requests > 2
    unreachable = run_phase(f"http://127.0.0.1:{free_port()}", Questions(), clients=2, seconds=0.2)
    assert unreachable.latencies == [] and set(unreachable.failures) == {"ConnectionRefusedError"}


def test_the_load_clients_time_every_answer(server: str) -> None:
    phase = run_phase(server, Questions(), clients=3, seconds=0.5)
    assert not phase.failures and len(phase.latencies) == phase.requests > 3
    assert all(0 < seconds < 5 for seconds in phase.latencies)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}", {"HTTP 500"}),  # then it closes
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", set()),
        (b"garbage\r\n\r\n", {"IndexError"}),
    ],
)
def test_each_request_is_counted_once_when_the_server_closes_after_answering(answer: bytes, expected: set[str]) -> None:
    # A server closing its connection after each answer: the client's next request goes on a new
    # connection instead of failing on the closed one, which the server never saw.
    received = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]))
        received += 1
        writer.write(answer)
        await writer.drain()
        writer.close()

    port = free_port()

    async def serve_briefly() -> Phase:
        server = await asyncio.start_server(answer_once, "127.0.0.1", port)
        async with server:
            return await asyncio.to_thread(run_phase, f"http://127.0.0.1:{port}", Questions(), 2, 0.3)

    phase = asyncio.run(serve_briefly())
    assert phase.requests == received > 4
    assert set(phase.failures) == expected and len(phase.latencies) == (received if not expected else 0)
