"""Indexes of a test's own reports built without the model: a text's vector is its words, so two texts are
as similar as the words they share. For tests of what the answering does with similarities, which then
follow from the texts themselves rather than from a model's ranking, and run in the fast tier."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import numpy as np

from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.index_files import read_index
from indexer.terms import content_terms
from service.answering.search_index import Hit, SearchIndex


class WordVectors:
    """Stands in for ``Embedder`` where an index is built and a question embedded: each content word
    (stemmed) is a coordinate of its own."""

    model_name = "word-vectors"
    source = "word-vectors"
    precision = "float32"
    dimension = 1024
    text_tokens = 256

    def warm_up(self) -> None:
        """Nothing to load."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def probe(self) -> list[float]:
        return self.embed_query("probe").tolist()[:8]

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.stack([self.embed_query(text) for text in texts]) if texts else np.zeros((0, self.dimension))

    def embed_query(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for term in content_terms(text):
            vector[zlib.crc32(term.encode()) % self.dimension] += 1
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector


def word_index(documents: Mapping[str, str], folder: Path) -> SearchIndex:
    """An index of ``documents`` (file name: text) built in ``folder`` with word vectors, opened."""
    corpus = folder / "corpus"
    corpus.mkdir()
    for name, text in documents.items():
        (corpus / name).write_text(text, encoding="utf-8")
    Indexer(cast(Embedder, WordVectors()), progress=False).run(corpus, folder / "index")
    return SearchIndex(read_index(folder / "index"))


def every_passage(index: SearchIndex) -> list[Hit]:
    """Every chunk of ``index`` as retrieved, in index order: what is answered does not hang on a ranking."""
    return [Hit(chunk, index.titles[chunk.doc_id], 1.0) for chunk in index.chunks]
