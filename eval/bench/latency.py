"""Median ``/ask`` latency over HTTP next to one bare query embedding, measured in the same run.

    python -m eval.bench.latency [--index-dir DIR] [--rounds N]

Starts ``citeqa serve`` on a free loopback port, asks the gold questions, and times the model's
``encode`` of the same questions in this process: the ratio is what the design can improve on.
Every request's text is one the service has not seen, so its query cache never answers for the model.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx

from eval.bench.questions import gold_questions, unseen
from eval.bench.timing import percentile
from indexer.embedder import Embedder
from service.local_server import started_server


def bare_embedder() -> Embedder:
    """The model alone, loaded and with no cache or batching in the way: the floor a query costs."""
    embedder = Embedder(query_cache=0, batch_queries=False)
    embedder.warm_up()
    return embedder


def main() -> None:
    """``python -m eval.bench.latency``: time ``/ask`` and the bare embedding in alternating rounds, and print their
    medians, p95s and ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=".citeqa/index")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = gold_questions()

    with started_server(Path(args.index_dir)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        embedder = bare_embedder()
        for question in questions:  # warm both paths
            client.post("/ask", json={"question": question})
            embedder.embed_query(question)
        ask_ms: list[float] = []
        embed_ms: list[float] = []
        # Alternate whole rounds, so neither side runs while the other is being timed.
        for round_ in range(1, args.rounds + 1):
            for question in questions:
                t0 = time.perf_counter()
                client.post("/ask", json={"question": unseen(question, round_)}).raise_for_status()
                ask_ms.append((time.perf_counter() - t0) * 1000)
            for question in questions:
                t0 = time.perf_counter()
                embedder.embed_query(unseen(question, round_))
                embed_ms.append((time.perf_counter() - t0) * 1000)
    ask_median, embed_median = statistics.median(ask_ms), statistics.median(embed_ms)
    print(f"questions: {len(questions)} x {args.rounds} rounds; server ready after {server.ready_seconds:.1f} s")
    print(f"/ask over HTTP   median {ask_median:6.2f} ms   p95 {percentile(ask_ms, 0.95):6.2f} ms")
    print(f"query embedding  median {embed_median:6.2f} ms   p95 {percentile(embed_ms, 0.95):6.2f} ms")
    print(f"ratio            {ask_median / embed_median:.2f}x")


if __name__ == "__main__":
    main()
