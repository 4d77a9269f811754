"""Serving with several workers (`citeqa serve --workers N`) on an index far larger than any bundled corpus:
memory of 1, 2 and 4 workers, throughput of 1 and 2 under 16 clients, and failed requests across reloads.

The index is made of copies of a real one (the FinanceBench pages: their chunks, sentences and naming, each
copy its own documents), with vectors drawn as the scale part draws them (eval/bench/scale.py), so that
FAISS is an IVF index of realistic lists. Memory is the proportional set size (PSS) summed over the server's
processes: a page shared by k processes counts 1/k in each, so the index mapped once in the page cache
counts once, where resident sizes would count it once a worker.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np

from eval.bench.load import Phase, process_tree, run_phase
from eval.bench.questions import Questions
from eval.bench.results import Figures
from eval.bench.scale import SyntheticEmbeddings
from indexer.index_files import MANIFEST, IndexData, Manifest, read_index, read_manifest, write_index
from indexer.lexical import LexicalIndex
from indexer.metadata import describe
from indexer.store import FaissStore
from service.api.request_log import WORKER_HEADER
from service.local_server import started_server

WORKER_COUNTS = (1, 2, 4)
CLIENTS = 16
LOAD_SECONDS = 20
# Reloads sent to a 2-worker server under load, each once every worker has taken up the previous one; the
# load runs long enough for both on a busy machine (the figures say when the last was swapped in).
RELOADS = 2
RELOAD_SECONDS = 240
_SEED = 11


def synthetic_index(seed: IndexData, chunks: int, index_dir: Path) -> Path:
    """An index of at least ``chunks`` chunks at ``index_dir``, made of whole copies of ``seed``; kept between
    runs."""
    copies = -(-chunks // len(seed.chunks))
    wanted = copies * len(seed.chunks)
    if (index_dir / MANIFEST).is_file() and read_manifest(index_dir).counts.get("chunks") == wanted:
        return index_dir
    rng = np.random.default_rng(_SEED)
    source = SyntheticEmbeddings(np.asarray(seed.chunk_vectors), max(wanted // 200, 16), rng)
    documents, chunk_records, sentence_records = [], [], []
    units = max((s.unit for s in seed.sentences), default=0) + 1
    for copy in range(copies):
        prefix = f"copy-{copy:05d}/"
        documents += [replace(d, doc_id=prefix + d.doc_id) for d in seed.documents]
        first_chunk, first_sentence = copy * len(seed.chunks), copy * len(seed.sentences)
        chunk_records += [
            replace(
                c,
                row=first_chunk + c.row,
                chunk_id=prefix + c.chunk_id,
                doc_id=prefix + c.doc_id,
                first_sentence=first_sentence + c.first_sentence,
                end_sentence=first_sentence + c.end_sentence,
            )
            for c in seed.chunks
        ]
        sentence_records += [
            replace(s, row=first_sentence + s.row, doc_id=prefix + s.doc_id, unit=s.unit + copy * units)
            for s in seed.sentences
        ]
    chunk_vectors = source.draw(wanted)
    sentence_vectors = np.tile(np.asarray(seed.sentence_vectors), (copies, 1))
    assert seed.clause_vectors is not None
    clause_vectors = np.tile(np.asarray(seed.clause_vectors), (copies, 1, 1))
    lexical = LexicalIndex.build(
        [c.text for c in chunk_records], [describe(d.doc_id, d.company, d.period) for d in documents]
    )
    store = FaissStore.build(chunk_vectors)
    manifest = Manifest(
        model=seed.manifest.model,
        chunking=seed.manifest.chunking,
        index_type=store.kind,
        documents={d.doc_id: {"title": d.title, "content_hash": d.content_hash} for d in documents},
        counts={"documents": len(documents), "chunks": wanted, "sentences": len(sentence_records)},
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    shutil.rmtree(index_dir, ignore_errors=True)  # one of another size
    index_dir.mkdir(parents=True)
    data = IndexData(
        manifest, documents, chunk_records, sentence_records, chunk_vectors, sentence_vectors, store, lexical,
        clause_vectors=clause_vectors,
    )
    write_index(index_dir, data)
    return index_dir


def pss_bytes(pid: int) -> int:
    """Proportional set size of ``pid`` and its descendants (workers and their models' processes)."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
    return total


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under ``folder`` (where it links to): an index's size on disk."""
    return sum(path.stat().st_size for path in folder.resolve().rglob("*") if path.is_file())


def served_memory(index_dir: Path, workers: int) -> Figures:
    """PSS of a server of ``workers`` once every worker has answered questions."""
    with started_server(index_dir, {"CITEQA_WORKERS": str(workers)}, timeout=1800) as server:
        # Short runs at full concurrency: every worker answers (the kernel spreads the connections).
        phase = run_phase(server.url, Questions(), CLIENTS, 5)
        return {
            "workers": workers,
            "ready_seconds": round(server.ready_seconds, 1),
            "pss_mb": round(pss_bytes(server.pid) / 2**20),
            "processes": len(process_tree(server.pid)),
            "warm_up_failures": sum(phase.failures.values()),
        }


def rate(phase: Phase) -> float:
    """Answers a second in ``phase``; failed requests do not count."""
    return round(len(phase.latencies) / phase.seconds, 1)


def throughput_and_reloads(index_dir: Path) -> Figures:
    """Answers a second of 1 and 2 workers under ``CLIENTS`` clients, and the failures of 2 workers under the
    same load while SIGHUP reloads the index ``RELOADS`` times."""
    figures: Figures = {"load_seconds": LOAD_SECONDS}
    for workers in (1, 2):
        with started_server(index_dir, {"CITEQA_WORKERS": str(workers)}, timeout=1800) as server:
            run_phase(server.url, Questions(), CLIENTS, 5)  # warm-up
            phase = run_phase(server.url, Questions(), CLIENTS, LOAD_SECONDS)
            figures[f"answers_per_second_{workers}"] = rate(phase)
            figures[f"failures_{workers}"] = sum(phase.failures.values())
            if workers == 2:
                figures["reload"] = reloads_under_load(server.url, server.pid)
    return figures


def reloads_under_load(url: str, supervisor: int) -> Figures:
    """``CLIENTS`` clients asking for ``RELOAD_SECONDS`` while the supervisor is sent SIGHUP ``RELOADS`` times,
    each once every worker has swapped in the index the previous one loaded."""
    phase: list[Phase] = []
    asking = threading.Thread(target=lambda: phase.append(run_phase(url, Questions(), CLIENTS, RELOAD_SECONDS)))
    asking.start()
    started = time.monotonic()
    time.sleep(2)
    for count in range(1, RELOADS + 1):
        os.kill(supervisor, signal.SIGHUP)
        while min(worker_reloads(url, workers=2).values()) < count:
            time.sleep(0.5)
    reloaded_seconds = time.monotonic() - started
    asking.join()
    return {
        "seconds": RELOAD_SECONDS,
        "reloads": RELOADS,
        "reloaded_seconds": round(reloaded_seconds, 1),  # when the last worker swapped in the last reload
        "requests": phase[0].requests,
        "failed": sum(phase[0].failures.values()),
        "failures": dict(phase[0].failures),
        "answers_per_second": rate(phase[0]),
    }


def worker_reloads(url: str, workers: int) -> dict[int, int]:
    """Reloads each worker has swapped in (its ``/metrics``), asking on new connections until every one of
    ``workers`` has answered."""
    counts: dict[int, int] = {}
    while len(counts) < workers:
        response = httpx.get(f"{url}/metrics", timeout=30)
        found = re.search(r'citeqa_index_reloads_total\{result="ok"\} (\S+)', response.text)
        counts[int(response.headers[WORKER_HEADER])] = int(float(found[1])) if found else 0
    return counts


def bench_workers(seed_index: Path, work: Path, chunks: int) -> Figures:
    """`citeqa serve --workers N` on an index of at least ``chunks`` chunks made of copies of ``seed_index`` (kept in
    ``work``): memory by number of workers, throughput, and failures across reloads."""
    seed = read_index(seed_index, with_store=False)
    index_dir = synthetic_index(seed, chunks, work / f"scale-out-{chunks}")
    index = read_manifest(index_dir)
    small = served_memory(seed_index, 1)
    memory = [served_memory(index_dir, workers) for workers in WORKER_COUNTS]
    one = int(memory[0]["pss_mb"])
    extra = [(int(m["pss_mb"]) - one) / (int(m["workers"]) - 1) for m in memory[1:]]
    index_mb = folder_bytes(index_dir) / 2**20
    return {
        "index": {
            "chunks": index.counts["chunks"],
            "sentences": index.counts["sentences"],
            "documents": index.counts["documents"],
            "index_type": index.index_type,
            "disk_mb": round(index_mb),
            "faiss_mb": round((index_dir / "chunks.faiss").stat().st_size / 2**20),
        },
        "one_worker_small_index": small,
        "memory": memory,
        "extra_mb_per_worker": round(max(extra)),
        # What a worker holds of its own whatever the index: the model (in its own process) and the runtime.
        "worker_baseline_mb": small["pss_mb"],
        "target_mb_per_worker": round(int(small["pss_mb"]) + 0.1 * index_mb),
        **throughput_and_reloads(index_dir),
    }

