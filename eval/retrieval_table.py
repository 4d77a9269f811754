"""Retrieval quality per configuration: FinanceBench dev (all, odd ids, even ids) and the seed gold set.

    python -m eval.retrieval_table [--financebench DIR] [--seed-corpus DIR] [--seed-gold FILE]
                                   [--work-dir DIR] [--out DIR] [--only LABEL ...]

Each configuration is a set of ``Settings`` fields (chunk size and overlap, lexical weights), so what
is measured is the service's own path: ``citeqa index`` and ``QuestionAnswering.ask``. Indexes are
kept in ``--work-dir`` per chunking and updated incrementally, so a second run only re-reads them.
Dev is split by the number ending each question id (odd, even): tune on one half, check on the other.
Latency is ``ask`` in-process over dev (the query embedded every time: no cache), the configurations
taking turns question by question so that load from elsewhere on the machine falls on all alike.
Writes ``retrieval.md`` and ``retrieval.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.datasets import FINANCEBENCH_DIR, GoldItem, in_fitting_half, load_gold
from eval.metrics import Scored, summarise
from eval.runner import in_process, run_eval
from indexer.embedder import Embedder
from service.answering.qa import QuestionAnswering
from service.cli.index import make_indexer
from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
FINANCEBENCH = FINANCEBENCH_DIR
FINANCEBENCH_K = 10
SEED_METRICS = ("accuracy", "hit@1", "mrr", "marker_precision", "unsupported_marker_rate", "abstain_recall")
DEV_METRICS = ("hit@1", "hit@5", "hit@10", "mrr")
HALF_METRICS = ("hit@1", "hit@5", "mrr")
SETTINGS_SHOWN = ("chunk_size", "chunk_overlap", "lexical_weight", "name_weight")
LATENCY_ROUNDS = 3


@dataclass(frozen=True)
class Configuration:
    """A row of the table: its ``label`` and the ``Settings`` fields it sets."""

    label: str
    settings: dict[str, Any]


_DENSE = {"lexical_weight": 0.0, "name_weight": 0.0}
_CHUNKS_BEFORE = {"chunk_size": 200, "chunk_overlap": 40}
# The first row is the reference the latency ratio is taken against; the default settings are a row.
CONFIGURATIONS = (
    Configuration("dense only (before)", {**_DENSE, **_CHUNKS_BEFORE}),
    *(
        Configuration(f"+ BM25 {label}", {"lexical_weight": text, "name_weight": names, **_CHUNKS_BEFORE})
        for label, text, names in (
            ("chunk text 0.05", 0.05, 0.0),
            ("chunk text 0.1", 0.1, 0.0),
            ("names 0.2", 0.0, 0.2),
            ("names 0.3", 0.0, 0.3),
            ("text 0.05 + names 0.1", 0.05, 0.1),
            ("text 0.05 + names 0.2", 0.05, 0.2),
            ("text 0.05 + names 0.3", 0.05, 0.3),
            ("text 0.1 + names 0.2", 0.1, 0.2),
        )
    ),
    *(
        Configuration(f"fusion, chunks {size}/{overlap}", {"chunk_size": size, "chunk_overlap": overlap})
        for size, overlap in ((128, 0), (128, 40), (200, 0), (200, 80), (256, 40), (300, 40))
    ),
    Configuration("dense only, chunks 128/40", {**_DENSE, "chunk_size": 128, "chunk_overlap": 40}),
    Configuration("default settings", {}),
)


@dataclass
class Row:
    """A configuration's figures: FinanceBench dev in all and by half, the seed gold set's, and the median time of
    ``ask``."""

    label: str
    settings: dict[str, Any]
    financebench: dict[str, dict[str, float | None]]  # "all", "odd", "even" -> metric -> value
    seed: dict[str, float | None]
    ask_p50_ms: float = 0.0


def measure(
    configuration: Configuration, paths: argparse.Namespace, embedder: Embedder
) -> tuple[Row, QuestionAnswering]:
    """The configuration's row (latency still to be timed) and its pipeline over FinanceBench."""
    settings = Settings(**configuration.settings)
    chunking = f"{settings.chunk_size}-{settings.chunk_overlap}"
    dev = load_gold(paths.financebench / "dev.jsonl")
    qa = _pipeline(settings, paths.financebench / "corpus", paths.work_dir / f"financebench-{chunking}", embedder)
    financebench = _answered(qa, dev, FINANCEBENCH_K)
    seed_qa = _pipeline(settings, paths.seed_corpus, paths.work_dir / f"seed-{chunking}", embedder)
    seed = _answered(seed_qa, load_gold(paths.seed_gold), settings.top_k)
    halves = {
        "all": financebench,
        "odd": [r for r in financebench if in_fitting_half(r.item)],
        "even": [r for r in financebench if not in_fitting_half(r.item)],
    }
    metrics = {half: summarise(results, FINANCEBENCH_K) for half, results in halves.items()}
    seed_metrics = summarise(seed, settings.top_k)
    row = Row(
        label=configuration.label,
        settings={key: getattr(settings, key) for key in SETTINGS_SHOWN},
        financebench={half: {m: _number(values[m]) for m in DEV_METRICS} for half, values in metrics.items()},
        seed={m: _number(seed_metrics[m]) for m in SEED_METRICS},
    )
    return row, qa


