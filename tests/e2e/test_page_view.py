"""The cited page beside the chat, in a real browser: the PDF page's image with the
passage highlighted where its characters are (measured on screen against PDFium's
character boxes, computed here independently of the viewer), hostile PDFs that the viewer
declines with a reason, and a Markdown passage shown, escaped, in its surrounding text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from rag.config import Settings
from rag.store.index import open_index
from tests.conftest import copy_store, run_ingest
from tests.e2e.browser import ask, publish_screenshot, running_app, wait_until_idle
from tests.pdfgen import make_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

POSTER = "Giant posters record the Zanzibar clove harvest of the quiet year."
BROKEN = "The quartz lantern inventory lists every lantern of the lighthouse."
NOTES = (
    "# Field notes\n\n## Lighthouse keepers\n\n"
    "Keepers trimmed the wicks at dusk. <img src=x onerror=alert(1)> stays text.\n\n"
    "The amber beacon of the northern lighthouse turns twice a minute.\n\n"
    "Fog horns sound every thirty seconds in poor weather.\n"
)


@dataclass(frozen=True)
class App:
    url: str
    settings: Settings
    docs: Path


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, embedder: object, rintro_settings: Settings
) -> Iterator[App]:
    root = tmp_path_factory.mktemp("pageview")
    docs = root / "docs"
    docs.mkdir()
    # a page a million points wide (PDF's limit is 14,400): text extracts, no image is made
    poster = make_pdf(docs / "poster.pdf", [POSTER])
    poster.write_bytes(poster.read_bytes().replace(b"[0 0 612 792]", b"[0 0 1000000 1000000]"))
    broken = make_pdf(docs / "broken.pdf", [BROKEN, "A second page."])
    (docs / "notes.md").write_text(NOTES, encoding="utf-8")
    settings = copy_store(rintro_settings, root / "store")  # R-intro.pdf, then these
    report = run_ingest(settings, embedder, [docs])  # type: ignore[arg-type]
    assert report.errors == []
    # the file then breaks on disk: its page tree points at an object that is not there,
    # so PDFium cannot load page 1 (same length, so the cross-reference table still holds)
    data = broken.read_bytes()
    broken.write_bytes(data.replace(b"/Kids [4 0 R 6 0 R]", b"/Kids [9 0 R 6 0 R]", 1))
    with running_app(settings.store.store_dir, cwd=root) as url:
        yield App(url, settings, docs)


def new_page(browser: object, url: str) -> object:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page.goto(url)
    return page


def search(page: object, query: str) -> None:
    """Search from the Search view (opened first if needed) and wait for the hits."""
    box = page.get_by_placeholder("a question", exact=True)  # type: ignore[attr-defined]
    if not box.count():
        page.get_by_text("Search", exact=True).click()  # type: ignore[attr-defined]
        page.get_by_text("Ranked passages for a query").wait_for(timeout=120_000)  # type: ignore[attr-defined]
    # the view's run must end before typing (the sidebar is drawn after it), or the rerun
    # that follows drops the query
    wait_until_idle(page)
    box.fill(query)
    box.press("Enter")
    page.get_by_text("passages ·").wait_for(timeout=120_000)  # type: ignore[attr-defined]


def open_hit(page: object, file_name: str) -> object:
    """Click the open button under the first search hit of ``file_name``; the drawer."""
    header = page.locator("[data-testid='stMarkdownContainer']", has_text=file_name).first  # type: ignore[attr-defined]
    header.locator("xpath=following::button[1]").click()
    dialog = page.locator("[role='dialog']")  # type: ignore[attr-defined]
    dialog.wait_for(timeout=60_000)
    return dialog


def passage_char_boxes(pdf: Path, page_number: int, passage: str) -> tuple[list, list, tuple]:
    """PDFium's boxes (left, bottom, right, top in points) of the passage's characters and
    of the other characters of the page, and the page size: found here on their own, by
    the passage's words with any spacing between them."""
    document = pdfium.PdfDocument(str(pdf))
    page = document[page_number - 1]
    textpage = page.get_textpage()
    raw = textpage.get_text_range()
    assert len(raw) == textpage.count_chars()  # one text character per PDFium character
    words = [re.escape(w) for w in passage.split()]
    match = re.search(r"\s+".join(words), raw)
    assert match is not None, "the passage is not on the page"
    inside, outside = [], []
    for i, c in enumerate(raw):
        if c.isspace():
            continue
        box = textpage.get_charbox(i)
        if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
            continue
        (inside if match.start() <= i < match.end() else outside).append(box)
    size = page.get_size()
    document.close()
    return inside, outside, size


def on_screen(box: tuple, size: tuple, image: dict) -> tuple[float, float]:
    """The centre of a character box on screen, given the image's bounding box."""
    left, bottom, right, top = box
    x = (left + right) / 2 / size[0] * image["width"] + image["x"]
    y = (size[1] - (top + bottom) / 2) / size[1] * image["height"] + image["y"]
    return x, y


