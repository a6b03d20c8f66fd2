"""Where a passage's characters are on a PDF page, found by PDFium directly (not through
``ingest.pagerender``), to check the viewer's highlight against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

Rect = tuple[float, float, float, float]  # left, bottom, right, top in points


@dataclass(frozen=True)
class Chars:
    inside: list[Rect]  # the passage's visible characters
    outside: list[Rect]  # every other visible character of the page
    size: tuple[float, float]  # the page's width and height in points


def passage_chars(pdf: Path, page_number: int, passage: str) -> Chars:
    """The passage found in PDFium's page text by its words (any spacing between them, a
    hyphen PDFium removed at a line end allowed inside a word)."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        page = document[page_number - 1]
        textpage = page.get_textpage()
        raw = textpage.get_text_range()
        assert len(raw) == textpage.count_chars()  # one text character per PDFium character
        words = ["\ufffe?".join(re.escape(c) for c in w) for w in passage.split()]
        match = re.search(r"\s+".join(words), raw)
        assert match is not None, "the passage is not on the page"
        inside: list[Rect] = []
        outside: list[Rect] = []
        for i, c in enumerate(raw):
            box = textpage.get_charbox(i)
            if c.isspace() or c == "\ufffe" or box[2] <= box[0] or box[3] <= box[1]:
                continue
            (inside if match.start() <= i < match.end() else outside).append(box)
        return Chars(inside, outside, page.get_size())
    finally:
        document.close()


def centre(
    rect: Rect, size: tuple[float, float], *, x: float, y: float, width: float, height: float
) -> tuple[float, float]:
    """A character's centre on an image of the (unrotated) page placed at x, y."""
    left, bottom, right, top = rect
    return (
        x + (left + right) / 2 / size[0] * width,
        y + (size[1] - (top + bottom) / 2) / size[1] * height,
    )


def within(
    point: tuple[float, float], boxes: list[tuple[float, float, float, float]], *, pad: float
) -> bool:
    """Whether the point lies in one of the (x, y, width, height) boxes grown by ``pad``."""
    px, py = point
    return any(
        x - pad <= px <= x + w + pad and y - pad <= py <= y + h + pad for x, y, w, h in boxes
    )
