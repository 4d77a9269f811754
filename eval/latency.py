"""Median ``/ask`` latency over HTTP next to one bare query embedding, measured in the same run.

    python -m eval.latency [--index-dir DIR] [--rounds N]

Starts ``citeqa serve`` on a free loopback port, asks the gold questions, and times the model's
``encode`` of the same questions in this process: the ratio is what the design can improve on.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from indexer.embedder import Embedder

GOLD = Path(__file__).with_name("gold.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=".citeqa/index")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line]

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--index-dir", args.index_dir, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            ready_seconds = time.perf_counter() - started
            embedder = Embedder()
            embedder.warm_up()
            for question in questions:  # warm both paths
                client.post("/ask", json={"question": question})
                embedder.embed_query(question)
            ask_ms: list[float] = []
            embed_ms: list[float] = []
            # Alternate whole rounds, so neither side runs while the other is being timed.
            for _ in range(args.rounds):
                for question in questions:
                    t0 = time.perf_counter()
                    client.post("/ask", json={"question": question}).raise_for_status()
                    ask_ms.append((time.perf_counter() - t0) * 1000)
                for question in questions:
                    t0 = time.perf_counter()
                    embedder.embed_query(question)
                    embed_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ask_median, embed_median = statistics.median(ask_ms), statistics.median(embed_ms)
    print(f"questions: {len(questions)} x {args.rounds} rounds; server ready after {ready_seconds:.1f} s")
    print(f"/ask over HTTP   median {ask_median:6.2f} ms   p95 {_p95(ask_ms):6.2f} ms")
    print(f"query embedding  median {embed_median:6.2f} ms   p95 {_p95(embed_ms):6.2f} ms")
    print(f"ratio            {ask_median / embed_median:.2f}x")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


if __name__ == "__main__":
    main()
