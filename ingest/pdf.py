"""PDF files to pages of text, with one-line reasons for the files that cannot be read.

The text layer is read by PDFium (``pypdfium2``) by default, or by pypdf with
``RAG_PDF_TEXT=pypdf``, or by pypdf's layout mode with ``RAG_PDF_TEXT=pypdf-layout`` (words
placed by their position on the page, so a table row is one line even when the file draws
its cells column by column). PDFium is about ten times faster on the shared manuals, joins
the words that a line break hyphenated and spells ligatures out (pypdf keeps ``ﬁ``, and
loses it in some fonts); ``bench/pdf_tables.py`` measures what each gives retrieval. Pages
without a usable text layer are read by OCR (``ingest.ocr``).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.document import NO_TEXT, Document, Page, clean, reason_of
from ingest.pdfium_lock import PDFIUM_LOCK
from rag.errors import IngestError

if TYPE_CHECKING:
    from ingest.ocr import OcrProgress

log = logging.getLogger(__name__)

EXTRACTORS = ("pdfium", "pypdf", "pypdf-layout")  # RAG_PDF_TEXT's values, the default first
# PDFium's FPDF_GetLastError codes for a document that does not open
_PASSWORD, _SECURITY = 4, 5
# the reason an encrypted file is refused, and how to get past it without sharing the password
ENCRYPTED = (
    "encrypted; password required: save a copy without the password (for instance "
    "qpdf --decrypt --password=PASSWORD in.pdf out.pdf) and ingest that"
)
_SPACES = re.compile(r"\s{2,}")  # pypdf's layout mode aligns columns with runs of spaces
# PDFium marks a hyphen it removed at a line break (the two halves already joined) with
# U+FFFE, and ends lines with CR LF
_PDFIUM_MARKS = str.maketrans({"\ufffe": None, "\x02": None})


def load_pdf(
    path: Path,
    data: bytes,
    *,
    ocr: bool = False,
    progress: OcrProgress | None = None,
    extractor: str = "pdfium",
) -> Document:
    """The pages of a PDF (1-based numbers), their text layer read by ``extractor``."""
    source = str(path)
    if b"%PDF-" not in data[:1024]:
        raise IngestError(source, "not a PDF (no %PDF- header); is the extension wrong?")
    texts = page_texts(source, data, extractor)
    pages = [Page(number, clean(text)) for number, text in enumerate(texts, start=1)]
    total = len(pages)
    if ocr:
        pages = _with_ocr(source, data, pages, progress)
    from ingest.outline import pdf_sections

    sections = pdf_sections(source, data, [p.text for p in pages])
    if not any(sections):
        # no outline: each page's own title lines are what its chunks are about
        from ingest.pagetitle import page_titles

        sections = [
            ((0, title),) if title else () for title in page_titles([p.text for p in pages])
        ]
    pages = [
        replace(p, sections=sections[p.number - 1] if 0 < p.number <= total else ())
        for p in pages
        if p.text.strip()
    ]
    empty = total - len(pages)
    if not pages:
        hint = "none recognised by OCR either" if ocr else "RAG_OCR=on would read them"
        raise IngestError(source, f"{NO_TEXT} ({total} pages without a text layer; {hint})")
    if empty:
        log.info("%s: %d of %d pages have %s", source, empty, total, NO_TEXT)
    return Document(source, "pdf", tuple(pages), empty_pages=empty, total_pages=total)


def page_texts(source: str, data: bytes, extractor: str) -> list[str]:
    """Every page's text layer as ``extractor`` (a value of RAG_PDF_TEXT) reads it."""
    if extractor == "pdfium":
        return pdfium_texts(source, data)
    return pypdf_texts(source, data, layout=extractor == "pypdf-layout")


def pdfium_text(raw: str) -> str:
    """PDFium's page text as the other loaders give it: ``\\n`` line ends, no U+FFFE marks
    of removed hyphens."""
    return raw.translate(_PDFIUM_MARKS).replace("\r\n", "\n").replace("\r", "\n")


def pdfium_texts(source: str, data: bytes) -> list[str]:
    """The text layer of every page, read by PDFium. An encrypted file opens when its user
    password is empty, as in a viewer."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if exc.err_code == _PASSWORD:
                raise IngestError(source, ENCRYPTED) from exc
            if exc.err_code == _SECURITY:
                raise IngestError(
                    source, "encrypted with a security scheme PDFium does not support"
                ) from exc
            raise IngestError(source, f"unreadable PDF ({reason_of(exc)})") from exc
        try:
            texts = []
            for index in range(len(pdf)):
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    texts.append(pdfium_text(textpage.get_text_range()))
                    textpage.close()
                finally:
                    page.close()
            return texts
        except (pdfium.PdfiumError, ValueError, IndexError, AssertionError) as exc:
            raise IngestError(source, f"unreadable PDF ({reason_of(exc)})") from exc
        finally:
            pdf.close()


def pypdf_texts(source: str, data: bytes, *, layout: bool = False) -> list[str]:
    """The text layer of every page, read by pypdf; with ``layout``, in its layout mode,
    whose column-aligning spaces and blank lines are squeezed (the order of the words is
    what it adds)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _unlock(reader):
            raise IngestError(source, ENCRYPTED)
        if layout:
            return [
                _squeezed(page.extract_text(extraction_mode="layout") or "")
                for page in reader.pages
            ]
        return [page.extract_text() or "" for page in reader.pages]
    except IngestError:
        raise
    except (
        PdfReadError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        RecursionError,
        AssertionError,
        ZeroDivisionError,
        OSError,
    ) as exc:
        # pypdf raises a zoo of exception types on broken files; each is one bad file
        raise IngestError(source, f"unreadable PDF ({reason_of(exc)})") from exc


def _squeezed(text: str) -> str:
    lines = (_SPACES.sub("  ", line.strip()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _unlock(reader: object) -> bool:
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    try:
        result = reader.decrypt("")  # type: ignore[attr-defined]
        return bool(result != PasswordType.NOT_DECRYPTED)
    except DependencyError:
        return False


def _with_ocr(
    source: str, data: bytes, pages: list[Page], progress: OcrProgress | None
) -> list[Page]:
    """Pages without a usable text layer, read by OCR, decided page by page: the
    recognised text replaces the layer only when it holds more words."""
    from ingest.ocr import ocr_pdf_pages, usable

    todo = [p.number for p in pages if not usable(p.text)]
    if not todo:
        return pages
    log.info("%s: OCR of %d of %d pages", source, len(todo), len(pages))
    try:
        read = {p.number: p for p in ocr_pdf_pages(source, data, todo, progress)}
    except Exception as exc:  # pdfium's errors are one bad file too; keep the text layer
        log.warning("%s: OCR failed (%s)", source, reason_of(exc))
        return pages
    return [
        read[p.number]
        if p.number in read and len(read[p.number].text.split()) > len(p.text.split())
        else p
        for p in pages
    ]
