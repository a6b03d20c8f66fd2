"""A collection per model in a real browser: with the settings' default MiniLM, "New
collection" made with multilingual-e5-small, a German note uploaded into it, a question in
French answered from it, and the sidebar's caption naming e5 and its `query: ` prefix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.browser import ask, running_app, wait_until_idle

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BEES = """# Bienen im Winter

Im Winter bilden die Honigbienen eine dichte Traube im Stock. Die Arbeiterinnen erzeugen
Wärme, indem sie ihre Flugmuskeln zittern lassen, ohne die Flügel zu bewegen. So bleibt die
Königin in der Mitte der Traube bei etwa fünfundzwanzig Grad, auch wenn es draußen friert.
"""
QUESTION = "Comment les abeilles gardent-elles la chaleur en hiver ?"


def test_a_collection_made_with_e5_answers_french_from_german(
    browser: object, tmp_path: Path
) -> None:
    note = tmp_path / "bienen.md"
    note.write_text(BEES, encoding="utf-8")
    with running_app(tmp_path / "store", cwd=tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page.goto(url)
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("Add documents").wait_for(timeout=120_000)
        wait_until_idle(page)
        assert "all-MiniLM-L6-v2" in sidebar.inner_text()  # the settings' model

        sidebar.get_by_text("New collection").click()
        page.get_by_placeholder("e.g. contracts-2026").fill("mehrsprachig")
        chooser = page.locator("[data-testid='stSelectbox']").filter(has_text="Embedding model")
        chooser.click()
        page.get_by_role("option", name="multilingual-e5-small").click()
        page.get_by_role("button", name="Create", exact=True).click()
        sidebar.get_by_text("Into collection mehrsprachig").wait_for(timeout=60_000)
        wait_until_idle(page)

        page.locator("input[type='file']").first.set_input_files([str(note)])
        page.get_by_role("button", name="Ingest", exact=True).click()
        page.get_by_text("Ingested 1 of 1 file(s)").wait_for(timeout=300_000)
        wait_until_idle(page)
        caption = sidebar.get_by_text(re.compile(r"^Embedding model: multilingual-e5-small"))
        caption.wait_for(timeout=30_000)
        assert "384 dims" in caption.inner_text(), caption.inner_text()
        assert "questions 'query: ', passages 'passage: '" in caption.inner_text()

        ask(page, QUESTION)
        page.get_by_text("Sources (").last.click()
        sources = page.locator("[data-testid='stExpander']").last
        sources.get_by_text("bienen.md").first.wait_for(timeout=30_000)
        page.close()  # type: ignore[attr-defined]
