"""The weights' sha256 is read once per version of the file, across processes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rag.embedding.digests import BOOK, sha256_of, weights_sha256


def test_a_known_file_is_not_read_again_and_a_changed_one_is(tmp_path: Path) -> None:
    weights, cache = tmp_path / "model.safetensors", tmp_path / "cache"
    weights.write_bytes(b"weights v1")
    first = sha256_of(weights, cache_dir=cache)
    assert first == hashlib.sha256(b"weights v1").hexdigest()
    # a later process: the book answers for the same file (proved by a planted digest)
    book = json.loads((cache / BOOK).read_text())
    (entry,) = book.values()
    entry["sha256"] = "f" * 64
    (cache / BOOK).write_text(json.dumps(book))
    from rag.embedding import digests

    digests._digest.cache_clear()  # a new process starts with an empty memory
    assert sha256_of(weights, cache_dir=cache) == "f" * 64
    # rewritten (same size, mtime put back): its change time moves, so it is read again
    stat = weights.stat()
    weights.write_bytes(b"weights v2")
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    digests._digest.cache_clear()
    assert sha256_of(weights, cache_dir=cache) == hashlib.sha256(b"weights v2").hexdigest()


def test_weights_of_a_folder_and_an_unwritable_cache(tmp_path: Path) -> None:
    assert weights_sha256(tmp_path) is None
    (tmp_path / "pytorch_model.bin").write_bytes(b"bin")
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    digest = weights_sha256(tmp_path, cache_dir=blocked)  # the book cannot be written
    assert digest == hashlib.sha256(b"bin").hexdigest()
