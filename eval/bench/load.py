"""A bounded load run against `citeqa serve` on loopback: errors, latency under load, memory growth.

    python -m eval.bench.load [--index-dir DIR] [--seconds 60] [--clients 16]

Starts the server on a free loopback port, warms it up (every gold question once, then a short burst
at full concurrency, so first-use allocations are not counted as growth), times one client alone,
then ``--clients`` clients asking `/ask` back to back for ``--seconds``. Every request's text is one
the server has not seen (``eval.bench.questions.Questions``), so the model embeds each one. Prints a
summary and exits 1 when a bound is broken:

- no request may fail (every answer a 200);
- p95 latency under load at most 3 times the p95 of one client alone;
- the server's resident memory (``VmRSS`` in /proc, with its model's process) may grow by less than 10 %
  from the warm-up to the end.

It also prints the CPU time each answer took under load, in the server and in its model's process:
with the machine's cores, that bounds the throughput any schedule could reach.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from eval.bench.questions import Questions, gold_questions
from service.local_server import started_server

P95_FACTOR = 3.0
RSS_GROWTH = 0.10
REQUEST_TIMEOUT = 30.0


@dataclass
class Phase:
    """What the clients of one phase saw."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        """Requests sent, answered or failed."""
        return len(self.latencies) + sum(self.failures.values())

    def p(self, share: float) -> float:
        """The latency in seconds at ``share`` of the answered requests (0.95: the p95); NaN when none was answered."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants: the server and its model's process (threads that end meanwhile passed over)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return [pid, *(descendant for child in children for descendant in process_tree(child))]


def memory_bytes(pid: int, field: str = "VmRSS") -> int:
    """``field`` of /proc/PID/status (``VmRSS`` resident now, ``VmHWM`` its peak) summed over the process
    tree: the model's process counts too."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1]) * 1024
    return total


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(the server's, its descendants') CPU time so far, user and system, from /proc/PID/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    used = []
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        used.append((int(fields[11]) + int(fields[12])) / tick)  # utime and stime: fields 14 and 15
    return used[0], sum(used[1:])


def run_phase(url: str, questions: Questions, clients: int, seconds: float) -> Phase:
    """``clients`` connections asking back to back for ``seconds``, on one event loop."""
    phase = Phase()
    address = httpx.URL(url)

    async def phase_clients() -> None:
        """Every client asking until the deadline."""
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(ask_until(address, questions, deadline, phase) for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(phase_clients())
    phase.seconds = time.perf_counter() - started
    return phase


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# What one failed request may raise; anything else is a bug of this script and stops the run.
FAILURES = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError)


async def ask_until(address: httpx.URL, questions: Questions, deadline: float, phase: Phase) -> None:
    """One client: a kept-alive connection, a new one after a failure or when the server closes it.

    A plain HTTP/1.1 exchange rather than an HTTP library: on a machine of few cores the load generator
    shares the cores with the server, and a library's client takes CPU time the server then does not have
    (see eval/bench/BENCHMARKS.md#the-load-generators-own-cost)."""
    if address.scheme != "http" or address.path not in ("", "/"):
        raise ValueError(f"the load run speaks plain HTTP to a server's root, not {address}")
    host, port = address.host, address.port or 80
    connection: Stream | None = None
    while time.monotonic() < deadline:
        body = json.dumps({"question": questions.next()}).encode()
        request = (
            f"POST /ask HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        started = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                connection, status = await ask_once(connection, host, port, request)
            outcome = "ok" if status == 200 else f"HTTP {status}"
        except FAILURES as error:
            outcome = type(error).__name__
            if connection is not None:
                connection[1].close()
            connection = None
        elapsed = time.perf_counter() - started
        if outcome == "ok":
            phase.latencies.append(elapsed)
        else:
            phase.failures[outcome] += 1
    if connection is not None:
        connection[1].close()


async def ask_once(connection: Stream | None, host: str, port: int, request: bytes) -> tuple[Stream | None, int]:
    """(the connection to keep, or None, and the status of the answer to ``request``).

    A kept-alive connection the server closed after its previous answer (after a 500, say) fails
    before any byte of an answer comes back: the request is sent once more on a new connection rather
    than counted as a failure the server never saw."""
    if connection is not None:
        try:
            return await exchange(*connection, request)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                raise
            connection[1].close()
    return await exchange(*await asyncio.open_connection(host, port), request)


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[Stream | None, int]:
    """Send ``request`` and read the whole answer, sized by Content-Length (a chunked answer counts as
    a failure: ``/ask`` sizes its answers). The connection comes back unless the server closes it."""
    writer.write(request)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:])}
    if "content-length" not in headers:
        raise ValueError("an answer without Content-Length")
    await reader.readexactly(int(headers["content-length"]))
    if headers.get("connection", "").lower() == "close":
        writer.close()
        return None, status
    return (reader, writer), status


