"""The ``citeqa`` command line: its commands and their options, each command run by its own module."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from service.cli.ask import ask_command
from service.cli.evaluate import convert_command, eval_command
from service.cli.index import index_command
from service.cli.serve import mcp_command, serve_command


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options of ``argv`` (the process's arguments when None); an unknown one exits with the usage."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # with the command's own usage line, not the top level's
        args.command.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def build_parser() -> argparse.ArgumentParser:
    """Every command with its options; each command's ``run`` and its own parser (``command``) are its defaults."""
    parser = argparse.ArgumentParser(
        prog="citeqa",
        description="Answers from research reports, each claim with the report's own citation markers.",
        epilog="Every option can also be set by an environment variable: CITEQA_INDEX_DIR, CITEQA_MODEL, ...",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or update the index of a corpus folder")
    index.add_argument("corpus_dir", nargs="?", type=Path, help="folder of reports (default: corpus/)")
    _index_dir_option(index)
    index.add_argument(
        "--model", help="sentence-transformers model folder or name (default: bundled all-MiniLM-L6-v2)"
    )
    index.add_argument("--chunk-size", type=int, help="chunk length in model tokens (default: 200)")
    index.add_argument("--chunk-overlap", type=int, help="overlap between chunks in model tokens (default: 40)")
    index.add_argument("--index-type", choices=["auto", "flat", "ivf"], help="FAISS index (default: auto by size)")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.add_argument(
        "--ray",
        dest="ray_address",
        metavar="ADDRESS",
        help="embed on a Ray cluster: auto (the running one), local (start one) or its address (needs citeqa[ray])",
    )
    index.add_argument(
        "--ray-actors", type=int, help="embedder actors on the cluster, one CPU each (default: one per CPU)"
    )
    index.add_argument("--ray-batch-size", type=int, help="texts an actor embeds a call (default: 256)")
    _runtime_option(index)
    index.set_defaults(run=index_command, command=index)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    _index_dir_option(serve)
    serve.add_argument("--host", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: 8000)")
    serve.add_argument(
        "--pid-file",
        type=Path,
        help="write the server's process id here once it is ready (for `kill -HUP \"$(cat PATH)\"`); removed on exit",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes answering on the port, each with its own model, sharing the index (default: 1)",
    )
    _runtime_option(serve)
    serve.set_defaults(run=serve_command, command=serve)

    agents = commands.add_parser(
        "mcp", help="answer agents over the Model Context Protocol on stdin and stdout (for a client that launches it)"
    )
    _index_dir_option(agents)
    _runtime_option(agents)
    agents.set_defaults(run=mcp_command, command=agents)

    ask = commands.add_parser("ask", help="answer one question from the index")
    ask.add_argument("question")
    _index_dir_option(ask)
    ask.add_argument("--top-k", type=int, help="passages to retrieve (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the same JSON as POST /ask")
    ask.add_argument("--doc-prefix", help="search only documents whose path in the corpus starts with this")
    ask.add_argument("--company", help="search only documents of this company ('Best Buy' = 'BESTBUY')")
    ask.add_argument("--period", help="search only documents of this period or within it (2023, FY2023, 2023Q2)")
    _mode_option(ask)
    ask.set_defaults(run=ask_command, command=ask)

    evaluate = commands.add_parser("eval", help="score answers against gold questions")
    evaluate.add_argument(
        "gold", nargs="?", type=Path, default=Path("eval/gold.jsonl"), help="gold file or BEIR folder"
    )
    evaluate.add_argument("--format", choices=["citeqa", "ragas", "beir", "financebench"], help="default: detected")
    _index_dir_option(evaluate)
    evaluate.add_argument("--url", help="evaluate a running server (e.g. http://127.0.0.1:8000) instead of in-process")
    evaluate.add_argument(
        "--api-key",
        default=os.environ.get("CITEQA_API_KEY"),
        help="key for a server that requires one (default: $CITEQA_API_KEY, which keeps it out of the process list)",
    )
    evaluate.add_argument("--k", type=int, dest="top_k", help="passages retrieved per question (default: 5)")
    evaluate.add_argument("--report", type=Path, help="folder for eval.json and eval.html")
    evaluate.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when METRIC is worse than VALUE (above it for unsupported_marker_rate and latency)",
    )
    _mode_option(evaluate)
    evaluate.add_argument(
        "--half",
        choices=["fit", "held-out"],
        help="only the questions thresholds are fitted on (odd-numbered ids) or only the others (even)",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(run=eval_command, command=evaluate)

    convert = commands.add_parser("convert", help="convert a gold set between formats")
    convert.add_argument("source", type=Path)
    convert.add_argument("destination", type=Path, help="a .jsonl file, or a folder for beir")
    convert.add_argument("--from", dest="source_format", choices=["citeqa", "ragas", "beir", "financebench"])
    convert.add_argument("--to", dest="target_format", required=True, choices=["citeqa", "ragas", "beir"])
    convert.set_defaults(run=convert_command, command=convert)
    return parser


def _mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=["extractive", "generated"],
        help="who writes answers (default: generated when CITEQA_LLM_URL is set, else extractive)",
    )


def _runtime_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime", choices=["onnx", "torch"], help="what runs the model (default: onnx, torch when it cannot)"
    )


def _index_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, help="index folder (default: .citeqa/index)")
