"""The query path's speed-ups, each measured against the same app without it (eval/bench/serve.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from eval.bench.over_http import http_call, throughput
from eval.bench.questions import Questions
from eval.bench.results import Figures
from eval.bench.timing import spread, timed_ms
from eval.bench.workspace import SEED_CORPUS, ensure_index
from service.local_server import started_server

TUNE_SETUPS: dict[str, tuple[list[str], dict[str, str]]] = {
    "shipped": ([], {}),
    "no_batching": (["--no-batching"], {}),
    "torch": ([], {"CITEQA_RUNTIME": "torch"}),
    "in_process": (["--in-process"], {}),
    "every_core": ([], {"CITEQA_MODEL_THREADS": str(len(os.sched_getaffinity(0)))}),
    "python_switch": (["--switch-interval", "0.005"], {}),
    "plain_asyncio": (["--plain-asyncio"], {}),
}


def bench_tune() -> Figures:
    """Each speed-up against the same app without it, and each setup again beside a busy neighbour (a
    process keeping one core busy, as a `citeqa index` run beside the server does).

    One server at a time: idle torch threads of one server spin on the cores another is being timed on.
    """
    index_dir = ensure_index(SEED_CORPUS, "seed-index")
    questions = Questions()
    timings: dict[str, list[float]] = {name: [] for name in TUNE_SETUPS}
    rates: dict[str, dict[str, float]] = {name: {} for name in TUNE_SETUPS}
    for _ in range(2):  # servers in turn, twice, so each sees the same drift in the machine's load
        for name, (flags, env) in TUNE_SETUPS.items():
            with tune_server(index_dir, flags, env) as (url, ask):
                timed_ms(ask, questions.batch())  # warm-up
                timings[name] += timed_ms(ask, questions.batch()) + timed_ms(ask, questions.batch())
                for count in (1, 16):
                    rate = throughput(url, "/ask", questions, count, passes=1)
                    rates[name][str(count)] = max(rate, rates[name].get(str(count), 0.0))
    busy: dict[str, Figures] = {}
    for name, (flags, env) in TUNE_SETUPS.items():
        with tune_server(index_dir, flags, env) as (url, ask), busy_core():
            timed_ms(ask, questions.batch()[:10])
            busy[name] = {
                "p50_ms": spread(timed_ms(ask, questions.batch()))["p50_ms"],
                "16": throughput(url, "/ask", questions, 16, passes=1),
            }
    return {
        "ask_single_client": {name: spread(values) for name, values in timings.items()},
        "ask_throughput_rps": rates,
        "busy_neighbour": busy,
    }


@contextmanager
def tune_server(
    index_dir: Path, flags: list[str], env: dict[str, str]
) -> Iterator[tuple[str, Callable[[str], object]]]:
    """``eval.bench.serve`` (query cache off) with ``flags`` and ``env``: its URL and an ``/ask`` call."""
    module = ("eval.bench.serve", "--query-cache", "0", *flags)
    with (
        started_server(index_dir, env=env, module=module) as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        yield server.url, http_call(client, "/ask")


@contextmanager
def busy_core() -> Iterator[None]:
    """A process spinning on one core while the block runs."""
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        neighbour.kill()
        neighbour.wait()
