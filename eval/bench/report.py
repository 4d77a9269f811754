"""The benchmark's figures as a markdown report with its targets judged, and one plot."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMAND = "python -m eval.bench"
MILLION = 1_000_000
Results = dict[str, Any]


def targets(results: Results) -> list[tuple[str, str, bool]]:
    """(target, figure, met) for every target whose part has been run."""
    rows: list[tuple[str, str, bool]] = []
    query, peer, build, scale = (results.get(part) for part in ("query", "peer", "build", "scale"))
    if query:
        ratio, served = query["ask_p50_over_embed"], query.get("ask_p50_over_served_embed")
        figure = f"{ratio:.2f}× (model on every core)" + (
            f"; {served:.2f}× the served model's own time" if served else ""
        )
        rows.append(("`/ask` p50 ≤ 1.5 × one bare query embedding", figure, ratio <= 1.5))
        ratio = query["ask_16_over_1"]
        rows.append(("`/ask` throughput at 16 clients ≥ 2 × one client", f"{ratio:.2f}×", ratio >= 2))
    if peer:
        ratio = peer["peer_over_ours_http"]
        rows.append(("`/search` faster than LangChain + FAISS, HTTP included", f"{ratio:.2f}× faster", ratio > 1))
    onnx = (results.get("precision") or {}).get("onnx_over_torch")
    if onnx:
        ratio = onnx["one_question"]
        rows.append(("bare query embedding, ONNX float32 ≤ 0.5 × torch float32", f"{ratio:.2f}×", ratio <= 0.5))
    if build:
        ratio = build["build_over_encode"]
        rows.append(("index build ≥ 0.9 × raw `encode` throughput", f"{ratio:.2f}×", ratio >= 0.9))
    ray_build = (results.get("scale-out") or {}).get("build")
    if ray_build:
        same = ray_build["same_chunk_ids"] and ray_build["same_top5"] == ray_build["questions"]
        ids = "the same" if ray_build["same_chunk_ids"] else "differ"
        figure = f"chunk ids {ids}; top-5 the same for {ray_build['same_top5']}/{ray_build['questions']} questions"
        rows.append(("Ray build, same index as local: identical chunk ids and top-5", figure, same))
        ratio = ray_build["ray_over_local"]
        rows.append(("Ray build throughput, 2 nodes × 1 CPU ≥ 0.8 × local on 2 cores", f"{ratio:.2f}×", ratio >= 0.8))
    serving = (results.get("scale-out") or {}).get("serving")
    if serving:
        extra, allowed, reload = serving["extra_mb_per_worker"], serving["target_mb_per_worker"], serving["reload"]
        rows += [
            (
                "extra memory per added worker ≤ one worker's own (model, runtime) + 10 % of the index",
                f"{extra} MB (limit {allowed} MB)",
                extra <= allowed,
            ),
            (
                f"failed requests across {reload['reloads']} reloads of 2 workers under 16 clients",
                str(reload["failed"]),
                reload["failed"] == 0,
            ),
        ]
    million = [size for size in (scale or {}).get("sizes", []) if size["vectors"] == MILLION]
    if million:
        size = million[0]
        rows += [
            ("1M vectors: recall@10 ≥ 0.95", f"{size['recall_at_10']:.3f}", size["recall_at_10"] >= 0.95),
            ("1M vectors: p50 search ≤ 5 ms", f"{size['search_p50_ms']:.2f} ms", size["search_p50_ms"] <= 5),
            ("1M vectors: index memory ≤ 1 GB", f"{size['index_bytes'] / 2**20:.0f} MB", size["index_bytes"] < 2**30),
            ("1M vectors: build ≤ 10 minutes", f"{size['build_seconds']:.0f} s", size["build_seconds"] <= 600),
        ]
    return rows


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]


def _query(query: Results) -> list[str]:
    single = query["single_client"]
    names = {
        "embed": "one bare query embedding (in-process, the model on every core)",
        "embed_served": "one query embedding as the server runs the model (own process, half the cores)",
        "ask": "`POST /ask` over HTTP",
        "search": "`GET /search` over HTTP",
        "ask_repeated": "`POST /ask`, question asked before (query cache)",
    }
    rates = query["throughput_rps"]
    return [
        f"One client, {query['questions']} gold questions × 4 rounds, each request a text the server has not "
        "seen (so the query cache never stands in for the model), sides timed in alternating rounds:",
        "",
        *_table(
            ["what", "p50 ms", "p95 ms", "p99 ms"],
            [[names[key], single[key]["p50_ms"], single[key]["p95_ms"], single[key]["p99_ms"]] for key in names],
        ),
        "",
        "Throughput (requests/s, loopback, `httpx.AsyncClient`, fresh question texts, best of two bounded runs):",
        "",
        *_table(
            ["clients", "`/ask`", "`/search`"],
            [[clients, rates["ask"][clients], rates["search"][clients]] for clients in rates["ask"]],
        ),
    ]


def _peer(peer: Results) -> list[str]:
    rows = []
    for where, label in (("in_process", "in-process call"), ("http", "`GET /search` over HTTP")):
        for name in ("citeqa", "langchain"):
            figures = peer[where][name]
            rows.append([label, name, figures["p50_ms"], figures["p95_ms"]])
    rates = peer["http_throughput_rps"]
    return [
        f"LangChain's `FAISS` vector store with `HuggingFaceEmbeddings` (the same bundled model) over the same "
        f"{peer['chunks']} chunks, served by a minimal FastAPI app in its own process; citeqa's "
        "`QuestionAnswering.search` and `citeqa serve`. Same questions, alternating rounds:",
        "",
        *_table(["path", "side", "p50 ms", "p95 ms"], rows),
        "",
        f"HTTP throughput (requests/s) at 1 and 16 clients: citeqa {rates['citeqa']['1']} / {rates['citeqa']['16']}, "
        f"LangChain {rates['langchain']['1']} / {rates['langchain']['16']}.",
    ]


def _build(build: Results) -> list[str]:
    return [
        f"`citeqa index` (fresh) over {build['corpus']}: {build['documents']} documents, {build['chunks']} chunks, "
        f"{build['texts_embedded']} texts embedded (sentences and chunks). Two builds and two raw encodes in turn, "
        "the best of each:",
        "",
        *_table(
            ["what", "seconds", "texts/s"],
            [
                ["`citeqa index` (indexer's own time)", build["index_seconds"], build["texts_per_second"]],
                ["`citeqa index` (whole command, with imports and model load)", build["command_seconds"], ""],
                [
                    "raw encode of the same texts (`Embedder.embed_documents`, as `citeqa index` runs the model)",
                    build["encode_seconds"],
                    build["encode_texts_per_second"],
                ],
            ],
        ),
        "",
        f"{build['chunks_per_second']} chunks/s; peak RSS of the command {build['peak_rss_mb']} MB.",
    ]


def _scale(scale: Results) -> list[str]:
    rows = [
        [
            f"{size['vectors']:,}",
            size["index_type"],
            f"{size['build_seconds']:.1f}",
            f"{size['index_bytes'] / 2**20:.0f}",
            f"{size['search_p50_ms']:.2f}",
            f"{size['search_p95_ms']:.2f}",
            f"{size['exact_p50_ms']:.2f}",
            f"{size['recall_at_10']:.3f}",
            f"{size['nearest_similarity']:.2f}",
        ]
        for size in scale["sizes"]
    ]
    return [
        f"384-dimensional unit vectors drawn from a clustered mixture seeded by {scale['seed_embeddings']} real chunk "
        "embeddings of the FinanceBench pages (eval/bench/scale.py); the automatically chosen index against exact "
        "search on held-out queries, one query a call:",
        "",
        *_table(
            ["vectors", "index", "build s", "index MB", "p50 ms", "p95 ms", "exact p50 ms", "recall@10", "nearest cos"],
            rows,
        ),
    ]


def _scale_out(scale_out: Results) -> list[str]:
    lines: list[str] = []
    if "build" in scale_out:
        lines += _scale_out_build(scale_out["build"])
    if "serving" in scale_out:
        lines += ["### Scaling out: serving", "", *_scale_out_serving(scale_out)]
    return lines


def _scale_out_build(build: Results) -> list[str]:
    shards = build["shards"]
    return [
        "### Scaling out: the build",
        "",
        f"`citeqa index` (fresh) over {build['corpus']} ({build['documents']} documents, {build['chunks']} chunks) on "
        f"this machine's 2 cores, against `citeqa index --ray ADDRESS` on a Ray {build['ray_version']} cluster of "
        f"{build['nodes']} started on the same machine (eval/bench/ray_build.py); {build['rounds']} builds of each in "
        "turn, the best kept, the model load included (`python -m eval.bench --only scale-out`):",
        "",
        *_table(
            ["build", "seconds", "chunks/s"],
            [
                ["local, 2 cores", build["local_seconds"], build["local_chunks_per_second"]],
                [f"Ray, {build['nodes']}", build["ray_seconds"], build["ray_chunks_per_second"]],
            ],
        ),
        "",
        f"Ray over local: {build['ray_over_local']}× the throughput. Texts embedded a node: "
        f"{', '.join(str(count) for count in build['texts_by_node'])}. Same chunk ids: "
        f"{'yes' if build['same_chunk_ids'] else '**no**'}; "
        f"largest vector difference {build['max_vector_difference']:.1e}; "
        f"the same top 5 for {build['same_top5']} of {build['questions']} dev questions.",
        "",
        f"The IVF index at {shards['vectors']:,} synthetic vectors (eval/bench/scale.py; {shards['lists']} lists): "
        f"trained once in {shards['train_seconds']} s, then filled in {shards['local_fill_seconds']} s by one process "
        f"(FAISS on both cores) or in {shards['sharded_fill_seconds']} s in one shard a node (vectors shipped out, "
        f"filled, shipped back and merged); the same search results: {'yes' if shards['same_results'] else '**no**'}.",
    ]


def _footprint(footprint: Results) -> list[str]:
    return [
        "`citeqa serve` from start to the first 200 of `/readyz`, and its peak RSS after the gold questions:",
        "",
        *_table(
            ["index", "chunks", "ready s", "peak RSS MB"],
            [[name, f["chunks"], f["ready_seconds"], f["peak_rss_mb"]] for name, f in footprint["indexes"].items()],
        ),
    ]


TUNE_LABELS = {
    "shipped": "shipped: micro-batching, ONNX Runtime float32, the model in its own process on half the cores",
    "no_batching": "one query per forward pass",
    "torch": "the model on torch (traced), float32",
    "in_process": "the model in the server's process (its model thread)",
    "every_core": "model on every core",
    "python_switch": "Python's 5 ms thread switch interval (shipped: 0.5 ms)",
    "plain_asyncio": "asyncio's loop and h11 (shipped: uvloop and httptools)",
}


def _tune(tune: Results) -> list[str]:
    single, rates, busy = tune["ask_single_client"], tune["ask_throughput_rps"], tune["busy_neighbour"]
    return [
        "The same app (`eval/bench/serve.py`, query cache off) with one setting changed at a time, each server "
        "alone on the machine, two passes in turn (best throughput kept); then each again beside a process "
        "keeping one core busy, as a `citeqa index` run beside the server does:",
        "",
        *_table(
            [
                "setup",
                "`/ask` p50 ms",
                "1 client req/s",
                "16 clients req/s",
                "16 / 1",
                "busy: p50 ms",
                "busy: 16 clients req/s",
            ],
            [
                [
                    label,
                    single[name]["p50_ms"],
                    rates[name]["1"],
                    rates[name]["16"],
                    f"{rates[name]['16'] / rates[name]['1']:.2f}×",
                    busy[name]["p50_ms"],
                    busy[name]["16"],
                ]
                for name, label in TUNE_LABELS.items()
                if name in rates
            ],
        ),
    ]


def _scale_out_serving(scale_out: Results) -> list[str]:
    figures = scale_out["serving"]
    index, small, reload = figures["index"], figures["one_worker_small_index"], figures["reload"]
    rows = [[m["workers"], m["processes"], m["ready_seconds"], m["pss_mb"]] for m in figures["memory"]]
    return [
        f"`citeqa serve --workers N` on an index of {index['chunks']:,} chunks, {index['sentences']:,} sentences and "
        f"{index['documents']:,} documents: copies of the FinanceBench pages, vectors drawn as in the scale part "
        f"({index['index_type']} FAISS index of {index['faiss_mb']} MB, {index['disk_mb']} MB on disk in all; "
        "eval/bench/workers.py). Memory is the PSS summed over the server's processes (supervisor, workers, their "
        "models' processes) once every worker has answered: a page shared by k processes counts 1/k in each.",
        "",
        *_table(["workers", "processes", "ready s", "PSS MB"], rows),
        "",
        f"One worker on the 3-chunk seed index: {small['pss_mb']} MB, what every worker holds of its own (model "
        f"and runtime). Extra memory per added worker on the large index: {figures['extra_mb_per_worker']} MB "
        "(the larger of 1→2 and (1→4)/3).",
        "",
        f"`/ask` under 16 clients for {figures['load_seconds']} s (fresh questions, `eval/bench/load.py`'s client): "
        f"{figures['answers_per_second_1']} answers/s with 1 worker, {figures['answers_per_second_2']} with 2 "
        f"({figures['failures_1']} and {figures['failures_2']} failed). 2 workers under the same load for "
        f"{reload['seconds']} s while SIGHUP reloads the whole index {reload['reloads']} times, each sent once "
        f"both workers had swapped in the one before (the last swapped in at {reload['reloaded_seconds']} s): "
        f"{reload['requests']} requests, {reload['failed']} failed, {reload['answers_per_second']} answers/s.",
    ]


MODEL_LABELS = {
    "onnx_float32": "ONNX Runtime, float32",
    "float32": "torch (traced), float32",
    "bfloat16": "torch (traced), bfloat16",
}


def _precision(precision: Results) -> list[str]:
    rows = []
    for name, label in MODEL_LABELS.items():
        if name not in precision:
            continue
        figures = precision[name]
        quality = figures["quality"]
        seed, finance = quality["seed"], quality.get("financebench")
        rows.append(
            [
                label,
                figures["one_question_p50_ms"],
                figures["batch_16_p50_ms"],
                figures.get("library_one_question_p50_ms", "n/a"),
                figures.get("library_batch_16_p50_ms", "n/a"),
                f"{seed['accuracy']:.3f}",
                f"{seed['hit@1']:.3f}",
                f"{seed['unsupported_marker_rate']:.3f}",
                f"{finance['hit@1']:.3f}" if finance else "n/a",
                f"{finance['mrr']:.3f}" if finance else "n/a",
            ]
        )
    ratios = precision.get("onnx_over_torch")
    return [
        "The model run each way, timed in turn, as citeqa runs it (`Embedder.embed_queries`, on every core) and, "
        "for torch, through the library's `encode_query`; and the eval with indexes built and served each way "
        "(seed gold set; FinanceBench dev page retrieval, k = 10):",
        "",
        *_table(
            [
                "model",
                "1 question p50 ms",
                "16 questions p50 ms",
                "library: 1 question",
                "library: 16 questions",
                "seed accuracy",
                "seed hit@1",
                "unsupported markers",
                "FinanceBench hit@1",
                "FinanceBench MRR",
            ],
            rows,
        ),
        "",
        *(
            [
                f"ONNX Runtime against torch float32: {ratios['one_question']:.2f}× the time for one question, "
                f"{ratios['batch_16']:.2f}× for 16, {ratios['passages']:.2f}× for {ratios['passage_count']} passages "
                f"as the index build embeds them ({precision['onnx_float32']['passages_ms']} against "
                f"{precision['float32']['passages_ms']} ms, the best of two); least cosine between their vectors of "
                f"the gold questions {ratios['least_cosine']:.6f}.",
                "",
            ]
            if ratios
            else []
        ),
        "float32 (`CITEQA_PRECISION`, the default) gives the same vectors on every CPU; bfloat16 is faster where",
        "the CPU multiplies it natively (AMX or AVX-512 BF16; the part measures it only there), but its rounding,",
        "and rankings with it, differ between CPUs, and it runs on torch only. ONNX Runtime wins for one question",
        "everywhere; for batches it depends on the CPU: on the 2-core AMD EPYC where ONNX Runtime's share was",
        "chosen (`ONNX_BATCH`), 16 questions took 1.17× torch's time and 128 passages 1.33×.",
        "int8 was measured and left out. ONNX Runtime's dynamic quantisation of the export (weights per channel,",
        "activations per run, attention's products of two activations in float32) with the first layer's",
        "feed-forward output kept in float32 (chosen on the fit half's questions and the seed's sentences: least",
        "cosine to float32 0.993, against 0.981 with it in int8) embedded a question alone in 0.44 to 0.54× float32's",
        "time on one thread of an Intel Xeon with VNNI (0.72× on two), and the held-out half's and FinanceBench's",
        "questions at a least cosine of 0.992. The answers were the same (accuracy, abstentions, markers), but",
        "near-tied passages swapped: seed hit@1 0.658 became 0.671 (held-out half 0.611 to 0.639), FinanceBench",
        "MRR 0.855 became 0.853. Quantising other products moved other ties (all six feed-forward outputs in",
        "float32: the same hit@1; the whole first layer: fit half 0.703 to 0.676). The eval's figures moved, so",
        "int8 is not offered; with passages in int8 too, FinanceBench hit@1 fell to 0.733.",
    ]


# The parts the plot draws from.
PLOTTED = frozenset({"query", "peer", "scale"})
SECTIONS: dict[str, tuple[str, Callable[[Results], list[str]]]] = {
    "query": ("Query path", _query),
    "peer": ("Against LangChain + FAISS", _peer),
    "build": ("Index build", _build),
    "scale": ("Scale", _scale),
    "footprint": ("Service footprint", _footprint),
    "tune": ("Speed-ups, each measured on and off", _tune),
    "precision": ("Model runtime and precision: speed and answers", _precision),
    "scale-out": ("Scaling out", _scale_out),
}


def markdown(results: Results, image: str) -> str:
    """The report of ``results``: the targets judged, the plot ``image``, and a section for each part run, with the
    conditions it was measured in."""
    lines = [
        "# citeqa benchmark",
        "",
        f"`{COMMAND}` (parts: `--only query,peer,build,scale,footprint,tune,precision,scale-out`; sizes: "
        "`--scale-sizes 100000,1000000`, `--scale-out-chunks 51000`). "
        "Every comparison is a ratio of figures taken in the same run, on the same machine.",
        "",
        "## Targets",
        "",
        *_table(["target", "figure", "met"], [[t, f, "yes" if met else "**no**"] for t, f, met in targets(results)]),
        "",
        f"![benchmark]({image})",
    ]
    for part, (title, render) in SECTIONS.items():
        if part in results:
            lines += ["", f"## {title}", "", *_conditions(results[part]), *render(results[part])]
            lines += ["", f"_{results[part]['seconds']} s to run._"]
    return "\n".join(lines) + "\n"


def _conditions(figures: Results) -> list[str]:
    """When and how busy the machine was: absolute times mean little without it."""
    measured = figures.get("measured")
    if not measured:
        return []
    return [
        f"_Measured on {measured['date']} (`{figures['command']}`), {measured['cores']} cores"
        + (f" ({measured['cpu']})" if measured.get("cpu") else "")
        + f", load average {measured['load_average']:.2f} at the start._",
        "",
    ]


def merged(kept: str, fresh: str, results: Results) -> str:
    """``fresh`` (the report of the parts just run) with what ``kept`` (the report before) says of the
    others: their sections, and their rows of the targets table; sections no part writes (written by hand)
    are kept last. Running one part must not erase what the other parts measured, which may have taken an
    hour and a quiet machine to get."""
    old, new = _sections(kept), _sections(fresh)
    fresh_rows = {_target(row): row for row in _rows(new.get("Targets", ""))}
    # In the order the report had them, measured rows in place of their old ones, new targets last.
    rows = [fresh_rows.pop(_target(row), row) for row in _rows(old.get("Targets", ""))] + list(fresh_rows.values())
    out = [new.get(""), _with_rows(new.get("Targets", ""), rows)]
    for part, (title, _) in SECTIONS.items():
        out.append(new.get(title, "") if part in results else old.get(title, ""))
    generated = {"", "Targets", *(title for title, _ in SECTIONS.values())}
    out += [section for title, section in old.items() if title not in generated]
    return "\n\n".join(section.strip("\n") for section in out if section) + "\n"


def _sections(text: str) -> dict[str, str]:
    """A report's ``## `` sections by title, each with its heading (``""``: what comes before the first)."""
    sections: dict[str, str] = {}
    title = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            title = line[3:].strip()
        sections[title] = sections.get(title, "") + line
    return sections


