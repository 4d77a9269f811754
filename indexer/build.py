"""Build or update the index of a corpus: parse, chunk, embed, store, publish atomically."""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from indexer.chunking import make_splitter
from indexer.claims import split_claims
from indexer.clauses import CLAUSE_SLOTS, clauses_of
from indexer.embedder import Embedder
from indexer.encoder import longest_first
from indexer.errors import ConfigurationError, InputError
from indexer.fingerprint import model_fingerprint, same_files
from indexer.index_files import (
    MANIFEST,
    ChunkRecord,
    DocumentRecord,
    IndexData,
    IndexUnavailable,
    Manifest,
    SentenceRecord,
    read_index,
    same_model,
    write_index,
)
from indexer.lexical import LexicalIndex
from indexer.loaders import (
    LoadedDocument,
    UnreadableDocument,
    content_hash,
    discover,
    doc_id_for,
    load_document,
    not_read,
)
from indexer.location import IndexLocation
from indexer.metadata import SIDECARS, DocumentMetadata, describe, metadata_for, read_sidecar
from indexer.store import FaissStore, IndexType, choose_index_type
from indexer.terms import content_terms

_EMBED_SLICE = 256
TOKEN_COUNT_CACHE = 8192
# Larger files are skipped with the reason: a report is a few MB at most, and a file read whole
# must fit in memory next to the index.
MAX_FILE_BYTES = 100 * 1024 * 1024


@dataclass
class IndexReport:
    """What a run did, for the summary printed at the end."""

    index_dir: Path
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded_documents: list[str] = field(default_factory=list)
    reused_documents: list[str] = field(default_factory=list)
    removed_documents: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    # doc_id -> the document with the same content that is indexed instead (the first by name)
    duplicates: dict[str, str] = field(default_factory=dict)
    # Files of types that are not read (pictures, Word files), named so none is passed over unseen.
    not_read: list[str] = field(default_factory=list)
    # doc_id -> what the PDF library said of a damaged file it still read
    warnings: dict[str, list[str]] = field(default_factory=dict)
    # doc_ids the metadata sidecar gives fields for that no file of the corpus has (a typo, a file moved)
    unknown_metadata: list[str] = field(default_factory=list)
    index_type: str = ""
    seconds: float = 0.0
    unchanged: bool = False
    # No report could be read, and the index built before was left as it was rather than emptied.
    kept: bool = False
    # No report could be read and none was indexed before: nothing was written (an empty index would
    # answer every question with an abstention that does not say why).
    nothing: bool = False


@dataclass
class _DocumentParts:
    record: DocumentRecord
    chunks: list[ChunkRecord]
    sentences: list[SentenceRecord]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    clause_vectors: np.ndarray  # (sentences, CLAUSE_SLOTS, dimension)


class Compute(Protocol):
    """Where a build's heavy steps run: this process (``LocalCompute``) or a Ray cluster
    (``indexer/ray_build.py``). Everything else, and so the index it writes, is the same either way."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (never empty), row for row."""
        ...

    def vector_store(self, vectors: np.ndarray, index_type: IndexType) -> FaissStore:
        """The vector index of the chunks' vectors (row numbers as ids)."""
        ...


class LocalCompute:
    """Embeds with the indexer's own model and builds the vector index in this process."""

    def __init__(self, embedder: Embedder, progress: bool = True) -> None:
        self.embedder = embedder
        self.progress = progress

    def embed(self, texts: list[str]) -> np.ndarray:
        """``Compute.embed`` in this process: the texts longest first, 256 to a model call."""
        # Longest first across the whole corpus, as one call to the model would batch them: slices of
        # texts in corpus order hold long and short texts together, and the short ones are padded.
        # Slices, not one call: Ctrl-C waits for the model thread to finish its current call.
        order = longest_first(texts)
        vectors = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not self.progress, leave=False) as bar:
            for start in range(0, len(texts), _EMBED_SLICE):
                rows = order[start : start + _EMBED_SLICE]
                vectors[rows] = self.embedder.embed_documents([texts[row] for row in rows])
                bar.update(len(rows))
        return vectors

    def vector_store(self, vectors: np.ndarray, index_type: IndexType) -> FaissStore:
        """``Compute.vector_store`` in this process (``FaissStore.build``)."""
        return FaissStore.build(vectors, index_type)


