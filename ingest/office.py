"""Word, PowerPoint, Excel and CSV files to pages of text that keep their place.

Word headings become Markdown headers (the chunker's header path is the locator), each
slide is a page (its number is the page, "slide N" the locator), each sheet is a page
whose lines are its rows, every value beside its column header ("row 7: year: 2021;
revenue: 12"), so that a chunk of rows still says what its numbers mean."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ingest.document import Document, Page, decode_text

ROW = re.compile(r"^row (\d+):", re.MULTILINE)
MAX_CELL_CHARS = 2000  # a cell longer than this is cut: a sheet is not a place for prose


def load_docx(source: str, data: bytes) -> Document:
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            lines.append("")
            continue
        text = block.text.strip()
        if not text:
            continue
        level = _heading_level(block.style.name if block.style is not None else "")
        lines.append(f"{'#' * level} {text}" if level else text)
        lines.append("")
    return Document(source, "word", (Page(0, "\n".join(lines)),), total_pages=1)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)), 6) if match else 0


def _table_lines(table: Any) -> list[str]:
    rows = [[_cell(c.text) for c in row.cells] for row in table.rows]
    if not rows:
        return []
    headers = rows[0]
    return [_row_text(None, headers, row) for row in rows[1:]] or [" | ".join(headers)]


def load_pptx(source: str, data: bytes) -> Document:
    from pptx import Presentation

    deck = Presentation(io.BytesIO(data))
    pages: list[Page] = []
    total = 0
    for number, slide in enumerate(deck.slides, start=1):
        total = number
        parts = [t for t in _shape_texts(slide.shapes) if t]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(f"Notes: {notes.text.strip()}")
        text = "\n".join(parts)
        if text.strip():
            pages.append(Page(number, text, locator=f"slide {number}"))
    return Document(
        source, "slides", tuple(pages), empty_pages=total - len(pages), total_pages=total
    )


def _shape_texts(shapes: Iterable[Any]) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None:  # a group
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield "\n".join(_table_lines(shape.table))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text.strip()


def load_xlsx(source: str, data: bytes) -> Document:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        pages = []
        for number, sheet in enumerate(book.worksheets, start=1):
            text = _rows_text(sheet.iter_rows(values_only=True))
            if text:
                pages.append(Page(number, text, locator=sheet.title))
        total = len(book.worksheets)
    finally:
        book.close()
    return Document(
        source, "spreadsheet", tuple(pages), empty_pages=total - len(pages), total_pages=total
    )


def load_csv(source: str, data: bytes) -> Document:
    text = decode_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = _rows_text(csv.reader(io.StringIO(text), dialect))
    pages = (Page(1, rows, locator=""),) if rows else ()
    return Document(source, "csv", pages, empty_pages=1 - len(pages), total_pages=1)


def _rows_text(rows: Iterable[Iterable[Any]]) -> str:
    """One line per non-empty row, each value with its column header (the first non-empty
    row), numbered as the spreadsheet numbers them."""
    headers: list[str] | None = None
    lines = []
    for number, raw in enumerate(rows, start=1):
        row = [_cell(v) for v in raw]
        if not any(row):
            continue
        if headers is None:
            headers = row
            continue
        lines.append(_row_text(number, headers, row))
    if headers is not None and not lines:  # a header row alone is still content
        lines.append(_row_text(1, [""] * len(headers), headers))
    return "\n".join(lines)


def _row_text(number: int | None, headers: list[str], row: list[str]) -> str:
    pairs = []
    for n, value in enumerate(row):
        if not value:
            continue
        header = headers[n] if n < len(headers) else ""
        pairs.append(f"{header}: {value}" if header else value)
    prefix = f"row {number}: " if number is not None else ""
    return prefix + "; ".join(pairs)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return " ".join(str(value).split())[:MAX_CELL_CHARS]


def row_range(page_text: str, start: int, end: int) -> str:
    """``rows a-b``: the rows of a sheet's text that ``page_text[start:end]`` covers."""
    found = [(m.start(), int(m.group(1))) for m in ROW.finditer(page_text, 0, max(end, 1))]
    if not found:
        return ""
    before = [n for at, n in found if at <= start]
    first, last = (before[-1] if before else found[0][1]), found[-1][1]
    return f"row {first}" if first == last else f"rows {first}-{last}"
