"""What every reader returns (``Document`` of ``Page``s, the file kinds) and the helpers
every reader shares (decoding bytes, cleaning text, a one-line reason for an exception).

They live apart from ``ingest.loaders`` so that the readers (``pdf``, ``office``, ``html``,
``ocr``, ``web``...) and the dispatcher that imports them do not import each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KINDS = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".docx": "word",
    ".pptx": "slides",
    ".xlsx": "spreadsheet",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".epub": "epub",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
# kinds whose text is Markdown: split at its headers, the header path is the locator
MARKDOWN_KINDS = {"markdown", "word", "html", "epub"}
NO_TEXT = "no extractable text — scanned image?"


@dataclass(frozen=True)
class Page:
    number: int  # 1-based for PDFs (the slide, sheet or chapter number); 0 without pages
    text: str
    locator: str = ""  # where it is, for a citation: "slide 3", "Sheet1", "chapter 2"
    ocr: bool = False  # the text was recognised from an image
    # where sections start in the text: (offset, heading path) from a PDF's outline
    sections: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Document:
    source: str
    kind: str  # a value of KINDS
    pages: tuple[Page, ...]
    empty_pages: int = 0  # pages without a text layer (PDF)
    total_pages: int = 0


def kind_of(path: Path) -> str | None:
    return KINDS.get(path.suffix.lower())


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the detected encoding; never fails."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return clean(data.decode("utf-16", errors="replace"))
    try:
        return clean(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 1 << 20]).best()
        if best is not None and best.encoding:
            return clean(data.decode(best.encoding, errors="replace"))
    except (LookupError, ImportError):  # pragma: no cover - unknown codec name
        pass
    return clean(data.decode("cp1252", errors="replace"))


def clean(text: str) -> str:
    # NUL bytes and lone surrogates break tokenizers and JSON; they carry no meaning here
    text = text.replace("\x00", "")
    return text.encode("utf-8", errors="replace").decode("utf-8")


def reason_of(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = exc.__class__.__name__
    return f"{name}: {message[:160]}" if message else name
