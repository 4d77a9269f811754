"""The index on disk: manifest, FAISS index, vectors and SQLite metadata, read and written in one place."""

from __future__ import annotations

import json
import shlex
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import IndexFault
from indexer.lexical import LexicalIndex
from indexer.records import StoredRecords, connect
from indexer.store import FaissStore

# 2: documents carry company and period; the lexical index sits beside FAISS.
# 3: each claim's terms and each term's claim count are stored, so servers read records on demand.
# 4: each sentence's clauses have vectors of their own (``indexer/clauses.py``).
FORMAT_VERSION = 4
MANIFEST = "manifest.json"
FAISS_FILE = "chunks.faiss"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
CLAUSE_VECTORS = "clause_vectors.npy"
METADATA = "metadata.sqlite"
LEXICAL_DIR = "lexical"
# Everything a build writes: a folder holding anything else is not (only) an index.
INDEX_ENTRIES = frozenset(
    {MANIFEST, FAISS_FILE, CHUNK_VECTORS, SENTENCE_VECTORS, CLAUSE_VECTORS, METADATA, LEXICAL_DIR}
)


class IndexUnavailable(IndexFault):
    """The index cannot be served: missing, or one of the two below; the message says which."""


class IndexDamaged(IndexUnavailable):
    """The index's files do not read, or do not agree with each other: a build was cut short or a file edited."""


class IndexIncompatible(IndexUnavailable):
    """The index was written in another format version, or with another model, than this citeqa reads it with."""


@dataclass(frozen=True)
class DocumentRecord:
    """A document of the index: its id (its path in the corpus), title, content hash, and the metadata its passages were
    embedded with."""

    doc_id: str
    title: str
    content_hash: str
    company: str = ""
    period: str = ""
    # The title the corpus's metadata sidecar gives, which ``title`` then is; empty when it gives none.
    given_title: str = ""


@dataclass(frozen=True)
class ChunkRecord:
    """A passage that search finds: sentences ``[first_sentence, end_sentence)`` of its document, the markers they carry
    and the page it starts on; ``row`` is its vector's id."""

    row: int
    chunk_id: str
    doc_id: str
    text: str
    first_sentence: int
    end_sentence: int
    markers: tuple[str, ...]
    page: int | None


@dataclass(frozen=True)
class SentenceRecord:
    """A sentence as answers quote it: its claim's closing ``group`` and ``markers``, its ``kind``, its claim's number
    (``unit``), its page and its stemmed ``terms``."""

    row: int
    doc_id: str
    text: str
    group: str
    markers: tuple[str, ...]
    kind: str
    unit: int
    page: int | None
    terms: tuple[str, ...]


@dataclass
class Manifest:
    """``manifest.json``: the model, chunking and index type the index was built with, its documents and counts, and the
    files left out of it."""

    model: dict[str, Any]
    chunking: dict[str, Any]
    index_type: str
    documents: dict[str, dict[str, Any]]
    counts: dict[str, int]
    format_version: int = FORMAT_VERSION
    created_at: str = ""
    skipped: dict[str, str] = field(default_factory=dict)
    # doc_id -> the document with the same content indexed in its place
    duplicates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimTerms:
    """The terms of each claim (a sentence is judged with the claim it belongs to) and in how many claims
    each term is (how rare it is), worked out when the index is written."""

    by_claim: StoredRecords[frozenset[str]]
    frequency: dict[str, int]

    @property
    def claims(self) -> int:
        """Claims in the index, against which a term's count of claims says how rare it is."""
        return len(self.by_claim)

    def of(self, unit: int) -> frozenset[str]:
        """The terms of claim ``unit``; none for a claim of headings alone."""
        found = self.by_claim.get(unit)
        return found if found is not None else frozenset()


@dataclass
class IndexData:
    """An index as a build makes it (lists) or as read from disk (records read on demand)."""

    manifest: Manifest
    documents: list[DocumentRecord]
    chunks: Sequence[ChunkRecord]
    sentences: Sequence[SentenceRecord]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    store: FaissStore | None = None
    lexical: LexicalIndex | None = None
    claim_terms: ClaimTerms | None = None  # read from disk only
    # (sentences, CLAUSE_SLOTS, dimension): the vectors of each sentence's clauses, zero where it has none.
    clause_vectors: np.ndarray | None = None