def _pipeline(settings: Settings, corpus: Path, index_dir: Path, embedder: Embedder) -> QuestionAnswering:
    """``corpus`` indexed (or its index brought up to date) as ``settings`` say, and loaded."""
    configured = settings.model_copy(update={"index_dir": index_dir})
    make_indexer(configured, progress=False, embedder=embedder).run(corpus, index_dir)
    qa = QuestionAnswering(configured, embedder=embedder)
    qa.warm_up()
    return qa


def _answered(qa: QuestionAnswering, items: list[GoldItem], k: int) -> list[Scored]:
    return run_eval(items, in_process(qa), k, str(qa.settings.index_dir), progress=False).results


def time_asks(pipelines: list[QuestionAnswering], questions: list[str]) -> list[float]:
    """Median milliseconds of ``ask`` per pipeline, the pipelines taking turns on each question."""
    times: list[list[float]] = [[] for _ in pipelines]
    for _ in range(LATENCY_ROUNDS):
        for question in questions:
            for qa, spent in zip(pipelines, times):
                started = time.perf_counter()
                qa.ask(question, FINANCEBENCH_K)
                spent.append((time.perf_counter() - started) * 1000)
    return [statistics.median(spent) for spent in times]


def _number(value: float | int | None) -> float | None:
    return None if value is None else round(float(value), 3)


def markdown(rows: list[Row]) -> str:
    """The table of ``rows``, each one's ``ask`` time also as a ratio to the first row's."""
    reference = rows[0].ask_p50_ms or 1.0
    header = (
        "| configuration | chunk tokens / overlap | text w | names w | hit@1 | hit@5 | hit@10 | MRR "
        "| odd: hit@1 / hit@5 / MRR | even: hit@1 / hit@5 / MRR | seed accuracy | seed hit@1 | seed MRR "
        "| seed marker precision | seed unsupported | seed abstain recall | ask p50 ms (ratio) |"
    )
    lines = [header, "|" + " --- |" * header.count(" | ") + " --- |"]
    for row in rows:
        s, fb = row.settings, row.financebench
        halves = [" / ".join(_cell(fb[half][m]) for m in HALF_METRICS) for half in ("odd", "even")]
        cells = [
            row.label,
            f"{s['chunk_size']} / {s['chunk_overlap']}",
            f"{s['lexical_weight']:g}",
            f"{s['name_weight']:g}",
            *(_cell(fb["all"][m]) for m in DEV_METRICS),
            *halves,
            *(_cell(row.seed[m]) for m in SEED_METRICS),
            f"{row.ask_p50_ms:.1f} ({row.ask_p50_ms / reference:.2f}x)",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> None:
    """``python -m eval.retrieval_table``: measure the chosen configurations, time them in turn, and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--financebench",
        type=Path,
        default=FINANCEBENCH,
        help=f"folder with corpus/ and dev.jsonl (default: {FINANCEBENCH})",
    )
    parser.add_argument("--seed-corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--seed-gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    parser.add_argument(
        "--work-dir", type=Path, default=ROOT / ".citeqa" / "retrieval-table", help="indexes, one per chunking"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "retrieval")
    parser.add_argument("--only", nargs="+", metavar="LABEL", help="measure only the configurations with these labels")
    args = parser.parse_args(argv)
    for required in (args.financebench / "corpus", args.financebench / "dev.jsonl"):
        if not required.exists():
            parser.exit(
                2,
                f"eval.retrieval_table: FinanceBench not found: {required} is missing; point --financebench at "
                "the folder holding corpus/ and dev.jsonl\n",
            )
    chosen = [c for c in CONFIGURATIONS if not args.only or c.label in args.only]
    if not chosen:
        labels = ", ".join(c.label for c in CONFIGURATIONS)
        parser.exit(2, f"eval.retrieval_table: no configuration is labelled {args.only}; labels: {labels}\n")
    # No query cache: every configuration embeds every question, so their latencies compare.
    embedder = Embedder(query_cache=0)
    embedder.warm_up()
    rows: list[Row] = []
    pipelines: list[QuestionAnswering] = []
    for configuration in chosen:
        row, qa = measure(configuration, args, embedder)
        rows.append(row)
        pipelines.append(qa)
        print(f"measured {configuration.label}", flush=True)
    questions = [item.question for item in load_gold(args.financebench / "dev.jsonl")]
    for row, milliseconds in zip(rows, time_asks(pipelines, questions)):
        row.ask_p50_ms = milliseconds
    table = markdown(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval.md").write_text(table, encoding="utf-8")
    (args.out / "retrieval.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8")
    print(table)
    print(f"written: {args.out / 'retrieval.md'} {args.out / 'retrieval.json'}")


if __name__ == "__main__":
    main()
