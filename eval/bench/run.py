"""citeqa against its limits and against what users would write instead; every comparison is a ratio
of figures measured in the same run, as the machine is shared.

    python -m eval.bench [--only query,peer,build,scale,footprint,tune,precision,scale-out]
        [--scale-sizes 100000,1000000] [--scale-out-chunks 51000]

Writes artifacts/bench/bench.json (parts run earlier are kept), bench.md and bench.png, and the same report
to eval/bench/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from eval.bench.report import write_report
from eval.datasets import FINANCEBENCH_DIR
from eval.bench.latency import bare_embedder, gold_questions, percentile, unseen
from eval.bench.load import memory_bytes
from eval.bench.workers import bench_workers
from indexer.build import Indexer
from indexer.embedder import Embedder, Precision, resolve_precision
from indexer.runtime import Runtime
from indexer.index_files import read_index
from service.local_server import started_server

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "bench"
WORK = OUT / "work"
SEED_CORPUS = ROOT / "corpus"
FINANCEBENCH = Path(os.environ.get("CITEQA_FINANCEBENCH", FINANCEBENCH_DIR / "corpus"))
PARTS = ("query", "peer", "build", "scale", "footprint", "tune", "precision", "scale-out")
# What the bench extra brings: the plot every run draws, and the peer that part measures against.
EXTRA_MODULES = {"matplotlib": "*", "langchain_community": "peer", "langchain_huggingface": "peer"}
CLIENTS = (1, 4, 16)
ROUNDS = 4
Figures = dict[str, object]
Arg = TypeVar("Arg")


class Variants:
    """Hands out question texts no server in this run has seen, so caches never stand in for the model."""

    def __init__(self, questions: list[str]) -> None:
        self.questions = questions
        self._next = 1

    def batch(self) -> list[str]:
        variant, self._next = self._next, self._next + 1
        return [unseen(question, variant) for question in self.questions]

    def stream(self, count: int) -> list[str]:
        texts: list[str] = []
        while len(texts) < count:
            texts.extend(self.batch())
        return texts[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of: {','.join(PARTS)}")
    parser.add_argument("--scale-sizes", default="100000,1000000", help="vector counts for the scale part")
    parser.add_argument(
        "--scale-out-chunks",
        type=int,
        default=51_000,
        help="chunks of the index the scale-out part serves (51,000: a million vectors with its sentences)",
    )
    args = parser.parse_args()
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")
    missing = missing_modules([name for name, part in EXTRA_MODULES.items() if part == "*" or part in parts])
    if missing:
        parser.error(f"{', '.join(missing)} not installed: the benchmark needs its extra, pip install -e '.[bench]'")
    OUT.mkdir(parents=True, exist_ok=True)
    results_path = OUT / "bench.json"
    results: dict[str, Figures] = json.loads(results_path.read_text()) if results_path.exists() else {}
    runners: dict[str, Callable[[], Figures]] = {
        "query": bench_query,
        "peer": bench_peer,
        "build": bench_build,
        "scale": lambda: bench_scale([int(size) for size in args.scale_sizes.split(",")]),
        "footprint": bench_footprint,
        "tune": bench_tune,
        "precision": bench_precision,
        "scale-out": lambda: {
            **bench_scale_out(),
            "serving": bench_workers(ensure_index(FINANCEBENCH, "financebench-index"), WORK, args.scale_out_chunks),
        },
    }
    for part in parts:
        print(f"== {part}", flush=True)
        measured = {
            "date": time.strftime("%Y-%m-%d"),
            "cores": os.cpu_count(),
            "cpu": cpu_model(),
            "load_average": os.getloadavg()[0],
        }
        started = time.perf_counter()
        results[part] = {**runners[part](), "seconds": round(time.perf_counter() - started, 1), "measured": measured}
        results[part]["command"] = " ".join(["python -m eval.bench", *sys.argv[1:]])
        results_path.write_text(json.dumps(results, indent=2))
        print(json.dumps(results[part], indent=2), flush=True)
    summary = write_report(results, OUT, ROOT / "eval" / "bench" / "BENCHMARKS.md")
    print(summary)


def missing_modules(names: list[str]) -> list[str]:
    """Those of ``names`` that cannot be imported: found before a run, not after minutes of measuring."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def ensure_index(corpus: Path, name: str) -> Path:
    """An index of ``corpus`` kept between runs (an unchanged corpus is not embedded again)."""
    index_dir = WORK / name
    Indexer(Embedder(), progress=False).run(corpus, index_dir)
    return index_dir


