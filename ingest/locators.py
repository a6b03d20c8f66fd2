"""Where each chunk is, for its citation: the slide, the sheet and rows, the heading path,
and whether its text was recognised by OCR."""

from __future__ import annotations

from dataclasses import replace

from ingest.document import MARKDOWN_KINDS, Document
from ingest.office import row_range
from rag.types import Chunk


def locate(chunks: list[Chunk], document: Document) -> list[Chunk]:
    pages = {p.number: p for p in document.pages}
    located = []
    for chunk in chunks:
        page = pages.get(chunk.page)
        if page is None:
            located.append(chunk)
            continue
        if document.kind in ("spreadsheet", "csv"):
            end = chunk.start_index + len(chunk.text)
            rows = row_range(page.text, chunk.start_index, end)
            locator = " ".join(p for p in (page.locator, rows) if p)
        elif document.kind in MARKDOWN_KINDS - {"markdown"}:
            locator = " > ".join(p for p in (page.locator, chunk.header_path) if p)
        else:
            locator = page.locator
        located.append(replace(chunk, locator=locator, ocr=page.ocr))
    return located
