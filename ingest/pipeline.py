"""Hashing, the manifest, add/update/prune, batching: the one write path that the CLI, the
app's upload and evaluation share. Files come in by path; an evaluation corpus comes in as
records (an id and a text each), through the same chunking, embedding, writing, manifest and
BM25 steps."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import Chunker
from ingest.document import MARKDOWN_KINDS, Document
from ingest.files import discover, file_sha256, source_of
from ingest.loaders import check_regular_file, load
from ingest.locators import locate
from ingest.ocr import OcrProgress
from ingest.prefetch import prefetch
from ingest.report import FileError, Report
from ingest.writer import Prepared, store_files
from rag.embedding.reduction import FIT_SAMPLES, needs_fit
from rag.embedding.types import Embedder
from rag.errors import IngestError
from rag.retrieval import bm25
from rag.store.index import Index
from rag.store.manifest import FileRecord
from rag.store.shared import WriteSession
from rag.types import Chunk

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# files are embedded together once this many of their chunks are waiting: one
# length-sorted embedding call and one batched write for many small files
FLUSH_CHUNKS = 1024
PREFETCH_FILES = 64  # loaded and chunked files waiting for the embedder, at most


@dataclass(frozen=True)
class Record:
    """A document that is not a file: one entry of an evaluation corpus."""

    id: str
    text: str


@dataclass(frozen=True)
class Candidate:
    source: str
    sha256: str
    size: int
    path: Path | None = None  # a file to load, or
    text: str | None = None  # a record's text, stored as one chunk, or
    document: Document | None = None  # a document already loaded (a web page)


def _changed(report: Report) -> bool:
    return bool(report.chunks_written or report.chunks_deleted or report.removed)


def chunk_id(chunk: Chunk) -> str:
    key = f"{chunk.source}\x1f{chunk.page}\x1f{chunk.start_index}\x1f{chunk.text}"
    return hashlib.sha256(key.encode("utf-8", errors="replace")).hexdigest()[:32]


class SameFiles:
    """The source a file is stored under: its own path, or the path of the same file stored
    before through another name (a symlink, a linked folder), so that one file is one
    document. Sources are paths as given (``source_of``), which a user reads; the real path
    only says when two of them are one file."""

    def __init__(self, stored: Callable[[], Iterator[FileRecord]]) -> None:
        self._stored = stored
        self._by_real: dict[str, str] | None = None  # read on the first unknown file

    def source(self, path: Path) -> str:
        """``path``'s source when no file is stored under its own."""
        own = source_of(path)
        if self._by_real is None:
            self._by_real = {
                _real(Path(r.source)): r.source
                for r in self._stored()
                if Path(r.source).is_absolute()  # not a URL or a record id
            }
        first = self._by_real.setdefault(_real(path), own)
        if first != own:
            log.info("%s is the same file as %s: kept under that name", own, first)
        return first


