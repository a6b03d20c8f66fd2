"""The embedder protocol and its value types: ``Embedder`` (what ingestion and retrieval
need from an embedding model), ``Vectors``, the ``Prefixes`` a model family expects, and the
``Identity`` that is an embedder's part of the index contract.

They live apart from ``rag.embedding.models`` because ``rag.embedding.models.load_local``
imports the torch-free ``rag.embedding.fast``, which needs these types: with them in
``rag.embedding.models`` the two modules imported each other. Every embedder, and everything
that takes one, imports them from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Prefixes:
    query: str = ""
    document: str = ""


@dataclass(frozen=True)
class Identity:
    """What an embedder's vectors mean: its part of the index contract."""

    provider: str  # local or openai
    model: str
    dimension: int  # 0 when not known yet (before the model loads)
    query_prefix: str
    document_prefix: str
    reduction: str = ""  # "pca" when projected to `dimension` (RAG_EMBED_DIM)
    projection: str = ""  # the fitted PCA's hash, once fitted

    @classmethod
    def of(cls, provider: str, model: str, dimension: int, prefixes: Prefixes) -> Identity:
        """An embedder's own identity, before any reduction."""
        return cls(provider, model, dimension, prefixes.query, prefixes.document)


class Embedder(Protocol):
    """What ingestion and retrieval need from an embedding model."""

    name: str
    prefixes: Prefixes

    @property
    def identity(self) -> Identity:
        """What its vectors mean (the index contract's embedding fields)."""
        ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...

    def embed_documents(self, texts: list[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...
