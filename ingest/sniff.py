"""A file's type by its content: magic bytes, and for ZIP containers (Office, EPUB) the
members that define them. A file whose content contradicts its extension gets one line
that says what it really is."""

from __future__ import annotations

import io
import zipfile

# what each kind is called in a one-line reason
NAMES = {
    "pdf": "a PDF",
    "word": "a Word document",
    "slides": "a PowerPoint deck",
    "spreadsheet": "an Excel workbook",
    "epub": "an EPUB book",
    "image": "an image",
    "html": "an HTML page",
    "zip": "a ZIP archive",
    "binary": "binary data",
    "text": "text",
}
# uncompressed size of an Office or EPUB container, at most: a zip bomb is one bad file
MAX_UNZIPPED = 1 << 30
IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
)
_OOXML = {
    "word/document.xml": "word",
    "ppt/presentation.xml": "slides",
    "xl/workbook.xml": "spreadsheet",
}
_TEXT_KINDS = {"markdown", "text", "csv", "html"}


def sniff(data: bytes) -> str:
    """What ``data`` is: pdf, word, slides, spreadsheet, epub, zip, image, html, binary
    or text."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(IMAGE_MAGIC):
        return "image"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (
        lowered.startswith(b"<") and b"<body" in lowered
    ):
        return "html"
    return "text"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == b"application/epub+zip":
                return "epub"
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, RuntimeError):
        return "zip"
    for member, kind in _OOXML.items():
        if member in names:
            return kind
    return "zip"


def mismatch(kind: str, data: bytes) -> str | None:
    """A one-line reason when ``data`` is not what ``kind`` (from the extension) claims."""
    actual = sniff(data)
    if actual == kind or (kind in _TEXT_KINDS and actual == "text"):
        return None
    if kind in ("markdown", "text") and actual in ("html", "binary"):
        # Markdown may start with a tag; stray NUL bytes are dropped by the text decoder
        return None
    claimed = NAMES.get(kind, kind)
    return f"claims to be {claimed} by its extension but its content is {NAMES[actual]}"


def check_zip(data: bytes) -> None:
    """Raise ValueError for a ZIP container that would unpack to more than MAX_UNZIPPED."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        total = sum(info.file_size for info in archive.infolist())
    if total > MAX_UNZIPPED:
        raise ValueError(
            f"unpacks to {total / 1e9:.1f} GB (limit {MAX_UNZIPPED / 1e9:.1f} GB): a zip bomb?"
        )
