"""Embed and store many files' chunks together: one length-sorted embedding call, batched
writes, each file's stale chunks dropped, and only then the files' manifest rows."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rag.embeddings import Embedder
from rag.manifest import FileRecord, Manifest
from rag.store import Store
from rag.types import Chunk


@dataclass(frozen=True)
class Prepared:
    """A file loaded and chunked, waiting to be embedded and stored."""

    source: str
    sha256: str
    size: int
    existed: bool  # in the manifest before this run: "updated" rather than "added"
    chunks: dict[str, Chunk]  # by chunk id, duplicates dropped
    note: str | None = None


def chunk_metadata(chunk: Chunk, *, sha256: str) -> dict[str, str | int]:
    return {
        "source": chunk.source,
        "page": chunk.page,
        "start_index": chunk.start_index,
        "header_path": chunk.header_path,
        "chunk_index": chunk.chunk_index,
        "file_sha256": sha256,
    }


def store_files(
    batch: list[Prepared], *, embedder: Embedder, store: Store, manifest: Manifest
) -> int:
    """Store ``batch``; return how many stale chunks were deleted."""
    if not batch:
        return 0
    ids = [i for p in batch for i in p.chunks]
    chunks = [c for p in batch for c in p.chunks.values()]
    shas = [p.sha256 for p in batch for _ in p.chunks]
    # the embedder sorts by length across all files' chunks: little padding per batch
    vectors = embedder.embed_documents([c.text for c in chunks])
    store.upsert(
        ids=ids,
        vectors=vectors,
        texts=[c.text for c in chunks],
        metadatas=[chunk_metadata(c, sha256=sha) for c, sha in zip(chunks, shas, strict=True)],
    )
    # replace, never append: whatever a source had before and is not in its new set
    # goes, orphans of an earlier interrupted run included
    stored = store.ids_by_source([p.source for p in batch])
    stale = [i for p in batch for i in stored.get(p.source, set()) - set(p.chunks)]
    store.delete(stale)
    # the manifest rows last: a crash before here leaves files that are simply re-done
    now = time.time()
    manifest.put_many([FileRecord(p.source, p.sha256, p.size, tuple(p.chunks), now) for p in batch])
    return len(stale)
