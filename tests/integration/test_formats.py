"""Word, PowerPoint, Excel, CSV, HTML and EPUB files, built here with known text, answer
questions with the right locator in the citation: through the retriever, `rag search`
and the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from tests.conftest import make_settings, retriever_for, run_ingest
from tests.formatgen import make_docx, make_epub, make_html, make_pptx, make_xlsx

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def office_store(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Settings:
    docs = tmp_path_factory.mktemp("office")
    make_docx(docs / "report.docx")
    make_pptx(docs / "deck.pptx")
    make_xlsx(docs / "book.xlsx")
    make_html(docs / "guide.html")
    make_epub(docs / "coast.epub")
    (docs / "cities.csv").write_text("city;population\nOulu;210000\nTurku;200000\n")
    (docs / "liar.docx").write_bytes(b"%PDF-1.4\n% not a Word file\n")
    settings = make_settings(tmp_path_factory.mktemp("office-store") / "store")
    report = run_ingest(settings, embedder, [docs])
    assert [(Path(e.path).name, e.reason) for e in report.errors] == [
        ("liar.docx", "claims to be a Word document by its extension but its content is a PDF")
    ]
    assert len(report.added) == 6
    return settings


@pytest.mark.parametrize(
    ("question", "name", "place"),
    [
        ("When is the zeppelin launch planned?", "deck.pptx", "slide 3"),
        (
            "Which factory doubled its output after the kiln?",
            "report.docx",
            "Annual report > Production",
        ),
        ("How many kilns does the Tampere site have?", "report.docx", "Annual report > Production"),
        ("Which package must be installed first?", "guide.html", "Guide > Setup"),
        ("What role does Grace Hopper have?", "book.xlsx", "Staff rows 2-3"),
        ("What is the population of Turku?", "cities.csv", "rows 2-3"),
        ("Who wound the clockwork of the lamp?", "coast.epub", "chapter 2"),
    ],
)
def test_question_finds_its_locator(
    office_store: Settings,
    embedder: SentenceTransformerEmbedder,
    question: str,
    name: str,
    place: str,
) -> None:
    hit = retriever_for(office_store, embedder).retrieve(question, k=1, mode="hybrid")[0]
    assert (Path(hit.source).name, hit.place()) == (name, place)


def test_spreadsheet_rows_keep_their_headers(
    office_store: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    retriever = retriever_for(office_store, embedder)
    hit = retriever.retrieve("revenue 2021", k=1, mode="bm25")[0]
    assert hit.place() == "Finance rows 2-15"
    assert "row 13: year: 2021; revenue: 210; profit: 42\n" in hit.text
    hybrid = retriever.retrieve("revenue 2021", k=3, mode="hybrid")
    assert hit.chunk_id in [h.chunk_id for h in hybrid]


def test_rag_search_prints_the_locator(
    office_store: Settings,
    embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cli import build_parser, search
    from rag.store.index import open_index

    def with_model(settings: Settings, writing: bool) -> object:  # the loaded model, in-process
        return open_index(settings, writing=writing, model=embedder)

    monkeypatch.setattr(search, "open_index", with_model)
    args = build_parser().parse_args(["search", "zeppelin launch", "-k", "1"])
    assert search.cmd_search(args, office_store) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("deck.pptx slide 3")


def test_search_json_carries_locator_and_ocr(
    office_store: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    from application.wire import hit_json

    hit = retriever_for(office_store, embedder).retrieve("zeppelin launch", k=1)[0]
    data = json.loads(json.dumps(hit_json(hit)))
    assert (data["page"], data["locator"], data["ocr"]) == (3, "slide 3", False)


def test_app_cites_the_locator(office_store: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    monkeypatch.setenv("RAG_STORE_DIR", str(office_store.store.store_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.chat_input[0].set_value("When is the zeppelin launch planned?").run()
    assert not at.exception and not at.error
    sources = "\n".join(m.value for m in at.expander[0].markdown)
    assert "deck.pptx" in sources and "slide 3" in sources
