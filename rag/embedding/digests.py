"""sha256 of model weights, read once per version of the file.

Hashing the bundled 90 MB weights costs a process about 0.4 CPU-seconds. The digest is
kept in the process and, when a cache folder is given, in ``sha256.json`` there, keyed by
the file's size, modification and change times, inode and device: a file that is replaced
or rewritten gets a new change time (which no user can set back) and is hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

BOOK = "sha256.json"
WEIGHTS = ("model.safetensors", "pytorch_model.bin")  # what the export is keyed by


def sha256_of(path: Path, *, cache_dir: Path | None = None) -> str:
    """The file's sha256, hashed only when this version of it was not hashed before."""
    st = path.stat()
    stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    return _digest(path.resolve(), stamp, cache_dir)


def weights_sha256(folder: Path, *, cache_dir: Path | None = None) -> str | None:
    """The sha256 of a model folder's weights; None when it has none of ``WEIGHTS``."""
    for name in WEIGHTS:
        path = folder / name
        if path.is_file():
            return sha256_of(path, cache_dir=cache_dir)
    return None


@lru_cache(maxsize=8)
def _digest(path: Path, stamp: tuple[int, ...], cache_dir: Path | None) -> str:
    book = _read(cache_dir / BOOK) if cache_dir is not None else {}
    entry = book.get(str(path))
    if isinstance(entry, dict) and entry.get("stamp") == list(stamp):
        digest = entry.get("sha256")
        if isinstance(digest, str) and len(digest) == 64:
            return digest
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if cache_dir is not None:
        # read again just before writing: another process may have added its own file
        entry = {"stamp": list(stamp), "sha256": h.hexdigest()}
        _write(cache_dir / BOOK, {**_read(cache_dir / BOOK), str(path): entry})
    return h.hexdigest()


def _read(path: Path) -> dict[str, object]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {}


def _write(path: Path, data: dict[str, object]) -> None:
    with contextlib.suppress(OSError):  # a read-only cache only means hashing again
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sha256-", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        Path(tmp).replace(path)