class Indexer:
    """Keeps its settings; ``run`` indexes a corpus folder into an index folder.

    Documents whose content hash and settings are unchanged since the last build are copied from it
    rather than embedded again, so re-running on an unchanged corpus costs only reading the files.

    ``compute``: where texts are embedded and the vector index filled (default: this process); the
    embedder here still counts tokens for chunking and identifies the model in the manifest.
    """

    def __init__(
        self,
        embedder: Embedder,
        chunk_size: int = 200,
        chunk_overlap: int = 40,
        index_type: IndexType = "auto",
        progress: bool = True,
        max_file_bytes: int = MAX_FILE_BYTES,
        compute: Compute | None = None,
    ) -> None:
        self.embedder = embedder
        self.compute = compute or LocalCompute(embedder, progress)
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.index_type = index_type
        self.progress = progress
        self.max_file_bytes = max_file_bytes
        # LangChain's merging measures most pieces of text several times over: each is counted once
        # (eval/bench/BENCHMARKS.md#token-counts-kept-while-chunking).
        self._count_tokens = functools.lru_cache(maxsize=TOKEN_COUNT_CACHE)(embedder.count_tokens)

    def warm_up(self) -> None:
        """Load the embedder's model now rather than when a build first needs it."""
        self.embedder.warm_up()

    @property
    def chunking(self) -> dict[str, object]:
        """How passages are cut and what is embedded with them, as the manifest records it: an index built with other
        settings is parsed and embedded anew, not reused."""
        return {
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "length": "model tokens",
            "embedded": "document name, company, period, title, chunk",
            # Raised when normalising splits text differently (2: inline headings split from their
            # sentence), so that documents indexed before are parsed again rather than reused as they were.
            "normalisation": 2,
        }

    def run(self, corpus_dir: Path, index_dir: Path) -> IndexReport:
        """Index the reports in ``corpus_dir`` into ``index_dir``, reusing what the last build embedded, and publish the
        new build in one step; the report says what was done.

        Nothing is written when nothing changed, and a corpus of which no report can be read leaves the index as it was.
        """
        if corpus_dir.is_file():
            raise InputError(f"{corpus_dir} is a file; give the corpus folder that holds the reports")
        if not corpus_dir.is_dir():
            raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
        location = IndexLocation(index_dir)
        location.check_replaceable()
        started = time.perf_counter()  # the model load included: the user waits for it too
        # The model loads only when something must be embedded, or to tell whether an index's vectors fit.
        if not (location.path / MANIFEST).is_file():
            self._load_model()
        report = IndexReport(index_dir=location.path)
        fresh_parent = not location.path.parent.exists()
        with location.lock():
            location.remove_stale_builds()
            existing = _readable(location.path)
            previous = self._reusable(existing)
            parts = self._collect(corpus_dir, previous, report)
            if not parts and (existing is None or not existing.documents):
                report.nothing, report.removed_documents = True, []
                data = existing
            elif existing is not None and existing.documents and not parts:
                # A corpus gone unreadable (a failed mount, a permissions change) must not empty the index,
                # whatever model or chunking built it.
                report.kept, report.removed_documents = True, []
                data = existing
            elif previous is not None and self._same_as(previous, parts, report):
                report.unchanged = True
                data = previous
            else:
                data = self._assemble(parts, report)
                build = location.new_build()
                write_index(build, data)
                location.publish(build)
        if data is None:
            location.forget(fresh_parent)
            report.seconds = time.perf_counter() - started
            return report
        report.documents = len(data.documents)
        report.chunks = len(data.chunks)
        report.sentences = len(data.sentences)
        report.index_type = data.manifest.index_type
        report.seconds = time.perf_counter() - started
        return report

    def _load_model(self) -> None:
        """Load the model (the embedder loads it once) and check the chunk size against what it reads."""
        self.warm_up()
        if self.chunk_size > self.embedder.text_tokens:
            raise ConfigurationError(
                f"chunks of {self.chunk_size} tokens are longer than the model reads ({self.embedder.text_tokens}): "
                f"the rest of each would never be found; give a chunk size of at most {self.embedder.text_tokens}"
            )

    def _model_info(self) -> dict[str, object]:
        self._load_model()
        embedder = self.embedder
        return {
            "name": embedder.model_name,
            "dimension": embedder.dimension,
            "probe": embedder.probe(),
            "precision": embedder.precision,
            "fingerprint": model_fingerprint(embedder.source),
        }

    def _reusable(self, previous: IndexData | None) -> IndexData | None:
        """The last build, when its vectors can be reused with the current model and chunking: the same
        model files, known without loading the model, or failing that the same probe embedding."""
        if previous is None:
            return None
        built = previous.manifest.model
        # Vectors of another precision would serve well enough, but one index holds one kind.
        if previous.manifest.chunking != self.chunking or built.get("precision", "float32") != self.embedder.precision:
            return None
        fingerprint = built.get("fingerprint")
        if same_files(fingerprint, model_fingerprint(self.embedder.source, fingerprint)):
            return previous
        self._load_model()
        return previous if same_model(previous.manifest, self.embedder.dimension, self.embedder.probe()) else None

    def _same_as(self, previous: IndexData, parts: list[_DocumentParts], report: IndexReport) -> bool:
        """Nothing to write: the same documents, index type and list of files left out."""
        manifest = previous.manifest
        return (
            [d.record for d in parts] == previous.documents
            and manifest.index_type == choose_index_type(sum(len(p.chunks) for p in parts), self.index_type)
            and (manifest.skipped, manifest.duplicates) == (report.skipped, report.duplicates)
        )

    def _collect(self, corpus_dir: Path, previous: IndexData | None, report: IndexReport) -> list[_DocumentParts]:
        reusable = _split_by_document(previous) if previous else {}
        sidecar = read_sidecar(corpus_dir)
        # Documents already indexed first: a copy added under another name must not take the place
        # (and the citations) of the report that has been served all along.
        paths = sorted(discover(corpus_dir), key=lambda path: doc_id_for(path, corpus_dir) not in reusable)
        report.not_read = [doc_id_for(path, corpus_dir) for path in not_read(corpus_dir, SIDECARS)]
        report.unknown_metadata = sorted(set(sidecar) - {doc_id_for(path, corpus_dir) for path in paths})
        fresh: list[tuple[DocumentRecord, list[SentenceRecord], list[ChunkRecord]]] = []
        parts: dict[str, _DocumentParts] = {}
        # Content hash -> the document indexed with it. The same report under a second name is indexed
        # once: twice, its passages would fill the results with the same text under two names.
        indexed: dict[str, str] = {}
        for path in tqdm(paths, desc="Reading", unit="doc", disable=not self.progress, leave=False):
            doc_id = doc_id_for(path, corpus_dir)
            try:
                data = self._read(path)
            except UnreadableDocument as error:
                report.skipped[doc_id] = str(error)
                continue
            digest = content_hash(data)
            if digest in indexed:
                report.duplicates[doc_id] = indexed[digest]
                continue
            metadata = metadata_for(doc_id, sidecar)
            old = reusable.get(doc_id)
            if old is not None and old.record.content_hash == digest and _described(old.record) == metadata:
                parts[doc_id] = old
                indexed[digest] = doc_id
                report.reused_documents.append(doc_id)
                continue
            try:
                document = load_document(path, corpus_dir, data)
            except UnreadableDocument as error:
                report.skipped[doc_id] = str(error)
                continue
            indexed[digest] = doc_id
            if document.warnings:
                report.warnings[doc_id] = list(document.warnings)
            self._load_model()  # parsing counts tokens with the model's tokenizer
            sentences, chunks = self._parse(document)
            fresh.append((_record(document, metadata), sentences, chunks))
            report.embedded_documents.append(doc_id)
        # Gone from the corpus, or still there but now skipped or a duplicate: either way out of the index.
        report.removed_documents = sorted(set(reusable) - set(parts) - {record.doc_id for record, _, _ in fresh})
        # Headings and table cells are never answers: their sentence vectors stay zero, unembedded.
        if not fresh:  # nothing to embed: the model need not be there
            return [parts[doc_id] for doc_id in sorted(parts)]
        sentences_to_embed = [s for _, sentences, _ in fresh for s in sentences if s.kind != "heading"]
        chunk_texts = [passage_text(record, c.text) for record, _, chunks in fresh for c in chunks]
        flat_rows = np.cumsum([0] + [len(s) for _, s, _ in fresh])
        embedded_rows = [
            flat_rows[i] + s.row for i, (_, sentences, _) in enumerate(fresh) for s in sentences if s.kind != "heading"
        ]
        clauses = [
            (row, slot, clause)
            for row, sentence in zip(embedded_rows, sentences_to_embed)
            for slot, clause in enumerate(clauses_of(sentence.text))
        ]
        texts = [s.text for s in sentences_to_embed] + [clause for _, _, clause in clauses] + chunk_texts
        dimension = self.embedder.dimension
        vectors = self.compute.embed(texts) if texts else np.zeros((0, dimension), np.float32)
        sentence_vectors = np.zeros((int(flat_rows[-1]), dimension), np.float32)
        sentence_vectors[embedded_rows] = vectors[: len(sentences_to_embed)]
        clause_vectors = np.zeros((int(flat_rows[-1]), CLAUSE_SLOTS, dimension), np.float32)
        after_sentences = len(sentences_to_embed) + len(clauses)
        if clauses:
            rows, slots, _ = zip(*clauses)
            clause_vectors[list(rows), list(slots)] = vectors[len(sentences_to_embed) : after_sentences]
        chunk_vectors = vectors[after_sentences:]
        chunk_offset = 0
        for i, (record, sentences, chunks) in enumerate(fresh):
            parts[record.doc_id] = _DocumentParts(
                record=record,
                chunks=chunks,
                sentences=sentences,
                sentence_vectors=sentence_vectors[flat_rows[i] : flat_rows[i + 1]],
                chunk_vectors=chunk_vectors[chunk_offset : chunk_offset + len(chunks)],
                clause_vectors=clause_vectors[flat_rows[i] : flat_rows[i + 1]],
            )
            chunk_offset += len(chunks)
        return [parts[doc_id] for doc_id in sorted(parts)]

    def _read(self, path: Path) -> bytes:
        """The file's bytes, or ``UnreadableDocument`` saying why not (never read when too large)."""
        try:
            if not path.is_file():
                broken = path.is_symlink() and not path.exists()
                raise UnreadableDocument("a broken symbolic link" if broken else "not a regular file")
            size = path.stat().st_size
            if size > self.max_file_bytes:
                raise UnreadableDocument(
                    f"too large ({_bytes(size)}, the limit is {_bytes(self.max_file_bytes)}: CITEQA_MAX_FILE_BYTES)"
                )
            return path.read_bytes()
        except OSError as error:
            raise UnreadableDocument(f"cannot be read ({error.strerror or error})") from None

    def _parse(self, document: LoadedDocument) -> tuple[list[SentenceRecord], list[ChunkRecord]]:
        """Sentences and chunks with rows local to the document (rebased when assembled)."""
        splitter = make_splitter(self.chunk_size, self.chunk_overlap, self._count_tokens)
        claims = splitter.fit(document.text, split_claims(document.text))
        sentences = [
            SentenceRecord(
                row=i,
                doc_id=document.doc_id,
                text=" ".join(s.text.split()),
                group=s.group,
                markers=s.markers,
                kind=s.kind,
                unit=s.unit,
                page=document.page_at(s.start),
                terms=tuple(content_terms(s.text)),
            )
            for i, s in enumerate(claims)
        ]
        chunks: list[ChunkRecord] = []
        for position, span in enumerate(splitter.split_sentences(document.text, claims)):
            markers: list[str] = []
            for sentence in sentences[span.first : span.last]:
                markers.extend(m for m in sentence.markers if m not in markers)
            chunks.append(
                ChunkRecord(
                    row=position,
                    chunk_id=f"{document.doc_id}#{position}",
                    doc_id=document.doc_id,
                    text=span.text,
                    first_sentence=span.first,
                    end_sentence=span.last,
                    markers=tuple(markers),
                    page=document.page_at(claims[span.first].start),
                )
            )
        return sentences, chunks

    def _assemble(self, parts: list[_DocumentParts], report: IndexReport) -> IndexData:
        self._load_model()  # a document removed, none embedded: the manifest still records the model
        chunks: list[ChunkRecord] = []
        sentences: list[SentenceRecord] = []
        units = 0
        for part in parts:
            base = len(sentences)
            sentences.extend(_rebased_sentence(sentence, base, units) for sentence in part.sentences)
            units += max((sentence.unit for sentence in part.sentences), default=-1) + 1
            chunk_base = len(chunks)
            chunks.extend(_rebased_chunk(chunk, chunk_base + i, base) for i, chunk in enumerate(part.chunks))
        dimension = self.embedder.dimension
        chunk_vectors = _stack([p.chunk_vectors for p in parts], dimension)
        sentence_vectors = _stack([p.sentence_vectors for p in parts], dimension)
        clause_vectors = (
            np.concatenate([p.clause_vectors for p in parts])
            if parts
            else np.zeros((0, CLAUSE_SLOTS, dimension), np.float32)
        )
        store = self.compute.vector_store(chunk_vectors, self.index_type)
        # Rebuilt whole from the chunk texts on every build: a small share of the time embedding takes.
        lexical = LexicalIndex.build([c.text for c in chunks], [_names(p.record) for p in parts])
        manifest = Manifest(
            model=self._model_info(),
            chunking=self.chunking,
            index_type=store.kind,
            documents={
                p.record.doc_id: {
                    "title": p.record.title,
                    "company": p.record.company,
                    "period": p.record.period,
                    "content_hash": p.record.content_hash,
                    "chunks": len(p.chunks),
                    "sentences": len(p.sentences),
                }
                for p in parts
            },
            counts={"documents": len(parts), "chunks": len(chunks), "sentences": len(sentences)},
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            skipped=dict(report.skipped),
            duplicates=dict(report.duplicates),
        )
        records = [p.record for p in parts]
        return IndexData(
            manifest, records, chunks, sentences, chunk_vectors, sentence_vectors, store, lexical,
            clause_vectors=clause_vectors,
        )


