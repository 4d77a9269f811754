"""What a document is about beyond its text: company and period, from a sidecar file or its name.

A corpus folder may hold ``metadata.jsonl`` (one ``{"doc_id": ..., "company": ..., "period": ...,
"title": ...}`` a line) or ``metadata.json`` (``{doc_id: {"company": ..., ...}}``); every field is
optional. What it does not give is read from the file name: its words are split on ``_ - .`` and
spaces, the first word that is a period (a year, optionally with a quarter or half: ``2018``,
``2023Q2``, ``FY2022`` or ``FY22``, ``2021_Q3``) is the period, and the words before it are the company. A name
with no period gives neither (``meta-scale-ai-acquisition.txt``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from indexer.errors import InputError
from indexer.terms import full_year, lexical_terms

SIDECARS = ("metadata.jsonl", "metadata.json")
FIELDS = ("company", "period", "title")
_PERIOD = re.compile(r"^(?:FY((?:19|20)?\d{2})|((?:19|20)\d{2}))(?:[-_ ]?([QH][1-4]))?$", re.IGNORECASE)
_PART_OF_YEAR = re.compile(r"^[QH][1-4]$", re.IGNORECASE)
_NAME_SEPARATORS = re.compile(r"[\s_.\-]+")


class MetadataError(InputError):
    """The corpus's metadata sidecar does not parse; the message names the file and line, or the document."""


@dataclass(frozen=True)
class DocumentMetadata:
    """What is known of a document beyond its text: from the sidecar, or for company and period its file name; empty
    where neither says."""

    company: str = ""
    period: str = ""
    # A title the sidecar gives; otherwise the document's own (first line, HTML or PDF title) is used.
    title: str = ""


def period_key(text: str) -> str | None:
    """A period in one spelling ("FY2022" and "FY22" -> "2022", "2023-q2" -> "2023Q2"), None when it
    is none. A half (``H1``) is only a half when it is 1 or 2."""
    found = _PERIOD.match(text.strip())
    if not found or (found[3] and found[3][0].upper() == "H" and found[3][1] not in "12"):
        return None
    year = found[1] or found[2]
    return (full_year(year) if len(year) == 2 else year) + (found[3] or "").upper()


def company_key(text: str) -> str:
    """A company name for comparing: letters and digits only, lower case ("Best Buy" = "BESTBUY")."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def from_name(doc_id: str) -> DocumentMetadata:
    """Company and period read from the file name (see the module's docstring)."""
    words = [w for w in _NAME_SEPARATORS.split(PurePosixPath(doc_id).stem) if w]
    for position, word in enumerate(words):
        period = period_key(word)
        if period is None:
            continue
        company = words[:position]
        following = words[position + 1] if position + 1 < len(words) else ""
        if len(period) == 4 and _PART_OF_YEAR.match(following):
            period += following.upper()
        elif len(period) == 4 and company and _PART_OF_YEAR.match(company[-1]):
            period += company.pop().upper()
        return DocumentMetadata(company=" ".join(company), period=period)
    return DocumentMetadata()


def read_sidecar(corpus_dir: Path) -> dict[str, DocumentMetadata]:
    """The sidecar's metadata by doc_id (empty without one); ``MetadataError`` naming the line when it
    does not parse, so a mistake is not silently ignored."""
    entries: dict[str, dict[str, Any]] = {}
    jsonl, whole = (corpus_dir / name for name in SIDECARS)
    if jsonl.is_file():
        for number, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                record = _parse(line, f"{jsonl}:{number}")
                if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str):
                    raise MetadataError(f"{jsonl}:{number}: each line must be an object with a doc_id string")
                entries[record["doc_id"]] = record
    elif whole.is_file():
        records = _parse(whole.read_text(encoding="utf-8"), str(whole))
        if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
            raise MetadataError(f"{whole}: must be an object mapping each doc_id to an object of fields")
        entries = records
    return {doc_id: _metadata(record, doc_id, corpus_dir) for doc_id, record in entries.items()}


def metadata_for(doc_id: str, sidecar: dict[str, DocumentMetadata]) -> DocumentMetadata:
    """The sidecar's fields, the file name's where the sidecar gives none."""
    named = from_name(doc_id)
    given = sidecar.get(doc_id, DocumentMetadata())
    return DocumentMetadata(
        company=given.company or named.company, period=given.period or named.period, title=given.title
    )


def describe(doc_id: str, company: str, period: str) -> str:
    """The words naming a document, for embedding with each chunk and for lexical search: the file
    name's words, then the company and period where the name does not already hold them."""
    name = re.sub(r"[_\-.]+", " ", PurePosixPath(doc_id).with_suffix("").as_posix().replace("/", " / "))
    named = set(lexical_terms(name))
    extra = [value for value in (company, period) if value and not set(lexical_terms(value)) <= named]
    return " ".join([name, *extra])


def _parse(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MetadataError(f"{where}: not valid JSON ({error.msg})") from None


def _metadata(record: dict[str, Any], doc_id: str, corpus_dir: Path) -> DocumentMetadata:
    values = {field: record.get(field) or "" for field in FIELDS}
    for field, value in values.items():
        if not isinstance(value, str):
            raise MetadataError(f"metadata of {doc_id} in {corpus_dir}: {field} must be a string")
    period = values["period"]
    if period and period_key(period) is None:
        raise MetadataError(
            f"metadata of {doc_id} in {corpus_dir}: period {period!r} is not a year with an optional "
            "quarter or half (2023, FY2023, FY23, 2023Q2, 2023H1)"
        )
    return DocumentMetadata(
        company=" ".join(values["company"].split()),
        period=period_key(period) or "",
        title=" ".join(values["title"].split()),
    )
