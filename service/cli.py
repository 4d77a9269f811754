"""The ``citeqa`` command: index a corpus, serve it, ask it questions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from indexer.index_files import IndexUnavailable
from indexer.location import IndexLocked
from service.config import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    overrides = {
        key: value
        for key, value in vars(args).items()
        if key in Settings.model_fields and value is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        parser.error(str(error))
    try:
        return int(args.run(settings, args))
    except (IndexUnavailable, IndexLocked, FileNotFoundError, ValueError) as error:
        print(f"citeqa: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citeqa",
        description="Answers from research reports, each claim with the report's own citation markers.",
        epilog="Every option can also be set by an environment variable: CITEQA_INDEX_DIR, CITEQA_MODEL, ...",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or update the index of a corpus folder")
    index.add_argument("corpus_dir", nargs="?", type=Path, help="folder of reports (default: corpus/)")
    _index_dir_option(index)
    index.add_argument("--model", help="sentence-transformers model folder or name (default: bundled all-MiniLM-L6-v2)")
    index.add_argument("--chunk-size", type=int, help="chunk length in model tokens (default: 200)")
    index.add_argument("--chunk-overlap", type=int, help="overlap between chunks in model tokens (default: 40)")
    index.add_argument("--index-type", choices=["auto", "flat", "hnsw"], help="FAISS index (default: auto by size)")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.set_defaults(run=_index)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    _index_dir_option(serve)
    serve.add_argument("--host", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: 8000)")
    serve.set_defaults(run=_serve)

    ask = commands.add_parser("ask", help="answer one question from the index")
    ask.add_argument("question")
    _index_dir_option(ask)
    ask.add_argument("--top-k", type=int, help="passages to retrieve (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the same JSON as POST /ask")
    ask.set_defaults(run=_ask)
    return parser


def _index_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, help="index folder (default: .citeqa/index)")


def _index(settings: Settings, args: argparse.Namespace) -> int:
    from indexer.build import Indexer
    from indexer.embedder import Embedder

    indexer = Indexer(
        Embedder(settings.model),
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        index_type=settings.index_type,  # type: ignore[arg-type]
        progress=not args.quiet,
    )
    report = indexer.run(settings.corpus_dir, settings.index_dir)
    if report.unchanged:
        print(f"Index {report.index_dir} is up to date ({report.documents} documents, {report.chunks} chunks).")
    else:
        print(
            f"Indexed {report.documents} documents into {report.index_dir}: {report.chunks} chunks, "
            f"{report.sentences} sentences, {report.index_type} index, {report.seconds:.1f}s "
            f"({len(report.embedded_documents)} embedded, {len(report.reused_documents)} unchanged, "
            f"{len(report.removed_documents)} removed)."
        )
    for doc_id, reason in sorted(report.skipped.items()):
        print(f"  skipped {doc_id}: {reason}", file=sys.stderr)
    if report.documents == 0:
        print(f"citeqa: no readable reports in {settings.corpus_dir}", file=sys.stderr)
        return 1
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.qa import QuestionAnswering

    qa = QuestionAnswering(settings)
    # Load before binding the port, so a missing or mismatched index stops here with its reason.
    qa.warm_up()
    uvicorn.run(create_app(settings, qa), host=settings.host, port=settings.port, log_level="info")
    return 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from service.qa import QuestionAnswering
    from service.schemas import AskRequest, AskResponse

    try:
        request = AskRequest(question=args.question, top_k=args.top_k)
    except ValidationError as error:
        raise ValueError(error.errors()[0]["msg"]) from None
    qa = QuestionAnswering(settings)
    qa.warm_up()
    response = AskResponse.of(qa.ask(request.question, request.top_k))
    if args.json:
        print(json.dumps(response.model_dump(), indent=2, ensure_ascii=False))
        return 0
    print(response.answer)
    for citation in response.citations:
        print(f"  {citation.marker} {citation.doc_id} ({citation.chunk_id}): {citation.quote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