def _readable(index_dir: Path) -> IndexData | None:
    """The index at ``index_dir``, or None when there is none that can be read."""
    try:
        return read_index(index_dir, with_store=False)
    except IndexUnavailable:
        return None


def _bytes(count: int) -> str:
    """A file size as people read it: 950 bytes, 12.5 KiB, 50.0 MiB."""
    if count < 1024:
        return f"{count} bytes"
    return f"{count / 1024:.1f} KiB" if count < 2**20 else f"{count / 2**20:.1f} MiB"


def passage_text(record: DocumentRecord, text: str) -> str:
    """What is embedded for a chunk: the document's name, company, period and title first, so a
    question naming a company, a period or a report finds that document's chunks and not a look-alike's."""
    return f"{_names(record)}. {record.title}\n{text}"


def _names(record: DocumentRecord) -> str:
    return describe(record.doc_id, record.company, record.period)


def _record(document: LoadedDocument, metadata: DocumentMetadata) -> DocumentRecord:
    return DocumentRecord(
        document.doc_id,
        metadata.title or document.title,
        document.content_hash,
        metadata.company,
        metadata.period,
        metadata.title,
    )


def _described(record: DocumentRecord) -> DocumentMetadata:
    """The metadata a record was built with: when it changes, the document's passages are embedded anew."""
    return DocumentMetadata(record.company, record.period, record.given_title)


