"""The service's footprint: how long `citeqa serve` takes to be ready, and its peak memory once it has answered."""

from __future__ import annotations

import httpx

from eval.bench.load import memory_bytes
from eval.bench.over_http import http_call
from eval.bench.questions import gold_questions
from eval.bench.results import Figures
from eval.bench.workspace import FINANCEBENCH, SEED_CORPUS, ensure_index
from service.local_server import started_server


def bench_footprint() -> Figures:
    """Ready time, and peak RSS after the gold questions, of `citeqa serve` on the seed index and on the FinanceBench
    pages' index."""
    figures: dict[str, Figures] = {}
    for name, corpus in (("seed", SEED_CORPUS), ("financebench", FINANCEBENCH)):
        index_dir = ensure_index(corpus, f"{name}-index")
        with started_server(index_dir) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            ask = http_call(client, "/ask")
            for question in gold_questions():
                ask(question)
            chunks = client.get("/readyz").json()["chunks"]
            figures[name] = {
                "chunks": chunks,
                "ready_seconds": round(server.ready_seconds, 2),
                "peak_rss_mb": round(memory_bytes(server.pid, "VmHWM") / 2**20),
            }
    return {"indexes": figures}
