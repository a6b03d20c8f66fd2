"""Optical character recognition, offline: PDF pages without a usable text layer and image
files are read by RapidOCR, whose PP-OCR ONNX models ship inside the
``rapidocr-onnxruntime`` wheel (nothing is downloaded). PDF pages are rendered with
pypdfium2. Pages read this way carry ``ocr=True`` down to the citations."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ingest.document import Document, Page
from ingest.pdfium_lock import PDFIUM_LOCK
from rag.errors import IngestError

log = logging.getLogger(__name__)

# (source, pages done, pages to do) after each recognised page: the CLI's progress bar
OcrProgress = Callable[[str, int, int], None]

# PDF points to pixels. 72 dpi, on purpose: the bundled recogniser (PP-OCRv4, trained on
# Chinese and English) glues English words together on sharper renders of a 144-dpi scan
# of R-intro.pdf (bench/ocr.py measures the words recovered at each scale)
RENDER_SCALE = 1.0
MAX_PIXELS = 25_000_000  # a larger render (a poster-sized page) is scaled down to this
MAX_FRAMES = 1000  # pages of a multi-page TIFF, at most
MIN_TEXT_CHARS = 20  # a text layer with fewer characters than this is not a usable one
# an upright page of print reads at a mean line confidence of about 0.97, one upside down
# at about 0.63 (R-intro p.17 rendered at 72 dpi): below this, the page is read again with
# the angle classifier
UPRIGHT_SCORE = 0.8

_engine: Any = None
_engine_lock = threading.Lock()


def engine() -> Any:
    """The RapidOCR engine, loaded once (its models come from its own package)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR()
        return _engine


def recognise(image: Any) -> str:
    """The text of a PIL image, in reading order: one line per text line, a blank line
    where the gap between two lines is wider than a line.

    Lines are read as they stand. RapidOCR's angle classifier, which turns a line it takes
    for upside down before reading it, turned one upright line of R-intro p.17 ("In some
    cases the components of a vector may not be completely known. When an element") and
    read "aaa tre uat ou aaduoo aq pou r opoaa ..." instead. A page scanned upside down
    reads as such garbage throughout, with a low mean confidence: only then is the page
    read again with the classifier, and the better-read of the two kept."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB"))
    result = engine()(pixels, use_cls=False)[0] or []
    if mean_score(result) < UPRIGHT_SCORE:
        turned = engine()(pixels, use_cls=True)[0] or []
        if mean_score(turned) > mean_score(result):
            result = turned
    return lines_text(result)


def mean_score(result: Sequence[Any]) -> float:
    """The mean recognition confidence of an OCR result's lines (0 without lines)."""
    return sum(float(score) for _, _, score in result) / len(result) if result else 0.0


def lines_text(result: Sequence[Any]) -> str:
    boxes = []
    for box, text, _score in result:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        boxes.append((min(ys), max(ys), min(xs), str(text)))
    boxes.sort(key=lambda b: (b[0] + b[1]) / 2)
    lines: list[list[tuple[float, float, float, str]]] = []
    for box in boxes:
        if lines:
            top, bottom = lines[-1][0][0], lines[-1][0][1]
            centre = (box[0] + box[1]) / 2
            if top <= centre <= bottom:
                lines[-1].append(box)
                continue
        lines.append([box])
    out: list[str] = []
    previous_bottom: float | None = None
    for line in lines:
        top = min(b[0] for b in line)
        height = max(b[1] - b[0] for b in line)
        if previous_bottom is not None and top - previous_bottom > height:
            out.append("")
        out.append(" ".join(b[3] for b in sorted(line, key=lambda b: b[2])))
        previous_bottom = max(b[1] for b in line)
    return "\n".join(out)


def usable(text: str) -> bool:
    return len("".join(text.split())) >= MIN_TEXT_CHARS


def ocr_pdf_pages(
    source: str,
    data: bytes,
    numbers: Sequence[int],
    progress: OcrProgress | None = None,
    *,
    scale: float = RENDER_SCALE,
) -> list[Page]:
    """Render (``scale`` pixels a point, at most) and recognise the pages ``numbers``
    (1-based) of a PDF."""
    import pypdfium2 as pdfium

    pages: list[Page] = []
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
    try:
        for done, number in enumerate(numbers, start=1):
            with PDFIUM_LOCK:  # held to render, not to recognise
                page = pdf[number - 1]
                width, height = page.get_size()
                fit = min(scale, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
                image = page.render(scale=fit).to_pil()
                page.close()
            text = recognise(image)
            if text.strip():
                pages.append(Page(number, text, ocr=True))
            if progress:
                progress(source, done, len(numbers))
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    return pages


def load_image(source: str, data: bytes, progress: OcrProgress | None = None) -> Document:
    """An image file (PNG, JPEG, TIFF; every page of a multi-page TIFF) read by OCR."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = []
        for frame in ImageSequence.Iterator(image):
            frames.append(frame.copy())
            if len(frames) >= MAX_FRAMES:
                break
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise IngestError(source, f"unreadable image ({exc.__class__.__name__})") from exc
    pages = []
    for number, frame in enumerate(frames, start=1):
        text = recognise(frame)
        if text.strip():
            # a single image has no pages to cite; the pages of a TIFF do
            pages.append(Page(number if len(frames) > 1 else 0, text, ocr=True))
        if progress:
            progress(source, number, len(frames))
    total = len(frames)
    if not pages:
        raise IngestError(source, "no text recognised in the image")
    empty = total - len(pages)
    return Document(source, "image", tuple(pages), empty_pages=empty, total_pages=total)


def words(text: str) -> list[str]:
    """Lower-case word tokens: what recognised text is compared on."""
    return re.findall(r"\w+", text.lower())


def recovered(reference: list[str], recognised: list[str]) -> float:
    """The share of the reference's words (with their counts) found in the recognised ones."""
    return sum((Counter(reference) & Counter(recognised)).values()) / len(reference)


def word_error_rate(reference: list[str], recognised: list[str]) -> float:
    """Word-level edit distance over the reference's length."""
    row = list(range(len(recognised) + 1))
    for i, ref in enumerate(reference, start=1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(recognised, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[len(recognised)] / len(reference)
