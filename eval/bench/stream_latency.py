"""Time to first token of ``POST /ask/stream``: how long a reader waits for the first answer sentence.

    python -m eval.bench.stream_latency [--index-dir DIR] [--questions N]

Starts ``citeqa serve`` on a free loopback port, warms it up with other questions, then asks the first
N gold questions of ``eval/gold.jsonl`` twice, timing from the moment each request is sent to the
first ``sources`` event, the first ``delta`` (the first token a reader sees) and ``done``. The first
asking of a question is what a new question costs; the second shows a repeated one, which the
service may have kept.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx

from eval.bench.questions import GOLD, gold_questions
from service.local_server import local_server

EVENTS = {"sources": "first sources", "delta": "first delta (TTFT)", "done": "done"}
WARM_UP = ["What does the report say about the market?", "Which companies are mentioned?", "What is the outlook?"]


def main() -> None:
    """``python -m eval.bench.stream_latency``: print the median and largest time to each event, for new and for
    repeated questions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path(".citeqa/index"))
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    questions = gold_questions()[: args.questions]

    with local_server(args.index_dir) as url, httpx.Client(base_url=url, timeout=30) as client:
        for question in WARM_UP:  # the first requests pay for lazy imports and thread pools
            _time_events(client, question)
        first = [_time_events(client, question) for question in questions]
        repeated = [_time_events(client, question) for question in questions]
    print(f"questions: {len(questions)} from {GOLD.name}, over loopback ({url})")
    for label, runs in [("new question", first), ("repeated question", repeated)]:
        print(label)
        for event, name in EVENTS.items():
            values = [run[event] for run in runs]
            print(f"  {name:20} median {statistics.median(values):6.2f} ms   max {max(values):6.2f} ms")


def _time_events(client: httpx.Client, question: str) -> dict[str, float]:
    """Milliseconds from sending the request to the first event of each kind."""
    seen: dict[str, float] = {}
    started = time.perf_counter()
    with client.stream("POST", "/ask/stream", json={"question": question}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event: "):
                seen.setdefault(line.removeprefix("event: "), (time.perf_counter() - started) * 1000)
    return seen


if __name__ == "__main__":
    main()