def _rows(section: str) -> list[str]:
    """The body rows of the table in ``section``, its header and rule left out."""
    return [line for line in section.splitlines(keepends=True) if line.startswith("|")][2:]


def _target(row: str) -> str:
    return row.split("|")[1].strip()


def _with_rows(section: str, rows: list[str]) -> str:
    """``section`` with its table's body rows replaced by ``rows``."""
    lines = section.splitlines(keepends=True)
    table = [i for i, line in enumerate(lines) if line.startswith("|")]
    if len(table) < 2:
        return section
    return "".join(lines[: table[0] + 2] + rows + lines[table[-1] + 1 :])


def plot(results: Results, path: Path) -> None:
    """Draw p50 latency, throughput by clients and search latency by corpus size into ``path``, each panel from the
    parts that were run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    if "query" in results or "peer" in results:
        bars: dict[str, float] = {}
        if "query" in results:
            single = results["query"]["single_client"]
            bars |= {"query\nembedding": single["embed"]["p50_ms"], "/ask": single["ask"]["p50_ms"]}
        if "peer" in results:
            http = results["peer"]["http"]
            bars |= {"/search": http["citeqa"]["p50_ms"], "LangChain\n/search": http["langchain"]["p50_ms"]}
        axes[0].bar(list(bars), list(bars.values()), color=["#999", "#2f5bd3", "#2f5bd3", "#d36b2f"][: len(bars)])
        axes[0].set(title="p50 latency, one client", ylabel="ms")
    if "query" in results:
        for path_name, rates in results["query"]["throughput_rps"].items():
            axes[1].plot([int(c) for c in rates], list(rates.values()), marker="o", label=f"/{path_name}")
        axes[1].set(title="throughput over HTTP", xlabel="concurrent clients", ylabel="requests/s", xscale="log")
        axes[1].set_xticks([1, 4, 16], ["1", "4", "16"])
        axes[1].legend()
    if "scale" in results:
        sizes = results["scale"]["sizes"]
        counts = [s["vectors"] for s in sizes]
        axes[2].plot(counts, [s["search_p50_ms"] for s in sizes], marker="o", label="auto index p50 ms")
        axes[2].plot(counts, [s["exact_p50_ms"] for s in sizes], marker="s", label="exact p50 ms")
        axes[2].set(title="search latency by corpus size", xlabel="vectors", ylabel="ms", xscale="log", yscale="log")
        for size in sizes:
            axes[2].annotate(f"recall@10 {size['recall_at_10']:.3f}", (size["vectors"], size["search_p50_ms"]))
        axes[2].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(results: Results, folder: Path, document: Path) -> str:
    """Writes bench.md and bench.png into ``folder`` and the report to ``document`` (the figures kept with
    the code), where the parts not run keep their sections and target rows; returns the targets as a
    printable summary."""
    plot(results, folder / "bench.png")
    fresh = markdown(results, "bench.png")
    (folder / "bench.md").write_text(fresh, encoding="utf-8")
    # The document is committed with the code, so its plot goes beside it (artifacts/ is not kept); a plot
    # of some of its parts would stand for all of them.
    if PLOTTED <= set(results):
        shutil.copyfile(folder / "bench.png", document.with_name("bench.png"))
    kept = document.read_text(encoding="utf-8") if document.exists() else ""
    document.write_text(merged(kept, fresh, results), encoding="utf-8")
    rows = targets(results)
    width = max((len(t) for t, _, _ in rows), default=0)
    lines = [f"{'MET ' if met else 'MISS'}  {t:<{width}}  {figure}" for t, figure, met in rows]
    return "\n".join([*lines, f"report: {folder / 'bench.md'}, plot: {folder / 'bench.png'}"])
