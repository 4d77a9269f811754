"""Vector search behind a small interface, with FAISS as the implementation.

The index type follows the corpus size, as txtai does: exact search while it is cheap, a graph
index (HNSW) once exact search would cost more than a few milliseconds per query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import faiss
import numpy as np

IndexType = Literal["auto", "flat", "hnsw"]
# Exact search over this many 384-dimensional vectors takes about a millisecond on two cores.
EXACT_SEARCH_LIMIT = 50_000
_HNSW_NEIGHBOURS = 32
_HNSW_EF_CONSTRUCTION = 80
_HNSW_EF_SEARCH = 96


class VectorStore(Protocol):
    """What the service needs from a vector index: so FAISS can be swapped for another engine."""

    @property
    def size(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (len(queries), k), best first; ids are -1 where fewer than k exist."""
        ...

    def save(self, path: Path) -> None: ...


def choose_index_type(count: int, requested: IndexType = "auto") -> Literal["flat", "hnsw"]:
    if requested != "auto":
        return requested
    return "flat" if count <= EXACT_SEARCH_LIMIT else "hnsw"


class FaissStore:
    """Inner-product search over unit vectors (cosine similarity); ids are row numbers."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = _HNSW_EF_SEARCH

    @classmethod
    def build(cls, vectors: np.ndarray, index_type: IndexType = "auto") -> FaissStore:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        if choose_index_type(len(vectors), index_type) == "flat":
            index: faiss.Index = faiss.IndexFlatIP(dimension)
        else:
            index = faiss.IndexHNSWFlat(dimension, _HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
        index.add(vectors)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FaissStore:
        return cls(faiss.read_index(str(path)))

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores, ids = self._index.search(queries, min(k, max(self.size, 1)))
        return scores, ids

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))
