"""Read report files (.txt, .md, .html, .pdf) into normalised text with page offsets."""

from __future__ import annotations

import bisect
import codecs
import hashlib
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import InputError
from indexer.normalise import normalise

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf"})
_TITLE_MIN_CHARS = 12
_TITLE_MAX_CHARS = 160


class UnreadableDocument(InputError):
    """A corpus file that cannot be turned into text; the message says why."""


@dataclass(frozen=True)
class LoadedDocument:
    """A corpus file read into normalised text, with what the index keeps of it."""

    doc_id: str
    title: str
    text: str
    content_hash: str
    # Offset in ``text`` where each page starts; empty for formats without pages.
    page_starts: tuple[int, ...] = ()
    # What the PDF library said of a damaged file it still read ("invalid pdf header"), for the summary.
    warnings: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """1-based page number of the character at ``offset``."""
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)


def discover(corpus_dir: Path) -> Iterator[Path]:
    """Files of supported formats under ``corpus_dir`` in a stable order, hidden files and folders left
    out. Entries named like reports that are no regular files (a broken link, a pipe) are yielded too,
    so that reading them reports why they are skipped instead of dropping them unseen."""
    for path in sorted(corpus_dir.rglob("*")):
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES and not path.is_dir():
            yield path


def not_read(corpus_dir: Path, sidecars: tuple[str, ...] = ()) -> Iterator[Path]:
    """Files ``discover`` passes over for their type (a picture, a Word file), to be named, not dropped
    unseen; hidden ones and the metadata ``sidecars`` at the top are left out, as they are meant to be."""
    for path in sorted(corpus_dir.rglob("*")):
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts) or relative.as_posix() in sidecars:
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES and path.is_file():
            yield path


def doc_id_for(path: Path, corpus_dir: Path) -> str:
    """A document's id: its path under ``corpus_dir``, with forward slashes."""
    return path.relative_to(corpus_dir).as_posix()


def content_hash(data: bytes) -> str:
    """SHA-256 of a file's bytes, in hex: an unchanged file is reused, and a second copy of one is indexed once."""
    return hashlib.sha256(data).hexdigest()


def load_document(path: Path, corpus_dir: Path, data: bytes | None = None) -> LoadedDocument:
    """Raise ``UnreadableDocument`` with a reason for a file that yields no text."""
    if data is None:
        data = path.read_bytes()
    suffix = path.suffix.lower()
    said: list[str] = []
    if suffix == ".pdf":
        with _library_warnings() as said:
            pages, title = _read_pdf(data)
    elif suffix in {".html", ".htm"}:
        text, title = _read_html(data)
        pages = [text]
    else:
        raw = _decode(data)
        text = _strip_markdown(raw) if suffix in {".md", ".markdown"} else raw
        pages, title = [text], None
    normalised = [normalise(page) for page in pages]
    page_starts: list[int] = []
    offset = 0
    for page in normalised:
        page_starts.append(offset)
        offset += len(page) + 2
    text = "\n\n".join(normalised)
    if not text.strip():
        raise UnreadableDocument("no text could be extracted")
    return LoadedDocument(
        doc_id=doc_id_for(path, corpus_dir),
        title=title or _title_from_text(text) or path.stem,
        text=text,
        content_hash=content_hash(data),
        page_starts=tuple(page_starts) if suffix == ".pdf" else (),
        warnings=tuple(dict.fromkeys(said)),
    )


@contextmanager
def _library_warnings() -> Iterator[list[str]]:
    """Collect what pypdf logs or warns while reading one file: printed as it comes, it lands above the
    progress bar and the summary, without saying which file it is about."""
    said: list[str] = []

    class Keep(logging.Handler):
        """Keeps the messages pypdf logs, for the summary, rather than printing them."""

        def emit(self, record: logging.LogRecord) -> None:
            """Keep the record's message."""
            said.append(record.getMessage())

    logger, keep = logging.getLogger("pypdf"), Keep(logging.WARNING)
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(keep)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield said
        said.extend(str(warning.message) for warning in caught)
    finally:
        logger.removeHandler(keep)
        logger.propagate = propagate


def _decode(data: bytes) -> str:
    """UTF-8, or UTF-16 when a byte order mark says so (Windows editors save "Unicode" text that way)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UnreadableDocument(f"not valid UTF-16 text (byte {error.start})") from None
        if "\x00" in text:
            raise UnreadableDocument("binary data, not text (a NUL character)")
        return text
    # NUL never occurs in text; it is valid UTF-8 though, so binary data would otherwise pass as text.
    if b"\x00" in data:
        raise UnreadableDocument(f"binary data, not text (a NUL byte at {data.index(0)})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableDocument(f"not valid UTF-8 text (byte {error.start})") from None


def _title_from_text(text: str) -> str | None:
    for line in text.splitlines():
        line = line.strip().lstrip("-• ").strip()
        if len(line) >= _TITLE_MIN_CHARS:
            return line[:_TITLE_MAX_CHARS]
    return None


def _strip_markdown(text: str) -> str:
    text = re.sub(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", r"\n\1\n", text, flags=re.MULTILINE)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)


_BLOCK_TAGS = (
    "p div section article header footer main aside nav h1 h2 h3 h4 h5 h6 ul ol li table tr "
    "blockquote pre figure figcaption dl dt dd hr"
).split()


def _read_html(data: bytes) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    title_tag = soup.find("title") or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    for tag in soup(["script", "style", "noscript", "template", "head", "svg"]):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.insert_after(" ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n- " if tag.name == "li" else "\n\n")
        tag.insert_after("\n\n")
    return soup.get_text(), title or None


def _read_pdf(data: bytes) -> tuple[list[str], str | None]:
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        raise UnreadableDocument(f"not a readable PDF ({error})") from None
    if not any(page.strip() for page in pages):
        raise UnreadableDocument("the PDF has no text layer (scanned pages need OCR first)")
    return pages, title or None
