"""The cited page, beside the chat: a button under each source and search hit opens a
drawer on the right with the PDF page rendered and the passage highlighted on it, or, for
other formats (and for a page that cannot be shown), the passage in its surrounding text
with its locator.

Nothing here loads a remote resource: the page image travels inside the HTML as a data
URI, and document text is HTML-escaped before it is put in the page (``st.html`` sanitizes
it again). The highlight is a positioned element over the image per line of the passage,
in percentages of the image, carrying ``data-passage-box`` so a test can measure it.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from ingest.pagerender import Box, PageImage, render_page
from rag.errors import PageViewError, RagError
from rag.lru import BoundedLRU
from rag.retrieval.surroundings import Surrounding, neighbour_starts, surrounding
from rag.store.chroma import Store
from rag.types import Hit
from ui.markdown import code_span_name, neutralize_markdown

STORE_KEY = "_page_view_store"
DRAWER_PX = 720
# rendered pages of every session of this process: 32 pages, 64 MB at most
PAGES: BoundedLRU[PageImage] = BoundedLRU(
    max_entries=32,
    max_bytes=64 << 20,
    size=lambda p: len(p.png) + 64 * (len(p.boxes) + len(p.quotes)) + 256,
)


def attach_store(store: Store) -> None:
    """The store this session reads (where the surrounding text of a passage comes from)."""
    st.session_state[STORE_KEY] = store


def is_pdf(hit: Hit) -> bool:
    return hit.source.lower().endswith(".pdf") and "://" not in hit.source


def open_button(hit: Hit, *, key: str, quotes: Sequence[str] = ()) -> None:
    """A button that opens ``hit`` beside the chat; ``quotes``, the sentences an answer
    quoted from it, are marked more strongly inside the passage."""
    label = f"Open page {hit.page}" if is_pdf(hit) and hit.page else "Show in context"
    if st.button(label, key=key, icon=":material/article:", type="tertiary"):
        show_source(hit, tuple(quotes))


@st.dialog("Source", width=DRAWER_PX, position="right")
def show_source(hit: Hit, quotes: tuple[str, ...] = ()) -> None:
    where = f" · {hit.place()}" if hit.place() else ""
    st.markdown(f"`{code_span_name(hit.source)}`{where}")
    if hit.header_path and hit.header_path != hit.locator:
        st.caption(neutralize_markdown(hit.header_path))
    if not is_pdf(hit):
        show_context(hit)
        return
    try:
        with st.spinner("Rendering the page…"):
            image = cached_page(hit, quotes)
    except PageViewError as exc:
        st.warning(f"This page cannot be shown: {exc}", icon=":material/broken_image:")
        show_context(hit)
        return
    if image.note:
        st.caption(image.note)
    st.html(page_html(image, chunk_id=hit.chunk_id))


def cached_page(hit: Hit, quotes: tuple[str, ...] = ()) -> PageImage:
    """The page of ``hit`` rendered, from the bounded cache while the file is unchanged."""
    path = Path(hit.source)
    try:
        info = path.stat()
    except OSError as exc:
        raise PageViewError(
            f"{path.name} is no longer at {path.parent} ({exc.strerror or exc}); was it "
            "moved or deleted? Ingest it again from its new place."
        ) from exc
    digest = hashlib.sha256("\x1f".join((hit.text, *quotes)).encode("utf-8", "replace"))
    key = (str(path), info.st_mtime_ns, info.st_size, hit.page, hit.start_index, digest.hexdigest())
    return PAGES.get_or_make(
        key,
        lambda: render_page(
            path, page=hit.page, start=hit.start_index, passage=hit.text, quotes=quotes
        ),
    )


def page_html(image: PageImage, *, chunk_id: str) -> str:
    """The page image with a box over each line of the passage (no document text)."""
    data = base64.b64encode(image.png).decode("ascii")
    boxes = "".join(_box_html(box) for box in image.boxes)
    boxes += "".join(_box_html(box, quote=True) for box in image.quotes)
    return (
        f'<div data-page-view data-chunk-id="{html.escape(chunk_id)}" '
        f'data-page="{image.page}" data-located="{html.escape(image.how)}" '
        'style="position:relative;width:100%;line-height:0">'
        f'<img data-page-image alt="page {image.page}" src="data:image/png;base64,{data}" '
        'style="width:100%;height:auto;display:block;border:1px solid #ddd">'
        f"{boxes}</div>"
    )


def _box_html(box: Box, *, quote: bool = False) -> str:
    """A passage line lightly shaded; a quoted sentence's line shaded deeper and underlined."""
    left, top = 100 * box.left, 100 * box.top
    width, height = 100 * (box.right - box.left), 100 * (box.bottom - box.top)
    kind, look = (
        ("data-quote-box", "background:rgba(255,140,0,0.35);border-bottom:2px solid #c05000")
        if quote
        else (
            "data-passage-box",
            "background:rgba(255,200,0,0.35);outline:2px solid rgba(230,140,0,0.85)",
        )
    )
    return (
        f'<div {kind} style="position:absolute;left:{left:.3f}%;top:{top:.3f}%;'
        f'width:{width:.3f}%;height:{height:.3f}%;{look};pointer-events:none"></div>'
    )


def show_context(hit: Hit) -> None:
    """The passage in its surrounding text, from the stored neighbouring chunks."""
    store = st.session_state.get(STORE_KEY)
    neighbours: list[Hit] = []
    if isinstance(store, Store):
        start, end = neighbour_starts(hit)
        try:
            neighbours = store.around(hit.source, hit.page, start=start, end=end)
        except RagError as exc:
            st.caption(f"The surrounding text cannot be read: {exc}")
    st.html(context_html(surrounding(hit, neighbours)))


def context_html(text: Surrounding) -> str:
    """The passage marked in its surrounding text; all of it HTML-escaped."""
    return (
        '<div data-passage-context style="white-space:pre-wrap;font-family:inherit;'
        'line-height:1.5;border:1px solid #ddd;border-radius:6px;padding:0.75rem">'
        f"{html.escape(text.before)}"
        '<mark data-passage style="background:rgba(255,200,0,0.45);padding:0 1px">'
        f"{html.escape(text.passage)}</mark>{html.escape(text.after)}</div>"
    )
