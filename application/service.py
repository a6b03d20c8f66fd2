"""What the API server and the MCP server do, without HTTP: one object both share.

Every index is opened through ``rag.index.open_index`` (so ``RAG_CHROMA_URL`` and the
contract checks hold here as everywhere), on one connection per collection and one loaded
model. Readers share that model behind a lock (``Serialized``); uploads embed with a second
instance of their own, so that a long ingestion does not queue every question behind it.
Writes go through ``ingest.pipeline.Ingestor``, which holds the store's writer lock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np

from ingest.pipeline import Ingestor
from ingest.report import Report
from ingest.uploads import (
    check_content,
    keep_ingested,
    safe_filename,
    save_upload,
    upload_folder,
)
from rag.answer import Answerer, AnswerStream
from rag.config import Settings
from rag.embedder_types import Embedder, Vectors
from rag.errors import ConfigError, NotFoundError, UploadTooLargeError
from rag.index import Index, collection_names, connect, load_model, open_index
from rag.llm import LLM, make_llm
from rag.local_server import stop_local_servers
from rag.manifest import FileRecord
from rag.retriever import Retriever
from rag.serialized import Serialized
from rag.store import Store
from rag.types import Hit, Turn

log = logging.getLogger(__name__)

ModelFactory = Callable[[], Embedder]
EmbedKind = Literal["document", "query"]


def document_id(source: str) -> str:
    """A document's id in the API: stable, URL-safe, derived from its source path."""
    return hashlib.sha256(source.encode("utf-8", errors="replace")).hexdigest()[:16]


def document_json(record: FileRecord) -> dict[str, object]:
    return {
        "id": document_id(record.source),
        "name": Path(record.source).name,
        "source": record.source,
        "sha256": record.sha256,
        "size": record.size,
        "chunks": len(record.chunk_ids),
        "ingested_at": round(record.ingested_at, 3),
    }


