"""A build's heavy steps on a Ray cluster, for corpora one machine embeds too slowly.

The driver (the `citeqa index` process) reads and chunks the corpus, writes the index and publishes it,
exactly as a local build does (``indexer/build.py``): chunk ids come from the driver alone, whatever the
number of workers or the order they finish in. Ray Data embeds the texts with a pool of actors, each
loading the model once (the same ``Embedder`` and settings as a local build, so the vectors are the
same); past ``shard_vectors`` chunks the IVF index is trained once on the driver and filled in shards by
Ray tasks, which the driver merges.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import faiss
import numpy as np
from tqdm.auto import tqdm

from indexer.embedder import Embedder, Precision
from indexer.encoder import longest_first
from indexer.errors import ConfigurationError
from indexer.runtime import Runtime
from indexer.store import FaissStore, IndexType, choose_index_type, empty_index

RAY_MISSING = "--ray needs Ray, which is not installed: pip install 'citeqa[ray]'"
# Time every embedder actor has to load its model before the first batch is handed out.
ACTOR_START_SECONDS = 600


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the extra brings Ray Data's own dependencies, pyarrow and pandas)
    except ImportError:
        raise ConfigurationError(RAY_MISSING) from None
    return ray


class RayCompute:
    """Embeds texts and fills large vector indexes on the Ray cluster at ``address`` (``auto``: the running
    one this machine belongs to; ``local``: one started in this process; else ``host:port`` or
    ``ray://host:port``), connecting at first use. An already connected process uses its connection.

    ``model``, ``precision``, ``runtime``: the driver's ``Embedder`` settings, which every actor's takes.
    ``actors``: embedder actors of one CPU each (0: one per CPU of the cluster); ``batch_size``: texts an
    actor embeds a call; ``shard_vectors``: chunks past which the IVF index is filled in shards.
    ``texts_by_node`` counts, after ``embed``, the texts each Ray node embedded.
    """

    def __init__(
        self,
        address: str,
        model: str | None,
        precision: Precision,
        runtime: Runtime,
        actors: int,
        batch_size: int,
        shard_vectors: int,
        progress: bool = True,
    ) -> None:
        self._ray = import_ray()
        self.address = address
        self.model = model
        self.precision = precision
        self.runtime = runtime
        self.actors = actors
        self.batch_size = batch_size
        self.shard_vectors = shard_vectors
        self.progress = progress
        self.texts_by_node: Counter[str] = Counter()

    def _connect(self) -> None:
        if not self._ray.is_initialized():
            self._ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
        context = self._ray.data.DataContext.get_current()
        # The first actor to have its model would otherwise take every batch of a small corpus while the
        # others still load theirs.
        context.wait_for_min_actors_s = ACTOR_START_SECONDS
        # One "Embedding" bar, as a local build shows, rather than Ray Data's per-operator bars and the
        # lines it logs as a dataset starts and ends.
        context.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"

    def _workers(self) -> int:
        """Actors or shards to run at once: ``actors``, else one per CPU of the cluster."""
        return self.actors or max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def embed(self, texts: list[str]) -> np.ndarray:
        """``Compute.embed`` on the cluster: the texts longest first, in blocks of ``batch_size`` spread over the actor
        pool; ``texts_by_node`` counts anew who embedded what."""
        self.texts_by_node = Counter()
        self._connect()
        import pyarrow as pa

        # Longest first, as the local build batches them (indexer/build.py): a batch holds texts of like
        # length, so padding is as little and the vectors are the local build's.
        order = longest_first(texts)
        table = pa.table({"row": order, "text": [texts[row] for row in order]})
        blocks = [table.slice(start, self.batch_size) for start in range(0, len(texts), self.batch_size)]
        embedded = self._ray.data.from_arrow(blocks).map_batches(
            EmbedActor,
            fn_constructor_kwargs={"model": self.model, "precision": self.precision, "runtime": self.runtime},
            compute=self._ray.data.ActorPoolStrategy(size=min(self._workers(), len(blocks))),
            batch_size=self.batch_size,
            batch_format="numpy",
            num_cpus=1,
        )
        vectors: np.ndarray | None = None
        with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not self.progress, leave=False) as bar:
            for batch in embedded.iter_batches(batch_format="numpy", batch_size=None):
                if vectors is None:  # the model's dimension, as the actors found it
                    vectors = np.zeros((len(texts), batch["vector"].shape[1]), dtype=np.float32)
                vectors[batch["row"]] = batch["vector"]
                self.texts_by_node.update(batch["node"].tolist())
                bar.update(len(batch["row"]))
        assert vectors is not None
        return vectors

    def vector_store(self, vectors: np.ndarray, index_type: IndexType) -> FaissStore:
        """``Compute.vector_store``: built on the driver, unless it is an IVF index of at least ``shard_vectors``
        chunks, which Ray tasks fill in shards."""
        if choose_index_type(len(vectors), index_type) != "ivf" or len(vectors) < self.shard_vectors:
            return FaissStore.build(vectors, index_type)
        self._connect()
        return fill_in_shards(empty_index(vectors, index_type), vectors, self._workers())


class EmbedActor:
    """One model load per actor; each call embeds a batch of texts and says which node embedded them."""

    def __init__(self, model: str | None, precision: Precision, runtime: Runtime) -> None:
        import ray

        # One thread: the actor holds one CPU, and the pool runs one actor per CPU.
        self.embedder = Embedder(model, precision=precision, runtime=runtime, threads=1)
        self.embedder.warm_up()
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed_documents(batch["text"].tolist())
        return {"row": batch["row"], "vector": vectors, "node": np.full(len(vectors), self.node)}


@contextmanager
def local_cluster(nodes: int, object_store_bytes: int) -> Iterator[str]:
    """A Ray cluster of ``nodes`` nodes of one CPU each on this machine, with this process connected: the
    address a build is given. Each node is a raylet and object store of its own, so work and data cross
    between nodes as between machines (tests, benchmarks)."""
    from ray.cluster_utils import Cluster

    ray = import_ray()
    node_args: dict[str, Any] = {"num_cpus": 1, "object_store_memory": object_store_bytes}
    cluster = Cluster(initialize_head=True, head_node_args={**node_args, "include_dashboard": False})
    try:
        for _ in range(nodes - 1):
            cluster.add_node(**node_args)
        ray.init(address=cluster.address, logging_level=logging.WARNING, log_to_driver=False)
        yield cluster.address
    finally:
        ray.shutdown()
        cluster.shutdown()


def fill_in_shards(empty: faiss.Index, vectors: np.ndarray, shards: int) -> FaissStore:
    """``empty`` (trained) filled with ``vectors``: each Ray task adds a contiguous share of the rows to a
    copy of it, and the driver merges the copies in row order, so the index is the one a single process
    would fill (the same lists, the same ids)."""
    ray = import_ray()
    fill = ray.remote(num_cpus=1)(_filled)
    trained = ray.put(faiss.serialize_index(empty))
    pending = [fill.remote(trained, vectors[rows]) for rows in _row_ranges(len(vectors), shards)]
    return FaissStore.merged(empty, _arriving(ray, pending))


def _row_ranges(count: int, shards: int) -> Iterator[slice]:
    bounds = np.linspace(0, count, max(1, min(shards, count)) + 1).astype(int)
    return (slice(start, end) for start, end in zip(bounds[:-1], bounds[1:]))


def _arriving(ray: ModuleType, pending: list[Any]) -> Iterator[faiss.Index]:
    """The shards in row order, each fetched when it is merged: one shard in the driver's memory at a time."""
    for ref in pending:
        yield faiss.deserialize_index(ray.get(ref))


def _filled(trained: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    index = faiss.deserialize_index(trained)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return faiss.serialize_index(index)
