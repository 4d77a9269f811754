"""The build benchmark's baseline encodes exactly what the indexer embedded, no more and no less."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from eval.bench.encode import embedded_texts
from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.index_files import read_index
from tests.support import CORPUS

# Indexes with the model.
pytestmark = pytest.mark.slow


class Recording(Embedder):
    """The session's model, noting every passage it is asked to embed."""

    def __init__(self, model: Embedder) -> None:
        super().__init__()
        self._encoder, self._info = model._encoder, model.info
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.texts += texts
        return super().embed_documents(texts, progress)


def test_the_raw_encode_baseline_gets_the_indexers_own_texts(embedder: Embedder, tmp_path: Path) -> None:
    recording = Recording(embedder)
    Indexer(recording, progress=False).run(CORPUS, tmp_path / "index")
    assert recording.texts
    assert Counter(embedded_texts(read_index(tmp_path / "index", with_store=False))) == Counter(recording.texts)
