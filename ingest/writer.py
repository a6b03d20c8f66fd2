"""Embed and store many files' chunks together: one length-sorted embedding call, batched
writes, each file's stale chunks dropped, and only then the files' manifest rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.analytics.duplicates import similar_pairs
from rag.embedding.types import Embedder
from rag.store.chroma import Store
from rag.store.manifest import FileManifest, FileRecord
from rag.store.passages import indexed_text
from rag.types import Chunk

NEIGHBOURS = 8  # stored neighbours checked per new chunk when deduplicating


@dataclass(frozen=True)
class Prepared:
    """A file loaded and chunked, waiting to be embedded and stored."""

    source: str
    sha256: str
    size: int
    existed: bool  # in the manifest before this run: "updated" rather than "added"
    chunks: dict[str, Chunk]  # by chunk id, duplicates dropped
    note: str | None = None


def chunk_metadata(chunk: Chunk, *, sha256: str) -> dict[str, str | int | bool]:
    return {
        "source": chunk.source,
        "page": chunk.page,
        "start_index": chunk.start_index,
        "header_path": chunk.header_path,
        "chunk_index": chunk.chunk_index,
        "file_sha256": sha256,
        "locator": chunk.locator,
        "ocr": chunk.ocr,
    }


@dataclass(frozen=True)
class Written:
    deleted: int  # stale chunks removed
    deduplicated: int  # chunks left out as near-copies of another file's (RAG_DEDUP=skip)


def duplicate_indexes(
    batch: list[Prepared], vectors: np.ndarray, *, store: Store, threshold: float
) -> set[int]:
    """Chunks of ``batch`` that nearly copy (cosine >= threshold) a chunk of another file,
    one already stored or one kept earlier in this batch."""
    sources = [p.source for p in batch for _ in p.chunks]
    in_batch = set(sources)
    skip: set[int] = set()
    # stored chunks of files outside this batch (those inside are being rewritten)
    for n, neighbours in enumerate(store.nearest(vectors, k=NEIGHBOURS)):
        if any(h.source not in in_batch and (h.similarity or 0.0) >= threshold for h in neighbours):
            skip.add(n)
    # within the batch: the first copy stays, later copies from other files go
    partners: dict[int, list[int]] = {}
    for i, j, _ in similar_pairs(vectors, sources, threshold=threshold):
        partners.setdefault(j, []).append(i)
    for j in sorted(partners):
        if j not in skip and any(i not in skip for i in partners[j]):
            skip.add(j)
    return skip


def store_files(
    batch: list[Prepared],
    *,
    embedder: Embedder,
    store: Store,
    manifest: FileManifest,
    dedup_threshold: float | None = None,
    context: str = "",
    before_write: Callable[[], None] | None = None,
) -> Written:
    """Store ``batch``: with ``dedup_threshold``, leave out near-copies of other files.
    ``before_write`` runs after the embedding, right before the first write (a writer
    lease is checked there: embedding a batch can take longer than the lease lasts)."""
    if not batch:
        return Written(0, 0)
    ids = [i for p in batch for i in p.chunks]
    chunks = [c for p in batch for c in p.chunks.values()]
    shas = [p.sha256 for p in batch for _ in p.chunks]
    # the embedder sorts by length across all files' chunks: little padding per batch
    vectors = embedder.embed_documents(
        [indexed_text(c.text, c.header_path, context=context) for c in chunks]
    )
    skip: set[int] = set()
    if dedup_threshold is not None:
        skip = duplicate_indexes(batch, vectors, store=store, threshold=dedup_threshold)
    keep = [n for n in range(len(ids)) if n not in skip]
    if before_write is not None:
        before_write()
    store.upsert(
        ids=[ids[n] for n in keep],
        vectors=vectors[keep],
        texts=[chunks[n].text for n in keep],
        metadatas=[chunk_metadata(chunks[n], sha256=shas[n]) for n in keep],
    )
    kept_ids = {ids[n] for n in keep}
    # replace, never append: whatever a source had before and is not in its new set
    # goes, orphans of an earlier interrupted run included
    stored = store.ids_by_source([p.source for p in batch])
    stale = [i for p in batch for i in stored.get(p.source, set()) - kept_ids]
    store.delete(stale)
    # the manifest rows last: a crash before here leaves files that are simply re-done
    now = time.time()
    manifest.put_many(
        [
            FileRecord(p.source, p.sha256, p.size, tuple(i for i in p.chunks if i in kept_ids), now)
            for p in batch
        ]
    )
    return Written(deleted=len(stale), deduplicated=len(skip))
