"""File -> pages of text with page numbers: the dispatcher that hands each kind of file to
its reader. Failures are per file, with a reason."""

from __future__ import annotations

import errno
import logging
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.document import Document, Page, decode_text, kind_of, reason_of
from rag.errors import IngestError

if TYPE_CHECKING:
    from ingest.ocr import OcrProgress

log = logging.getLogger(__name__)

# A "line" this long is data (minified, generated, binary-ish), not prose: splitting it
# would cost minutes and gigabytes for chunks nobody can read.
MAX_LINE_CHARS = 1_000_000
_LONG_LINE = re.compile(rf"[^\n]{{{MAX_LINE_CHARS}}}")


def load(
    path: Path,
    *,
    ocr: bool = True,
    progress: OcrProgress | None = None,
    pdf_text: str = "pdfium",
) -> Document:
    """Load one file; raise IngestError with a one-line reason when it cannot be read.
    With ``ocr``, images and PDF pages without a usable text layer are read by OCR;
    ``pdf_text`` names what reads a PDF's text layer (``RAG_PDF_TEXT``)."""
    from ingest.pdf import load_pdf
    from ingest.sniff import mismatch

    kind = kind_of(path)
    if kind is None:
        raise IngestError(str(path), f"unsupported file type {path.suffix or '(none)'!r}")
    data = _read_regular_file(path)
    if not data:
        raise IngestError(str(path), "empty file; nothing to index")
    if kind == "pdf":
        return load_pdf(path, data, ocr=ocr, progress=progress, extractor=pdf_text)
    reason = mismatch(kind, data)
    if reason:
        raise IngestError(str(path), reason)
    if kind not in ("markdown", "text"):
        return _load_rich(path, kind, data, ocr=ocr, progress=progress)
    text = decode_text(data)
    if not text.strip():
        raise IngestError(str(path), "file contains only whitespace; nothing to index")
    if _LONG_LINE.search(text):
        raise IngestError(
            str(path),
            f"has a line over {MAX_LINE_CHARS:,} characters: data, not prose (minified or "
            "generated?); break it into lines to index it",
        )
    return Document(source=str(path), kind=kind, pages=(Page(0, text),), total_pages=1)


def _load_rich(
    path: Path, kind: str, data: bytes, *, ocr: bool, progress: OcrProgress | None
) -> Document:
    """Office, spreadsheet, HTML, EPUB and image files, each by its own module."""
    import zipfile

    from ingest import html, office
    from ingest.sniff import check_zip

    source = str(path)
    if kind == "image":
        if not ocr:
            raise IngestError(source, "an image: its text needs OCR, which RAG_OCR=off turns off")
        from ingest.ocr import load_image

        return _checked(load_image(source, data, progress), path)
    loaders = {
        "word": office.load_docx,
        "slides": office.load_pptx,
        "spreadsheet": office.load_xlsx,
        "csv": office.load_csv,
        "html": html.load_html,
        "epub": html.load_epub,
    }
    try:
        if kind in ("word", "slides", "spreadsheet", "epub"):
            check_zip(data)
        document = loaders[kind](source, data)
    except IngestError:
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
        RecursionError,
        AssertionError,
        ImportError,
        SyntaxError,
    ) as exc:
        # each library raises its own zoo on a broken file; each is one bad file
        raise IngestError(source, f"unreadable {kind} file ({reason_of(exc)})") from exc
    return _checked(document, path)


def _checked(document: Document, path: Path) -> Document:
    if not document.pages:
        raise IngestError(str(path), "no text found; nothing to index")
    for page in document.pages:
        if _LONG_LINE.search(page.text):
            raise IngestError(str(path), f"has a line over {MAX_LINE_CHARS:,} characters")
    return document


def check_regular_file(path: Path) -> None:
    """Raise IngestError unless ``path`` is (or links to) a regular file. Reading a FIFO
    or a device named .txt would block or never end, so nothing may open one."""
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(str(path), _os_reason(exc, path)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(str(path), "not a regular file (FIFO, socket or device)")


def _read_regular_file(path: Path) -> bytes:
    check_regular_file(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(str(path), _os_reason(exc, path)) from exc


def _os_reason(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop; fix or remove the link"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return "broken symlink; its target does not exist"
    return f"cannot read file ({exc.strerror or exc})"
