"""A build on a two-node Ray cluster is the local build: the same chunks, vectors and search results, with
both nodes embedding; large IVF indexes filled in shards are the index one process fills."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.index_files import read_index
from indexer.ray_build import RAY_MISSING, RayCompute, fill_in_shards, local_cluster
from indexer.store import FaissStore, empty_index
from service.answering.search_index import SearchIndex
from service.cli.index import make_indexer
from service.config import Settings
from tests.support import CORPUS, ROOT, run_citeqa

# Starts a Ray cluster and builds indexes on it with the model.
pytestmark = pytest.mark.slow

# The corpus the repository carries, and two short reports beside it: several documents, and enough texts
# for several batches on each node, with nothing from beside the checkout. The module runs in about a
# minute on 2 cores.
OTHER_REPORTS = {
    "orbital-freight.txt": (
        "Orbital Freight Outlook\n\nOrbital Freight's cargo drone fleet grew to 340 aircraft by the end of the "
        "year, after the company opened two maintenance hubs in Nevada [1]. Its largest customer remains a "
        "grocery chain, which renewed its contract for three years [2].\n"
    ),
    "harbour-ledger.txt": (
        "Harbour Ledger Review\n\nHarbour Ledger processed its settlements through a new clearing partner in "
        "Rotterdam, cutting settlement times by a third [1]. Fees rose 4% while volumes were flat [2].\n"
    ),
}
GOLD = ROOT / "eval" / "gold.jsonl"
QUESTIONS = 12
BATCH = 8
OBJECT_STORE_BYTES = 80 * 2**20


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two Ray nodes of one CPU each on this machine, as two machines would be; this process connected."""
    with local_cluster(nodes=2, object_store_bytes=OBJECT_STORE_BYTES) as address:
        yield address


@pytest.fixture(scope="module")
def questions() -> list[str]:
    lines = GOLD.read_text(encoding="utf-8").splitlines()[:QUESTIONS]
    return [str(json.loads(line)["question"]) for line in lines] + [
        "How large is Orbital Freight's cargo drone fleet?",
        "Which clearing partner does Harbour Ledger use?",
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reports") / "corpus"
    shutil.copytree(CORPUS, folder)
    for name, text in OTHER_REPORTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def top5(index_dir: Path, embedder: Embedder, questions: list[str]) -> list[list[str]]:
    index = SearchIndex.open(index_dir, embedder)
    return [[hit.chunk.chunk_id for hit in index.search(embedder.embed_query(q), 5, query=q)] for q in questions]


def test_a_ray_build_is_the_local_build(
    cluster: str, corpus: Path, tmp_path: Path, embedder: Embedder, questions: list[str]
) -> None:
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    Indexer(embedder, progress=False).run(corpus, local_dir)
    # As `citeqa index --ray ADDRESS --ray-batch-size 8` makes it: small batches, so each node gets several.
    indexer = make_indexer(Settings(ray_address=cluster, ray_batch_size=BATCH), progress=False, embedder=embedder)
    assert isinstance(indexer.compute, RayCompute)
    indexer.run(corpus, ray_dir)
    local, remote = read_index(local_dir), read_index(ray_dir)
    assert [c.chunk_id for c in remote.chunks] == [c.chunk_id for c in local.chunks]
    assert [c.text for c in remote.chunks] == [c.text for c in local.chunks]
    assert np.allclose(remote.chunk_vectors, local.chunk_vectors, atol=1e-5)
    assert np.allclose(remote.sentence_vectors, local.sentence_vectors, atol=1e-5)
    assert local.clause_vectors is not None and remote.clause_vectors is not None
    assert np.allclose(remote.clause_vectors, local.clause_vectors, atol=1e-5)
    assert remote.manifest.model == local.manifest.model and remote.manifest.documents == local.manifest.documents
    assert top5(ray_dir, embedder, questions) == top5(local_dir, embedder, questions)
    # Both nodes embedded, and between them every text embedded locally.
    nodes = indexer.compute.texts_by_node
    clauses = int(local.clause_vectors.any(axis=2).sum())
    texts = int(local.sentence_vectors.any(axis=1).sum()) + clauses + len(local.chunks)
    assert len(nodes) == 2 and all(count > 0 for count in nodes.values()) and nodes.total() == texts

    # Unchanged corpus: nothing is embedded again, on the cluster or here.
    again = indexer.run(corpus, ray_dir)
    assert again.unchanged and not again.embedded_documents


def test_an_ivf_index_filled_in_shards_searches_as_one_filled_whole(cluster: str) -> None:
    vectors = unit_vectors(6000, seed=1)
    queries = unit_vectors(50, seed=2)
    empty = empty_index(vectors, "ivf")
    whole = faiss.clone_index(empty)
    whole.add(vectors)
    sharded = fill_in_shards(empty, vectors, shards=3)
    assert sharded.kind == "ivf" and sharded.size == len(vectors)
    expected_scores, expected_ids = FaissStore(whole).search(queries, 10)
    scores, ids = sharded.search(queries, 10)
    assert np.array_equal(ids, expected_ids) and np.array_equal(scores, expected_scores)


def test_past_the_threshold_a_ray_build_shards_the_index_and_finds_the_same(cluster: str) -> None:
    vectors = unit_vectors(3000, seed=3)
    queries = unit_vectors(50, seed=4)
    compute = RayCompute(cluster, None, "float32", "onnx", actors=0, batch_size=64, shard_vectors=1000, progress=False)
    sharded = compute.vector_store(vectors, "ivf")
    local = FaissStore.build(vectors, "ivf")
    assert sharded.size == local.size == len(vectors)
    assert np.array_equal(sharded.search(queries, 10)[1], local.search(queries, 10)[1])


def test_without_ray_the_option_says_how_to_install_it(tmp_path: Path) -> None:
    shadow = tmp_path / "no-ray" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    env = {**os.environ, "PYTHONPATH": str(shadow.parent)}
    result = run_citeqa("index", str(tmp_path), "--index-dir", str(tmp_path / "index"), "--ray", "auto", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == f"citeqa: {RAY_MISSING}"


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
