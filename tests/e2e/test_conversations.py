"""Conversations that last, and feedback, in a real browser (Debian's chromium driven by
Playwright against `streamlit run app.py`): a conversation reopened after a reload with
its sources, exported as Markdown, renamed and deleted; a thumbs up with a note exported
by the real `rag feedback --export`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from tests.conftest import copy_store, run_cli
from tests.e2e.browser import (
    ask,
    chat_messages,
    publish_screenshot,
    running_app,
    wait_for_text,
    wait_until_idle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MISSING = "How are missing values represented in R?"
TEST_FOR = "and how do I test for them?"


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, rintro_settings: Settings
) -> Iterator[tuple[str, Path]]:
    """The app on a store holding R-intro.pdf: (its URL, the store folder)."""
    root = tmp_path_factory.mktemp("e2e-conversations")
    settings = copy_store(rintro_settings, root / "store")
    with running_app(settings.store.store_dir, cwd=root) as url:
        yield url, settings.store.store_dir


def conversation_list(page: object) -> object:
    return page.locator(".st-key-conversation_list")  # type: ignore[attr-defined]


def open_from_list(page: object, title: str) -> None:
    entry = conversation_list(page).get_by_role("button", name=title)  # type: ignore[attr-defined]
    entry.wait_for(timeout=60_000)
    entry.click()


def wait_for_messages(page: object, count: int) -> list[str]:
    for _ in range(200):
        texts = chat_messages(page)
        if len(texts) == count:
            return texts
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
    raise AssertionError(chat_messages(page))


def test_reload_and_reopen_with_sources(app: tuple[str, Path], browser: object) -> None:
    url, _ = app
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(url)
    ask(page, MISSING)
    ask(page, TEST_FOR)
    conversation_list(page).get_by_role("button", name=MISSING).wait_for(timeout=60_000)
    assert "conversation=" in page.url  # the open conversation is in the address

    page.reload()  # a reload reopens it from the address
    texts = wait_for_messages(page, 4)
    assert MISSING in texts[0] and TEST_FOR in texts[2]

    page.goto(url)  # a fresh page: a new conversation, the earlier one in the list
    page.get_by_placeholder("Ask a question about your documents").wait_for(timeout=120_000)
    assert chat_messages(page) == []
    open_from_list(page, MISSING)
    texts = wait_for_messages(page, 4)
    assert MISSING in texts[0] and "Sources (" in texts[1] and TEST_FOR in texts[2]
    page.get_by_text("Sources (").first.click()
    expander = page.locator("[data-testid='stExpander']").first
    expander.get_by_text("R-intro.pdf").first.wait_for(timeout=30_000)
    assert "page 17" in expander.inner_text()  # the sources as they were shown live
    assert "NA" in expander.inner_text()
    page.close()


def test_export_as_markdown(app: tuple[str, Path], browser: object, tmp_path: Path) -> None:
    url, _ = app
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(url)
    ask(page, MISSING)
    sidebar = page.locator("[data-testid='stSidebar']")
    export = sidebar.get_by_role("button", name="Export as Markdown")
    export.wait_for(timeout=60_000)
    with page.expect_download() as download:
        export.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "how-are-missing-values-represented-in-r.md"
    text = saved.read_text(encoding="utf-8")
    assert text.startswith(f"# {MISSING}\n")
    assert f"**Question:** {MISSING}\n" in text
    # the extractive answer is a paragraph per quote, best first: the whole of it, to Sources
    answer = text.split("**Answer:**", 1)[1].split("## Sources", 1)[0]
    assert "[1]" in answer and re.search(r"\bNA\b", answer), answer
    sources = text.split("## Sources\n\n", 1)[1].splitlines()
    assert sources[0] == "- [1] R-intro.pdf, page 17"
    assert all(line.startswith(f"- [{n}] R-intro.pdf, page ") for n, line in
               enumerate(sources, start=1))  # fmt: skip
    page.close()


def test_rename_and_delete(app: tuple[str, Path], browser: object) -> None:
    url, _ = app
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(url)
    ask(page, "How do I read a data frame from a file?")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="Rename").click()
    title = page.get_by_label("Title")
    title.fill("Reading tables")
    page.get_by_role("button", name="Save title").click()
    open_from_list(page, "Reading tables")
    sidebar.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete for good").click()
    conversation_list(page).get_by_role("button", name="Reading tables").wait_for(
        state="detached", timeout=60_000
    )
    assert chat_messages(page) == []  # a new conversation
    page.close()


def test_feedback_with_a_note_is_exported(
    app: tuple[str, Path], browser: object, tmp_path: Path
) -> None:
    url, store_dir = app
    page = browser.new_page(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    page.goto(url)
    question = "How do I get help on a function?"
    ask(page, question)
    reply = page.locator("[data-testid='stChatMessage']").last
    reply.get_by_label("Thumbs up").click()
    details = reply.get_by_text("Feedback: a note, and which passages were useful")
    details.wait_for(timeout=60_000)
    # the note typed while the thumb's rerun still draws the form is lost with that form
    wait_until_idle(page)
    details.click()
    reply.get_by_label("Note (optional)").fill("the help() example is what I needed")
    reply.get_by_role("button", name="Save feedback").click()
    wait_for_text(page, "Feedback saved")
    # the README's picture: the list (this module's conversations) beside a rated answer
    conversation_list(page).get_by_role("button", name=question).wait_for(timeout=60_000)
    page.wait_for_timeout(6000)  # the toast goes
    page.screenshot(path=str(tmp_path / "conversations.png"))
    publish_screenshot(tmp_path / "conversations.png", "conversations.png")
    page.close()

    out = tmp_path / "feedback.json"
    done = run_cli(["-m", "rag", "feedback", "--export", str(out)], store_dir)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    [entry] = [q for q in data["questions"] if q["asked"] == question]
    assert entry["rating"] == "up"
    assert entry["note"] == "the help() example is what I needed"
    assert entry["useful"] and [p["chunk_id"] for p in entry["useful"]] == [
        p["chunk_id"] for p in entry["retrieved"] if p["chunk_id"] in entry["cited"]
    ]
    assert all(p["source"].endswith("R-intro.pdf") for p in entry["useful"])
