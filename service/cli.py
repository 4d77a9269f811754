"""The ``citeqa`` command: index a corpus, serve it, ask it questions."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pydantic import ValidationError

from citeqa_errors import CiteqaError, ConfigurationError, InputError
from indexer.encoder import stay_offline
from service.config import Settings

if TYPE_CHECKING:
    from indexer.build import Indexer, IndexReport
    from indexer.embedder import Embedder

# Files of one type that is not read, named in the index summary before "and N more".
NOT_READ_SHOWN = 5


def main(argv: Sequence[str] | None = None) -> int:
    stay_offline()
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # with the command's own usage line, not the top level's
        args.command.error(f"unrecognized arguments: {' '.join(unknown)}")
    return reported(lambda: args.run(_settings(args), args))


def reported(run: Callable[[], int]) -> int:
    """The exit code of ``run``, or of what it raised, told on stderr in one line: the one place a failure
    becomes an exit code. 2 for a ``CiteqaError`` and for an ``OSError`` (a path that is a folder where a
    file was meant, or one not writable); 0 when the output was piped into a command that stopped reading
    (``head``)."""
    try:
        return int(run())
    except CiteqaError as error:
        print(f"citeqa: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"citeqa: {_os_error(error)}", file=sys.stderr)
        return 2


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of the environment with the options given on top; ``ConfigurationError`` naming each
    bad one as the user set it."""
    overrides = {
        key: value
        for key, value in vars(args).items()
        if key in Settings.model_fields and value is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigurationError(
            "; ".join(
                f"{_setting_source(args.command, str(problem['loc'][0]), overrides)}: {problem['msg']}"
                for problem in error.errors()
            )
        ) from None


def _setting_source(command: argparse.ArgumentParser, field: str, given: dict[str, object]) -> str:
    """Where a setting came from, as the user wrote it: the command's option (``--top-k``, ``--k``), or
    the environment variable (``CITEQA_TOP_K``)."""
    return (field in given and _option_of(command, field)) or f"CITEQA_{field.upper()}"


def _option_of(command: argparse.ArgumentParser, field: str) -> str | None:
    """The option of ``command`` that sets ``field`` as the user writes it (``--k`` for ``top_k`` in eval)."""
    for action in command._actions:
        if action.dest == field and action.option_strings:
            return action.option_strings[-1]
    return None


def _os_error(error: OSError) -> str:
    """``path: reason`` (both paths of a rename) rather than ``[Errno 21] ...``; a message of its own as it is."""
    if not error.filename:
        return str(error)
    paths = " -> ".join(str(path) for path in (error.filename, error.filename2) if path)
    return f"{paths}: {error.strerror}"


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
    index.add_argument("--index-type", choices=["auto", "flat", "ivf"], help="FAISS index (default: auto by size)")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.add_argument(
        "--ray",
        dest="ray_address",
        metavar="ADDRESS",
        help="embed on a Ray cluster: auto (the running one), local (start one) or its address (needs citeqa[ray])",
    )
    index.add_argument("--ray-actors", type=int, help="embedder actors on the cluster, one CPU each (default: one per CPU)")
    index.add_argument("--ray-batch-size", type=int, help="texts an actor embeds a call (default: 256)")
    _runtime_option(index)
    index.set_defaults(run=_index, command=index)

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
    serve.set_defaults(run=_serve, command=serve)

    agents = commands.add_parser(
        "mcp", help="answer agents over the Model Context Protocol on stdin and stdout (for a client that launches it)"
    )
    _index_dir_option(agents)
    _runtime_option(agents)
    agents.set_defaults(run=_mcp, command=agents)

    ask = commands.add_parser("ask", help="answer one question from the index")
    ask.add_argument("question")
    _index_dir_option(ask)
    ask.add_argument("--top-k", type=int, help="passages to retrieve (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the same JSON as POST /ask")
    ask.add_argument("--doc-prefix", help="search only documents whose path in the corpus starts with this")
    ask.add_argument("--company", help="search only documents of this company ('Best Buy' = 'BESTBUY')")
    ask.add_argument("--period", help="search only documents of this period or within it (2023, FY2023, 2023Q2)")
    _mode_option(ask)
    ask.set_defaults(run=_ask, command=ask)

    evaluate = commands.add_parser("eval", help="score answers against gold questions")
    evaluate.add_argument("gold", nargs="?", type=Path, default=Path("eval/gold.jsonl"), help="gold file or BEIR folder")
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
    evaluate.set_defaults(run=_eval, command=evaluate)

    convert = commands.add_parser("convert", help="convert a gold set between formats")
    convert.add_argument("source", type=Path)
    convert.add_argument("destination", type=Path, help="a .jsonl file, or a folder for beir")
    convert.add_argument("--from", dest="source_format", choices=["citeqa", "ragas", "beir", "financebench"])
    convert.add_argument("--to", dest="target_format", required=True, choices=["citeqa", "ragas", "beir"])
    convert.set_defaults(run=_convert, command=convert)
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


def make_indexer(settings: Settings, progress: bool, embedder: Embedder | None = None) -> Indexer:
    """The indexer ``settings`` describe, as ``citeqa index`` runs it: on a Ray cluster when
    ``ray_address`` is set, its actors loading the model with the same settings as this process."""
    from indexer.build import Indexer
    from indexer.embedder import Embedder

    compute = None
    if settings.ray_address:
        from indexer.ray_build import RayCompute

        compute = RayCompute(
            settings.ray_address,
            settings.model,
            settings.precision,
            settings.runtime,
            actors=settings.ray_actors,
            batch_size=settings.ray_batch_size,
            shard_vectors=settings.ray_shard_vectors,
            progress=progress,
        )
    return Indexer(
        embedder
        or Embedder(
            settings.model,
            precision=settings.precision,
            threads=settings.model_threads or None,
            runtime=settings.runtime,
        ),
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        index_type=settings.index_type,  # type: ignore[arg-type]
        progress=progress,
        max_file_bytes=settings.max_file_bytes,
        compute=compute,
    )


def _index(settings: Settings, args: argparse.Namespace) -> int:
    started = time.perf_counter()  # the time shown is all the user waited, loading the model included
    indexer = make_indexer(settings, progress=not args.quiet)
    report = indexer.run(settings.corpus_dir, settings.index_dir)
    seconds = time.perf_counter() - started
    from indexer.ray_build import RayCompute

    if isinstance(indexer.compute, RayCompute) and indexer.compute.texts_by_node:
        nodes = indexer.compute.texts_by_node
        shares = ", ".join(str(count) for _, count in nodes.most_common())
        print(f"Embedded {_count(nodes.total(), 'text')} on {_count(len(nodes), 'Ray node')} ({shares}).")
    held = f"{_count(report.documents, 'document')}, {_count(report.chunks, 'chunk')}"
    if report.unchanged:
        print(f"Index {report.index_dir} is up to date ({held}), {seconds:.1f}s.")
    elif not (report.kept or report.nothing):
        print(
            f"Indexed {_count(report.documents, 'document')} into {report.index_dir} in {seconds:.1f}s: "
            f"{_count(report.chunks, 'chunk')}, {_count(report.sentences, 'sentence')}, {report.index_type} index "
            f"({len(report.embedded_documents)} embedded, {len(report.reused_documents)} unchanged, "
            f"{len(report.removed_documents)} removed)."
        )
    for line in _left_out(report):
        print(f"  {line}", file=sys.stderr)
    if report.kept or report.nothing:
        if report.documents:
            outcome = f"the index {report.index_dir} is left as it was ({held})"
        elif report.index_type:
            outcome = f"the index {report.index_dir} is left as it was (empty)"
        else:
            outcome = "no index written"
        print(f"citeqa: no readable reports in {settings.corpus_dir}: {outcome}", file=sys.stderr)
        return 1
    return 0


def _left_out(report: IndexReport) -> Iterator[str]:
    """The summary's list of files not indexed as they are, with the reason for each."""
    for doc_id, reason in sorted(report.skipped.items()):
        yield f"skipped {doc_id}: {reason}"
    for doc_id, original in sorted(report.duplicates.items()):
        yield f"duplicate {doc_id}: same content as {original}, indexed once (as {original})"
    by_type: dict[str, list[str]] = {}
    for doc_id in report.not_read:
        by_type.setdefault(PurePosixPath(doc_id).suffix.lower() or "no suffix", []).append(doc_id)
    for kind, doc_ids in sorted(by_type.items()):
        more = f" and {len(doc_ids) - NOT_READ_SHOWN} more" if len(doc_ids) > NOT_READ_SHOWN else ""
        yield f"not read (type {kind}): {', '.join(doc_ids[:NOT_READ_SHOWN])}{more}"
    for doc_id, said in sorted(report.warnings.items()):
        yield f"read with warnings {doc_id}: {'; '.join(said)}"
    for doc_id in report.unknown_metadata:
        yield f"metadata for {doc_id}: no such file in the corpus, so it gives nothing"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    _check_index(settings)  # before the imports and the model load: a wrong path is told in a second
    if args.pid_file and not args.pid_file.parent.is_dir():
        raise ConfigurationError(f"--pid-file: the folder {args.pid_file.parent} does not exist")
    _check_address(settings.host, settings.port)
    from service.serving import serve

    return serve(settings, args.pid_file)


def _mcp(settings: Settings, args: argparse.Namespace) -> int:
    _check_index(settings)  # told on stderr before the model loads; stdout is the protocol's
    from service.answering.qa import QuestionAnswering
    from service.api.mcp import create_mcp

    qa = QuestionAnswering(settings)
    qa.warm_up()
    create_mcp(qa).run("stdio")
    return 0


def _check_address(host: str, port: int) -> None:
    """Refuse an address that cannot be listened on (taken, or not this machine's) before the model loads,
    in one line, rather than in the server's log after it."""
    import socket

    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            probe.bind(address)
    except OSError as error:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from service.api.schemas import AskRequest, AskResponse

    try:
        request = AskRequest(
            question=args.question,
            top_k=args.top_k,
            mode=args.mode,
            doc_prefix=args.doc_prefix,
            company=args.company,
            period=args.period,
        )
    except ValidationError as error:
        raise InputError(_plain(error, args.command)) from None
    _check_index(settings)
    from service.answering.qa import QuestionAnswering

    qa = QuestionAnswering(settings)
    qa.check_mode(request.mode)
    qa.warm_up()
    response = AskResponse.of(qa.ask(request.question, request.top_k, mode=request.mode, where=request.where))
    if args.json:
        print(json.dumps(response.model_dump(), indent=2, ensure_ascii=False))
        return 0
    print(response.answer)
    for closest in response.closest:
        print(f'  > {closest.text} ({closest.doc_id})')
    if response.note:
        print(f"  ({response.note})")
    # One line per quoted passage with all its markers: a claim cited [1][6] is one quote, not two.
    quoted: dict[tuple[str, str, str], list[str]] = {}
    for citation in response.citations:
        quoted.setdefault((citation.doc_id, citation.chunk_id, citation.quote), []).append(citation.marker)
    for (doc_id, chunk_id, quote), markers in quoted.items():
        print(f"  {''.join(markers)} {doc_id} ({chunk_id}): {quote}")
    return 0


def _plain(error: ValidationError, command: argparse.ArgumentParser) -> str:
    """The first problem of a question or option in words, without pydantic's "Value error, " prefix."""
    problem = error.errors()[0]
    reason = problem["msg"].removeprefix("Value error, ")
    field = str(problem["loc"][0]) if problem["loc"] else ""
    if field == "question":
        return f"the question {reason}"
    return f"{_option_of(command, field) or '--' + field.replace('_', '-')}: {reason}"


def _check_index(settings: Settings) -> None:
    """Refuse a missing or unreadable index before the model loads (seconds) rather than after."""
    from indexer.index_files import read_manifest

    read_manifest(settings.index_dir.resolve(), settings.index_dir)


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    import httpx

    from eval.datasets import load_gold, split_half
    from eval.report import LOWER_IS_BETTER, format_value, table, write_reports
    from eval.runner import in_process, over_http, run_eval

    gates = [_gate(text) for text in args.fail_under]
    if args.report and args.report.exists() and not args.report.is_dir():
        raise ConfigurationError(f"--report {args.report}: not a folder (the reports are written into one)")
    items = load_gold(args.gold, args.format)
    if args.half:
        items = split_half(items, args.half)
    if args.url:
        headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        with httpx.Client(base_url=args.url, headers=headers, timeout=60) as client:
            run = run_eval(items, over_http(client, args.mode), settings.top_k, args.url, progress=not args.quiet)
    else:
        from service.answering.qa import QuestionAnswering

        _check_index(settings)
        qa = QuestionAnswering(settings)
        qa.check_mode(args.mode)
        qa.warm_up()
        run = run_eval(items, in_process(qa, args.mode), settings.top_k, str(settings.index_dir), progress=not args.quiet)
    print(table(run))
    if args.report:
        json_path, html_path = write_reports(run, args.report)
        print(f"\nreports: {json_path} {html_path}")
    failed = []
    for metric, threshold in gates:
        if metric not in run.metrics:
            raise ConfigurationError(f"--fail-under: no metric {metric!r} (metrics: {', '.join(run.metrics)})")
        value = run.metrics[metric]
        worse = value is None or (value > threshold if metric in LOWER_IS_BETTER else value < threshold)
        if worse:
            failed.append(f"{metric} = {format_value(metric, value)} (limit {threshold})")
    if failed:
        print("citeqa eval: below the bar: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def _gate(text: str) -> tuple[str, float]:
    from eval.report import METRIC_NAMES, definition

    metric, _, value = text.partition("=")
    metric = metric.strip()
    try:
        threshold = float(value)
    except ValueError:
        raise ConfigurationError(f"--fail-under takes METRIC=VALUE, e.g. accuracy=0.6 (got {text!r})") from None
    if not definition(metric):
        raise ConfigurationError(f"--fail-under: no metric {metric!r} (metrics: {', '.join(METRIC_NAMES)})")
    return metric, threshold


def _convert(settings: Settings, args: argparse.Namespace) -> int:
    from eval.datasets import load_gold, save_gold

    items = load_gold(args.source, args.source_format)
    save_gold(items, args.destination, args.target_format)
    print(f"Wrote {len(items)} questions to {args.destination} ({args.target_format}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
