"""Vector search behind a small interface, with FAISS as the implementation.

The index type follows the corpus size, as txtai does: exact search while it is cheap, then an
inverted-file index with 8-bit scalar quantisation (IVF-SQ8). Exact search over a million 384-dimensional
vectors needs 1.5 GB and tens of milliseconds a query; IVF-SQ8 holds them in a quarter of that and
scans only the few lists nearest the query (figures in eval/bench/BENCHMARKS.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Protocol

import faiss
import numpy as np

IndexType = Literal["auto", "flat", "ivf"]
# Exact search over this many 384-dimensional vectors takes about a millisecond on two cores.
EXACT_SEARCH_LIMIT = 50_000
# Lists of about sqrt(n) * 4 vectors: enough lists that a query scans a small share of the corpus,
# few enough that the coarse quantiser stays cheap to train and to search.
_LISTS_PER_SQRT = 4
# k-means wants at least 39 training points a list; more adds build time and no recall.
_TRAIN_PER_LIST = 40
# Share of the lists a query scans, with a floor for small indexes: chosen by measured recall@10.
_PROBE_SHARE = 1 / 64
_MIN_PROBES = 16
_SEED = 1234
# How FAISS's files of flat indexes begin ("IxFI" inner product, "IxF2" L2); IVF ones begin "Iw".
_FLAT_TYPE_CODE = b"IxF"


class VectorStore(Protocol):
    """What the service needs from a vector index: so FAISS can be swapped for another engine."""

    @property
    def size(self) -> int:
        """Vectors held, one a chunk."""
        ...

    def search(
        self, queries: np.ndarray, k: int, rows: tuple[int, int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (len(queries), k), best first; ids are -1 where fewer than k exist.
        ``rows`` limits the search to ids in ``[start, end)``, or to the ids of an array."""
        ...

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (a build's ``chunks.faiss``), for serving processes to load."""
        ...


def choose_index_type(
    count: int, requested: IndexType = "auto", exact_limit: int = EXACT_SEARCH_LIMIT
) -> Literal["flat", "ivf"]:
    """The index type for ``count`` vectors: ``requested``, or for ``auto`` exact search up to ``exact_limit`` vectors
    and IVF beyond."""
    if requested != "auto":
        return requested
    return "flat" if count <= exact_limit else "ivf"


def ivf_lists(count: int) -> int:
    """Inverted lists of an IVF index of ``count`` vectors: about 4 × √count."""
    return max(1, int(_LISTS_PER_SQRT * math.sqrt(count)))


def ivf_probes(lists: int) -> int:
    """Lists a query scans: a 64th of ``lists``, at least 16 (and at most all)."""
    return min(lists, max(_MIN_PROBES, round(lists * _PROBE_SHARE)))


class FaissStore:
    """Inner-product search over unit vectors (cosine similarity); ids are row numbers."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = ivf_probes(index.nlist)

    @classmethod
    def build(
        cls, vectors: np.ndarray, index_type: IndexType = "auto", exact_limit: int = EXACT_SEARCH_LIMIT
    ) -> FaissStore:
        """An index holding ``vectors`` (row numbers as ids), of the type ``choose_index_type`` picks for their
        number."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = empty_index(vectors, index_type, exact_limit)
        index.add(vectors)
        return cls(index)

    @classmethod
    def merged(cls, empty: faiss.Index, shards: Iterable[faiss.Index]) -> FaissStore:
        """``empty`` filled with the shards' vectors in order, as if they had been added to it one after
        another: every shard was filled from a copy of ``empty``, so their inverted lists share its
        quantiser and move over as they are, ids renumbered to follow each other."""
        index = faiss.clone_index(empty)
        for shard in shards:
            index.merge_from(shard, index.ntotal)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FaissStore:
        """The index mapped from its file read-only, not read into memory: the processes serving one index
        share one copy in the page cache, and none of them can change it. FAISS maps the codes of a flat
        index with one flag and the inverted lists of an IVF index with another, and each fails on the
        other type, so the file's type code chooses."""
        with path.open("rb") as file:
            flat = file.read(len(_FLAT_TYPE_CODE)) == _FLAT_TYPE_CODE
        mapped = faiss.IO_FLAG_MMAP_IFC if flat else faiss.IO_FLAG_MMAP
        return cls(faiss.read_index(str(path), mapped | faiss.IO_FLAG_READ_ONLY))

    @property
    def size(self) -> int:
        """Vectors held."""
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """``flat`` or ``ivf``, as the manifest records it."""
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "flat"

    def search(
        self, queries: np.ndarray, k: int, rows: tuple[int, int] | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``VectorStore.search``, with ``k`` no more than the vectors held."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, max(self.size, 1))
        if rows is None:
            return self._index.search(queries, k)
        # FAISS skips the other ids while it searches, so a narrow range still yields k results.
        if isinstance(rows, tuple):
            selector: faiss.IDSelector = faiss.IDSelectorRange(*rows)
        else:
            ids = np.ascontiguousarray(rows, dtype=np.int64)
            selector = faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids))
        if isinstance(self._index, faiss.IndexIVF):
            ivf = faiss.SearchParametersIVF()
            ivf.nprobe = self._index.nprobe
            params: faiss.SearchParameters = ivf
        else:
            params = faiss.SearchParameters()
        params.sel = selector
        return self._index.search(queries, k, params=params)

    def serialized_bytes(self) -> int:
        """Size of the index as written to disk, which is also what it holds in memory."""
        return int(faiss.serialize_index(self._index).nbytes)

    def save(self, path: Path) -> None:
        """Write the index to ``path``, for ``load``."""
        faiss.write_index(self._index, str(path))


def empty_index(
    vectors: np.ndarray, index_type: IndexType = "auto", exact_limit: int = EXACT_SEARCH_LIMIT
) -> faiss.Index:
    """The index ``vectors`` get, holding none of them yet: trained on a sample of them when it is IVF.
    Trained once, it is filled here (``FaissStore.build``) or in shards on other machines."""
    dimension = vectors.shape[1]
    if choose_index_type(len(vectors), index_type, exact_limit) == "flat":
        return faiss.IndexFlatIP(dimension)
    lists = ivf_lists(len(vectors))
    quantiser = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(
        quantiser, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.train(_training_sample(np.ascontiguousarray(vectors, dtype=np.float32), lists * _TRAIN_PER_LIST))
    return index


def _training_sample(vectors: np.ndarray, count: int) -> np.ndarray:
    """A seeded random sample: k-means on all of a large corpus costs minutes and gains nothing."""
    if len(vectors) <= count:
        return vectors
    rows = np.sort(np.random.default_rng(_SEED).choice(len(vectors), count, replace=False))
    return vectors[rows]