def _stack(arrays: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros((0, dimension), dtype=np.float32)


def _split_by_document(data: IndexData) -> dict[str, _DocumentParts]:
    """The previous build cut back into per-document parts with local rows, ready to be reused."""
    # Read whole, once: every record is reused or dropped.
    sentences, chunks = list(data.sentences), list(data.chunks)
    assert data.clause_vectors is not None  # read from disk, where every index has them
    sentence_rows: dict[str, list[int]] = defaultdict(list)
    chunk_rows: dict[str, list[int]] = defaultdict(list)
    for sentence in sentences:
        sentence_rows[sentence.doc_id].append(sentence.row)
    for chunk in chunks:
        chunk_rows[chunk.doc_id].append(chunk.row)
    parts: dict[str, _DocumentParts] = {}
    for record in data.documents:
        rows = sentence_rows[record.doc_id]
        base = rows[0] if rows else 0
        first_unit = sentences[base].unit if rows else 0
        parts[record.doc_id] = _DocumentParts(
            record=record,
            sentences=[_rebased_sentence(sentences[r], -base, -first_unit) for r in rows],
            chunks=[_rebased_chunk(chunks[r], i, -base) for i, r in enumerate(chunk_rows[record.doc_id])],
            sentence_vectors=data.sentence_vectors[rows],
            chunk_vectors=data.chunk_vectors[chunk_rows[record.doc_id]],
            clause_vectors=data.clause_vectors[rows],
        )
    return parts


def _rebased_sentence(sentence: SentenceRecord, row_shift: int, unit_shift: int) -> SentenceRecord:
    return replace(sentence, row=sentence.row + row_shift, unit=sentence.unit + unit_shift)


def _rebased_chunk(chunk: ChunkRecord, row: int, sentence_shift: int) -> ChunkRecord:
    return replace(
        chunk,
        row=row,
        first_sentence=chunk.first_sentence + sentence_shift,
        end_sentence=chunk.end_sentence + sentence_shift,
    )
