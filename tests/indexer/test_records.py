"""A served index reads its chunks and sentences from the index's file when asked, not all at load."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from eval.bench.workers import synthetic_index
from indexer.index_files import read_index
from service.answering.search_index import SearchIndex

# Reads the seed index, built with the model.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def large_index(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A thousand copies of the seed report's records: 3,000 chunks and 23,000 sentences."""
    return synthetic_index(read_index(seed_index, with_store=False), 3000, tmp_path_factory.mktemp("large") / "index")


def test_records_read_on_demand_are_the_records_written(seed_index: Path, large_index: Path) -> None:
    seed = read_index(seed_index)
    large = read_index(large_index)
    assert len(large.chunks) == 1000 * len(seed.chunks) and len(large.sentences) == 1000 * len(seed.sentences)
    copy = 417 * len(seed.sentences)
    for written, read in zip(seed.sentences, large.sentences[copy : copy + len(seed.sentences)], strict=True):
        assert (read.text, read.markers, read.terms, read.row) == (
            written.text,
            written.markers,
            written.terms,
            copy + written.row,
        )
    assert large.sentences[-1].text == seed.sentences[-1].text
    assert [s.row for s in large.sentences[10:0:-3]] == [10, 7, 4, 1]
    assert [c.chunk_id for c in large.chunks][:3] == [f"copy-00000/{c.chunk_id}" for c in seed.chunks]
    with pytest.raises(IndexError):
        large.chunks[len(large.chunks)]
    # A claim is judged with its terms, as the index was written: the same for every copy.
    index = SearchIndex(large)
    sentence = large.sentences[copy + 5]
    assert index.claim_terms.of(sentence.unit) == SearchIndex(seed).claim_terms.of(seed.sentences[5].unit)
    assert index.claim_terms.claims == 1000 * SearchIndex(seed).claim_terms.claims


def test_opening_a_large_index_does_not_load_its_records(large_index: Path) -> None:
    tracemalloc.start()
    try:
        index = SearchIndex(read_index(large_index))
        opened = tracemalloc.get_traced_memory()[0]
        records = [*index.chunks, *index.sentences]
        held = tracemalloc.get_traced_memory()[0] - opened
    finally:
        tracemalloc.stop()
    assert len(records) == 26_000
    # Opening costs a small part of what the records take as objects (each worker would pay that).
    assert opened < held / 4, (opened, held)
    # Searching reads the passages it returns.
    hits = index.search(np.asarray(index.data.chunk_vectors[1234]), 3)
    assert hits[0].chunk.row == 1234 and index.sentences_of(hits[0].chunk)
