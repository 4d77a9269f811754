"""The query path: one question's time over HTTP against the model's own time for it, and throughput by
number of clients."""

from __future__ import annotations

import httpx

from eval.bench.latency import bare_embedder
from eval.bench.over_http import http_call, throughput
from eval.bench.questions import Questions
from eval.bench.results import Figures
from eval.bench.timing import alternate, spread, timed_ms
from eval.bench.workspace import SEED_CORPUS, ensure_index
from service.local_server import started_server

CLIENTS = (1, 4, 16)


def bench_query() -> Figures:
    """One question's time (bare and served embedding, ``/ask``, ``/search``, ``/ask`` asked again) and throughput by
    clients, with the ratios the targets judge."""
    from service.answering.qa import serving_embedder
    from service.config import Settings

    index_dir = ensure_index(SEED_CORPUS, "seed-index")
    questions = Questions()
    embedder = bare_embedder()
    # The model as the server runs it: in its own process, on half the cores.
    served = serving_embedder(Settings(), query_cache=0, batch_queries=False)
    served.warm_up()
    with started_server(index_dir) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        single = alternate(
            {
                "embed": embedder.embed_query,
                "embed_served": served.embed_query,
                "ask": http_call(client, "/ask"),
                "search": http_call(client, "/search"),
            },
            questions,
        )
        repeated = questions.batch()
        timed_ms(http_call(client, "/ask"), repeated)
        single["ask_repeated"] = spread(timed_ms(http_call(client, "/ask"), repeated))
        rates = {
            path: {str(clients): throughput(server.url, f"/{path}", questions, clients) for clients in CLIENTS}
            for path in ("ask", "search")
        }
    served.close()
    embed_p50 = float(single["embed"]["p50_ms"])
    return {
        "questions": len(questions.gold),
        "single_client": single,
        "throughput_rps": rates,
        "ask_p50_over_embed": round(float(single["ask"]["p50_ms"]) / embed_p50, 2),
        "ask_p50_over_served_embed": round(
            float(single["ask"]["p50_ms"]) / float(single["embed_served"]["p50_ms"]),
            2,
        ),
        "ask_16_over_1": round(rates["ask"]["16"] / rates["ask"]["1"], 2),
        "search_16_over_1": round(rates["search"]["16"] / rates["search"]["1"], 2),
    }
