"""The model's runtimes and precisions side by side: the eval's scores with each, and the model's time."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable

from eval.bench.questions import GOLD, gold_questions
from eval.bench.results import Figures
from eval.bench.timing import ROUNDS, timed_ms
from eval.bench.workspace import FINANCEBENCH, SEED_CORPUS, WORK
from indexer.build import Indexer
from indexer.embedder import Embedder, Precision, resolve_precision
from indexer.runtime import Runtime

QUALITY = ("accuracy", "hit@1", "mrr", "marker_precision", "unsupported_marker_rate", "abstain_recall")
# The ways of running the model the precision part compares: (runtime, precision). bfloat16 only where the
# CPU multiplies it natively: elsewhere it is emulated, many times slower, and no one would choose it.
MODELS: dict[str, tuple[Runtime, Precision]] = {
    "onnx_float32": ("onnx", "float32"),
    "float32": ("torch", "float32"),
    **({"bfloat16": ("torch", "bfloat16")} if resolve_precision("auto") == "bfloat16" else {}),
}


def bench_precision() -> Figures:
    """ONNX Runtime float32, torch float32 and (where native) torch bfloat16 side by side: the eval's scores
    with indexes built and served with each, the least cosine of ONNX's question vectors to torch float32's, and the
    model's time for one question and for a batch of 16, each way timed in turn, as citeqa runs it
    (``Embedder.embed_queries``) and, for torch, through the library's ``encode_query``; and its time for
    passages as the index build embeds them."""
    from eval.datasets import load_gold
    from eval.runner import in_process, run_eval
    from service.answering.qa import QuestionAnswering
    from service.config import Settings

    sets = [("seed", SEED_CORPUS, GOLD, 5)]
    if FINANCEBENCH.is_dir():
        sets.append(("financebench", FINANCEBENCH, FINANCEBENCH.parent / "dev.jsonl", 10))
    figures: dict[str, Figures] = {}
    embedders: dict[str, Embedder] = {}
    for model, (runtime, precision) in MODELS.items():
        embedder = embedders[model] = Embedder(precision=precision, runtime=runtime, query_cache=0)
        scores: dict[str, Figures] = {}
        for name, corpus, gold, k in sets:
            index_dir = WORK / f"{name}-index-{model}"
            Indexer(embedder, progress=False).run(corpus, index_dir)
            settings = Settings(index_dir=index_dir, precision=precision, runtime=runtime)
            qa = QuestionAnswering(settings, embedder=embedder)
            qa.warm_up()
            run = run_eval(load_gold(gold), in_process(qa), k, str(index_dir), progress=False)
            scores[name] = {metric: run.metrics.get(metric) for metric in QUALITY if metric in run.metrics}
        figures[model] = {"quality": scores, "runtime": embedder.info.runtime}
    questions = gold_questions()
    batches = [questions[start : start + 16] for start in range(0, len(questions) - 15, 16)]
    calls: dict[str, Callable[[list[str]], object]] = {}
    for model, embedder in embedders.items():
        calls[model] = embedder.embed_queries
        if MODELS[model][0] == "torch":
            calls[f"library_{model}"] = functools.partial(library_encode, embedder)
    one: dict[str, list[float]] = {name: [] for name in calls}
    sixteen: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(ROUNDS):
        for name, call in calls.items():
            one[name] += timed_ms(call, [[question] for question in questions])
            sixteen[name] += timed_ms(call, batches)
    # Passages as the index build embeds them (batches of 64, texts the model truncates), each way in turn.
    passages = [path.read_text(encoding="utf-8") for path in sorted(SEED_CORPUS.glob("*.txt"))]
    if FINANCEBENCH.is_dir():
        passages = [path.read_text(encoding="utf-8")[:1500] for path in sorted(FINANCEBENCH.glob("*.txt"))[:128]]
    build: dict[str, list[float]] = {model: [] for model in embedders}
    for _ in range(2):
        for model, embedder in embedders.items():
            build[model] += timed_ms(embedder.embed_documents, [passages])
    for model, timings in build.items():
        figures[model]["passages_ms"] = round(min(timings))
    for name in calls:
        model = name.removeprefix("library_")
        path = name[: len(name) - len(model)]
        figures[model] |= {
            f"{path}one_question_p50_ms": round(statistics.median(one[name]), 2),
            f"{path}batch_16_p50_ms": round(statistics.median(sixteen[name]), 2),
        }
    onnx, torch = (embedders[model].embed_queries(questions) for model in ("onnx_float32", "float32"))
    times = {"one_question": "one_question_p50_ms", "batch_16": "batch_16_p50_ms", "passages": "passages_ms"}
    ours, theirs = figures["onnx_float32"], figures["float32"]
    figures["onnx_over_torch"] = {
        name: round(ours[key] / theirs[key], 2) for name, key in times.items()
    } | {"passage_count": len(passages), "least_cosine": round(float((onnx * torch).sum(axis=1).min()), 6)}
    return figures


def library_encode(embedder: Embedder, texts: list[str]) -> object:
    """The library's ``encode_query`` on the embedder's model thread, where citeqa's own calls run: torch's
    thread pool belongs to the thread that calls it, and a second pool spinning beside it would slow both."""
    return embedder._on_model_thread(embedder.model.encode_query, texts)
