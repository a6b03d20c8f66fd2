"""What every host shares about a collection on a Chroma server (``RAG_CHROMA_URL``).

With an embedded store the manifest is a SQLite file under ``RAG_STORE_DIR``; with a server,
several hosts (app, API, ingestion) write to one index, so its manifest must be where they
all read it: a companion collection ``NAME.rag-shared`` on the same server holds

- one record per ingested file (``file:<hash of its source>``): its content hash, size and
  time as metadata, its chunk ids as the text;
- the ``generation`` record: a token that each write session changes, with a flag saying
  whether a session is between its first write and its end. Readers compare it with the
  token their BM25 copy was built from (one small read per search instead of a comparison
  of the whole index), and a writer that finds the flag set knows the previous session
  died mid-write and repairs the collection (``repair``);
- the writer lease (``rag.store.lease``).

A file's record is written after its chunks, as the SQLite manifest is: a host killed
mid-ingest leaves at worst files that are re-done, never a file marked done without them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rag.errors import StoreError
from rag.store.chroma import Records, Store
from rag.store.lease import Lease
from rag.store.manifest import MANIFEST_VERSION, FileRecord

log = logging.getLogger(__name__)

SUFFIX = "rag-shared"  # the companion collection is NAME.rag-shared
GENERATION = "generation"
FILE = "file"  # the ``kind`` of a file record


def companion(store: Store) -> Records:
    return store.companion(SUFFIX)


def file_id(source: str) -> str:
    return "file:" + hashlib.sha256(source.encode("utf-8", errors="replace")).hexdigest()


@dataclass(frozen=True)
class Generation:
    """The shared index's change marker."""

    token: str
    writing: bool  # a session wrote and has not ended (still running, or it died)


class SharedManifest:
    """The manifest of a collection on a Chroma server, the same for every host; the
    interface of ``rag.store.manifest.Manifest``."""

    def __init__(self, records: Records, *, collection: str) -> None:
        self._records = records
        self.collection = collection
        version = records.metadata().get("manifest_version")
        if version is None:
            records.set_metadata("manifest_version", MANIFEST_VERSION)
        elif int(version) > MANIFEST_VERSION:
            raise StoreError(
                f"The shared manifest '{records.name}' at {records.location} was written by "
                f"a newer version of this app (schema {version}, this one reads "
                f"{MANIFEST_VERSION}). Upgrade the app on this host."
            )

    def close(self) -> None:
        """Nothing to close: the records live on the server."""

    def get(self, source: str) -> FileRecord | None:
        row = self._records.get([file_id(source)]).get(file_id(source))
        return _record(*row) if row else None

    def records(self) -> Iterator[FileRecord]:
        rows = self._records.where({"kind": FILE})
        return iter(sorted((_record(*row) for row in rows.values()), key=lambda r: r.source))

    def count(self) -> int:
        return len(self._records.where({"kind": FILE}, texts=False))

    def put_many(self, records: list[FileRecord]) -> None:
        self._records.put({file_id(r.source): _row(r) for r in records})

    def remove(self, source: str) -> None:
        self._records.delete([file_id(source)])

    def clear(self) -> None:
        self._records.delete_where({"kind": FILE})

    # -- the change marker ------------------------------------------------------------------

    def generation(self) -> Generation | None:
        """The marker, or None when no session of this version has written yet."""
        row = self._records.get([GENERATION]).get(GENERATION)
        if row is None:
            return None
        meta = row[0]
        return Generation(token=str(meta.get("token", "")), writing=bool(meta.get("writing")))

    def mark(self, *, writing: bool) -> Generation:
        """Set a fresh token: ``writing`` before a session's first write, not after its last
        (a reader that built its BM25 copy during the writes then rebuilds it)."""
        marker = Generation(token=uuid.uuid4().hex, writing=writing)
        self._records.put(
            {GENERATION: ({"kind": GENERATION, "token": marker.token, "writing": writing}, "")}
        )
        return marker


def repair(store: Store, manifest: SharedManifest) -> int:
    """Delete every chunk the manifest does not list (a session that died mid-write left
    them: a file's chunks stored before its record, or a file's old chunks not yet
    replaced); returns how many. What is recorded stays: its chunks were all stored
    before its record was written."""
    listed: set[str] = set()
    for record in manifest.records():
        listed.update(record.chunk_ids)
    stray = [chunk_id for chunk_id in store.ids() if chunk_id not in listed]
    if stray:
        log.warning(
            "collection '%s': a write session died mid-write; removing %d chunks no file "
            "record lists (their files are re-done when next ingested)",
            manifest.collection,
            len(stray),
        )
        store.delete(stray)
    return len(stray)


def _row(record: FileRecord) -> tuple[dict[str, str | int | float | bool], str]:
    meta: dict[str, str | int | float | bool] = {
        "kind": FILE,
        "source": record.source,
        "sha256": record.sha256,
        "size": record.size,
        "ingested_at": record.ingested_at,
    }
    return meta, json.dumps(list(record.chunk_ids))


def _record(meta: dict[str, Any], text: str) -> FileRecord:
    return FileRecord(
        source=str(meta["source"]),
        sha256=str(meta["sha256"]),
        size=int(meta["size"]),
        chunk_ids=tuple(json.loads(text or "[]")),
        ingested_at=float(meta["ingested_at"]),
    )


class WriteSession:
    """One writer's hold on an index, as the pipeline sees it: ``check`` before each
    write, ``changing`` before the first, ``finish`` after the last. With an embedded store
    (``shared`` None) the writer lock alone orders writers and these do nothing."""

    def __init__(self, shared: SharedManifest | None = None, lease: Lease | None = None) -> None:
        self.shared = shared
        self.lease = lease
        self._marked = False

    def check(self) -> None:
        if self.lease is not None:
            self.lease.check()

    def changing(self) -> None:
        """Mark the shared index as being written (once per session)."""
        if self.shared is not None and not self._marked:
            self.check()
            self.shared.mark(writing=True)
            self._marked = True

    def finish(self, *, changed: bool) -> str:
        """The generation the index is at once this session's writes are done: a fresh one
        when it wrote (readers on every host then rebuild their BM25 copy), the current one
        when it did not; '' with an embedded store."""
        if self.shared is None:
            return ""
        if changed or self._marked:
            self.check()
            self._marked = False
            return self.shared.mark(writing=False).token
        current = self.shared.generation()
        return current.token if current is not None else ""

    def recover(self, store: Store) -> int:
        """After taking the lease: if the last session died between its first write and its
        end, remove what it left half-written (``repair``); returns the chunks removed."""
        if self.shared is None:
            return 0
        marker = self.shared.generation()
        if marker is None or not marker.writing:
            return 0
        removed = repair(store, self.shared)
        self.shared.mark(writing=False)  # what the store holds now is whole again
        return removed
