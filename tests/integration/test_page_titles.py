"""A PDF without an outline: each page's title lines (statement name, units, column years)
are carried into every chunk of the page, indexed and embedded, never shown as its text."""

from pathlib import Path

import pytest

from ingest.loaders import load
from rag.embedding.models import SentenceTransformerEmbedder
from tests.conftest import SHARED, make_settings, retriever_for, run_ingest
from tests.pdfgen import make_placed_pdf

pytestmark = pytest.mark.integration

TITLE = ["Consolidated Balance Sheets", "(in millions)", "2021 2020"]
ROWS = [f"Line item number {n} of the statement {n * 37:,} {n * 31:,}" for n in range(1, 60)]
LIABILITIES = "Total current liabilities 9,811 8,437"
NETFLIX = SHARED / "filings" / "pdfs" / "NETFLIX_2017_10K.pdf"


def statement_pdf(tmp_path: Path) -> Path:
    """Page 1 a prose page, page 2 a balance sheet long enough for several chunks, whose
    last row is far from the title."""
    prose = [(72, 720, "Our business grew in every region this year, as described below.")]
    lines = [*TITLE, *ROWS, LIABILITIES]
    sheet = [(72, 760 - 12 * i, text) for i, text in enumerate(lines)]
    return make_placed_pdf(tmp_path / "annual-report.pdf", [prose, sheet])


def test_every_chunk_of_a_statement_page_carries_its_title(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    path = statement_pdf(tmp_path)
    pages = {p.number: p for p in load(path).pages}
    assert pages[2].sections == ((0, " · ".join(TITLE)),)
    assert pages[1].sections == ()  # a page that opens with prose has no title
    settings = make_settings(tmp_path / "store")
    report = run_ingest(settings, embedder, [path])
    assert report.errors == [] and report.chunks_written >= 3
    retriever = retriever_for(settings, embedder)
    stored = [h for h in retriever.store.all_vectors()[0] if h.page == 2]
    assert len(stored) >= 2
    assert {h.header_path for h in stored} == {" · ".join(TITLE)}
    last = next(h for h in stored if LIABILITIES in h.text)
    assert "Balance Sheets" not in last.text  # carried as context, not as passage text
    # the words of the title find the row far below it, through BM25 and the embedding
    for mode in ("bm25", "hybrid"):
        hits = retriever.retrieve("balance sheets total current liabilities", k=3, mode=mode)
        assert hits[0].chunk_id == last.chunk_id, (mode, hits[0].text[:80])


@pytest.mark.shared_data
def test_a_real_filing_statement_page_is_titled(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Netflix's 2017 10-K has no outline; page 45 is its balance sheet (the company's name
    opens every statement page: a running header, no page's title)."""
    document = load(NETFLIX)
    page = {p.number: p for p in document.pages}[45]
    assert page.sections and page.sections[0][1].startswith(
        "CONSOLIDATED BALANCE SHEETS · (in thousands"
    )
    settings = make_settings(tmp_path / "store")
    report = run_ingest(settings, embedder, [NETFLIX])
    assert report.errors == []
    retriever = retriever_for(settings, embedder)
    on_45 = [h for h in retriever.store.all_vectors()[0] if h.page == 45]
    assert len(on_45) >= 2 and all("BALANCE SHEETS" in h.header_path for h in on_45)
    hits = retriever.retrieve("Netflix balance sheet total current liabilities 2017", k=5)
    assert 45 in [h.page for h in hits], [(h.page, h.header_path[:40]) for h in hits]
