"""Passages are embedded and indexed after their heading path (a PDF's outline); the stored
passage is unchanged, and a collection from before keeps being written without it."""

from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader, PdfWriter

from ingest.loaders import load
from ingest.outline import section_at
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.contract import Contract
from rag.store.index import CONTRACT_KEY, open_index
from rag.store.passages import CONTEXT
from tests.conftest import R_INTRO, make_settings, retriever_for, run_ingest
from tests.pdfgen import make_pdf

pytestmark = pytest.mark.integration

PAGES = [
    "The first step is to prepare the site and check the tools twice.",
    "Each of them can erupt without warning; keep a safe distance at all times.",
    "Records are kept for five years and reviewed by the committee each spring.",
]
HEADINGS = ["Garden tools", "Volcanoes of Iceland", "Archive policy"]


def outlined_pdf(tmp_path: Path) -> Path:
    plain = make_pdf(tmp_path / "plain.pdf", PAGES)
    writer = PdfWriter(clone_from=PdfReader(plain))
    for n, heading in enumerate(HEADINGS):
        writer.add_outline_item(heading, n)
    path = tmp_path / "guide.pdf"
    with path.open("wb") as f:
        writer.write(f)
    return path


def test_pdf_pages_carry_their_outline_sections() -> None:
    page = {p.number: p for p in load(R_INTRO).pages}
    # page 17 holds the end of 2.4, then 2.5 Missing values, then the start of 2.6
    missing = page[17].text.index("2.5 Missing values")
    chapter = "2 Simple manipulations; numbers and vectors"
    assert section_at(page[17].sections, missing - 1) == f"{chapter} > Logical vectors"
    assert section_at(page[17].sections, missing) == f"{chapter} > Missing values"
    assert page[1].sections == ()  # the title page comes before the first bookmark


def test_a_heading_finds_the_passage_under_it(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path / "store")
    report = run_ingest(settings, embedder, [outlined_pdf(tmp_path)])
    assert report.errors == [] and report.chunks_written == 3
    retriever = retriever_for(settings, embedder)
    assert retriever.index.context == CONTEXT
    for mode in ("bm25", "dense"):
        top = retriever.retrieve("volcanoes", k=3, mode=mode)[0]
        assert top.page == 2, (mode, top)
        assert top.text == PAGES[1]  # the stored passage has no heading in it
        assert top.header_path == "Volcanoes of Iceland"


def test_a_collection_from_before_keeps_plain_passages(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path / "store")
    with open_index(settings, writing=True, model=embedder) as index:
        index.embedder  # noqa: B018 - creates the collection and records its contract
        stored = index.contract()
        assert stored is not None and stored.context == CONTEXT
        old = Contract.from_json(stored.to_json().replace(f'"{CONTEXT}"', '""'))
        index.store.set_metadata(CONTRACT_KEY, old.to_json())
    run_ingest(settings, embedder, [outlined_pdf(tmp_path)])
    retriever = retriever_for(settings, embedder)
    assert retriever.index.context == ""
    assert retriever.retrieve("volcanoes", k=3, mode="bm25") == []  # no heading indexed
    hits, vectors = retriever.store.get([h.chunk_id for h in retriever.store.all_vectors()[0]])
    plain = embedder.embed_documents([h.text for h in hits])
    assert np.allclose(vectors, plain, atol=1e-5)