def build_command(index_dir: Path, model: str | None = None) -> str:
    """The command that builds the index at ``index_dir`` (with ``model``): a bare `citeqa index` would
    build the default folder, not the one a message is about."""
    with_model = f" --model {shlex.quote(model)}" if model else ""
    return f"`citeqa index CORPUS --index-dir {shlex.quote(str(index_dir))}{with_model}`"


def read_manifest(index_dir: Path, named: Path | None = None) -> Manifest:
    """``named``: the index folder as the user gave it, for messages (``index_dir`` may be where it links)."""
    named = named or index_dir
    path = index_dir / MANIFEST
    if not path.is_file():
        if index_dir.is_dir() and any(index_dir.iterdir()):  # a folder of reports given for the index
            raise IndexUnavailable(
                f"no index at {named}: that folder holds other files; to index the reports in it: "
                f"`citeqa index {shlex.quote(str(named))} --index-dir .citeqa/index`"
            )
        raise IndexUnavailable(f"no index at {named}: build it with {build_command(named)}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**raw)
    except (ValueError, TypeError) as error:
        raise IndexDamaged(
            f"the manifest {path} is damaged ({error}): rebuild with {build_command(named)}"
        ) from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexIncompatible(
            f"the index at {named} has format {manifest.format_version}, this citeqa reads "
            f"format {FORMAT_VERSION}: rebuild it with {build_command(named)}"
        )
    return manifest


def check_model(manifest: Manifest, name: str, dimension: int, probe: list[float], index_dir: Path) -> None:
    """Refuse an index whose vectors another model made: its scores would be meaningless.

    Models are told apart by what they compute (dimension and a probe embedding), not by where
    they are stored, so the same weights under another path or name are accepted.
    """
    if not same_model(manifest, dimension, probe):
        built = manifest.model
        raise IndexIncompatible(
            f"the index was built with model {built.get('name')!r} (dimension {built.get('dimension')}), "
            f"but the service is configured with {name!r} (dimension {dimension}), which embeds text "
            f"differently: rebuild the index with {build_command(index_dir, name)}, or configure the model it "
            "was built with (CITEQA_MODEL)"
        )


def same_model(manifest: Manifest, dimension: int, probe: list[float]) -> bool:
    """Whether the index's vectors come from a model with this ``dimension`` and ``probe`` (each coordinate within
    0.002)."""
    built = manifest.model
    return built.get("dimension") == dimension and bool(np.allclose(built.get("probe", []), probe, atol=2e-3))


def read_index(index_dir: Path, with_store: bool = True) -> IndexData:
    """``with_store``: also load what searching needs (FAISS and the lexical index), not only records
    and vectors."""
    # Every file from one build: an index published meanwhile (the link replaced) must not mix in.
    build = index_dir.resolve()
    manifest = read_manifest(build, index_dir)
    try:
        documents, chunks, sentences, claim_terms = _read_metadata(build / METADATA)
        # Mapped read-only like FAISS (``FaissStore.load``): serving processes share them in the page cache.
        # Plain arrays over the mapping: np.memmap's Python-level indexing cost more per answer than the rows.
        chunk_vectors = np.load(build / CHUNK_VECTORS, mmap_mode="r").view(np.ndarray)
        sentence_vectors = np.load(build / SENTENCE_VECTORS, mmap_mode="r").view(np.ndarray)
        clause_vectors = np.load(build / CLAUSE_VECTORS, mmap_mode="r").view(np.ndarray)
        store = FaissStore.load(build / FAISS_FILE) if with_store else None
        lexical = LexicalIndex.load(build / LEXICAL_DIR) if with_store and chunks else None
    except (OSError, ValueError, EOFError, sqlite3.Error, RuntimeError) as error:
        raise IndexDamaged(
            f"the index at {index_dir} is damaged ({error}): rebuild with {build_command(index_dir)}"
        ) from None
    consistent = (
        len(chunk_vectors) == len(chunks)
        and len(sentence_vectors) == len(sentences)
        and len(clause_vectors) == len(sentences)
        and (store is None or store.size == len(chunks))
        and (lexical is None or lexical.sizes == (len(chunks), len(documents)))
        and manifest.counts.get("chunks") == len(chunks)
    )
    if not consistent:
        raise IndexDamaged(f"the index at {index_dir} is inconsistent: rebuild with {build_command(index_dir)}")
    return IndexData(
        manifest, documents, chunks, sentences, chunk_vectors, sentence_vectors, store, lexical, claim_terms,
        clause_vectors,
    )


def write_index(index_dir: Path, data: IndexData) -> None:
    """Write every file of ``data`` into an empty ``index_dir``; the manifest goes last."""
    assert data.store is not None
    data.store.save(index_dir / FAISS_FILE)
    if data.lexical is not None:
        data.lexical.save(index_dir / LEXICAL_DIR)
    np.save(index_dir / CHUNK_VECTORS, data.chunk_vectors)
    np.save(index_dir / SENTENCE_VECTORS, data.sentence_vectors)
    assert data.clause_vectors is not None
    np.save(index_dir / CLAUSE_VECTORS, data.clause_vectors)
    _write_metadata(index_dir / METADATA, data)
    (index_dir / MANIFEST).write_text(json.dumps(asdict(data.manifest), indent=2, ensure_ascii=False), "utf-8")


_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, content_hash TEXT NOT NULL,
    company TEXT NOT NULL, period TEXT NOT NULL, given_title TEXT NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
    text TEXT NOT NULL, first_sentence INTEGER NOT NULL, end_sentence INTEGER NOT NULL,
    markers TEXT NOT NULL, page INTEGER);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, text TEXT NOT NULL,
    grp TEXT NOT NULL, markers TEXT NOT NULL, kind TEXT NOT NULL, unit INTEGER NOT NULL,
    page INTEGER, terms TEXT NOT NULL);