def main(argv: list[str] | None = None) -> int:
    """``python -m eval.bench.load``: warm the server up, time one client, then the load, and print the summary; 1 when
    a bound is broken, else 0."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path(".citeqa/index"))
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load phase (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument(
        "--p95-factor",
        type=float,
        default=P95_FACTOR,
        help=f"bound on p95 under load over the single-client p95 (default {P95_FACTOR}; 0: report only)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 0 < args.clients <= 256:
        parser.error("--seconds must be in (0, 3600] and --clients in [1, 256]")
    # One client alone long enough for a stable p95; a warm-up burst a fraction of the load.
    single_seconds = min(10.0, max(2.0, args.seconds / 6))
    burst_seconds = min(5.0, max(1.0, args.seconds / 12))

    questions = Questions()
    with started_server(args.index_dir) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for question in gold_questions():
                http.post("/ask", json={"question": question}).raise_for_status()
        warm = run_phase(server.url, questions, args.clients, burst_seconds)
        single = run_phase(server.url, questions, 1, single_seconds)
        rss_before, cpu_before = memory_bytes(server.pid), cpu_seconds(server.pid)
        load = run_phase(server.url, questions, args.clients, args.seconds)
        rss_after, cpu_after = memory_bytes(server.pid), cpu_seconds(server.pid)

    growth = rss_after / rss_before - 1
    failures = warm.failures + single.failures + load.failures
    broken = []
    if failures:
        broken.append(f"{sum(failures.values())} failed requests: {dict(failures)}")
    if args.p95_factor and load.p(0.95) > args.p95_factor * single.p(0.95):
        broken.append(
            f"p95 under load is {load.p(0.95) / single.p(0.95):.1f}x the single-client p95 (limit {args.p95_factor}x)"
        )
    if growth >= RSS_GROWTH:
        broken.append(f"server memory grew {growth:.1%} (limit {RSS_GROWTH:.0%})")

    print(f"load: {args.clients} clients x {args.seconds:.0f} s against POST /ask on {server.url}")
    print(
        f"  one client : {single.requests} requests, p50 {single.p(0.5) * 1000:.1f} ms, "
        f"p95 {single.p(0.95) * 1000:.1f} ms"
    )
    print(
        f"  under load : {load.requests} requests ({load.requests / load.seconds:.1f}/s), "
        f"p50 {load.p(0.5) * 1000:.1f} ms, p95 {load.p(0.95) * 1000:.1f} ms, "
        f"max {max(load.latencies, default=0) * 1000:.1f} ms, "
        f"mean {statistics.fmean(load.latencies) * 1000 if load.latencies else float('nan'):.1f} ms"
    )
    limit = f"{args.p95_factor}x" if args.p95_factor else "none"
    print(f"  p95 ratio  : {load.p(0.95) / single.p(0.95):.2f}x (limit {limit})")
    print(f"  errors     : {sum(failures.values())}")
    print(
        f"  server RSS : {rss_before / 2**20:.0f} MiB -> {rss_after / 2**20:.0f} MiB "
        f"({growth:+.1%}, limit {RSS_GROWTH:.0%})"
    )
    answers = max(len(load.latencies), 1)
    server_ms, model_ms = (1000 * (after - before) / answers for after, before in zip(cpu_after, cpu_before))
    cores = len(os.sched_getaffinity(0))
    ceiling = f"{1000 * cores / (server_ms + model_ms):.0f}/s" if server_ms + model_ms > 0 else "unknown"
    print(
        f"  CPU/answer : {server_ms + model_ms:.2f} ms (server {server_ms:.2f}, model's process {model_ms:.2f}); "
        f"{cores} cores answer at most {ceiling} (less what these clients take)"
    )
    for problem in broken:
        print(f"eval.bench.load: bound broken: {problem}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
