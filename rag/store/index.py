"""The one seam to an index: ``open_index(settings, writing=...)``.

It opens the collection (embedded under ``RAG_STORE_DIR`` or on the Chroma server at
``RAG_CHROMA_URL``), checks its contract against the settings before any model is loaded,
and hands out the embedder that fits it: the configured model, behind the collection's PCA
when ``RAG_EMBED_DIM`` asks for one. When the model loads, and after every write, the
contract is checked again against what the embedder reports of itself (its ``identity``),
and what a write settled (the dimension, a freshly fitted projection) is recorded.

Every entry point (the CLIs, the app, evaluation, the benchmarks) opens an index here, so
server mode and the contract checks hold everywhere by construction.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import TracebackType

from rag.config import EmbeddingSettings, Settings, StoreSettings
from rag.embedding.models import expected_identity, load_local
from rag.embedding.types import Embedder, Identity
from rag.errors import IndexMismatchError
from rag.store.chroma import Store
from rag.store.contract import SCHEMA_VERSION, Contract, check_contract
from rag.store.lease import Lease, holding
from rag.store.lock import writer_lock
from rag.store.manifest import FileManifest, Manifest
from rag.store.shared import SharedManifest, WriteSession, companion

log = logging.getLogger(__name__)

CONTRACT_KEY = "rag_contract"  # the collection metadata entry holding the contract


def load_model(embedding: EmbeddingSettings) -> Embedder:
    """The configured model, not yet tied to a collection (no PCA): what a process may
    load once and share between collections (``open_index(..., model=)``)."""
    if embedding.embed_provider == "openai":
        from rag.embedding.remote import OpenAIEmbedder

        return OpenAIEmbedder(
            embedding.embed_model,
            base_url=embedding.embed_base_url,
            api_key=embedding.embed_api_key,
            dimensions=embedding.embed_dim,
            query_prefix=embedding.query_prefix,
            document_prefix=embedding.document_prefix,
            timeout=embedding.embed_timeout,
            retries=embedding.embed_retries,
        )
    return load_local(
        embedding.embed_model,
        device=embedding.device,
        query_prefix=embedding.query_prefix,
        document_prefix=embedding.document_prefix,
        backend=embedding.embed_backend,
        cache_dir=embedding.cache_dir,
        precision=embedding.embed_precision,
    )


def for_collection(model: Embedder, settings: Settings) -> Embedder:
    """``model`` as this collection uses it: behind its PCA when RAG_EMBED_DIM asks for one."""
    from rag.embedding.reduction import ReducedEmbedder

    embedding = settings.embedding
    if not embedding.reduces_locally or embedding.embed_dim is None:
        return model
    if isinstance(model, ReducedEmbedder):  # already this collection's (a caller wrapped it)
        return model

    return ReducedEmbedder(model, dim=embedding.embed_dim, path=settings.store.projection_path)


def connect(store: StoreSettings) -> Store:
    """The Chroma collection alone: the server when RAG_CHROMA_URL is set, else embedded."""
    if store.chroma_url:
        return Store(path=None, collection=store.collection, url=store.chroma_url)
    return Store(path=store.chroma_dir, collection=store.collection)


def collection_names(store: Store) -> list[str]:
    """The collections beside ``store``'s (same database or server) that this app made:
    those that hold an index contract, sorted."""
    return sorted(name for name, meta in store.collections().items() if CONTRACT_KEY in meta)


def read_contract(store: Store) -> Contract | None:
    raw = store.metadata().get(CONTRACT_KEY)
    return Contract.from_json(str(raw)) if raw else None


class Index:
    """An opened collection, its contract checked, and the embedder that fits it."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        writing: bool,
        model: Embedder | Callable[[], Embedder] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.writing = writing
        self._model = model
        self._embedder: Embedder | None = None
        self._checked: Identity | None = None
        self._manifest: FileManifest | None = None
        self._lock = threading.Lock()  # ingestion's prefetch thread loads the model too

    # -- the embedder ---------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The collection's embedder, loaded on first use and checked against the contract."""
        with self._lock:
            if self._embedder is None:
                given = self._model
                if given is None:
                    model = load_model(self.settings.embedding)
                else:
                    model = given() if callable(given) else given
                embedder = for_collection(model, self.settings)
                self._check(embedder.identity)
                self._embedder = embedder
            return self._embedder

    def check(self) -> None:
        """Check the contract again if the embedder's identity changed since the last check:
        a PCA fitted by this write, or refitted by another process (``--rebuild``)."""
        if self._embedder is None:
            return
        identity = self._embedder.identity
        if identity != self._checked:
            with self._lock:
                self._check(identity)

    # -- the manifest and housekeeping ------------------------------------------------------

    @property
    def manifest(self) -> FileManifest:
        """The record of ingested files (opened on first use, closed by ``close``): a SQLite
        file under RAG_STORE_DIR for an embedded store, the records every host shares on
        the server with RAG_CHROMA_URL (``rag.store.shared``)."""
        if self._manifest is None:
            where = self.settings.store
            if where.chroma_url:
                self._manifest = SharedManifest(companion(self.store), collection=where.collection)
            else:
                self._manifest = Manifest(where.manifest_path, collection=where.collection)
        return self._manifest

    @property
    def shared(self) -> SharedManifest | None:
        """The manifest every host shares, with RAG_CHROMA_URL; None for an embedded store."""
        manifest = self.manifest
        return manifest if isinstance(manifest, SharedManifest) else None

    def lease(self) -> Lease | None:
        """The writer lease every host honours, with RAG_CHROMA_URL; None when embedded."""
        if not self.settings.store.chroma_url:
            return None
        return Lease(
            companion(self.store),
            seconds=self.settings.ingest.lease_seconds,
            what=f"collection '{self.store.name}' on {self.store.location}",
        )

    @contextlib.contextmanager
    def writer(self, *, on_wait: Callable[[str], None] | None = None) -> Iterator[WriteSession]:
        """Hold the right to write this index for the body of a ``with``: the file lock under
        RAG_STORE_DIR (one writer per host, and the host's BM25 folder), and with
        RAG_CHROMA_URL the collection's lease on the server (one writer across hosts),
        after which whatever a writer that died mid-write left is repaired."""
        timeout = self.settings.ingest.lock_timeout
        with writer_lock(self.settings.store.store_dir, timeout=timeout, on_wait=on_wait):
            lease = self.lease()
            if lease is None:
                yield WriteSession()
                return
            with holding(lease, timeout=timeout, on_wait=on_wait):
                session = WriteSession(self.shared, lease)
                session.recover(self.store)
                yield session

    def contract(self) -> Contract | None:
        return read_contract(self.store)

    @property
    def context(self) -> str:
        """How this collection's passages are embedded and indexed (``rag.store.passages``): as
        its contract records, and as a new collection would be when it has none yet."""
        stored = self.contract()
        return stored.context if stored is not None else self._expected().context

    def clear(self) -> None:
        """Drop everything the collection holds (``--rebuild``): its vectors, its manifest
        rows and its PCA, which the next write fits again."""
        self.store.drop()
        self.manifest.clear()
        self.settings.store.projection_path.unlink(missing_ok=True)
        self._checked = None
        self._open(self._expected())

    def close(self) -> None:
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- the contract -----------------------------------------------------------------------

    def _expected(self) -> Contract:
        return Contract.of(expected_identity(self.settings.embedding), self.settings.ingest)

    def _check(self, identity: Identity) -> None:
        self._open(Contract.of(identity, self.settings.ingest))
        self._checked = identity

    def _open(self, wanted: Contract) -> None:
        """Create (when writing) the collection or enforce its contract; record what a
        write settled (dimension, projection, the current schema)."""
        store, name = self.store, self.store.name
        if not store.exists():
            if self.writing:
                store.create({CONTRACT_KEY: wanted.to_json()})
            return
        stored = read_contract(store)
        if stored is None:
            if store.count() and self.writing:
                raise IndexMismatchError(
                    f"Collection '{name}' at {store.location} was not created by this "
                    "app (no index contract). Choose another RAG_COLLECTION or re-ingest "
                    "with --rebuild."
                )
            if self.writing:
                self._record(wanted)
            return
        try:
            check_contract(stored, wanted, collection=name, writing=self.writing)
        except IndexMismatchError:
            if not self.writing or stored.schema_version > SCHEMA_VERSION or store.count():
                raise
            # an empty collection holds no vectors to protect: a first run that failed
            # before writing (a bad RAG_EMBED_DIM, a server that was down) must not pin
            # its settings on the run that follows the error message's fix
            log.info("collection '%s' is empty: recreated for the current settings", name)
            store.drop()
            store.create({CONTRACT_KEY: wanted.to_json()})
            return
        if not self.writing:
            return
        settled = stored
        if stored.schema_version < SCHEMA_VERSION:
            log.info(
                "collection '%s': migrating schema %d -> %d",
                name,
                stored.schema_version,
                SCHEMA_VERSION,
            )
            settled = replace(settled, schema_version=SCHEMA_VERSION)
        if wanted.dimension and not settled.dimension:
            settled = replace(settled, dimension=wanted.dimension)
        if wanted.projection and not settled.projection:
            settled = replace(settled, projection=wanted.projection)
        if settled != stored:
            self._record(settled)

    def _record(self, contract: Contract) -> None:
        self.store.set_metadata(CONTRACT_KEY, contract.to_json())


def open_index(
    settings: Settings,
    *,
    writing: bool,
    model: Embedder | Callable[[], Embedder] | None = None,
    store: Store | None = None,
    rebuild: bool = False,
) -> Index:
    """Open the configured collection for reading or writing, its contract checked against
    the settings before any model loads.

    ``model`` is the embedding model to use, or a factory for it (the app shares one loaded
    model between collections); by default the configured one is loaded on first use.
    ``store`` is a connection to ``settings.store`` to reuse (``connect``). A mismatch raises
    ``IndexMismatchError`` with the fix; reading a collection that does not exist yet gives
    an empty index. ``rebuild`` (writing only) defers that check: the caller is about to
    ``clear`` the collection, under the writer lock, for these settings (``--rebuild``).
    Close the index (or use it as a context manager) to close its manifest.
    """
    store = connect(settings.store) if store is None else store
    index = Index(settings, store=store, writing=writing, model=model)
    if not (rebuild and writing):
        index._open(index._expected())
    return index
