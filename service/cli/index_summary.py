"""What ``citeqa index`` says once done: what it indexed on stdout, what it left out and why on stderr."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.build import IndexReport

# Files of one type that is not read, named in the index summary before "and N more".
NOT_READ_SHOWN = 5


def print_summary(report: IndexReport, seconds: float, corpus_dir: Path, texts_by_node: Counter[str]) -> None:
    """``texts_by_node``: the texts each Ray node embedded (none for a build on this machine alone)."""
    if texts_by_node:
        texts, nodes = _count(texts_by_node.total(), "text"), _count(len(texts_by_node), "Ray node")
        shares = ", ".join(str(count) for _, count in texts_by_node.most_common())
        print(f"Embedded {texts} on {nodes} ({shares}).")
    held = f"{_count(report.documents, 'document')}, {_count(report.chunks, 'chunk')}"
    if report.unchanged:
        print(f"Index {report.index_dir} is up to date ({held}), {seconds:.1f}s.")
    elif not (report.kept or report.nothing):
        print(
            f"Indexed {_count(report.documents, 'document')} into {report.index_dir} in {seconds:.1f}s: "
            f"{_count(report.chunks, 'chunk')}, {_count(report.sentences, 'sentence')}, {report.index_type} index "
            f"({len(report.embedded_documents)} embedded, {len(report.reused_documents)} unchanged, "
            f"{len(report.removed_documents)} removed)."
        )
    for line in _left_out(report):
        print(f"  {line}", file=sys.stderr)
    if report.kept or report.nothing:
        if report.documents:
            outcome = f"the index {report.index_dir} is left as it was ({held})"
        elif report.index_type:
            outcome = f"the index {report.index_dir} is left as it was (empty)"
        else:
            outcome = "no index written"
        print(f"citeqa: no readable reports in {corpus_dir}: {outcome}", file=sys.stderr)


def _left_out(report: IndexReport) -> Iterator[str]:
    """The summary's list of files not indexed as they are, with the reason for each."""
    for doc_id, reason in sorted(report.skipped.items()):
        yield f"skipped {doc_id}: {reason}"
    for doc_id, original in sorted(report.duplicates.items()):
        yield f"duplicate {doc_id}: same content as {original}, indexed once (as {original})"
    by_type: dict[str, list[str]] = {}
    for doc_id in report.not_read:
        by_type.setdefault(PurePosixPath(doc_id).suffix.lower() or "no suffix", []).append(doc_id)
    for kind, doc_ids in sorted(by_type.items()):
        more = f" and {len(doc_ids) - NOT_READ_SHOWN} more" if len(doc_ids) > NOT_READ_SHOWN else ""
        yield f"not read (type {kind}): {', '.join(doc_ids[:NOT_READ_SHOWN])}{more}"
    for doc_id, said in sorted(report.warnings.items()):
        yield f"read with warnings {doc_id}: {'; '.join(said)}"
    for doc_id in report.unknown_metadata:
        yield f"metadata for {doc_id}: no such file in the corpus, so it gives nothing"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
