"""A cited PDF page as an image, with the boxes of the cited passage on it.

The page is rendered by PDFium (``pypdfium2``, as ``ingest.pdf`` reads the text) within
limits: a page side beyond PDF's own limit (14,400 points, 200 inches) is refused, and the
scale is lowered until the image holds at most ``MAX_PIXELS`` pixels and ``MAX_SIDE_PX`` on
its longer side (so a poster-sized page is scaled down, never allocated at full size); a
page that would then be thinner than ``MIN_SIDE_PX`` is refused. The passage is found in
the page text as ingestion normalised it (``ingest.pagetext``), mapped back to PDFium's
character indices, and its text rectangles are mapped onto the image by PDFium's own
page-to-device transform (so a rotated or cropped page is right too). Every failure is a
``PageViewError`` whose message says why; a passage that is not found leaves the page
without boxes and says so in ``note``.
"""

from __future__ import annotations

import ctypes
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.document import reason_of
from ingest.loaders import check_regular_file
from ingest.pagetext import Span, find_passage, normalised
from ingest.pdfium_lock import PDFIUM_LOCK
from rag.errors import IngestError, PageViewError

log = logging.getLogger(__name__)

MAX_PAGE_POINTS = 14_400.0  # PDF's largest page side (ISO 32000-1, annex C)
MAX_PIXELS = 4_000_000  # 16 MB as the 4-byte bitmap PDFium draws into
MAX_SIDE_PX = 6_000
MIN_SIDE_PX = 16
WIDTH_PX = 1_200  # the image's width for an ordinary page (sharp on a high-DPI screen)
_PASSWORD, _SECURITY = 4, 5  # PDFium's FPDF_GetLastError codes
_PRECISION = 16  # device units per pixel when mapping boxes (PDFium maps to integers)
NOT_FOUND = "The passage was not found on this page (the file may have changed since it was "
NOT_FOUND += "indexed, or its text was recognised by OCR), so nothing is highlighted."


@dataclass(frozen=True)
class Box:
    """A rectangle on the image, as fractions of its width and height (top-left origin)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width: int  # pixels
    height: int
    page: int  # 1-based
    boxes: tuple[Box, ...]  # the passage's lines; () when it was not found
    how: str  # how the passage was found ("offset", "text", "words"), "" when it was not
    note: str = ""  # for the reader: why nothing is highlighted, or that it was scaled down
    quotes: tuple[Box, ...] = ()  # the lines of the sentences an answer quoted from it


def render_scale(width_pt: float, height_pt: float, *, width_px: int = WIDTH_PX) -> float:
    """The scale (pixels per point) for a page of this size, within the limits; raises
    PageViewError for a page too large or too thin to show."""
    if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or min(width_pt, height_pt) <= 0:
        raise PageViewError(f"the page has no usable size ({width_pt} x {height_pt} points)")
    if max(width_pt, height_pt) > MAX_PAGE_POINTS:
        raise PageViewError(
            f"the page is {width_pt:,.0f} x {height_pt:,.0f} points, beyond PDF's limit of "
            f"{MAX_PAGE_POINTS:,.0f} points a side; it is not rendered"
        )
    scale = min(
        width_px / width_pt,
        math.sqrt(MAX_PIXELS / (width_pt * height_pt)),
        MAX_SIDE_PX / max(width_pt, height_pt),
    )
    if min(width_pt, height_pt) * scale < MIN_SIDE_PX:
        raise PageViewError(
            f"the page is {width_pt:,.0f} x {height_pt:,.0f} points: too thin to show within "
            f"{MAX_PIXELS:,} pixels"
        )
    return scale


def render_page(
    path: Path, *, page: int, start: int, passage: str, quotes: Sequence[str] = ()
) -> PageImage:
    """Page ``page`` (1-based) of the PDF at ``path`` with the boxes of ``passage``, which
    ingestion stored at offset ``start`` of the page's text, and of each of ``quotes`` (an
    answer's sentences) found inside the passage."""
    _check_file(path)
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = _open(pdfium, path)
        try:
            if not 1 <= page <= len(pdf):
                raise PageViewError(
                    f"the file has {len(pdf)} pages, not page {page}; it has changed since it "
                    "was indexed (ingest it again)"
                )
            try:
                handle = pdf[page - 1]
            except pdfium.PdfiumError as exc:
                raise PageViewError(f"page {page} is broken ({reason_of(exc)})") from exc
            try:
                return _draw(pdfium, handle, page=page, start=start, passage=passage, quotes=quotes)
            finally:
                handle.close()
        finally:
            pdf.close()


def _check_file(path: Path) -> None:
    try:
        check_regular_file(path)
        with path.open("rb") as f:
            head = f.read(1024)
    except IngestError as exc:
        raise PageViewError(f"{path.name}: {exc.reason}") from exc
    except OSError as exc:
        raise PageViewError(f"{path.name} cannot be read ({exc.strerror or exc})") from exc
    if b"%PDF-" not in head:
        raise PageViewError(f"{path.name} is no longer a PDF (no %PDF- header)")


