from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from fpdf import FPDF

from indexer.claims import split_claims
from indexer.loaders import UnreadableDocument, discover, load_document


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_discover_finds_supported_files_in_order_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.md", "a.txt", "sub/c.html", "sub/d.pdf", ".hidden.txt", ".git/x.txt", "notes.docx"]:
        write(tmp_path / name, "x")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == [
        "a.txt",
        "b.md",
        "sub/c.html",
        "sub/d.pdf",
    ]


def test_doc_id_is_the_posix_path_relative_to_the_corpus(tmp_path: Path) -> None:
    path = write(tmp_path / "reports" / "q1.txt", "Quarterly results were strong overall [1].")
    document = load_document(path, tmp_path)
    assert document.doc_id == "reports/q1.txt"
    assert document.title == "Quarterly results were strong overall [1]."


def test_markdown_headings_and_links_become_plain_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.md",
        "# Chip Market Outlook\n\n## Demand\n\n- **Memory** prices rose 8% [2]\n"
        "- See [the filing](http://x) for detail.\n",
    )
    document = load_document(path, tmp_path)
    assert document.title == "Chip Market Outlook"
    assert "#" not in document.text and "**" not in document.text and "http" not in document.text
    sentences = {s.text: s for s in split_claims(document.text)}
    assert sentences["Memory prices rose 8%"].markers == ("[2]",)
    assert sentences["Demand"].markers == ()


def test_html_text_without_scripts_styles_or_tags(tmp_path: Path) -> None:
    html = """<html><head><title>Cloud Report</title><style>p{color:red}</style></head>
    <body><h1>Cloud Report</h1><script>alert(1)</script>
    <p>Azure revenue <b>grew</b> 31% this quarter [3].</p><ul><li>AWS kept its lead [4]</li></ul></body></html>"""
    document = load_document(write(tmp_path / "r.html", html), tmp_path)
    assert document.title == "Cloud Report"
    assert "alert" not in document.text and "color" not in document.text and "<" not in document.text
    sentences = {s.text: s for s in split_claims(document.text)}
    assert sentences["Azure revenue grew 31% this quarter."].markers == ("[3]",)
    assert sentences["AWS kept its lead"].markers == ("[4]",)


def test_pdf_pages_are_kept_as_metadata(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in ["Page one says exports rose sharply [1].", "Page two says imports fell slightly [2]."]:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    document = load_document(write(tmp_path / "r.pdf", bytes(pdf.output())), tmp_path)
    pages = {s.text: document.page_at(s.start) for s in split_claims(document.text)}
    assert pages == {"Page one says exports rose sharply.": 1, "Page two says imports fell slightly.": 2}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", "", "no text"),
        ("blank.md", "  \n\n  ", "no text"),
        ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "UTF-8"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", "PDF"),
        ("odd.txt", codecs.BOM_UTF16_LE + b"\x00\xd8 a lone surrogate", "UTF-16"),
    ],
)
def test_unreadable_files_say_why(tmp_path: Path, name: str, content: str | bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument, match=reason):
        load_document(write(tmp_path / name, content), tmp_path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read_in_its_encoding(tmp_path: Path, encoding: str) -> None:
    text = "Café revenue rose 4% [1]."
    data = text.encode(encoding) if encoding != "utf-16-be" else codecs.BOM_UTF16_BE + text.encode(encoding)
    assert load_document(write(tmp_path / "notes.txt", data), tmp_path).text.strip() == text
