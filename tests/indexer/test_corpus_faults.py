"""A corpus as found in the wild: every file that cannot be indexed is listed with its reason, a
duplicate is indexed once, and the run still indexes the rest."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fpdf import FPDF

from indexer.index_files import read_index
from tests.support import CORPUS, ROOT, SEED_DOC, run_citeqa

# Runs `citeqa index` as a user does, in a process of its own.
pytestmark = pytest.mark.slow

LIMIT = 10 * 2**20


def scanned_pdf() -> bytes:
    """A page with a picture and no text layer, as a scanner makes it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(90, 90, 90)
    pdf.rect(20, 20, 120, 160, style="F")
    return bytes(pdf.output())


def test_faulty_files_are_reported_with_reasons_and_the_rest_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "2024.q1.md").mkdir(parents=True)  # a folder named like a report: its files are read
    shutil.copy(CORPUS / SEED_DOC, corpus / SEED_DOC)
    shutil.copy(CORPUS / SEED_DOC, corpus / "the-same-report-again.txt")
    (corpus / "2024.q1.md" / "chips.md").write_text("# Chips\n\nMemory prices rose 8% in the quarter [1].\n", "utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(os.urandom(2048).replace(b"\x00", b"\x01") + b"\x00\x00")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me prices rose [1].".encode("latin-1"))
    (corpus / "scanned.pdf").write_bytes(scanned_pdf())
    with open(corpus / "huge.txt", "wb") as huge:  # 50 MB, sparse: nothing is written but the size
        huge.truncate(50 * 2**20)
    (corpus / "moved-away.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(corpus / "pipe.md")  # reading it would wait forever

    started = time.monotonic()
    result = run_citeqa(
        "index",
        str(corpus),
        "--index-dir",
        str(tmp_path / "index"),
        "--quiet",
        env={**os.environ, "CITEQA_MAX_FILE_BYTES": str(LIMIT)},
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 120
    report = {line.split(":")[0].strip(): line for line in result.stderr.splitlines() if line.startswith("  ")}
    expected = {
        "skipped empty.txt": "no text could be extracted",
        "skipped binary.txt": "binary data, not text",
        "skipped latin1.txt": "not valid UTF-8",
        "skipped scanned.pdf": "no text layer",
        "skipped huge.txt": "too large (50.0 MiB, the limit is 10.0 MiB",
        "skipped moved-away.txt": "a broken symbolic link",
        "skipped pipe.md": "not a regular file",
        "duplicate the-same-report-again.txt": f"same content as {SEED_DOC}, indexed once",
    }
    assert set(report) == set(expected), result.stderr
    for key, reason in expected.items():
        assert reason in report[key], report[key]
    assert "Indexed 2 documents" in result.stdout
    index = read_index(tmp_path / "index")
    assert [d.doc_id for d in index.documents] == ["2024.q1.md/chips.md", SEED_DOC]
    # The index keeps the list too: what is not served can be told later, not only at build time.
    assert index.manifest.duplicates == {"the-same-report-again.txt": SEED_DOC}
    assert set(index.manifest.skipped) == {
        key.removeprefix("skipped ") for key in expected if key.startswith("skipped")
    }


def test_a_duplicate_added_later_is_recorded_without_re_embedding(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SEED_DOC, corpus / SEED_DOC)
    assert run_citeqa("index", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet").returncode == 0
    shutil.copy(CORPUS / SEED_DOC, corpus / "copy.txt")
    again = run_citeqa("index", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet")
    assert again.returncode == 0, again.stderr
    assert f"duplicate copy.txt: same content as {SEED_DOC}" in again.stderr
    assert "(0 embedded, 1 unchanged, 0 removed)" in again.stdout
    assert read_index(tmp_path / "index").manifest.duplicates == {"copy.txt": SEED_DOC}


def test_a_corpus_gone_unreadable_leaves_the_index_as_it_was(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SEED_DOC, corpus / SEED_DOC)
    assert run_citeqa("index", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet").returncode == 0
    before = (tmp_path / "index").resolve()
    # Every file refused (here: over a tiny size limit), as after a failed mount or a permissions change.
    again = run_citeqa(
        "index",
        str(corpus),
        "--index-dir",
        str(tmp_path / "index"),
        "--quiet",
        env={**os.environ, "CITEQA_MAX_FILE_BYTES": "10"},
    )
    assert again.returncode == 1 and again.stdout == ""
    assert f"skipped {SEED_DOC}: too large" in again.stderr
    assert again.stderr.splitlines()[-1] == (
        f"citeqa: no readable reports in {corpus}: the index {tmp_path / 'index'} is left as it was (1 document, "
        f"{len(read_index(tmp_path / 'index').chunks)} chunks)"
    )
    assert (tmp_path / "index").resolve() == before
    # Also when the index was built with other settings, so none of it could be reused.
    rechunked = run_citeqa(
        "index", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet", "--chunk-size", "150",
        env={**os.environ, "CITEQA_MAX_FILE_BYTES": "10"},
    )
    assert rechunked.returncode == 1 and "is left as it was (1 document" in rechunked.stderr
    assert (tmp_path / "index").resolve() == before
    assert [d.doc_id for d in read_index(tmp_path / "index").documents] == [SEED_DOC]


def test_a_corpus_of_unreadable_files_publishes_no_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.txt").write_bytes(os.urandom(2048).replace(b"\x00", b"\x01") + b"\x00\x00")
    result = run_citeqa("index", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet")
    assert result.returncode == 1
    assert result.stdout == "", "nothing says it indexed anything"
    assert result.stderr.splitlines() == [
        "  skipped report.txt: binary data, not text (a NUL byte at 2048)",
        f"citeqa: no readable reports in {corpus}: no index written",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corpus"], "no index, lock or build folder"
    ask = run_citeqa("ask", "Anything?", "--index-dir", str(tmp_path / "index"))
    assert ask.returncode == 2 and "no index at" in ask.stderr


def test_the_summary_is_one_clean_report_of_what_was_read_and_what_was_not(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Memory prices rose 8% in the quarter [1]. Demand stayed strong in the second half [2].")
    # Junk before the header, as some exporters write it: pypdf reads the file, complaining as it goes.
    (corpus / "chips.pdf").write_bytes(b"\n\n" + bytes(pdf.output()))
    (corpus / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04" + bytes(40))
    # The second line names a file the corpus does not have.
    (corpus / "metadata.jsonl").write_text(
        '{"doc_id": "chips.pdf", "company": "Chipco"}\n{"doc_id": "chip.pdf", "period": "2023"}\n', "utf-8"
    )
    (corpus / ".DS_Store").write_bytes(bytes(8))
    index = str(tmp_path / "index")

    # Progress bars on, as a user runs it; bytes, so that carriage returns stay what a terminal gets.
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "index", str(corpus), "--index-dir", index], cwd=ROOT, capture_output=True
    )
    assert result.returncode == 0, result.stderr
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert re.fullmatch(
        rf"Indexed 1 document into {re.escape(index)} in \d+\.\ds: 1 chunk, \d+ sentences, flat index "
        r"\(1 embedded, 0 unchanged, 0 removed\)\.\n",
        stdout,
    ), stdout
    # What a terminal shows at the end: each line as the last carriage return left it (bars are cleared).
    shown_lines = [line.rsplit("\r", 1)[-1].rstrip() for line in stderr.split("\n")]
    assert [line for line in shown_lines if line] == [
        "  not read (type .docx): notes.docx",
        "  not read (type .png): chart.png",
        "  read with warnings chips.pdf: invalid pdf header: b'\\n\\n%PD'; incorrect startxref pointer(1); "
        "parsing for Object Streams",
        "  metadata for chip.pdf: no such file in the corpus, so it gives nothing",
    ]
    # The library's own words appear only in the summary line that names the file, never loose.
    assert stderr.count("invalid pdf header") == 1

    started = time.monotonic()
    again = run_citeqa("index", str(corpus), "--index-dir", index, "--quiet")
    waited = time.monotonic() - started
    shown = re.fullmatch(
        rf"Index {re.escape(index)} is up to date \(1 document, 1 chunk\), (\d+\.\d)s\.\n", again.stdout
    )
    assert shown, again.stdout
    # Nothing is embedded again, nor the model loaded: the time shown is the run's own.
    assert float(shown[1]) <= waited
