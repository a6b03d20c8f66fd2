"""Which files a path names (folders walked, hidden and tool folders skipped) and what a file
is to the manifest: its source (the absolute path) and its content hash."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from ingest.document import kind_of
from ingest.report import FileError

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".rag"}


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[FileError], list[str]]:
    """Supported files under ``paths`` (sorted, no symlinked directories followed)."""
    found: list[Path] = []
    errors: list[FileError] = []
    skipped: list[str] = []
    for root in paths:
        if root.is_dir():
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    path = Path(folder) / name
                    if name.startswith("."):
                        continue
                    (found if kind_of(path) else skipped).append(path)  # type: ignore[arg-type]
        elif root.exists() or root.is_symlink():
            if kind_of(root):
                found.append(root)
            else:
                skipped.append(str(root))
        else:
            errors.append(FileError(str(root), "no such file or directory"))
    unique = sorted({source_of(p): p for p in found}.items())
    return [p for _, p in unique], errors, [str(s) for s in skipped]


def source_of(path: Path) -> str:
    return str(path.absolute())


def file_sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size