# -- query path -------------------------------------------------------------------------------------


def timed_ms(call: Callable[[Arg], object], arguments: list[Arg]) -> list[float]:
    timings = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def spread(timings: list[float]) -> Figures:
    return {
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(percentile(timings, 0.95), 3),
        "p99_ms": round(percentile(timings, 0.99), 3),
        "n": len(timings),
    }


def request(path: str, text: str) -> tuple[str, str, dict[str, object]]:
    """(method, path, httpx keyword arguments) asking ``text`` of ``/ask`` or a ``/search`` endpoint."""
    if path == "/ask":
        return "POST", path, {"json": {"question": text}}
    return "GET", path, {"params": {"q": text, "k": 5}}


def http_call(client: httpx.Client, path: str) -> Callable[[str], object]:
    def call(text: str) -> object:
        method, url, arguments = request(path, text)
        return client.request(method, url, **arguments).raise_for_status()  # type: ignore[arg-type]

    return call


def alternate(sides: dict[str, Callable[[str], object]], variants: Variants, rounds: int = ROUNDS) -> Figures:
    """Each side timed on fresh texts, whole rounds in turn, so no side runs while another is timed and
    drift in the machine's load is shared between them."""
    timings: dict[str, list[float]] = {name: [] for name in sides}
    for name, call in sides.items():  # warm-up round: lazy imports, first allocations
        timed_ms(call, variants.batch())
    for _ in range(rounds):
        for name, call in sides.items():
            timings[name].extend(timed_ms(call, variants.batch()))
    return {name: spread(values) for name, values in timings.items()}


async def _load(url: str, path: str, texts: list[str], clients: int) -> float:
    """Requests per second with ``clients`` connections each sending its next request on an answer."""
    pending = iter(texts)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            for text in pending:
                method, target, arguments = request(path, text)
                (await client.request(method, target, **arguments)).raise_for_status()  # type: ignore[arg-type]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return len(texts) / (time.perf_counter() - started)


def throughput(url: str, path: str, variants: Variants, clients: int, passes: int = 2) -> float:
    """The best of ``passes`` bounded runs: load from other users of the machine only ever slows a run."""
    requests = max(100, 24 * clients)
    return round(max(asyncio.run(_load(url, path, variants.stream(requests), clients)) for _ in range(passes)), 1)


def bench_query() -> Figures:
    from service.config import Settings
    from service.answering.qa import serving_embedder

    index_dir = ensure_index(SEED_CORPUS, "seed-index")
    variants = Variants(gold_questions())
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
            variants,
        )
        repeated = variants.batch()
        timed_ms(http_call(client, "/ask"), repeated)
        single["ask_repeated"] = spread(timed_ms(http_call(client, "/ask"), repeated))
        rates = {
            path: {str(clients): throughput(server.url, f"/{path}", variants, clients) for clients in CLIENTS}
            for path in ("ask", "search")
        }
    served.close()
    embed_p50 = float(single["embed"]["p50_ms"])  # type: ignore[index]
    return {
        "questions": len(variants.questions),
        "single_client": single,
        "throughput_rps": rates,
        "ask_p50_over_embed": round(float(single["ask"]["p50_ms"]) / embed_p50, 2),  # type: ignore[index]
        "ask_p50_over_served_embed": round(
            float(single["ask"]["p50_ms"]) / float(single["embed_served"]["p50_ms"]),  # type: ignore[index]
            2,
        ),
        "ask_16_over_1": round(rates["ask"]["16"] / rates["ask"]["1"], 2),
        "search_16_over_1": round(rates["search"]["16"] / rates["search"]["1"], 2),
    }


# -- peer -------------------------------------------------------------------------------------------


