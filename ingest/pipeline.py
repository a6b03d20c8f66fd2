"""Hashing, the manifest, add/update/prune, batching: the one pipeline that the CLI, the
UI upload and the eval harness share."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunking import Chunker
from ingest.loaders import check_regular_file, kind_of, load
from ingest.prefetch import prefetch
from ingest.writer import Prepared, store_files
from rag import bm25
from rag.components import index_contract
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import IngestError
from rag.lock import writer_lock
from rag.manifest import Manifest
from rag.reduction import FIT_SAMPLES, projection_id
from rag.store import Store
from rag.types import Chunk

log = logging.getLogger(__name__)

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".rag"}

Progress = Callable[[str], None]

# files are embedded together once this many of their chunks are waiting: one
# length-sorted embedding call and one batched write for many small files
FLUSH_CHUNKS = 1024
PREFETCH_FILES = 64  # loaded and chunked files waiting for the embedder, at most


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str


@dataclass
class Report:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported file types
    chunks_written: int = 0
    chunks_deleted: int = 0
    deduplicated: int = 0  # chunks left out as near-copies of another file's (RAG_DEDUP)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": len(self.errors),
            "skipped": len(self.skipped),
            "chunks_written": self.chunks_written,
            "chunks_deleted": self.chunks_deleted,
            "deduplicated": self.deduplicated,
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
        }
        if self.dry_run:
            data["paths"] = {
                "added": self.added,
                "updated": self.updated,
                "removed": self.removed,
            }
        return data


@dataclass(frozen=True)
class Candidate:
    path: Path
    source: str
    sha256: str
    size: int


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
    unique = sorted({_source(p): p for p in found}.items())
    return [p for _, p in unique], errors, [str(s) for s in skipped]


def _changed(report: Report) -> bool:
    return bool(report.chunks_written or report.chunks_deleted or report.removed)


def _source(path: Path) -> str:
    return str(path.absolute())


def file_sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def chunk_id(chunk: Chunk) -> str:
    key = f"{chunk.source}\x1f{chunk.page}\x1f{chunk.start_index}\x1f{chunk.text}"
    return hashlib.sha256(key.encode("utf-8", errors="replace")).hexdigest()[:32]


class Ingestor:
    """Runs one ingestion against one store and manifest.

    The embedding model is loaded only when some file needs embedding, so a re-run over
    unchanged files costs hashing and nothing else.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        manifest: Manifest,
        embedder_factory: Callable[[], Embedder],
    ) -> None:
        self.settings = settings
        self.store = store
        self.manifest = manifest
        self._factory = embedder_factory
        self._embedder: Embedder | None = None
        self._chunker: Chunker | None = None
        self._recorded_projection = ""  # the PCA (RAG_EMBED_DIM) named in the contract
        self._lock = threading.Lock()  # the prefetch thread and this one both call _ready

    def _ready(self) -> tuple[Embedder, Chunker]:
        with self._lock:
            return self._ready_locked()

    def _ready_locked(self) -> tuple[Embedder, Chunker]:
        if self._embedder is None or self._chunker is None:
            embedder = self._factory()
            wanted = index_contract(
                self.settings,
                dimension=embedder.dimension,
                projection=projection_id(embedder),
            )
            self.store.open(wanted, writing=True)
            self._chunker = Chunker(
                embedder,
                chunk_size=self.settings.chunk_size,
                chunk_overlap=self.settings.chunk_overlap,
                document_prefix=embedder.prefixes.document,
            )
            self._embedder = embedder
        return self._embedder, self._chunker

    def run(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        rebuild: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        on_plan: Callable[[int], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> Report:
        """Ingest ``paths`` holding the store's writer lock (a dry run needs none)."""
        options = {"prune": prune, "rebuild": rebuild, "dry_run": dry_run}
        if dry_run:
            return self._run(paths, progress=progress, on_plan=on_plan, **options)
        timeout = self.settings.lock_timeout
        with writer_lock(self.settings.store_dir, timeout=timeout, on_wait=on_wait):
            return self._run(paths, progress=progress, on_plan=on_plan, **options)

    def _run(
        self,
        paths: Sequence[Path],
        *,
        prune: bool,
        rebuild: bool,
        dry_run: bool,
        progress: Progress | None,
        on_plan: Callable[[int], None] | None,
    ) -> Report:
        started = time.perf_counter()
        report = Report(dry_run=dry_run)
        if rebuild and not dry_run:
            self.store.drop()
            self.manifest.clear()
            # a new corpus gets a new PCA (RAG_EMBED_DIM): fitted on its first flush
            self.settings.projection_path.unlink(missing_ok=True)
            self._recorded_projection = ""
        if not dry_run:
            self.store.open(index_contract(self.settings), writing=True)
        files, missing, report.skipped = discover(paths)
        report.errors.extend(missing)
        for skipped in report.skipped:
            log.info("skipped %s: unsupported file type", skipped)

        todo: list[tuple[Candidate, bool]] = []
        for path in files:
            source = _source(path)
            try:
                check_regular_file(path)
                sha, size = file_sha256(path)
            except IngestError as exc:
                report.errors.append(FileError(source, exc.reason))
                continue
            except OSError as exc:
                report.errors.append(FileError(source, f"cannot read file ({exc.strerror or exc})"))
                continue
            record = None if (rebuild and dry_run) else self.manifest.get(source)
            if record is not None and record.sha256 == sha:
                report.unchanged.append(source)
            else:
                todo.append((Candidate(path, source, sha, size), record is not None))

        gone = self._gone(paths, {_source(p) for p in files}) if prune else []
        if on_plan:
            on_plan(len(todo))
        if dry_run:
            report.added = [c.source for c, existed in todo if not existed]
            report.updated = [c.source for c, existed in todo if existed]
            report.removed = gone
            report.seconds = time.perf_counter() - started
            return report

        # files are loaded and chunked in a thread while this one embeds and writes; a PCA
        # still to be fitted (RAG_EMBED_DIM) waits for the whole run, up to FIT_SAMPLES
        # chunks, so that it is fitted on the corpus rather than on its first files
        flush_at = FLUSH_CHUNKS
        if self.settings.reduces_locally and not self.settings.projection_path.is_file():
            flush_at = max(FLUSH_CHUNKS, FIT_SAMPLES)
        pending: list[Prepared] = []
        for outcome in prefetch(todo, self._prepare, depth=PREFETCH_FILES):
            candidate = outcome.item[0]
            if outcome.error is not None:
                report.errors.append(FileError(candidate.source, outcome.error.reason))
                log.info("failed %s: %s", candidate.source, outcome.error.reason)
                if progress:
                    progress(candidate.source)
                continue
            assert outcome.result is not None
            pending.append(outcome.result)
            if sum(len(p.chunks) for p in pending) >= flush_at:
                self._store(pending, report, progress)
                pending, flush_at = [], FLUSH_CHUNKS
        self._store(pending, report, progress)

        for source in gone:
            stale = self.store.ids_for_source(source)
            self.store.delete(stale)
            self.manifest.remove(source)
            report.removed.append(source)
            report.chunks_deleted += len(stale)
        # the one hook that keeps the BM25 index (derived from the store) in step with it
        bm25.sync(self.store, self.settings.bm25_dir, changed=_changed(report))
        report.seconds = time.perf_counter() - started
        return report

    def _gone(self, roots: Sequence[Path], present: set[str]) -> list[str]:
        """Ingested files under ``roots`` that are no longer there."""
        prefixes = [_source(r) for r in roots]
        gone = []
        for record in self.manifest.records():
            under = any(
                record.source == p or record.source.startswith(p.rstrip(os.sep) + os.sep)
                for p in prefixes
            )
            if under and record.source not in present and not Path(record.source).is_file():
                gone.append(record.source)
        return gone

    def _prepare(self, todo: tuple[Candidate, bool]) -> Prepared:
        """Load and chunk one file (in the prefetch thread)."""
        candidate, existed = todo
        document = load(candidate.path)
        note = None
        if document.empty_pages:
            note = (
                f"{candidate.source}: {document.empty_pages} of {document.total_pages} pages "
                "have no extractable text — scanned image?"
            )
        _, chunker = self._ready()
        chunks = chunker.split(
            document.pages, source=candidate.source, markdown=document.kind == "markdown"
        )
        if not chunks:
            raise IngestError(candidate.source, "no text to index after splitting")
        return Prepared(
            source=candidate.source,
            sha256=candidate.sha256,
            size=candidate.size,
            existed=existed,
            chunks={chunk_id(c): c for c in chunks},
            note=note,
        )

    def _store(self, batch: list[Prepared], report: Report, progress: Progress | None) -> None:
        if not batch:
            return
        embedder, _ = self._ready()
        written = store_files(
            batch,
            embedder=embedder,
            store=self.store,
            manifest=self.manifest,
            dedup_threshold=self.settings.dedup_threshold
            if self.settings.dedup == "skip"
            else None,
        )
        projection = projection_id(embedder)
        if projection != self._recorded_projection:
            # the first write under a new PCA names it in the contract
            self.store.open(index_contract(self.settings, projection=projection), writing=True)
            self._recorded_projection = projection
        report.chunks_deleted += written.deleted
        report.deduplicated += written.deduplicated
        report.chunks_written -= written.deduplicated
        for p in batch:
            if p.note:
                report.notes.append(p.note)
            (report.updated if p.existed else report.added).append(p.source)
            report.chunks_written += len(p.chunks)
            if progress:
                progress(p.source)
