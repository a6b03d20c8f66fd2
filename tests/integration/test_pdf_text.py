"""PDF text layers read by PDFium (the default) and by pypdf (``RAG_PDF_TEXT=pypdf``), on
real and generated files: the same pages, the same failures, and PDFium's cleaner words."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import load
from ingest.pdf import ENCRYPTED
from rag.embedding.models import SentenceTransformerEmbedder
from rag.errors import IngestError
from rag.store.index import connect
from tests.conftest import R_INTRO, SHARED, make_settings, run_ingest
from tests.formatgen import make_image_pdf
from tests.pdfgen import make_pdf, make_placed_pdf

pytestmark = pytest.mark.integration

PDFS = SHARED / "pdfs"
EXTRACTORS = ["pdfium", "pypdf"]


def encrypt(source: Path, target: Path, *, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    with target.open("wb") as f:
        writer.write(f)
    return target


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_pages_are_numbered_from_one_with_their_text(extractor: str) -> None:
    doc = load(R_INTRO, pdf_text=extractor)
    assert (doc.kind, doc.total_pages, doc.empty_pages) == ("pdf", 113, 0)
    assert [p.number for p in doc.pages] == list(range(1, 114))
    assert "2.5 Missing values" in doc.pages[16].text
    assert "\r" not in doc.pages[16].text and "\ufffe" not in doc.pages[16].text


@pytest.mark.shared_data
def test_pdfium_joins_hyphenated_words_and_spells_out_ligatures() -> None:
    pdfium = load(PDFS / "multicolumn.pdf", pdf_text="pdfium").pages[0].text
    pypdf = load(PDFS / "multicolumn.pdf", pdf_text="pypdf").pages[0].text
    assert "nonummy eget, consectetuer id, vulputate a, magna." in pdfium
    assert "nonummy eget, con-\nsectetuer id" in pypdf
    assert "\ufffe" not in pdfium and "-\n" not in pdfium
    assert "two columns filled\nwith Lorem Ipsum text." in pdfium
    assert "two columns \ufb01lled" in pypdf  # the "fi" ligature as one character
    # gmpl.pdf's fonts map "fi" to a control character in pypdf: "finite" is lost
    gmpl = load(PDFS / "gmpl.pdf", pdf_text="pdfium").pages[10].text
    assert "fixed" in gmpl.split()
    assert "fixed" not in load(PDFS / "gmpl.pdf", pdf_text="pypdf").pages[10].text.split()


@pytest.mark.shared_data
@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_an_empty_user_password_opens_as_in_a_viewer(tmp_path: Path, extractor: str) -> None:
    locked = encrypt(PDFS / "pdflatex-4-pages.pdf", tmp_path / "owner-only.pdf", user_password="")
    doc = load(locked, pdf_text=extractor)
    plain = load(PDFS / "pdflatex-4-pages.pdf", pdf_text=extractor)
    assert doc.pages == plain.pages


@pytest.mark.shared_data
@pytest.mark.parametrize("extractor", EXTRACTORS)
@pytest.mark.parametrize("which", ["shared", "generated"])
def test_a_password_is_refused_with_its_reason(tmp_path: Path, extractor: str, which: str) -> None:
    path = (
        PDFS / "libreoffice-writer-password.pdf"
        if which == "shared"
        else encrypt(PDFS / "pdflatex-4-pages.pdf", tmp_path / "locked.pdf", user_password="pw")
    )
    with pytest.raises(IngestError) as info:
        load(path, pdf_text=extractor)
    assert info.value.reason == ENCRYPTED


@pytest.mark.parametrize("extractor", EXTRACTORS)
@pytest.mark.parametrize(
    "data",
    [
        R_INTRO.read_bytes()[:200_000],
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog",
        b"%PDF-1.4\n" + bytes(range(256)) * 40,
    ],
    ids=["truncated", "stub", "garbage"],
)
def test_a_broken_pdf_gets_a_one_line_reason(tmp_path: Path, extractor: str, data: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(IngestError) as info:
        load(path, pdf_text=extractor)
    assert info.value.reason.startswith("unreadable PDF (")
    assert "\n" not in info.value.reason and info.value.path == str(path)


def test_a_page_without_text_layer_goes_to_ocr_and_keeps_its_number(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    scan = make_image_pdf(R_INTRO, [16], tmp_path / "scan.pdf", dpi=72)
    text = make_pdf(tmp_path / "text.pdf", ["A first page with a text layer about herons."])
    writer = PdfWriter()
    for part in (text, scan, text):
        writer.append(PdfReader(part))
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as f:
        writer.write(f)

    without = load(mixed, ocr=False)
    assert [(p.number, p.ocr) for p in without.pages] == [(1, False), (3, False)]
    assert (without.total_pages, without.empty_pages) == (3, 1)
    read = load(mixed, ocr=True)
    assert [(p.number, p.ocr) for p in read.pages] == [(1, False), (2, True), (3, False)]
    assert "missing values" in " ".join(read.pages[1].text.split()).lower()
    assert read.pages[0].text == "A first page with a text layer about herons."


@pytest.mark.shared_data
@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_the_setting_chooses_the_extractor_of_the_pipeline(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, extractor: str
) -> None:
    settings = make_settings(tmp_path / "store", pdf_text=extractor)
    source = PDFS / "multicolumn.pdf"
    report = run_ingest(settings, embedder, [source])
    assert report.errors == [] and report.chunks_written > 0
    store = connect(settings.store)
    texts = store._existing().get(ids=list(store.ids_for_source(str(source))))["documents"]
    joined = "\n".join(texts)
    assert ("consectetuer adipiscing elit. Ut purus" in joined) == (extractor == "pdfium")
    assert ("adip-\niscing" in joined) == (extractor == "pypdf")


def test_layout_mode_keeps_a_table_drawn_column_by_column_in_rows(tmp_path: Path) -> None:
    """Some generators draw a table a column at a time: PDFium and pypdf read it in that
    order, so a year is far from its revenue; pypdf's layout mode (RAG_PDF_TEXT=pypdf-layout)
    reads it by position, a row to a line."""
    rows = [("year", "revenue", "profit"), ("2019", "180", "31"), ("2021", "210", "42")]
    cells = [(72 + 120 * c, 700 - 20 * r, rows[r][c]) for c in range(3) for r in range(3)]
    pdf = make_placed_pdf(tmp_path / "table.pdf", [[(72, 740, "Results by year"), *cells]])
    layout = load(pdf, pdf_text="pypdf-layout").pages[0].text
    assert layout.splitlines() == [
        "Results by year",
        "year  revenue  profit",
        "2019  180  31",
        "2021  210  42",
    ]
    for extractor in ("pdfium", "pypdf"):
        text = load(pdf, pdf_text=extractor).pages[0].text
        assert "2021  210" not in text and text.splitlines()[1:4] == ["year", "2019", "2021"]