def bench_peer() -> Figures:
    from eval.bench.peer import build_peer
    from service.config import Settings
    from service.answering.qa import QuestionAnswering

    index_dir = ensure_index(SEED_CORPUS, "seed-index")
    variants = Variants(gold_questions())
    qa = QuestionAnswering(Settings(index_dir=index_dir))
    qa.warm_up()
    peer = build_peer(index_dir)
    in_process = alternate(
        {"citeqa": lambda text: qa.search(text, 5), "langchain": lambda text: peer.similarity_search(text, k=5)},
        variants,
    )
    with ExitStack() as stack:
        ours = stack.enter_context(started_server(index_dir))
        theirs = stack.enter_context(started_server(index_dir, module=("eval.bench.peer",)))
        ours_client = stack.enter_context(httpx.Client(base_url=ours.url, timeout=60))
        theirs_client = stack.enter_context(httpx.Client(base_url=theirs.url, timeout=60))
        over_http = alternate(
            {"citeqa": http_call(ours_client, "/search"), "langchain": http_call(theirs_client, "/search")}, variants
        )
        rates = {
            name: {str(clients): throughput(server.url, "/search", variants, clients) for clients in (1, 16)}
            for name, server in (("citeqa", ours), ("langchain", theirs))
        }

    def ratio(figures: Figures) -> float:
        theirs, ours = figures["langchain"], figures["citeqa"]
        return round(float(theirs["p50_ms"]) / float(ours["p50_ms"]), 2)  # type: ignore[index]

    return {
        "chunks": qa.index.size,
        "in_process": in_process,
        "http": over_http,
        "http_throughput_rps": rates,
        "peer_over_ours_in_process": ratio(in_process),
        "peer_over_ours_http": ratio(over_http),
    }


# -- index build ------------------------------------------------------------------------------------


def cpu_model() -> str | None:
    """The CPU's name as the kernel gives it: which runtime or batch size wins differs from one CPU to another."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.partition(":")[2].strip() for line in lines if line.startswith("model name")), None)


def run_measured(command: list[str]) -> tuple[str, float, int]:
    """(stdout, wall seconds, peak RSS in bytes) of a child process; wait4 reports that child's own peak."""
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {text}")
    return text, seconds, usage.ru_maxrss * 1024


def timed_build(index_dir: Path) -> tuple[float, float, int]:
    """(indexer's own seconds, command's wall seconds, peak RSS bytes) of `citeqa index` into an empty folder."""
    output, wall_seconds, peak_rss = run_measured(build_command(index_dir))
    return indexer_seconds(output), wall_seconds, peak_rss


def indexer_seconds(output: str) -> float:
    """The time `citeqa index` says it took, the model load included."""
    return float(re.search(r" in ([\d.]+)s: ", output).group(1))  # type: ignore[union-attr]


def build_command(index_dir: Path, *options: str) -> list[str]:
    """`citeqa index` of the FinanceBench pages into ``index_dir``, without progress bars."""
    index = [sys.executable, "-m", "service.cli", "index", str(FINANCEBENCH), "--index-dir", str(index_dir)]
    return [*index, "--quiet", *options]


def bench_build() -> Figures:
    """Fresh builds and raw encodes of exactly the texts each build embedded, both in processes of their
    own, twice in turn; the best of each kept."""
    builds: list[tuple[float, float, int]] = []
    encodes: list[float] = []
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="build-", dir=WORK) as folder:
            index_dir = Path(folder) / "index"
            builds.append(timed_build(index_dir))
            output, _, _ = run_measured([sys.executable, "-m", "eval.bench.encode", str(index_dir)])
            encoded = json.loads(output)
            encodes.append(float(encoded["seconds"]))
            data = read_index(index_dir, with_store=False)
    indexer_seconds, wall_seconds, _ = min(builds)
    encode_seconds = min(encodes)
    texts = int(encoded["texts"])
    return {
        "corpus": "FinanceBench pages",
        "documents": len(data.documents),
        "chunks": len(data.chunks),
        "texts_embedded": texts,
        "index_seconds": indexer_seconds,
        "command_seconds": round(wall_seconds, 1),
        "chunks_per_second": round(len(data.chunks) / indexer_seconds, 1),
        "texts_per_second": round(texts / indexer_seconds, 1),
        "encode_seconds": round(encode_seconds, 1),
        "encode_texts_per_second": round(texts / encode_seconds, 1),
        "build_over_encode": round(encode_seconds / indexer_seconds, 2),
        "peak_rss_mb": round(max(build[2] for build in builds) / 2**20),
    }


# -- scale ------------------------------------------------------------------------------------------


def bench_scale(sizes: list[int]) -> Figures:
    from eval.bench.scale import measure

    seeds = read_index(ensure_index(FINANCEBENCH, "financebench-index"), with_store=False).chunk_vectors
    results = []
    for size in sizes:
        result = measure(seeds, size).as_dict()
        print(f"   {size:>9,} vectors: {result}", flush=True)
        results.append(result)
    return {"seed_embeddings": len(seeds), "sizes": results}


# -- past one machine ------------------------------------------------------------------------------


def bench_scale_out() -> Figures:
    """The index built on a Ray cluster against the local build (eval/bench/ray_build.py)."""
    from eval.bench.ray_build import bench_ray_build

    return {"build": bench_ray_build()}


