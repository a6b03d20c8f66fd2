import os
from pathlib import Path

import pytest

from ingest.document import decode_text
from ingest.loaders import load
from ingest.pdf import ENCRYPTED, pdfium_text
from rag.errors import IngestError

SHARED_PDFS = Path(__file__).resolve().parents[3] / "shared" / "data" / "pdfs"
DATA = Path(__file__).resolve().parents[2] / "data"


def test_decode_utf8_bom_latin1_utf16() -> None:
    assert decode_text("naïve café".encode()) == "naïve café"
    assert decode_text(b"\xef\xbb\xbfhello") == "hello"
    assert decode_text("Größe und Übermaß für die Straße".encode("latin-1")) == (
        "Größe und Übermaß für die Straße"
    )
    assert decode_text("héllo wörld".encode("utf-16")) == "héllo wörld"
    assert decode_text(b"a\x00b") == "ab"


def test_text_and_markdown(tmp_path: Path) -> None:
    md = tmp_path / "n.md"
    md.write_text("# T\nbody\n", encoding="utf-8")
    doc = load(md)
    assert (doc.kind, doc.pages[0].number, doc.pages[0].text) == ("markdown", 0, "# T\nbody\n")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file; nothing to index"),
        ("blank.md", b"  \n\n ", "file contains only whitespace; nothing to index"),
        ("random.pdf", os.urandom(3000).replace(b"%PDF-", b""), "not a PDF (no %PDF- header)"),
        ("truncated.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "unreadable PDF"),
        ("x.odt", b"PK..", "unsupported file type '.odt'"),
        (
            "x.docx",
            b"PK..",
            "claims to be a Word document by its extension but its content is text",
        ),
        (
            "x.xlsx",
            b"%PDF-1.4",
            "claims to be an Excel workbook by its extension but its content is a PDF",
        ),
        ("x.png", b"GIF89a", "claims to be an image by its extension but its content is text"),
    ],
)
def test_bad_files_raise_one_line_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError) as info:
        load(path)
    assert reason in info.value.reason
    assert "\n" not in info.value.reason
    assert info.value.path == str(path)


@pytest.mark.shared_data
def test_encrypted_pdf_needs_password() -> None:
    with pytest.raises(IngestError) as info:
        load(SHARED_PDFS / "libreoffice-writer-password.pdf")
    assert info.value.reason == ENCRYPTED


def test_pdf_pages_are_one_based() -> None:
    doc = load(DATA / "R-intro.pdf")
    assert doc.kind == "pdf" and doc.total_pages == 113
    assert doc.pages[0].number == 1
    page17 = next(p for p in doc.pages if p.number == 17)
    assert "2.5 Missing values" in page17.text


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "pages", "min_chars"),
    [
        ("R-intro.pdf", 113, 240_000),
        ("gmpl.pdf", 74, 120_000),
        ("pdflatex-4-pages.pdf", 4, 14_000),
        ("multicolumn.pdf", 3, 7_000),
    ],
)
def test_every_shared_pdf_loads_every_page(name: str, pages: int, min_chars: int) -> None:
    doc = load(SHARED_PDFS / name)
    assert (doc.total_pages, doc.empty_pages) == (pages, 0)
    assert sum(len(p.text) for p in doc.pages) >= min_chars


@pytest.mark.shared_data
def test_the_encrypted_shared_pdf_fails_with_its_reason() -> None:
    with pytest.raises(IngestError) as info:
        load(SHARED_PDFS / "libreoffice-writer-password.pdf")
    assert info.value.reason == ENCRYPTED


def test_pdfium_text_has_plain_line_ends_and_no_hyphen_marks() -> None:
    raw = "consectetuer adip\ufffeiscing elit.\r\nNext line\rlast\x02line\n"
    assert pdfium_text(raw) == "consectetuer adipiscing elit.\nNext line\nlastline\n"
