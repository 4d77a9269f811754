"""Gold question sets in the formats people keep them in, read into one shape and written back out.

- ``citeqa``: our JSON lines (see ``eval/README.md``): question, reference with markers, facts,
  gold markers, evidence quotes, answerable.
- ``ragas``: JSON lines with ``user_input``, ``reference``, ``reference_contexts``.
- ``beir``: a folder with ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/test.tsv``.
- ``financebench``: FinanceBench's ``question``, ``answer``, ``evidence`` (one page a file); pages
  are the relevance unit, so evidence carries no quote.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from indexer.errors import InputError
from indexer.markers import markers_in

# The FinanceBench sample beside the checkout (``CITEQA_FINANCEBENCH_DIR`` elsewhere, or a path where
# nothing is, to run as a fresh clone does): benchmarks and the tests that need it skip without it.
FINANCEBENCH_DIR = Path(
    os.environ.get("CITEQA_FINANCEBENCH_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "financebench")
)

Format = Literal["citeqa", "ragas", "beir", "financebench"]
FORMATS: tuple[Format, ...] = ("citeqa", "ragas", "beir", "financebench")


class GoldFormatError(InputError):
    """A gold file that does not parse; the message names the file, line and field."""


@dataclass(frozen=True)
class Evidence:
    """Where a gold answer is found: a document and, where given, a verbatim quote from it."""

    doc_id: str
    quote: str | None = None


@dataclass(frozen=True)
class GoldItem:
    """One gold question, in the shape every format is read into; the fields are the gold file's (eval/README.md)."""

    id: str
    question: str
    answerable: bool = True
    reference: str = ""
    facts: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    kind: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


Half = Literal["fit", "held-out"]


def in_fitting_half(item: GoldItem) -> bool:
    """Whether thresholds are fitted on ``item`` (``fitting_id``)."""
    return fitting_id(item.id)


def fitting_id(identifier: str) -> bool:
    """Gold sets are split by the number ending each id: thresholds are fitted on the odd-numbered
    questions and reported on the even-numbered ones, which fitting never sees."""
    digits = re.search(r"(\d+)\D*$", identifier)
    return bool(digits and int(digits[1]) % 2)


def split_half(items: list[GoldItem], half: Half) -> list[GoldItem]:
    """The questions of ``half``: ``fit`` the odd-numbered, ``held-out`` the others."""
    return [item for item in items if in_fitting_half(item) == (half == "fit")]


def detect_format(path: Path) -> Format:
    """The format of a gold file, told by its first record (a folder is BEIR), for when none is given."""
    if path.is_dir():
        return "beir"
    first = _first_record(path)
    if "user_input" in first:
        return "ragas"
    if "doc_name" in first or ("answer" in first and "reference" not in first):
        return "financebench"
    return "citeqa"


def load_gold(path: Path, format: Format | None = None) -> list[GoldItem]:
    """The questions of a gold file (a folder for BEIR), in ``format`` or the one detected; ``GoldFormatError`` when it
    does not parse, is empty or repeats an id."""
    if not path.exists():
        raise GoldFormatError(f"{path} does not exist")
    format = format or detect_format(path)
    items = {"citeqa": _load_citeqa, "ragas": _load_ragas, "beir": _load_beir, "financebench": _load_financebench}[
        format
    ](path)
    if not items:
        raise GoldFormatError(f"{path} holds no questions")
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise GoldFormatError(f"{path}: question ids are not unique")
    return items


def save_gold(items: list[GoldItem], path: Path, format: Format) -> None:
    """Write ``items`` to ``path`` in ``format`` (a folder for BEIR); FinanceBench is read, never written."""
    if format == "beir":
        _save_beir(items, path)
        return
    if format == "financebench":
        raise GoldFormatError("writing FinanceBench files is not supported: convert to citeqa, ragas or beir")
    rows = [_citeqa_row(item) if format == "citeqa" else _ragas_row(item) for item in items]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise GoldFormatError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise GoldFormatError(f"{path}:{number}: each line must be a JSON object")
        records.append((number, record))
    return records


def _first_record(path: Path) -> dict[str, Any]:
    records = _records(path)
    return records[0][1] if records else {}


def _require(record: dict[str, Any], key: str, where: str) -> Any:
    if key not in record:
        raise GoldFormatError(f"{where}: missing field {key!r}")
    return record[key]


