"""Web pages through the one pipeline, against a local HTTP server (never the internet)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from ingest.report import Report
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import open_index
from tests.conftest import make_settings, retriever_for
from tests.formatgen import PAGE_TEXT, html_page

pytestmark = pytest.mark.integration

PAGES: dict[str, tuple[str, bytes]] = {}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/guide.html")
            self.end_headers()
            return
        kind, body = PAGES.get(self.path, ("text/html", b""))
        if not body:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    PAGES.clear()
    PAGES["/guide.html"] = (
        "text/html; charset=utf-8",
        html_page("Guide", PAGE_TEXT, ("/faq.html", "https://example.com/elsewhere.html")).encode(),
    )
    PAGES["/faq.html"] = (
        "text/html",
        html_page("FAQ", "Refunds take ten working days to reach the card.").encode(),
    )
    PAGES["/notes.txt"] = ("text/plain", b"plain text, not a page")
    PAGES["/huge.html"] = (
        "text/html",
        b"<html><body><p>" + b"a " * 1_100_000 + b"</p></body></html>",
    )
    yield base
    server.shutdown()


def ingest_urls(
    settings: Settings, embedder: SentenceTransformerEmbedder, urls: list[str], depth: int = 0
) -> Report:
    with open_index(settings, writing=True, model=embedder) as index:
        return Ingestor(index).run_urls(urls, depth=depth)


def test_page_is_ingested_once_and_again_only_when_changed(
    site: str,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(tmp_path / "store", url_private="allow")
    report = ingest_urls(settings, embedder, [f"{site}/moved"])
    assert report.errors == [] and report.added == [f"{site}/guide.html"]  # after the redirect
    hit = retriever_for(settings, embedder).retrieve("Which package must be installed first?", k=1)[
        0
    ]
    assert (hit.source, hit.place()) == (f"{site}/guide.html", "Guide > Setup")
    assert PAGE_TEXT in hit.text
    texts = [
        h.text for h in retriever_for(settings, embedder).retrieve("cookie policy imprint", k=5)
    ]
    assert not any("cookie" in t for t in texts)  # the footer is not main content

    again = ingest_urls(settings, embedder, [f"{site}/guide.html"])
    assert (again.unchanged, again.added, again.updated, again.chunks_written) == (
        [f"{site}/guide.html"],
        [],
        [],
        0,
    )

    changed_page = html_page("Guide", "Install the wombat package first.").encode()
    monkeypatch.setitem(PAGES, "/guide.html", ("text/html", changed_page))
    changed = ingest_urls(settings, embedder, [f"{site}/guide.html"])
    assert changed.updated == [f"{site}/guide.html"] and changed.chunks_written > 0


def test_depth_follows_same_site_links_only(
    site: str, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path / "store", url_private="allow")
    report = ingest_urls(settings, embedder, [f"{site}/guide.html"], depth=1)
    assert report.errors == []
    assert sorted(report.added) == [f"{site}/faq.html", f"{site}/guide.html"]


@pytest.mark.parametrize(
    ("url", "changes", "reason"),
    [
        (
            "{site}/guide.html",
            {},
            "refused: 127.0.0.1 is a private, loopback or reserved address "
            "(127.0.0.1); RAG_URL_PRIVATE=allow fetches it",
        ),
        ("http://localhost:9/", {}, "refused: localhost is a private"),
        (
            "file:///etc/passwd",
            {"url_private": "allow"},
            "refused: only http and https URLs, not file:",
        ),
        (
            "{site}/notes.txt",
            {"url_private": "allow"},
            "not an HTML page (content type text/plain)",
        ),
        (
            "{site}/huge.html",
            {"url_private": "allow", "url_max_mb": 1},
            "over RAG_URL_MAX_MB (1 MB)",
        ),
        ("{site}/missing.html", {"url_private": "allow"}, "HTTP 404"),
    ],
)
def test_refusals(
    site: str,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    url: str,
    changes: dict[str, object],
    reason: str,
) -> None:
    settings = make_settings(tmp_path / "store", **changes)
    report = ingest_urls(settings, embedder, [url.format(site=site)])
    assert report.added == [] and len(report.errors) == 1
    assert report.errors[0].reason.startswith(reason), report.errors[0].reason


def test_the_app_fetches_a_web_page_and_refuses_a_private_one(
    site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))

    def fetch(at: AppTest, url: str) -> AppTest:
        next(t for t in at.sidebar.text_input if t.label == "Web page").set_value(url)
        next(b for b in at.sidebar.button if b.label == "Fetch and ingest").click().run()
        assert not at.exception
        return at

    # anyone who reaches the app could make it fetch: loopback is refused by default
    at = fetch(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run(), site)
    assert any("refused" in e.value and "RAG_URL_PRIVATE=allow" in e.value for e in at.error)
    assert at.sidebar.status[0].label == "0 page(s) ingested (0 unchanged), 0 chunks written"

    monkeypatch.setenv("RAG_URL_PRIVATE", "allow")
    at = fetch(
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run(), f"{site}/guide.html"
    )
    assert not at.error
    assert at.sidebar.status[0].label == "1 page(s) ingested (0 unchanged), 2 chunks written"
    at.chat_input[0].set_value("Which package must be installed first?").run()
    sources = "\n".join(m.value for m in at.expander[0].markdown)
    assert "guide.html" in sources
    assert "Install the quokka package" in "\n".join(t.value for t in at.expander[0].text)
