"""Uploaded files: sanitised names, size limit, type checked by content, then saved."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ingest.document import KINDS
from ingest.report import Report
from ingest.sniff import mismatch, sniff
from rag.config import StoreSettings
from rag.errors import IngestError
from rag.store.manifest import FileManifest

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


def safe_filename(name: str) -> str:
    """A plain file name: no directories, no leading dots, only [A-Za-z0-9._-]."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", base).strip("._-")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[: _MAX_NAME - len(ext) - 1] or "upload"
    return f"{stem}.{ext.lower()}" if ext else stem


def check_content(name: str, data: bytes, *, max_bytes: int) -> str:
    """The file's kind; IngestError when its size or content does not fit its extension."""
    kind = KINDS.get(Path(name).suffix.lower())
    if kind is None:
        allowed = ", ".join(sorted(KINDS))
        raise IngestError(name, f"unsupported file type; upload one of {allowed}")
    if len(data) > max_bytes:
        raise IngestError(
            name,
            f"{len(data) / 1e6:.1f} MB is over the upload limit of {max_bytes / 1e6:.0f} MB; "
            "raise RAG_MAX_UPLOAD_MB or ingest it with `python -m ingest`",
        )
    if not data:
        raise IngestError(name, "empty file; nothing to index")
    actual = sniff(data)
    if kind == "pdf" and actual != "pdf":
        raise IngestError(name, "not a PDF (no %PDF- header); is the extension wrong?")
    if kind in ("markdown", "text", "csv", "html"):
        if actual == "pdf":
            raise IngestError(name, "this is a PDF named as text; rename it to .pdf")
        if actual not in ("text", "html"):
            raise IngestError(name, "binary data, not text; upload PDF, Markdown or text")
    reason = mismatch(kind, data)
    if reason:
        raise IngestError(name, reason)
    return kind


def save_upload(name: str, data: bytes, *, folder: Path, max_bytes: int) -> Path:
    """Write a checked upload into ``folder`` (never outside it) and return its path."""
    filename = safe_filename(name)
    check_content(filename, data, max_bytes=max_bytes)
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / filename).resolve()
    if target.parent != folder.resolve():  # pragma: no cover - safe_filename prevents it
        raise IngestError(name, "invalid file name")
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    if target.is_file():  # a re-upload: the indexed version is kept until this one is ingested
        previous = previous_of(target)
        previous.unlink(missing_ok=True)
        try:
            os.link(target, previous)
        except OSError:  # a file system without hard links
            shutil.copy2(target, previous)
    tmp.replace(target)  # atomic: the ingester never sees half a file
    return target


def previous_of(path: Path) -> Path:
    """Where ``save_upload`` keeps the version it replaced (hidden, so never ingested)."""
    return path.with_name(f".{path.name}.previous")


def upload_folder(store: StoreSettings, name: str, *, manifest: FileManifest) -> Path:
    """Where an upload of ``name`` is kept: its collection's own folder, so two collections
    can each hold a ``report.pdf``. A file this collection indexed when every collection
    shared one folder is updated where it is, not indexed a second time."""
    shared = store.store_dir / "uploads" / safe_filename(name)
    known = manifest.get(str(shared.absolute())) is not None
    return shared.parent if known else store.upload_dir


def keep_ingested(saved: Sequence[Path], report: Report | None) -> list[Path]:
    """The saved uploads that were ingested (``report`` None: the run did not happen, so none
    was). One that was not is taken back: the version it replaced is put back, the one the
    index still holds, or, for a new file, it is deleted, since it would sit in the uploads
    folder indexed by nothing (the app and the API alike)."""
    failed = {e.path for e in report.errors} if report is not None else None
    kept = []
    for path in saved:
        previous = previous_of(path)
        if failed is None or str(path.absolute()) in failed:
            if previous.is_file():
                previous.replace(path)
            else:
                path.unlink(missing_ok=True)
        else:
            previous.unlink(missing_ok=True)
            kept.append(path)
    return kept