# -- service footprint ------------------------------------------------------------------------------


def bench_footprint() -> Figures:
    figures: dict[str, Figures] = {}
    for name, corpus in (("seed", SEED_CORPUS), ("financebench", FINANCEBENCH)):
        index_dir = ensure_index(corpus, f"{name}-index")
        with started_server(index_dir) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            ask = http_call(client, "/ask")
            for question in gold_questions():
                ask(question)
            chunks = client.get("/readyz").json()["chunks"]
            figures[name] = {
                "chunks": chunks,
                "ready_seconds": round(server.ready_seconds, 2),
                "peak_rss_mb": round(memory_bytes(server.pid, "VmHWM") / 2**20),
            }
    return {"indexes": figures}


# -- speed-ups, each measured against the service without it ------------------------------------------


TUNE_SETUPS: dict[str, tuple[list[str], dict[str, str]]] = {
    "shipped": ([], {}),
    "no_batching": (["--no-batching"], {}),
    "torch": ([], {"CITEQA_RUNTIME": "torch"}),
    "in_process": (["--in-process"], {}),
    "every_core": ([], {"CITEQA_MODEL_THREADS": str(len(os.sched_getaffinity(0)))}),
    "python_switch": (["--switch-interval", "0.005"], {}),
    "plain_asyncio": (["--plain-asyncio"], {}),
}


def bench_tune() -> Figures:
    """Each speed-up against the same app without it, and each setup again beside a busy neighbour (a
    process keeping one core busy, as a `citeqa index` run beside the server does).

    One server at a time: idle torch threads of one server spin on the cores another is being timed on.
    """
    index_dir = ensure_index(SEED_CORPUS, "seed-index")
    variants = Variants(gold_questions())
    timings: dict[str, list[float]] = {name: [] for name in TUNE_SETUPS}
    rates: dict[str, dict[str, float]] = {name: {} for name in TUNE_SETUPS}
    for _ in range(2):  # servers in turn, twice, so each sees the same drift in the machine's load
        for name, (flags, env) in TUNE_SETUPS.items():
            with tune_server(index_dir, flags, env) as (url, ask):
                timed_ms(ask, variants.batch())  # warm-up
                timings[name] += timed_ms(ask, variants.batch()) + timed_ms(ask, variants.batch())
                for count in (1, 16):
                    rate = throughput(url, "/ask", variants, count, passes=1)
                    rates[name][str(count)] = max(rate, rates[name].get(str(count), 0.0))
    busy: dict[str, Figures] = {}
    for name, (flags, env) in TUNE_SETUPS.items():
        with tune_server(index_dir, flags, env) as (url, ask), busy_core():
            timed_ms(ask, variants.batch()[:10])
            busy[name] = {
                "p50_ms": spread(timed_ms(ask, variants.batch()))["p50_ms"],
                "16": throughput(url, "/ask", variants, 16, passes=1),
            }
    return {
        "ask_single_client": {name: spread(values) for name, values in timings.items()},
        "ask_throughput_rps": rates,
        "busy_neighbour": busy,
    }


@contextmanager
def tune_server(
    index_dir: Path, flags: list[str], env: dict[str, str]
) -> Iterator[tuple[str, Callable[[str], object]]]:
    """``eval.bench.serve`` (query cache off) with ``flags`` and ``env``: its URL and an ``/ask`` call."""
    module = ("eval.bench.serve", "--query-cache", "0", *flags)
    with (
        started_server(index_dir, env=env, module=module) as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        yield server.url, http_call(client, "/ask")


@contextmanager
def busy_core() -> Iterator[None]:
    """A process spinning on one core while the block runs."""
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        neighbour.kill()
        neighbour.wait()


# -- precision --------------------------------------------------------------------------------------

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
    from service.config import Settings
    from service.answering.qa import QuestionAnswering

    sets = [("seed", SEED_CORPUS, ROOT / "eval" / "gold.jsonl", 5)]
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
        name: round(ours[key] / theirs[key], 2) for name, key in times.items()  # type: ignore[operator]
    } | {"passage_count": len(passages), "least_cosine": round(float((onnx * torch).sum(axis=1).min()), 6)}
    return figures


def library_encode(embedder: Embedder, texts: list[str]) -> object:
    """The library's ``encode_query`` on the embedder's model thread, where citeqa's own calls run: torch's
    thread pool belongs to the thread that calls it, and a second pool spinning beside it would slow both."""
    return embedder._on_model_thread(embedder.model.encode_query, texts)


if __name__ == "__main__":
    main()
