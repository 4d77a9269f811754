"""Against what a user would write instead: LangChain's FAISS store over the same chunks (eval/bench/peer.py),
in-process and served over HTTP."""

from __future__ import annotations

from contextlib import ExitStack

import httpx

from eval.bench.over_http import http_call, throughput
from eval.bench.questions import Questions
from eval.bench.results import Figures
from eval.bench.timing import alternate
from eval.bench.workspace import SEED_CORPUS, ensure_index
from service.local_server import started_server


def bench_peer() -> Figures:
    """citeqa's search against LangChain's FAISS store over the seed index's chunks: latency in-process and over HTTP,
    throughput at 1 and 16 clients, and how many times faster citeqa is."""
    from eval.bench.peer import build_peer
    from service.answering.qa import QuestionAnswering
    from service.config import Settings

    index_dir = ensure_index(SEED_CORPUS, "seed-index")
    questions = Questions()
    qa = QuestionAnswering(Settings(index_dir=index_dir))
    qa.warm_up()
    peer = build_peer(index_dir)
    in_process = alternate(
        {"citeqa": lambda text: qa.search(text, 5), "langchain": lambda text: peer.similarity_search(text, k=5)},
        questions,
    )
    with ExitStack() as stack:
        ours = stack.enter_context(started_server(index_dir))
        theirs = stack.enter_context(started_server(index_dir, module=("eval.bench.peer",)))
        ours_client = stack.enter_context(httpx.Client(base_url=ours.url, timeout=60))
        theirs_client = stack.enter_context(httpx.Client(base_url=theirs.url, timeout=60))
        over_http = alternate(
            {"citeqa": http_call(ours_client, "/search"), "langchain": http_call(theirs_client, "/search")}, questions
        )
        rates = {
            name: {str(clients): throughput(server.url, "/search", questions, clients) for clients in (1, 16)}
            for name, server in (("citeqa", ours), ("langchain", theirs))
        }

    def ratio(figures: Figures) -> float:
        """LangChain's p50 over citeqa's."""
        theirs, ours = figures["langchain"], figures["citeqa"]
        return round(float(theirs["p50_ms"]) / float(ours["p50_ms"]), 2)

    return {
        "chunks": qa.index.size,
        "in_process": in_process,
        "http": over_http,
        "http_throughput_rps": rates,
        "peer_over_ours_in_process": ratio(in_process),
        "peer_over_ours_http": ratio(over_http),
    }