def _load_citeqa(path: Path) -> list[GoldItem]:
    items = []
    for number, record in _records(path):
        where = f"{path}:{number}"
        items.append(
            GoldItem(
                id=str(record.get("id", f"q{number}")),
                question=str(_require(record, "question", where)),
                answerable=bool(record.get("answerable", True)),
                reference=str(record.get("reference", "")),
                facts=tuple(record.get("facts", ())),
                markers=tuple(record.get("markers", ())),
                evidence=tuple(Evidence(e["doc_id"], e.get("quote")) for e in record.get("evidence", ())),
                kind=str(record.get("kind", "")),
            )
        )
    return items


def _citeqa_row(item: GoldItem) -> dict[str, Any]:
    row = asdict(item)
    row.pop("extra")
    row["evidence"] = [{k: v for k, v in asdict(e).items() if v is not None} for e in item.evidence]
    return row


# RAGAS keeps no ids or markers: markers are read back from the reference, and an empty reference
# context list marks a question the corpus does not answer.
def _load_ragas(path: Path) -> list[GoldItem]:
    items = []
    for number, record in _records(path):
        where = f"{path}:{number}"
        reference = str(record.get("reference", ""))
        contexts = [str(c) for c in record.get("reference_contexts", [])]
        doc_ids = record.get("reference_context_ids") or [""] * len(contexts)
        items.append(
            GoldItem(
                id=str(record.get("id", f"q{number}")),
                question=str(_require(record, "user_input", where)),
                answerable=bool(record.get("answerable", bool(contexts))),
                reference=reference,
                markers=tuple(markers_in(reference)),
                evidence=tuple(Evidence(doc_id, quote) for doc_id, quote in zip(doc_ids, contexts)),
            )
        )
    return items


def _ragas_row(item: GoldItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "user_input": item.question,
        "reference": item.reference,
        "reference_contexts": [e.quote or "" for e in item.evidence],
        "reference_context_ids": [e.doc_id for e in item.evidence],
        "answerable": item.answerable,
    }


def _load_beir(folder: Path) -> list[GoldItem]:
    queries_path, qrels_path = folder / "queries.jsonl", folder / "qrels" / "test.tsv"
    for required in (queries_path, qrels_path):
        if not required.is_file():
            raise GoldFormatError(f"{folder} is not a BEIR folder: {required.relative_to(folder)} is missing")
    relevant: dict[str, list[str]] = {}
    with qrels_path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row.get("score", 1)) > 0:
                relevant.setdefault(row["query-id"], []).append(row["corpus-id"])
    items = []
    for number, record in _records(queries_path):
        query_id = str(_require(record, "_id", f"{queries_path}:{number}"))
        doc_ids = relevant.get(query_id, [])
        items.append(
            GoldItem(
                id=query_id,
                question=str(_require(record, "text", f"{queries_path}:{number}")),
                answerable=bool(doc_ids),
                evidence=tuple(Evidence(doc_id) for doc_id in doc_ids),
            )
        )
    return items


def _save_beir(items: list[GoldItem], folder: Path) -> None:
    """Queries and page-level qrels; ``corpus.jsonl`` lists the evidence documents with their quotes."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    corpus: dict[str, str] = {}
    for item in items:
        for evidence in item.evidence:
            corpus.setdefault(evidence.doc_id, evidence.quote or "")
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d, "title": "", "text": t}, ensure_ascii=False) + "\n" for d, t in corpus.items()),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i.id, "text": i.question}, ensure_ascii=False) + "\n" for i in items),
        encoding="utf-8",
    )
    with (folder / "qrels" / "test.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for item in items:
            for doc_id in dict.fromkeys(e.doc_id for e in item.evidence):
                writer.writerow([item.id, doc_id, 1])


def _load_financebench(path: Path) -> list[GoldItem]:
    items = []
    for number, record in _records(path):
        where = f"{path}:{number}"
        evidence = _require(record, "evidence", where)
        items.append(
            GoldItem(
                id=str(record.get("id", f"q{number}")),
                question=str(_require(record, "question", where)),
                reference=str(record.get("answer", "")),
                evidence=tuple(Evidence(e["doc_id"]) for e in evidence),
                kind=str(record.get("question_type", "")),
            )
        )
    return items