def inside_any(point: tuple[float, float], boxes: list[dict], *, pad: float) -> bool:
    x, y = point
    return any(
        b["x"] - pad <= x <= b["x"] + b["width"] + pad
        and b["y"] - pad <= y <= b["y"] + b["height"] + pad
        for b in boxes
    )


def test_pdf_citation_opens_the_page_with_the_passage_highlighted(
    app: App, browser: object, tmp_path: Path
) -> None:
    page = new_page(browser, app.url)
    ask(page, "How are missing values represented in R?")
    page.get_by_text("Sources (").last.click()  # type: ignore[attr-defined]
    expander = page.locator("[data-testid='stExpander']").last  # type: ignore[attr-defined]
    expander.get_by_role("button", name="Open page 17").first.click()
    dialog = page.locator("[role='dialog']")  # type: ignore[attr-defined]
    image = dialog.locator("img[data-page-image]")
    image.wait_for(timeout=60_000)
    view = dialog.locator("[data-page-view]")
    assert view.get_attribute("data-page") == "17"
    chunk_id = view.get_attribute("data-chunk-id")
    # the cited chunk as stored; its characters found on the page by this test alone
    with open_index(app.settings, writing=False) as index:
        (hit,), _ = index.store.get([chunk_id], vectors=False)
    assert Path(hit.source).name == "R-intro.pdf" and hit.page == 17
    inside, outside, size = passage_char_boxes(Path(hit.source), 17, hit.text)
    image.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    shown = image.bounding_box()
    marks = [
        dialog.locator("[data-passage-box]").nth(i).bounding_box()
        for i in range(dialog.locator("[data-passage-box]").count())
    ]
    assert marks and shown and shown["width"] > 300
    centres = [on_screen(b, size, shown) for b in inside]
    covered = sum(inside_any(c, marks, pad=1.0) for c in centres)
    assert covered == len(centres), f"{len(centres) - covered} passage characters not marked"
    strays = [
        c for c in (on_screen(b, size, shown) for b in outside) if inside_any(c, marks, pad=-1.0)
    ]
    assert strays == [], f"{len(strays)} characters outside the passage are marked"
    for mark in marks:  # each box holds passage text
        assert any(inside_any(c, [mark], pad=0.0) for c in centres)
    # the sentences the extractive answer quoted from this passage are marked within it
    quotes = [
        dialog.locator("[data-quote-box]").nth(i).bounding_box()
        for i in range(dialog.locator("[data-quote-box]").count())
    ]
    assert quotes, "no quoted sentence is marked"
    for quote in quotes:
        middle = (quote["x"] + quote["width"] / 2, quote["y"] + quote["height"] / 2)
        assert inside_any(middle, marks, pad=1.0)
        assert any(inside_any(c, [quote], pad=0.0) for c in centres)
    # the screenshot in the README: the drawer beside the chat, the highlight in view
    dialog.locator("[data-passage-box]").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "page-view.png"))  # type: ignore[attr-defined]
    publish_screenshot(tmp_path / "page-view.png", "page-view.png")
    page.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "name", "reason"),
    [
        ("Zanzibar clove harvest giant posters", "poster.pdf", "beyond PDF's limit"),
        ("quartz lantern inventory of the lighthouse", "broken.pdf", "page 1 is broken"),
    ],
)
def test_a_hostile_pdf_page_is_declined_and_the_app_carries_on(
    app: App, browser: object, query: str, name: str, reason: str
) -> None:
    page = new_page(browser, app.url)
    search(page, query)
    dialog = open_hit(page, name)
    dialog.get_by_text("This page cannot be shown").wait_for(timeout=60_000)
    text = dialog.inner_text()
    assert reason in text
    assert dialog.locator("img[data-page-image]").count() == 0
    # the passage is still there, in its text
    assert (POSTER if name == "poster.pdf" else BROKEN) in dialog.locator(
        "[data-passage]"
    ).inner_text()
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    dialog.wait_for(state="detached", timeout=30_000)
    search(page, "How are missing values represented in R?")  # the app carries on
    page.get_by_text("R-intro.pdf").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]


def test_a_markdown_hit_shows_its_surrounding_text_escaped(app: App, browser: object) -> None:
    page = new_page(browser, app.url)
    search(page, "amber beacon of the northern lighthouse")
    dialog = open_hit(page, "notes.md")
    context = dialog.locator("[data-passage-context]")
    context.wait_for(timeout=60_000)
    assert "Field notes > Lighthouse keepers" in dialog.inner_text()
    assert (
        "The amber beacon of the northern lighthouse"
        in context.locator("[data-passage]").inner_text()
    )
    assert "<img src=x onerror=alert(1)>" in context.inner_text()  # shown as text
    assert context.locator("img").count() == 0
    page.close()  # type: ignore[attr-defined]