def _real(path: Path) -> str:
    """``path`` with its links followed; as given when they loop (the file's own check then
    reports it)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return str(path.absolute())


class Ingestor:
    """Runs one ingestion into one index opened for writing (``open_index(writing=True)``).

    The embedding model is loaded only when some file needs embedding, so a re-run over
    unchanged files costs hashing and nothing else.
    """

    def __init__(self, index: Index, *, ocr_progress: OcrProgress | None = None) -> None:
        self.index = index
        self.settings = index.settings.ingest
        self.ocr_progress = ocr_progress
        self._chunker: Chunker | None = None
        self._lock = threading.Lock()  # the prefetch thread and this one both call _ready
        self._session = WriteSession()  # the writer's hold on the index, while it writes

    def _ready(self) -> tuple[Embedder, Chunker]:
        embedder = self.index.embedder
        with self._lock:
            if self._chunker is None:
                self._chunker = Chunker(
                    embedder,
                    chunk_size=self.settings.chunk_size,
                    chunk_overlap=self.settings.chunk_overlap,
                    document_prefix=embedder.prefixes.document,
                )
            return embedder, self._chunker

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
        forget: Sequence[Path] = (),
    ) -> Report:
        """Ingest ``paths`` holding the store's writer lock (a dry run needs none); remove
        what was ingested from ``forget`` (files or folders gone from disk: watch mode)."""
        options = {"prune": prune, "rebuild": rebuild, "dry_run": dry_run}
        if not dry_run and not self.index.writing:
            raise ValueError("ingestion writes: open the index with writing=True")
        if dry_run:
            return self._run(paths, progress=progress, on_plan=on_plan, forget=forget, **options)
        with self._writer(on_wait):
            return self._run(paths, progress=progress, on_plan=on_plan, forget=forget, **options)

    def run_records(self, records: Sequence[Record], *, progress: Progress | None = None) -> Report:
        """Make the index hold exactly ``records``, one chunk each (the model truncates a
        long one, as MTEB does): new and changed ones are embedded, the others kept, those
        no longer given removed."""
        if not self.index.writing:
            raise ValueError("ingestion writes: open the index with writing=True")
        started = time.perf_counter()
        report = Report()
        with self._writer(None):
            todo: list[tuple[Candidate, bool]] = []
            given = set()
            for record in records:
                given.add(record.id)
                data = record.text.encode("utf-8")
                sha = hashlib.sha256(data).hexdigest()
                stored = self.index.manifest.get(record.id)
                if stored is not None and stored.sha256 == sha:
                    report.unchanged.append(record.id)
                    continue
                candidate = Candidate(record.id, sha, len(data), text=record.text)
                todo.append((candidate, stored is not None))
            gone = [r.source for r in self.index.manifest.records() if r.source not in given]
            self._write(todo, gone, report, progress)
        report.seconds = time.perf_counter() - started
        return report

    def remove(
        self, sources: Sequence[str], *, on_wait: Callable[[str], None] | None = None
    ) -> Report:
        """Forget documents by source, holding the writer lock: their chunks, their manifest
        rows and their place in the BM25 index. A source the index does not hold is
        reported in ``errors`` and changes nothing; the files on disk are never touched."""
        if not self.index.writing:
            raise ValueError("removing documents writes: open the index with writing=True")
        started = time.perf_counter()
        report = Report()
        with self._writer(on_wait):
            known = []
            for source in dict.fromkeys(sources):
                if self.index.manifest.get(source) is None:
                    report.errors.append(FileError(source, "not in the index"))
                else:
                    known.append(source)
            self._forget(known, report)
        report.seconds = time.perf_counter() - started
        return report

    def run_urls(
        self, urls: Sequence[str], *, depth: int = 0, progress: Progress | None = None
    ) -> Report:
        """Fetch web pages (``depth`` same-site links deep) and store their main content
        with the URL as the source; a page whose content has not changed writes nothing."""
        from ingest.web import crawl, page_document

        if not self.index.writing:
            raise ValueError("ingestion writes: open the index with writing=True")
        started = time.perf_counter()
        report = Report()
        todo: dict[str, tuple[Candidate, bool]] = {}
        with self._writer(None):
            for url in urls:
                for page in crawl(url, self.settings, depth=depth):
                    try:
                        if isinstance(page, IngestError):
                            raise page
                        document = page_document(page)
                    except IngestError as exc:
                        report.errors.append(FileError(exc.path, exc.reason))
                        continue
                    data = document.pages[0].text.encode("utf-8")
                    sha = hashlib.sha256(data).hexdigest()
                    stored = self.index.manifest.get(page.url)
                    if page.url in todo or page.url in report.unchanged:
                        continue
                    if stored is not None and stored.sha256 == sha:
                        report.unchanged.append(page.url)
                        continue
                    candidate = Candidate(page.url, sha, len(data), document=document)
                    todo[page.url] = (candidate, stored is not None)
            self._write(list(todo.values()), [], report, progress)
        report.seconds = time.perf_counter() - started
        return report

    @contextlib.contextmanager
    def _writer(self, on_wait: Callable[[str], None] | None) -> Iterator[WriteSession]:
        """Hold the index's writer lock (and, on a Chroma server, its lease) meanwhile."""
        with self.index.writer(on_wait=on_wait) as session:
            self._session = session
            try:
                yield session
            finally:
                self._session = WriteSession()

    def _run(
        self,
        paths: Sequence[Path],
        *,
        prune: bool,
        rebuild: bool,
        dry_run: bool,
        progress: Progress | None,
        on_plan: Callable[[int], None] | None,
        forget: Sequence[Path] = (),
    ) -> Report:
        started = time.perf_counter()
        report = Report(dry_run=dry_run)
        if rebuild and not dry_run:
            # a new corpus gets a new PCA (RAG_EMBED_DIM), fitted on its first flush
            self._session.changing()
            self.index.clear()
        files, missing, report.skipped = discover(paths)
        report.errors.extend(missing)
        for skipped in report.skipped:
            log.info("skipped %s: unsupported file type", skipped)

        todo: list[tuple[Candidate, bool]] = []
        # a rebuild starts from nothing: no file is stored under another name
        stored_as = SameFiles(self.index.manifest.records if not rebuild else lambda: iter(()))
        present: set[str] = set()
        for path in files:
            own = source = source_of(path)
            record = None if rebuild else self.index.manifest.get(own)
            if record is None:
                source = stored_as.source(path)
                if source != own:
                    record = self.index.manifest.get(source)
            if source in present:
                continue  # a folder and a link to it, or a file given twice: one document
            present.add(source)
            try:
                check_regular_file(path)
                sha, size = file_sha256(path)
            except IngestError as exc:
                report.errors.append(FileError(source, exc.reason))
                continue
            except OSError as exc:
                report.errors.append(FileError(source, f"cannot read file ({exc.strerror or exc})"))
                continue
            if record is not None and record.sha256 == sha:
                report.unchanged.append(source)
            else:
                todo.append((Candidate(source, sha, size, path=path), record is not None))

        present |= {source_of(p) for p in files}
        gone = self._gone(paths, present) if prune else []
        gone += [g for g in self._gone(forget, present) if g not in gone] if forget else []
        if on_plan:
            on_plan(len(todo))
        if dry_run:
            report.added = [c.source for c, existed in todo if not existed]
            report.updated = [c.source for c, existed in todo if existed]
            report.removed = gone
            report.seconds = time.perf_counter() - started
            return report

        self._write(todo, gone, report, progress)
        report.seconds = time.perf_counter() - started
        return report

    def _write(
        self,
        todo: list[tuple[Candidate, bool]],
        gone: list[str],
        report: Report,
        progress: Progress | None,
    ) -> None:
        """Load, chunk, embed and store ``todo``; delete the chunks of ``gone``."""
        if todo or gone:
            # before the first write: a host that reads the shared index meanwhile, or
            # finds this session dead, knows it was being written (rag.store.shared)
            self._session.changing()
        # files are loaded and chunked in a thread while this one embeds and writes; a PCA
        # still to be fitted (RAG_EMBED_DIM) waits for the whole run, up to FIT_SAMPLES
        # chunks, so that it is fitted on the corpus rather than on its first files
        flush_at: int | None = None
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
            if flush_at is None:  # the model is loaded by now: _prepare chunked with it
                flush_at = FIT_SAMPLES if needs_fit(self.index.embedder) else FLUSH_CHUNKS
            if sum(len(p.chunks) for p in pending) >= flush_at:
                self._store(pending, report, progress)
                pending, flush_at = [], FLUSH_CHUNKS
        self._store(pending, report, progress)

        self._forget(gone, report)

    def _forget(self, sources: Sequence[str], report: Report) -> None:
        """Delete the chunks and manifest rows of ``sources``, then bring BM25 in step."""
        store, manifest = self.index.store, self.index.manifest
        if sources:
            self._session.changing()
        for source in sources:
            stale = store.ids_for_source(source)
            store.delete(stale)
            manifest.remove(source)
            report.removed.append(source)
            report.chunks_deleted += len(stale)
        # the writes are done: on a Chroma server every host learns it by the new generation
        generation = self._session.finish(changed=_changed(report))
        # the one hook that keeps the BM25 index (derived from the store) in step with it
        bm25.sync(
            store,
            self.index.settings.store.bm25_dir,
            changed=_changed(report),
            context=self.index.context,
            generation=generation,
        )

    def _gone(self, roots: Sequence[Path], present: set[str]) -> list[str]:
        """Ingested files under ``roots`` that are no longer there."""
        prefixes = [source_of(r) for r in roots]
        gone = []
        for record in self.index.manifest.records():
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
        if candidate.text is not None:
            return self._prepare_record(candidate, existed)
        document = candidate.document
        if document is None:
            assert candidate.path is not None
            ocr = self.settings.ocr == "on"
            document = load(
                candidate.path,
                ocr=ocr,
                progress=self.ocr_progress,
                pdf_text=self.settings.pdf_text,
            )
        note = None
        if document.empty_pages and document.kind == "pdf":
            hint = "even by OCR" if self.settings.ocr == "on" else "(RAG_OCR=on would read them)"
            note = (
                f"{candidate.source}: {document.empty_pages} of {document.total_pages} pages "
                f"have no extractable text {hint}"
            )
        _, chunker = self._ready()
        chunks = chunker.split(
            document.pages, source=candidate.source, markdown=document.kind in MARKDOWN_KINDS
        )
        chunks = locate(chunks, document)
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

    def _prepare_record(self, candidate: Candidate, existed: bool) -> Prepared:
        self._ready()  # the model is needed to write, and this thread loads it early
        text = candidate.text or ""
        if not text.strip():
            raise IngestError(candidate.source, "empty record; nothing to index")
        chunk = Chunk(text=text, source=candidate.source, page=0, start_index=0)
        return Prepared(
            source=candidate.source,
            sha256=candidate.sha256,
            size=candidate.size,
            existed=existed,
            chunks={chunk_id(chunk): chunk},
        )

    def _store(self, batch: list[Prepared], report: Report, progress: Progress | None) -> None:
        if not batch:
            return
        embedder, _ = self._ready()
        written = store_files(
            batch,
            embedder=embedder,
            store=self.index.store,
            manifest=self.index.manifest,
            dedup_threshold=self.settings.dedup_threshold
            if self.settings.dedup == "skip"
            else None,
            context=self.index.context,
            before_write=self._session.check,
        )
        self.index.check()  # the first write under a new PCA names it in the contract
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
