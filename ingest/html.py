"""HTML pages and EPUB books to Markdown that keeps the headings.

trafilatura keeps a page's main content (no navigation, footers or cookie banners) and
writes it as Markdown, so the chunker's header path ("Report > Revenue") is the locator."""

from __future__ import annotations

import functools
import io
import posixpath
import zipfile
from typing import Any

from ingest.document import Document, Page, decode_text
from rag.errors import IngestError

MAX_CHAPTERS = 5000


def html_to_markdown(html: bytes | str, *, url: str | None = None) -> str:
    """The main content of ``html`` as Markdown; the whole page's text when trafilatura
    finds no main content (a short page, a table of links)."""
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        favor_recall=True,
        with_metadata=False,
        config=_config(),
    )
    if not text or not text.strip():
        text = trafilatura.html2txt(html)
    return (text or "").strip()


@functools.cache
def _config() -> Any:
    """trafilatura's settings, with its minimum sizes lowered: below 250 characters of main
    content it otherwise falls back to a flat text that loses the headings (the locator)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "10")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "10")
    return config


def load_html(source: str, data: bytes) -> Document:
    text = html_to_markdown(data if b"charset" in data[:4096].lower() else decode_text(data))
    pages = (Page(0, text),) if text else ()
    return Document(source, "html", pages, empty_pages=1 - len(pages), total_pages=1)


def load_epub(source: str, data: bytes) -> Document:
    """Each chapter (a document of the spine, in reading order) is a page: its number is
    the chapter's, "chapter N" and the heading path its locator."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        container = etree.fromstring(book.read("META-INF/container.xml"), parser)
        rootfile = container.find(".//{*}rootfile")
        if rootfile is None or not rootfile.get("full-path"):
            raise IngestError(source, "EPUB without a package document (container.xml)")
        opf_path = str(rootfile.get("full-path"))
        opf = etree.fromstring(book.read(opf_path), parser)
        base = posixpath.dirname(opf_path)
        items = {
            item.get("id"): item.get("href")
            for item in opf.iterfind(".//{*}manifest/{*}item")
            if item.get("href")
        }
        spine = [ref.get("idref") for ref in opf.iterfind(".//{*}spine/{*}itemref")]
        pages: list[Page] = []
        for number, idref in enumerate(spine[:MAX_CHAPTERS], start=1):
            href = items.get(idref)
            if not href:
                continue
            name = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
            try:
                text = html_to_markdown(book.read(name))
            except KeyError:
                continue
            if text:
                pages.append(Page(number, text, locator=f"chapter {number}"))
    total = len(spine)
    return Document(source, "epub", tuple(pages), empty_pages=total - len(pages), total_pages=total)
