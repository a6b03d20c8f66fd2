"""OCR, offline: an image-only PDF made by rendering pages of a born-digital PDF (as a
scanner would) is read back by the bundled OCR models, page by page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import pipeline
from ingest.document import Document
from ingest.loaders import load
from ingest.ocr import recovered, word_error_rate, words
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import open_index
from tests.conftest import R_INTRO, make_settings, retriever_for, run_ingest
from tests.formatgen import make_image_pdf

pytestmark = pytest.mark.integration

PAGES = [11, 16]  # 0-based: R-intro pages 12 (source()/sink()) and 17 (missing values)


@dataclass(frozen=True)
class Scanned:
    settings: Settings
    scan: Path
    document: Document  # as the ingestion read it
    progress: list[tuple[str, int, int]]


@pytest.fixture(scope="module")
def scanned(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Scanned:
    docs = tmp_path_factory.mktemp("scans")
    scan = make_image_pdf(R_INTRO, PAGES, docs / "scan.pdf")
    settings = make_settings(tmp_path_factory.mktemp("ocr-store") / "store")
    seen: list[tuple[str, int, int]] = []
    loaded: list[Document] = []

    def keep(path: Path, **options: object) -> Document:  # OCR once: keep what was read
        loaded.append(load(path, **options))  # type: ignore[arg-type]
        return loaded[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "load", keep)
        with open_index(settings, writing=True, model=embedder) as index:
            ingestor = pipeline.Ingestor(index, ocr_progress=lambda *args: seen.append(args))
            report = ingestor.run([scan])
    assert report.errors == [] and report.added == [str(scan.absolute())]
    return Scanned(settings, scan, loaded[0], seen)


def test_ocr_recovers_the_text_layer(
    scanned: Scanned,
) -> None:
    from pypdf import PdfReader

    assert PdfReader(scanned.scan).pages[0].extract_text() == ""  # no text layer at all
    assert [(done, total) for _, done, total in scanned.progress] == [(1, 2), (2, 2)]
    document = scanned.document
    assert [(p.number, p.ocr) for p in document.pages] == [(1, True), (2, True)]
    original = PdfReader(R_INTRO)
    for page, n in zip(document.pages, PAGES, strict=True):
        reference, recognised = words(original.pages[n].extract_text()), words(page.text)
        found = recovered(reference, recognised)
        wer = word_error_rate(reference, recognised)
        print(f"R-intro p.{n + 1}: {len(reference)} words, {found:.1%} recovered, WER {wer:.1%}")
        assert found >= 0.95


def test_page_known_question_finds_the_scanned_page(
    scanned: Scanned,
    embedder: SentenceTransformerEmbedder,
) -> None:
    retriever = retriever_for(scanned.settings, embedder)
    hit = retriever.retrieve("How are missing values represented in R?", k=1)[0]
    assert (hit.page, hit.ocr, hit.place()) == (2, True, "page 2, OCR")
    hit = retriever.retrieve("How do I execute commands stored in an external file?", k=1)[0]
    assert (hit.page, hit.place(short=True)) == (1, "p.1, OCR")


def test_ocr_off_reports_the_scan(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    scan = make_image_pdf(R_INTRO, [16], tmp_path / "scan.pdf", dpi=36)
    report = run_ingest(make_settings(tmp_path / "store", ocr="off"), embedder, [scan])
    assert [e.reason for e in report.errors] == [
        "no extractable text — scanned image? (1 pages without a text layer; "
        "RAG_OCR=on would read them)"
    ]


def test_image_file_is_read_by_ocr(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(R_INTRO))
    page = pdf[16].render(scale=1.0).to_pil()
    pdf.close()
    page.crop((0, 0, page.width, page.height // 4)).save(tmp_path / "shot.png")
    document = load(tmp_path / "shot.png")
    assert document.kind == "image"
    assert [(p.number, p.ocr) for p in document.pages] == [(0, True)]
    text = " ".join(document.pages[0].text.split()).lower()
    assert "logical vectors" in text and "the special value na" in text


def test_every_line_of_an_upright_page_and_a_page_upside_down_are_read(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    # the angle classifier turned this one upright line of the scan and read it as garbage
    line = "in some cases the components of a vector may not be completely known"
    scan = make_image_pdf(R_INTRO, [16], tmp_path / "scan.pdf")
    assert line in " ".join(load(scan).pages[0].text.split()).lower()
    pdf = pdfium.PdfDocument(str(R_INTRO))
    page = pdf[16].render(scale=2).to_pil().convert("RGB").rotate(180)  # fed the wrong way
    pdf.close()
    page.save(tmp_path / "upside-down.pdf", "PDF", resolution=144)
    text = " ".join(load(tmp_path / "upside-down.pdf").pages[0].text.split()).lower()
    assert line in text and "the special value na" in text