CREATE TABLE claims (unit INTEGER PRIMARY KEY, terms TEXT NOT NULL);
CREATE TABLE vocabulary (term TEXT PRIMARY KEY, claims INTEGER NOT NULL) WITHOUT ROWID;
"""


def _write_metadata(path: Path, data: IndexData) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            [(d.doc_id, d.title, d.content_hash, d.company, d.period, d.given_title) for d in data.documents],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (c.row, c.chunk_id, c.doc_id, c.text, c.first_sentence, c.end_sentence, json.dumps(c.markers), c.page)
                for c in data.chunks
            ],
        )
        db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (s.row, s.doc_id, s.text, s.group, json.dumps(s.markers), s.kind, s.unit, s.page, " ".join(s.terms))
                for s in data.sentences
            ],
        )
        claims = _claim_terms(data.sentences)
        db.executemany("INSERT INTO claims VALUES (?, ?)", [(unit, " ".join(sorted(t))) for unit, t in claims.items()])
        frequency = Counter(term for terms in claims.values() for term in terms)
        db.executemany("INSERT INTO vocabulary VALUES (?, ?)", sorted(frequency.items()))
    db.close()


def _claim_terms(sentences: Sequence[SentenceRecord]) -> dict[int, set[str]]:
    """The terms of each claim's sentences, headings left out (they state no claim)."""
    terms: dict[int, set[str]] = defaultdict(set)
    for sentence in sentences:
        if sentence.kind != "heading":
            terms[sentence.unit].update(sentence.terms)
    return terms


def _read_metadata(
    path: Path,
) -> tuple[list[DocumentRecord], StoredRecords[ChunkRecord], StoredRecords[SentenceRecord], ClaimTerms]:
    """Documents and term counts in full; chunks and sentences, the bulk, as records read on demand."""
    if not path.is_file():
        raise OSError(f"{path.name} is missing")
    db = connect(path)
    try:
        # A file cut short (a full disk, a bad copy) is caught here, not by the first question reaching
        # the missing part.
        pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
        if pages != path.stat().st_size:
            raise sqlite3.DatabaseError(f"{path.name} holds {path.stat().st_size} bytes of {pages}")
        documents = [DocumentRecord(*row) for row in db.execute("SELECT * FROM documents ORDER BY rowid")]
        frequency = dict(db.execute("SELECT term, claims FROM vocabulary"))
    finally:
        db.close()
    chunks = StoredRecords(path, "chunks", _chunk_record)
    sentences = StoredRecords(path, "sentences", _sentence_record)
    claims = StoredRecords(path, "claims", lambda r: frozenset(r[1].split()), key="unit")
    return documents, chunks, sentences, ClaimTerms(claims, frequency)


def _chunk_record(r: tuple[Any, ...]) -> ChunkRecord:
    return ChunkRecord(r[0], r[1], r[2], r[3], r[4], r[5], tuple(json.loads(r[6])), r[7])


def _sentence_record(r: tuple[Any, ...]) -> SentenceRecord:
    return SentenceRecord(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), r[5], r[6], r[7], tuple(r[8].split()))