def _open(pdfium: Any, path: Path) -> Any:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if exc.err_code == _PASSWORD:
            raise PageViewError(f"{path.name} is encrypted; a password is required") from exc
        if exc.err_code == _SECURITY:
            raise PageViewError(
                f"{path.name} is encrypted with a security scheme PDFium does not support"
            ) from exc
        raise PageViewError(f"{path.name} is unreadable ({reason_of(exc)})") from exc


def _draw(
    pdfium: Any, handle: Any, *, page: int, start: int, passage: str, quotes: Sequence[str]
) -> PageImage:
    width_pt, height_pt = handle.get_size()
    scale = render_scale(width_pt, height_pt)
    try:
        bitmap = handle.render(scale=scale, may_draw_forms=False)
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG")
        width, height = image.size
        textpage = handle.get_textpage()
    except (pdfium.PdfiumError, ValueError, OSError, MemoryError) as exc:
        raise PageViewError(f"page {page} failed to render ({reason_of(exc)})") from exc
    try:
        raw = textpage.get_text_range()
        text, where = normalised(raw)
        span = find_passage(text, start=start, passage=passage)
        boxes = _boxes(pdfium, handle, textpage, raw, where, span, size=(width, height))
        marked: list[Box] = []
        if span is not None and boxes:
            # only inside the passage: a sentence may also occur elsewhere on the page
            within = text[span.start : span.end]
            for quote in quotes:
                found = find_passage(within, start=0, passage=quote)
                if found is not None:
                    at = Span(span.start + found.start, span.start + found.end, found.how)
                    marked += _boxes(pdfium, handle, textpage, raw, where, at, size=(width, height))
    except (pdfium.PdfiumError, ValueError, IndexError) as exc:
        log.warning("page %d: locating the passage failed (%s)", page, reason_of(exc))
        span, boxes, marked = None, (), []
    finally:
        textpage.close()
    note = "" if boxes else NOT_FOUND
    if scale < 1:  # smaller than printed: say so, the words may be too small to read
        note = (
            f"A large page ({width_pt:,.0f} x {height_pt:,.0f} points), scaled down to "
            f"{scale:.0%} of its printed size. {note}"
        )
    how = span.how if span is not None and boxes else ""
    return PageImage(
        out.getvalue(), width, height, page, boxes, how, note.strip(), quotes=tuple(marked)
    )


def _boxes(
    pdfium: Any,
    handle: Any,
    textpage: Any,
    raw: str,
    where: list[int],
    span: Span | None,
    *,
    size: tuple[int, int],
) -> tuple[Box, ...]:
    """The passage's text rectangles on the image, one or a few per line."""
    if span is None or span.end <= span.start:
        return ()
    raw_start, raw_end = where[span.start], where[span.end - 1] + 1
    # PDFium counts text in UTF-16 units, and its text may leave out or add characters
    # compared with its character list: translate through its own index mapping
    units = [0]
    for c in raw:
        units.append(units[-1] + (2 if ord(c) > 0xFFFF else 1))
    c = pdfium.raw
    first = c.FPDFText_GetCharIndexFromTextIndex(textpage, units[raw_start])
    last = c.FPDFText_GetCharIndexFromTextIndex(textpage, units[raw_end] - 1)
    if first < 0 or last < first:
        return ()
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects(first, last - first + 1))]
    return tuple(_merge([_to_image(c, handle, r, size=size) for r in rects]))


def _to_image(c: Any, handle: Any, rect: tuple[float, ...], *, size: tuple[int, int]) -> Box:
    width, height = size
    dw, dh = width * _PRECISION, height * _PRECISION
    left, bottom, right, top = rect
    xs, ys = [], []
    for x, y in ((left, bottom), (right, top)):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        c.FPDF_PageToDevice(handle, 0, 0, dw, dh, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        xs.append(dx.value / dw)
        ys.append(dy.value / dh)
    return Box(min(xs), min(ys), max(xs), max(ys))


def _merge(boxes: list[Box]) -> list[Box]:
    """Boxes of one line that touch become one (PDFium gives a rectangle per text run)."""
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda b: (b.left, b.top)):
        for n, kept in enumerate(merged):
            overlap = min(kept.bottom, box.bottom) - max(kept.top, box.top)
            tall = min(kept.bottom - kept.top, box.bottom - box.top)
            if overlap > 0.5 * tall and box.left - kept.right < 0.02:
                merged[n] = Box(
                    min(kept.left, box.left),
                    min(kept.top, box.top),
                    max(kept.right, box.right),
                    max(kept.bottom, box.bottom),
                )
                break
        else:
            merged.append(box)
    return sorted(merged, key=lambda b: (b.top, b.left))
