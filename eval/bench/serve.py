"""The citeqa app with its query-path speed-ups switched off, to measure what each one is worth.

    python -m eval.bench.serve --index-dir DIR --port PORT [--query-cache N] [--no-batching]
        [--switch-interval SECONDS] [--plain-asyncio] [--in-process]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.embedder import QUERY_CACHE_SIZE


def main() -> None:
    """``python -m eval.bench.serve``: serve the index on loopback at ``--port`` with the speed-ups its flags switch
    off."""
    import uvicorn

    from service.answering.qa import QuestionAnswering, serving_embedder
    from service.api.app import create_app
    from service.config import Settings
    from service.serving import GIL_SWITCH_SECONDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--query-cache", type=int, default=QUERY_CACHE_SIZE)
    parser.add_argument("--no-batching", action="store_true")
    parser.add_argument("--switch-interval", type=float, default=GIL_SWITCH_SECONDS, help="sys.setswitchinterval")
    parser.add_argument(
        "--plain-asyncio", action="store_true", help="asyncio's own loop and h11, not uvloop and httptools"
    )
    parser.add_argument("--in-process", action="store_true", help="the model in this process, not one of its own")
    args = parser.parse_args()
    settings = Settings(index_dir=args.index_dir, port=args.port)
    embedder = serving_embedder(
        settings, query_cache=args.query_cache, batch_queries=not args.no_batching, own_process=not args.in_process
    )
    qa = QuestionAnswering(settings, embedder=embedder)
    qa.warm_up()
    sys.setswitchinterval(args.switch_interval)
    config = uvicorn.Config(create_app(settings, qa), host="127.0.0.1", port=args.port, log_level="info")
    if args.plain_asyncio:
        config.loop, config.http = "asyncio", "h11"
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
