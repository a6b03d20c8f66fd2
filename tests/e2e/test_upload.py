"""A first session in a real browser, as a new user has it: an empty store, PDFs uploaded
through the sidebar (one of them encrypted), a question about the readable one, and its
cited page opened beside the chat with the passage boxed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.pdf import ENCRYPTED
from tests.conftest import SHARED
from tests.e2e.browser import ask, chat_messages, running_app, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

READABLE = SHARED / "pdfs" / "pdflatex-4-pages.pdf"
LOCKED = SHARED / "pdfs" / "libreoffice-writer-password.pdf"


@pytest.mark.shared_data
def test_upload_then_ask_then_open_the_cited_page(browser: object, tmp_path: Path) -> None:
    with running_app(tmp_path / "store", cwd=tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page.goto(url)
        page.get_by_text("Add documents").wait_for(timeout=120_000)
        wait_until_idle(page)
        page.locator("input[type='file']").first.set_input_files([str(READABLE), str(LOCKED)])
        page.get_by_role("button", name="Ingest", exact=True).click()
        status = page.get_by_text("Ingested 1 of 2 file(s)")
        status.wait_for(timeout=300_000)
        # the encrypted file is refused with its reason and the way past it, the other kept
        page.get_by_text(f"{LOCKED.name}: {ENCRYPTED}").wait_for(timeout=30_000)
        wait_until_idle(page)
        # the sidebar counts what was just added, in the same run as the upload
        sidebar = page.locator("[data-testid='stSidebar']")
        counts = sidebar.get_by_text(re.compile(r"^1 documents · [1-9]\d* chunks$"))
        counts.wait_for(timeout=30_000)

        ask(page, "What should a blind text contain?")
        answer = chat_messages(page)[-1]
        assert "information about the selected font" in answer and "[1]" in answer, answer
        page.get_by_text("Sources (").last.click()
        sources = page.locator("[data-testid='stExpander']").last
        assert READABLE.name in sources.inner_text()
        sources.get_by_role("button").filter(has_text="Open page").first.click()
        dialog = page.locator("[role='dialog']")
        dialog.locator("img[data-page-image]").wait_for(timeout=60_000)
        view = dialog.locator("[data-page-view]")
        assert view.get_attribute("data-located") in {"offset", "text", "words"}
        assert dialog.locator("[data-passage-box]").count() > 0
        # the upload is kept in the store, where the viewer read it from; the refused one
        # is not left there, indexed by nothing
        uploads = [p.name for p in (tmp_path / "store").rglob("*.pdf")]
        assert uploads == [READABLE.name], uploads
        page.close()  # type: ignore[attr-defined]
