"""File -> pages of text with page numbers. Failures are per file, with a reason."""

from __future__ import annotations

import errno
import logging
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError

log = logging.getLogger(__name__)

KINDS = {".pdf": "pdf", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}
NO_TEXT = "no extractable text — scanned image?"
# A "line" this long is data (minified, generated, binary-ish), not prose: splitting it
# would cost minutes and gigabytes for chunks nobody can read.
MAX_LINE_CHARS = 1_000_000
_LONG_LINE = re.compile(rf"[^\n]{{{MAX_LINE_CHARS}}}")


@dataclass(frozen=True)
class Page:
    number: int  # 1-based for PDFs, 0 for files without pages
    text: str


@dataclass(frozen=True)
class Document:
    source: str
    kind: str  # "pdf", "markdown" or "text"
    pages: tuple[Page, ...]
    empty_pages: int = 0  # pages without a text layer (PDF)
    total_pages: int = 0


def kind_of(path: Path) -> str | None:
    return KINDS.get(path.suffix.lower())


def load(path: Path) -> Document:
    """Load one file; raise IngestError with a one-line reason when it cannot be read."""
    kind = kind_of(path)
    if kind is None:
        raise IngestError(str(path), f"unsupported file type {path.suffix or '(none)'!r}")
    data = _read_regular_file(path)
    if not data:
        raise IngestError(str(path), "empty file; nothing to index")
    if kind == "pdf":
        return load_pdf(path, data)
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


def load_pdf(path: Path, data: bytes) -> Document:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%PDF-" not in data[:1024]:
        raise IngestError(str(path), "not a PDF (no %PDF- header); is the extension wrong?")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _unlock(reader):
            raise IngestError(str(path), "encrypted; password required")
        pages: list[Page] = []
        empty = 0
        for number, page in enumerate(reader.pages, start=1):
            text = _clean(page.extract_text() or "")
            if text.strip():
                pages.append(Page(number, text))
            else:
                empty += 1
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
        raise IngestError(str(path), f"unreadable PDF ({_reason(exc)})") from exc
    total = len(pages) + empty
    if not pages:
        raise IngestError(str(path), f"{NO_TEXT} ({total} pages without a text layer)")
    if empty:
        log.info("%s: %d of %d pages have %s", path, empty, total, NO_TEXT)
    return Document(str(path), "pdf", tuple(pages), empty_pages=empty, total_pages=total)


def _unlock(reader: object) -> bool:
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    try:
        result = reader.decrypt("")  # type: ignore[attr-defined]
        return bool(result != PasswordType.NOT_DECRYPTED)
    except DependencyError:
        return False


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the detected encoding; never fails."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _clean(data.decode("utf-16", errors="replace"))
    try:
        return _clean(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 1 << 20]).best()
        if best is not None and best.encoding:
            return _clean(data.decode(best.encoding, errors="replace"))
    except (LookupError, ImportError):  # pragma: no cover - unknown codec name
        pass
    return _clean(data.decode("cp1252", errors="replace"))


def _clean(text: str) -> str:
    # NUL bytes and lone surrogates break tokenizers and JSON; they carry no meaning here
    text = text.replace("\x00", "")
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _reason(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = exc.__class__.__name__
    return f"{name}: {message[:160]}" if message else name
