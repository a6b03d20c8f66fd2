"""The index contract: what a collection's vectors mean, how two contracts differ, and the
message that says how to fix a mismatch.

The embedder reports its part (``Identity``: provider, model, dimension, prefixes,
projection); the chunker settings complete it. ``rag.store.index`` records the contract when a
collection is created and checks it on every open.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from rag.config import IngestSettings
from rag.embedding.types import Identity
from rag.errors import IndexMismatchError
from rag.store.passages import CONTEXT

# 1: the first release; 2: a BM25 index lives beside the collection (built from the
# stored texts on first use, so a version-1 store needs no rewrite of its vectors).
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Contract:
    """What a collection's vectors mean: mixing two contracts in one index is a bug."""

    embedding_model: str
    query_prefix: str
    document_prefix: str
    chunk_size: int
    chunk_overlap: int
    dimension: int = 0  # 0 until the model has been loaded once
    distance: str = "cosine"
    schema_version: int = SCHEMA_VERSION
    provider: str = "local"  # RAG_EMBED_PROVIDER: local or openai
    reduction: str = ""  # "pca": local vectors projected to `dimension` (RAG_EMBED_DIM)
    projection: str = ""  # sha256 prefix of the fitted PCA, once fitted
    # rag.store.passages.CONTEXT when chunks are embedded after their heading path; "" in a
    # collection from before that, which keeps being written without (never mixed)
    context: str = ""

    @classmethod
    def of(cls, identity: Identity, ingest: IngestSettings) -> Contract:
        """The contract of vectors made by an embedder of ``identity`` from chunks cut so."""
        return cls(
            embedding_model=identity.model,
            query_prefix=identity.query_prefix,
            document_prefix=identity.document_prefix,
            chunk_size=ingest.chunk_size,
            chunk_overlap=ingest.chunk_overlap,
            dimension=identity.dimension,
            provider=identity.provider,
            reduction=identity.reduction,
            projection=identity.projection,
            context=CONTEXT,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Contract:
        data = json.loads(raw)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def check_contract(stored: Contract, wanted: Contract, *, collection: str, writing: bool) -> None:
    """Refuse to mix vectors of different models, prefixes or (when writing) chunkings.
    The context is not checked: a collection is always written with its own."""
    if stored.schema_version > SCHEMA_VERSION:
        raise IndexMismatchError(
            f"Collection '{collection}' was written by a newer version of this app "
            f"(schema {stored.schema_version}, this one reads {SCHEMA_VERSION}). "
            "Upgrade the app, or re-ingest with --rebuild."
        )
    if stored.provider != wanted.provider:
        raise IndexMismatchError(
            f"Collection '{collection}' was built with {stored.provider} embeddings "
            f"({stored.embedding_model}) but RAG_EMBED_PROVIDER is {wanted.provider}. "
            f"Re-ingest with --rebuild, or set RAG_EMBED_PROVIDER back to {stored.provider}."
        )
    if stored.reduction != wanted.reduction and stored.embedding_model == wanted.embedding_model:
        held = (
            f"PCA-reduced to {stored.dimension} dims"
            if stored.reduction
            else f"at the model's full {stored.dimension or 'native'} dims"
        )
        fix = f"RAG_EMBED_DIM={stored.dimension}" if stored.reduction else "RAG_EMBED_DIM unset"
        raise IndexMismatchError(
            f"Collection '{collection}' stores vectors {held}, which the current "
            f"RAG_EMBED_DIM does not match. Re-ingest with --rebuild, or set {fix}."
        )
    if stored.projection and wanted.projection and stored.projection != wanted.projection:
        raise IndexMismatchError(
            f"Collection '{collection}' was reduced with PCA {stored.projection} but the "
            f"projection file now holds {wanted.projection}: the vectors and queries would "
            "not match. Re-ingest with --rebuild (which fits the PCA again)."
        )
    model_differs = stored.embedding_model != wanted.embedding_model or (
        stored.dimension and wanted.dimension and stored.dimension != wanted.dimension
    )
    if model_differs and stored.embedding_model == wanted.embedding_model:
        raise IndexMismatchError(
            f"Collection '{collection}' holds {stored.dimension}-dim vectors of "
            f"{stored.embedding_model} but the current settings make {wanted.dimension}-dim "
            f"ones. Re-ingest with --rebuild, or set RAG_EMBED_DIM={stored.dimension}."
        )
    if model_differs:
        raise IndexMismatchError(
            f"Collection '{collection}' was built with {stored.embedding_model} "
            f"({stored.dimension} dims) but RAG_EMBED_MODEL is {wanted.embedding_model}"
            f"{f' ({wanted.dimension} dims)' if wanted.dimension else ''}. Re-ingest with "
            f"--rebuild, or set RAG_EMBED_MODEL back to {stored.embedding_model}."
        )
    for name, env in (
        ("query_prefix", "RAG_QUERY_PREFIX"),
        ("document_prefix", "RAG_DOCUMENT_PREFIX"),
    ):
        if getattr(stored, name) != getattr(wanted, name):
            raise IndexMismatchError(
                f"Collection '{collection}' was built with {name.replace('_', ' ')} "
                f"{getattr(stored, name)!r} but the current setting is "
                f"{getattr(wanted, name)!r}. Re-ingest with --rebuild, or set {env} back."
            )
    if writing and (stored.chunk_size, stored.chunk_overlap) != (
        wanted.chunk_size,
        wanted.chunk_overlap,
    ):
        raise IndexMismatchError(
            f"Collection '{collection}' was chunked with RAG_CHUNK_SIZE={stored.chunk_size}, "
            f"RAG_CHUNK_OVERLAP={stored.chunk_overlap} but the current settings are "
            f"{wanted.chunk_size}/{wanted.chunk_overlap}. Re-ingest with --rebuild, or set "
            "them back."
        )
