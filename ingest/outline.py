"""A PDF's outline (its bookmarks) as the heading path of each place in its pages.

A bookmark points at a page; its heading is looked up in that page's text to find where
on the page its section starts (a bookmark whose heading is not in the text starts where
the page's previous section did). A place in a page then has the outline's trail to the
last section started at or before it: "2 Simple manipulations > 2.5 Missing values".
``rag.store.passages`` puts that path before the text of a chunk when it is embedded and
indexed. A PDF without an outline, or with one PDFium cannot read, has no paths: that is
never an error.
"""

from __future__ import annotations

import logging
import re

from ingest.pdfium_lock import PDFIUM_LOCK

log = logging.getLogger(__name__)

MAX_DEPTH = 8  # deeper levels add little to a path and cost a walk of every bookmark
MAX_TITLE_CHARS = 80  # a bookmark that holds a paragraph is not a heading
Mark = tuple[int, int, str]  # (1-based page, 0-based level, title), in outline order
Sections = tuple[tuple[int, str], ...]  # (character offset in the page, path), by offset


def page_sections(marks: list[Mark], texts: list[str]) -> list[Sections]:
    """Where each section starts in each page of ``texts`` (index 0 is page 1)."""
    trail: list[str] = []
    placed: list[tuple[int, int, str, str]] = []  # (page, outline position, title, path)
    for position, (page, level, title) in enumerate(marks):
        title = " ".join(title.split())
        trail = [*trail[: max(level, 0)], title[:MAX_TITLE_CHARS]]
        placed.append((page, position, title, " > ".join(t for t in trail if t)))
    placed.sort()
    out: list[Sections] = []
    inherited, at = "", 0
    for number, text in enumerate(texts, start=1):
        sections = [(0, inherited)] if inherited else []
        offset = 0
        while at < len(placed) and placed[at][0] <= number:
            _, _, title, path = placed[at]
            offset = _find(title, text, offset)
            sections.append((offset, path))
            inherited = path
            at += 1
        out.append(tuple(sections))
    return out


def _find(title: str, text: str, start: int) -> int:
    """Where ``title`` starts in ``text`` from ``start``: first as a heading (at the start
    of a line, maybe after its number: "2.5 Missing values"), then as written anywhere;
    ``start`` when it is not there."""
    words = title.split()[:12]
    if not words:
        return start
    body = r"\s+".join(re.escape(w) for w in words)
    for pattern, flags in (
        (rf"^[ \t]*(?:[\dA-Z][\d.]*[.:]?[ \t]+)?({body})", re.MULTILINE | re.IGNORECASE),
        (rf"({body})", 0),
    ):
        found = re.compile(pattern, flags).search(text, start)
        if found:
            return found.start()
    return start


def section_at(sections: Sections, offset: int) -> str:
    """The heading path at ``offset`` of a page with ``sections``."""
    path = ""
    for start, here in sections:
        if start > offset:
            break
        path = here
    return path


def pdf_sections(source: str, data: bytes, texts: list[str]) -> list[Sections]:
    """The sections of each page of the PDF whose page texts are ``texts``."""
    import pypdfium2 as pdfium

    marks: list[Mark] = []
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return [()] * len(texts)  # the text extractor has said why already
        try:
            for mark in pdf.get_toc(max_depth=MAX_DEPTH):
                dest = mark.get_dest()
                index = dest.get_index() if dest is not None else None
                if index is not None and 0 <= index < len(texts):
                    marks.append((index + 1, int(mark.level), mark.get_title() or ""))
        except Exception as exc:  # a broken outline costs the paths, never the document
            log.info("%s: outline not read (%s)", source, exc)
            return [()] * len(texts)
        finally:
            pdf.close()
    return page_sections(marks, texts)
