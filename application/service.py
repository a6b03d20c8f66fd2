"""The work every edge does, without widgets, HTTP or argv: ``Service(settings)`` over the
collections of one store (``RAG_STORE_DIR`` / ``RAG_CHROMA_URL``).

The app, the API server, the MCP server and ``python -m rag search``/``ask`` all go through
it. Every index is opened through ``rag.store.index.open_index`` (so ``RAG_CHROMA_URL`` and the
contract checks hold here as everywhere), on the process's shared connections and model
(``application.resources``). Retrieval and answers are assembled in ``application.queries``;
writes go through ``ingest.pipeline.Ingestor``, which holds the store's writer lock, and an
upload is one transaction (``upload``): a file that fails to ingest is taken back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np

from application import queries
from application.models import for_contract
from application.resources import Loading, Resources, shared
from ingest.pipeline import Ingestor
from ingest.report import Report
from ingest.uploads import (
    check_content,
    keep_ingested,
    safe_filename,
    save_upload,
    upload_folder,
)
from rag.answers.answer import AnswerStream
from rag.answers.llm import LLM
from rag.answers.local_server import stop_local_servers
from rag.config import EmbeddingSettings, Settings
from rag.embedding.models import bundled_models
from rag.embedding.types import Embedder, Vectors
from rag.errors import ConfigError, IngestError, NotFoundError, UploadTooLargeError
from rag.store.chroma import Store
from rag.store.index import Index, collection_names, open_index, read_contract
from rag.store.manifest import FileRecord
from rag.types import Hit, Turn

log = logging.getLogger(__name__)

ModelFactory = Callable[[], Embedder]
EmbedKind = Literal["document", "query"]
# the app's per-file hooks of an upload: a file refused (its name and why), the files saved
Refused = Callable[[str, IngestError], None]
Saved = Callable[[Sequence[Path]], None]


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
    """The collections of one store (``RAG_STORE_DIR`` / ``RAG_CHROMA_URL``), served.

    Cheap to make (the app makes one per run): what is expensive lives in ``resources``,
    the process's shared one unless given. ``model`` (tests) replaces the configured model's
    loader. ``separate_writer``: uploads embed with a second instance of the model (the
    servers: a long ingestion does not queue every question behind it) or with the readers'
    one (the app: one model in memory). ``loading`` wraps the model's first load (the app's
    spinner)."""

    def __init__(
        self,
        settings: Settings,
        *,
        model: ModelFactory | None = None,
        resources: Resources | None = None,
        separate_writer: bool = True,
        loading: Loading | None = None,
    ) -> None:
        self.settings = settings
        if model is not None:
            resources = Resources(load=lambda _: model())
        self.resources = resources or shared()
        self._separate_writer = separate_writer
        self._loading = loading

    # -- shared resources ------------------------------------------------------------------

    def reader(self, embedding: EmbeddingSettings | None = None) -> Embedder:
        """The model questions and searches embed with (by default the settings'), loaded
        once per process and shared by the collections built with it."""
        embedding = embedding or self.settings.embedding
        if self._loading is None:
            return self.resources.reader(embedding)
        return self.resources.reader(embedding, loading=self._loading)

    def writer(self, embedding: EmbeddingSettings | None = None) -> Embedder:
        """The model uploads embed with (see ``separate_writer``)."""
        embedding = embedding or self.settings.embedding
        if not self._separate_writer:
            return self.reader(embedding)
        return self.resources.writer(embedding)

    @property
    def llm(self) -> LLM | None:
        """The configured LLM (None: extractive answers), made once per process."""
        return self.resources.llm(self.settings.answers)

    def warm(self) -> None:
        """Load the model and start the LLM now, rather than on the first request."""
        self.reader()
        _ = self.llm

    def close(self) -> None:
        """Stop what ``warm`` started: the bundled LLM server (``RAG_LLM=local``)."""
        stop_local_servers()

    def store(self, settings: Settings) -> Store:
        return self.resources.store(settings.store)

    def open(self, settings: Settings, *, writing: bool = False) -> Index:
        """``settings``' collection through the one seam, on the shared connection and
        model; close it (or use it as a context manager) to close its manifest."""
        embedding = settings.embedding  # the collection's model (``settings_for``)
        return open_index(
            settings,
            writing=writing,
            model=lambda: self.writer(embedding) if writing else self.reader(embedding),
            store=self.store(settings),
        )

    def create(self, settings: Settings) -> None:
        """An empty collection for ``settings``, its index contract recorded."""
        self.open(settings, writing=True).close()

    # -- collections -----------------------------------------------------------------------

    def collections(self) -> list[str]:
        """The collections this app made in the store, and always the default one."""
        names = collection_names(self.store(self.settings))
        return sorted({*names, self.settings.store.collection})

    def settings_for(self, collection: str | None) -> Settings:
        """The settings ``collection`` (None: RAG_COLLECTION) is opened with: its own model
        when its contract records another bundled one (``application.models``), else these
        settings; ConfigError on a bad name."""
        settings = self.settings
        if collection and collection != settings.store.collection:
            settings = settings.replace(collection=collection)
        contract = read_contract(self.store(settings))
        return for_contract(settings, contract, available=bundled_models())

    def existing(self, collection: str | None) -> Settings:
        """Like ``settings_for``, but NotFoundError for a collection that does not exist."""
        settings = self.settings_for(collection)
        if settings.store.collection == self.settings.store.collection:
            return settings  # the configured one is always there, if only empty
        if self.store(settings).exists():
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
        with self.open(self.existing(collection)) as index:
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
        """Ranked hits (``application.queries.search``)."""
        with self.reading(collection) as index:
            return queries.search(index, query, k=k, mode=mode, label=label)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        collection: str | None = None,
        k: int | None = None,
        mode: str | None = None,
        label: str | None = None,
    ) -> AnswerStream:
        """The answer as a stream (``application.queries.ask``), with the configured LLM;
        a label no document has is refused first."""
        with self.reading(collection) as index:
            llm = self.llm  # made (with RAG_LLM=local: started) before the label is checked
            queries.check_label(index, label, drop="the label")
            return queries.ask(
                index, question, llm=llm, history=history, k=k, mode=mode, label=label
            )

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
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        collection: str | None = None,
        refused: Refused | None = None,
        saved: Saved | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> tuple[Report, list[str]]:
        """The one upload transaction: save the files to the collection's uploads folder,
        ingest them, and take back every file that was not ingested; on any exception
        (a bug, an interrupt, a busy store) every saved file is taken back and the
        exception raised again. Returns the report and the ingested files' sources.

        Without ``refused`` (the API), every file is checked first and one bad file refuses
        the whole request before anything is stored. With it (the app), a file that cannot
        be saved is passed to it and the others go on. ``saved`` hears the saved files
        before ingestion starts, ``progress`` each file as it is done."""
        settings = self.settings_for(collection)
        limit = settings.app.max_upload_mb * 1_000_000
        if refused is None:
            check_uploads(files, max_upload_mb=settings.app.max_upload_mb)
        with self.open(settings, writing=True) as index:
            stored: list[Path] = []
            try:
                for name, data in files:
                    folder = upload_folder(settings.store, name, manifest=index.manifest)
                    try:
                        stored.append(save_upload(name, data, folder=folder, max_bytes=limit))
                    except IngestError as exc:
                        if refused is None:
                            raise
                        refused(name, exc)
                if saved is not None:
                    saved(stored)
                report = Ingestor(index).run(stored, progress=progress) if stored else Report()
            except BaseException:  # whatever it was, no file stays un-ingested
                keep_ingested(stored, None)
                raise
        kept = keep_ingested(stored, report)
        log.info("upload into '%s': %s", settings.store.collection, report.as_dict())
        return report, [str(p.absolute()) for p in kept]

    def fetch(self, url: str, *, depth: int, collection: str | None = None) -> Report:
        """A web page (and its same-site links, ``depth`` deep) through the pipeline."""
        with self.open(self.settings_for(collection), writing=True) as index:
            return Ingestor(index).run_urls([url], depth=depth)

    def delete(self, doc_id: str, *, collection: str | None = None) -> Report:
        """Forget one document (by ``document_id``) through ``Ingestor.remove``."""
        settings = self.existing(collection)
        with self.open(settings, writing=True) as index:
            sources = [r.source for r in index.manifest.records()]
            source = next((s for s in sources if document_id(s) == doc_id), None)
            report = Ingestor(index).remove([source]) if source else None
        if report is None or not report.removed:
            raise NotFoundError(
                f"Collection '{settings.store.collection}' has no document with id "
                f"{doc_id!r}; list them with GET /v1/documents."
            )
        return report


def check_uploads(files: Sequence[tuple[str, bytes]], *, max_upload_mb: int) -> None:
    """Every file of an all-or-nothing upload checked before any is stored: present, names
    distinct once made safe, within the size limit, content matching the extension."""
    limit = max_upload_mb * 1_000_000
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
                f"{max_upload_mb} MB; raise RAG_MAX_UPLOAD_MB or ingest it "
                "with `python -m rag ingest`",
            )
        check_content(safe, data, max_bytes=limit)
