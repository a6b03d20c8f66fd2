"""Wiring: build the embedder, store, manifest and index contract from the settings."""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.embeddings import Embedder, SentenceTransformerEmbedder, resolve_prefixes
from rag.manifest import Manifest
from rag.store import Contract, Store


def index_contract(settings: Settings, *, dimension: int = 0, projection: str = "") -> Contract:
    """What the settings' vectors mean; ``dimension`` 0 (not known yet) skips that check,
    ``projection`` "" (not fitted yet) skips the PCA check."""
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
        dimension=settings.embed_dim or dimension,
        provider=settings.embed_provider,
        reduction="pca" if settings.reduces_locally else "",
        projection=projection,
    )


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder: a remote OpenAI-compatible one, or a local model (behind
    a PCA to RAG_EMBED_DIM when that is set)."""
    if settings.embed_provider == "openai":
        from rag.openai_embeddings import OpenAIEmbedder

        return OpenAIEmbedder(
            settings.embed_model,
            base_url=settings.embed_base_url,
            api_key=settings.embed_api_key,
            dimensions=settings.embed_dim,
            query_prefix=settings.query_prefix,
            document_prefix=settings.document_prefix,
            timeout=settings.llm_timeout,
            retries=settings.llm_retries,
        )
    return with_reduction(make_local_embedder(settings), settings)


def with_reduction(local: Embedder, settings: Settings) -> Embedder:
    """``local`` behind the collection's PCA when RAG_EMBED_DIM asks for one."""
    if not settings.reduces_locally or settings.embed_dim is None:
        return local
    from rag.reduction import ReducedEmbedder

    return ReducedEmbedder(local, dim=settings.embed_dim, path=settings.projection_path)


def model_settings(settings: Settings) -> Settings:
    """Only what shapes the embedding model, not the collection: a cache key under which
    other top-k, modes or collections share one loaded model (a local model's PCA belongs
    to a collection: wrap the shared model with ``with_reduction``)."""
    return Settings(
        store_dir=Path(),
        embed_provider=settings.embed_provider,
        embed_model=settings.embed_model,
        embed_base_url=settings.embed_base_url,
        embed_api_key=settings.embed_api_key,
        # for openai RAG_EMBED_DIM is the `dimensions` parameter: part of the model
        embed_dim=settings.embed_dim if settings.embed_provider == "openai" else None,
        device=settings.device,
        query_prefix=settings.query_prefix,
        document_prefix=settings.document_prefix,
        embed_backend=settings.embed_backend,
        cache_dir=settings.model_cache_dir,
        llm_timeout=settings.llm_timeout,  # bounds embedding requests too
        llm_retries=settings.llm_retries,
    )


def make_local_embedder(settings: Settings) -> SentenceTransformerEmbedder:
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
