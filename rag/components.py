"""Wiring: build the embedder, store, manifest and index contract from the settings."""

from __future__ import annotations

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
    local = make_local_embedder(settings)
    if settings.embed_dim is None:
        return local
    from rag.reduction import ReducedEmbedder

    return ReducedEmbedder(local, dim=settings.embed_dim, path=settings.projection_path)


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
