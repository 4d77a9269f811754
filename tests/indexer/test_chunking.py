from __future__ import annotations

import pytest

from indexer.chunking import make_splitter
from indexer.claims import split_claims
from indexer.markers import GROUP_RE
from indexer.normalise import normalise
from tests.support import CORPUS, SEED_DOC

CRAFTED = " ".join(
    f"Point {i} opens here. It goes on with detail number {i} for a while. It closes the claim [{i}][{i + 20}]."
    for i in range(1, 15)
) + " Unmarked closing remarks follow. " + "Filler words " * 80


@pytest.mark.parametrize("chunk_size", [60, 150, 400, 1000])
@pytest.mark.parametrize("source", ["seed", "crafted"])
def test_chunks_never_separate_a_group_from_its_claim(chunk_size: int, source: str) -> None:
    raw = (CORPUS / SEED_DOC).read_text(encoding="utf-8") if source == "seed" else CRAFTED
    text = normalise(raw)
    splitter = make_splitter(chunk_size, chunk_size // 4)
    sentences = splitter.fit(text, split_claims(text))
    chunks = splitter.split_sentences(text, sentences)
    assert chunks
    covered: set[int] = set()
    for chunk in chunks:
        members = sentences[chunk.first : chunk.last]
        covered.update(range(chunk.first, chunk.last))
        for sentence in members:
            if sentence.kind != "claim":
                continue
            claim = [s for s in sentences if s.unit == sentence.unit]
            # Every sentence of the claim is in the chunk, and so is the group that closes it.
            assert all(s in members for s in claim)
            if sentence.group:
                assert sentence.group in chunk.text
        # Chunk text keeps the markers verbatim.
        assert [g for s in members for g in GROUP_RE.findall(text[s.start : s.end])] == GROUP_RE.findall(chunk.text)
        if not any(s.kind == "claim" for s in members):
            assert len(chunk.text) <= chunk_size
    assert covered == set(range(len(sentences)))


def test_chunks_overlap_by_whole_claims() -> None:
    text = normalise(CRAFTED)
    splitter = make_splitter(300, 120)
    sentences = splitter.fit(text, split_claims(text))
    chunks = splitter.split_sentences(text, sentences)
    assert len(chunks) > 3
    assert any(later.first < earlier.last for earlier, later in zip(chunks, chunks[1:]))
