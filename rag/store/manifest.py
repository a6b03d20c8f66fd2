"""The record of what was ingested: one row per file with its content hash and chunk ids.

The Chroma collection is a rebuildable index; this SQLite file is what makes re-ingestion
incremental. A file's row is written only after its chunks are in the store, so a crash
leaves at worst a file that is re-done on the next run, never one marked done without
its chunks.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.errors import StoreError

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileRecord:
    source: str
    sha256: str
    size: int
    chunk_ids: tuple[str, ...]
    ingested_at: float


class FileManifest(Protocol):
    """What ingestion, the app and the API read and write of a manifest: this SQLite one
    (an embedded store) or the one a Chroma server keeps for every host
    (``rag.store.shared.SharedManifest``)."""

    def get(self, source: str) -> FileRecord | None: ...

    def records(self) -> Iterator[FileRecord]: ...

    def count(self) -> int: ...

    def put_many(self, records: list[FileRecord]) -> None: ...

    def remove(self, source: str) -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class Manifest:
    """The manifest of an embedded store: one SQLite file under ``RAG_STORE_DIR``."""

    def __init__(self, path: Path, *, collection: str) -> None:
        self.path = path
        self.collection = collection
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS files (collection TEXT NOT NULL, source TEXT NOT NULL,"
                " sha256 TEXT NOT NULL, size INTEGER NOT NULL, chunk_ids TEXT NOT NULL,"
                " ingested_at REAL NOT NULL, PRIMARY KEY (collection, source))"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(MANIFEST_VERSION),)
            )
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"The manifest {path} cannot be opened ({exc}). If it is corrupt, move it "
                "away and re-ingest with --rebuild."
            ) from exc
        if int(row[0]) > MANIFEST_VERSION:
            self._db.close()
            raise StoreError(
                f"The manifest {path} was written by a newer version of this app (schema "
                f"{row[0]}, this one reads {MANIFEST_VERSION}). Upgrade the app, or use another "
                "RAG_STORE_DIR."
            )

    def close(self) -> None:
        self._db.close()

    def get(self, source: str) -> FileRecord | None:
        row = self._db.execute(
            "SELECT source, sha256, size, chunk_ids, ingested_at FROM files"
            " WHERE collection = ? AND source = ?",
            (self.collection, source),
        ).fetchone()
        return _record(row) if row else None

    def records(self) -> Iterator[FileRecord]:
        with closing(
            self._db.execute(
                "SELECT source, sha256, size, chunk_ids, ingested_at FROM files"
                " WHERE collection = ? ORDER BY source",
                (self.collection,),
            )
        ) as cursor:
            for row in cursor:
                yield _record(row)

    def count(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM files WHERE collection = ?", (self.collection,)
        ).fetchone()
        return int(row[0])

    def put(self, *, source: str, sha256: str, size: int, chunk_ids: list[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            (self.collection, source, sha256, size, json.dumps(chunk_ids), time.time()),
        )

    def put_many(self, records: list[FileRecord]) -> None:
        """Record several files in one transaction (one disk sync instead of one each)."""
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        self.collection,
                        r.source,
                        r.sha256,
                        r.size,
                        json.dumps(list(r.chunk_ids)),
                        r.ingested_at,
                    )
                    for r in records
                ],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def remove(self, source: str) -> None:
        self._db.execute(
            "DELETE FROM files WHERE collection = ? AND source = ?", (self.collection, source)
        )

    def clear(self) -> None:
        self._db.execute("DELETE FROM files WHERE collection = ?", (self.collection,))


def _record(row: tuple[str, str, int, str, float]) -> FileRecord:
    return FileRecord(
        source=row[0],
        sha256=row[1],
        size=int(row[2]),
        chunk_ids=tuple(json.loads(row[3])),
        ingested_at=float(row[4]),
    )