class Service:
    """The collections of one store (``RAG_STORE_DIR`` / ``RAG_CHROMA_URL``), served."""

    def __init__(self, settings: Settings, *, model: ModelFactory | None = None) -> None:
        self.settings = settings
        self._make_model = model or (lambda: load_model(settings.embedding))
        self._reader: Embedder | None = None
        self._writer: Embedder | None = None
        self._llm: LLM | None = None
        self._llm_made = False
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()

    # -- shared resources ------------------------------------------------------------------

    def reader(self) -> Embedder:
        """The model questions and searches embed with, loaded once."""
        with self._lock:
            if self._reader is None:
                model = self._make_model()
                local = self.settings.embedding.embed_provider == "local"
                self._reader = Serialized(model) if local else model
            return self._reader

    def writer(self) -> Embedder:
        """The uploads' own model (the writer lock lets one ingestion use it at a time)."""
        with self._lock:
            if self._writer is None:
                self._writer = self._make_model()
            return self._writer

    @property
    def llm(self) -> LLM | None:
        """The configured LLM (None: extractive answers), made once."""
        with self._lock:
            if not self._llm_made:
                self._llm = make_llm(self.settings.answers)
                self._llm_made = True
            return self._llm

    def warm(self) -> None:
        """Load the model and start the LLM now, rather than on the first request."""
        self.reader()
        _ = self.llm

    def close(self) -> None:
        """Stop what ``warm`` started: the bundled LLM server (``RAG_LLM=local``)."""
        stop_local_servers()

    def store(self, settings: Settings) -> Store:
        name = settings.store.collection
        with self._lock:
            if name not in self._stores:
                self._stores[name] = connect(settings.store)
            return self._stores[name]

    # -- collections -----------------------------------------------------------------------

    def collections(self) -> list[str]:
        """The collections this app made in the store, and always the default one."""
        names = collection_names(self.store(self.settings))
        return sorted({*names, self.settings.store.collection})

    def settings_for(self, collection: str | None) -> Settings:
        """The settings of ``collection`` (None: RAG_COLLECTION); ConfigError on a bad name."""
        if not collection or collection == self.settings.store.collection:
            return self.settings
        return self.settings.replace(collection=collection)

    def existing(self, collection: str | None) -> Settings:
        """Like ``settings_for``, but NotFoundError for a collection that does not exist."""
        settings = self.settings_for(collection)
        if settings is self.settings or self.store(settings).exists():
            return settings
        known = ", ".join(self.collections())
        raise NotFoundError(
            f"There is no collection {collection!r} (collections: {known}). Use one of "
            f"these, or ingest into it first: RAG_COLLECTION={collection} python -m rag "
            "ingest PATH (or upload with ?collection=NAME)."
        )

    @contextmanager
    def reading(self, collection: str | None) -> Iterator[Index]:
        """An existing collection opened for reading; leaving closes its manifest, the one
        part of an index that is per thread (answers go on streaming after it)."""
        settings = self.existing(collection)
        index = open_index(settings, writing=False, model=self.reader, store=self.store(settings))
        with index:
            yield index

    # -- reading ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        collection: str | None = None,
        k: int | None = None,
        mode: str | None = None,
        label: str | None = None,
    ) -> list[Hit]:
        """Ranked hits, as ``python -m rag search`` finds them."""
        with self.reading(collection) as index:
            retriever = Retriever(index=index, settings=index.settings.retrieval)
            return retriever.retrieve(query, k=k, mode=mode, label=label)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        collection: str | None = None,
        label: str | None = None,
    ) -> AnswerStream:
        """The answer as ``python -m rag ask`` and the app give it, as a stream."""
        with self.reading(collection) as index:
            if label and label not in index.store.labels():
                known = ", ".join(index.store.labels()) or "none yet"
                raise ConfigError(
                    f"No document has the label {label!r} (labels: {known}). Label the "
                    "collection with `python -m rag classify LABELS.toml`, or drop the label."
                )
            retriever = Retriever(index=index, settings=index.settings.retrieval)
            answerer = Answerer(retriever=retriever, llm=self.llm, settings=self.settings.answers)
            return answerer.ask(question, history=history, label=label)

    def embed(
        self, texts: list[str], *, collection: str | None = None, kind: EmbedKind = "document"
    ) -> tuple[Vectors, int]:
        """Vectors exactly as the collection stores (``document``) or searches (``query``)
        them, and the number of tokens read."""
        with self.reading(collection) as index:
            embedder = index.embedder
            tokens = sum(embedder.count_tokens(t) for t in texts)
            if kind == "query":
                vectors = np.stack([embedder.embed_query(t) for t in texts])
            else:
                vectors = embedder.embed_documents(texts)
            return np.asarray(vectors, dtype=np.float32), tokens

    def documents(self, collection: str | None = None) -> list[dict[str, object]]:
        with self.reading(collection) as index:
            return [document_json(r) for r in index.manifest.records()]

    # -- writing ---------------------------------------------------------------------------

    def upload(
        self, files: Sequence[tuple[str, bytes]], *, collection: str | None = None
    ) -> tuple[Report, list[str]]:
        """Check every file as the app does, save them to the uploads folder, ingest them;
        one bad file refuses the whole request before anything is stored, and a file that
        fails to ingest is not kept. Returns the report and the ingested files' sources."""
        settings = self.settings_for(collection)
        limit = settings.app.max_upload_mb * 1_000_000
        if not files:
            raise ConfigError("No file in the request: send each as the multipart field 'file'.")
        names = [safe_filename(name) for name, _ in files]
        if len(set(names)) != len(names):
            raise ConfigError("Two uploads have the same file name: send them separately.")
        for (name, data), safe in zip(files, names, strict=True):
            if len(data) > limit:
                raise UploadTooLargeError(
                    name,
                    f"{len(data) / 1e6:.1f} MB is over the upload limit of "
                    f"{settings.app.max_upload_mb} MB; raise RAG_MAX_UPLOAD_MB or ingest it "
                    "with `python -m rag ingest`",
                )
            check_content(safe, data, max_bytes=limit)
        with open_index(
            settings, writing=True, model=self.writer, store=self.store(settings)
        ) as index:
            saved = [
                save_upload(
                    name,
                    data,
                    folder=upload_folder(settings.store, name, manifest=index.manifest),
                    max_bytes=limit,
                )
                for name, data in files
            ]
            try:
                report = Ingestor(index).run(saved)
            except BaseException:
                keep_ingested(saved, None)
                raise
        kept = keep_ingested(saved, report)
        log.info("upload into '%s': %s", settings.store.collection, report.as_dict())
        return report, [str(p.absolute()) for p in kept]

    def delete(self, doc_id: str, *, collection: str | None = None) -> Report:
        """Forget one document (by ``document_id``) through ``Ingestor.remove``."""
        settings = self.existing(collection)
        with open_index(
            settings, writing=True, model=self.writer, store=self.store(settings)
        ) as index:
            sources = [r.source for r in index.manifest.records()]
            source = next((s for s in sources if document_id(s) == doc_id), None)
            report = Ingestor(index).remove([source]) if source else None
        if report is None or not report.removed:
            raise NotFoundError(
                f"Collection '{settings.store.collection}' has no document with id "
                f"{doc_id!r}; list them with GET /v1/documents."
            )
        return report
