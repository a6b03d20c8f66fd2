"""Wiring: build the embedder, store, manifest and index contract from the settings."""

from __future__ import annotations

from rag.config import Settings
from rag.embeddings import SentenceTransformerEmbedder, resolve_prefixes
from rag.manifest import Manifest
from rag.store import Contract, Store


def index_contract(settings: Settings, *, dimension: int = 0) -> Contract:
    prefixes = resolve_prefixes(
        settings.embed_model,
        query_prefix=settings.query_prefix,
        document_prefix=settings.document_prefix,
    )
    return Contract(
        embedding_model=settings.embed_model,
        query_prefix=prefixes.query,
        document_prefix=prefixes.document,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        dimension=dimension,
    )


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        settings.embed_model,
        device=settings.device,
        query_prefix=settings.query_prefix,
        document_prefix=settings.document_prefix,
        backend=settings.embed_backend,
        cache_dir=settings.model_cache_dir,
    )


def open_store(settings: Settings) -> Store:
    if settings.chroma_url:
        return Store(path=None, collection=settings.collection, url=settings.chroma_url)
    return Store(path=settings.chroma_dir, collection=settings.collection)


def open_manifest(settings: Settings) -> Manifest:
    return Manifest(settings.manifest_path, collection=settings.collection)
