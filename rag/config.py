"""The one settings object, read from the environment once and passed down.

Every environment variable the project reads is read here and documented in the
README's configuration table. Components take plain arguments and never read the
environment themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError
from rag.modes import parse_mode

BUNDLED_MODEL = "all-MiniLM-L6-v2"
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Settings:
    store_dir: Path
    collection: str = "docs"
    embed_model: str = BUNDLED_MODEL
    query_prefix: str | None = None  # None: take the prefix registry's value
    document_prefix: str | None = None
    chunk_size: int = 200  # in tokens of the embedding model
    chunk_overlap: int = 30
    top_k: int = 5
    device: str = "auto"
    # retrieval quality (issue 5): modes, fusion, MMR, reranking
    retrieval_mode: str = "hybrid"  # dense | bm25 | hybrid, each with optional +mmr / +rerank
    candidates: int = 50  # passages each ranker hands to fusion / MMR / rerank
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    mmr_lambda: float = 0.7
    rerank_model: str | None = None  # a local sentence-transformers CrossEncoder directory
    rerank_top_n: int = 20

    @property
    def bm25_dir(self) -> Path:
        return self.store_dir / "bm25" / self.collection

    @property
    def chroma_dir(self) -> Path:
        return self.store_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.store_dir / "manifest.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every ``RAG_*`` variable once; raise ConfigError with the fix on bad values."""
        env = os.environ if env is None else env
        store_dir = Path(env.get("RAG_STORE_DIR") or ".rag").expanduser()
        settings = cls(
            store_dir=store_dir.resolve(),
            collection=env.get("RAG_COLLECTION") or "docs",
            embed_model=env.get("RAG_EMBED_MODEL") or BUNDLED_MODEL,
            query_prefix=env.get("RAG_QUERY_PREFIX"),
            document_prefix=env.get("RAG_DOCUMENT_PREFIX"),
            chunk_size=_int(env, "RAG_CHUNK_SIZE", 200, minimum=16),
            chunk_overlap=_int(env, "RAG_CHUNK_OVERLAP", 30, minimum=0),
            top_k=_int(env, "RAG_TOP_K", 5, minimum=1),
            device=(env.get("RAG_DEVICE") or "auto").lower(),
            # retrieval quality (issue 5)
            retrieval_mode=(env.get("RAG_RETRIEVAL_MODE") or "hybrid").strip().lower(),
            candidates=_int(env, "RAG_CANDIDATES", 50, minimum=1),
            rrf_k=_int(env, "RAG_RRF_K", 60, minimum=1),
            dense_weight=_float(env, "RAG_DENSE_WEIGHT", 1.0, low=0.0, high=100.0),
            bm25_weight=_float(env, "RAG_BM25_WEIGHT", 1.0, low=0.0, high=100.0),
            mmr_lambda=_float(env, "RAG_MMR_LAMBDA", 0.7, low=0.0, high=1.0),
            rerank_model=env.get("RAG_RERANK_MODEL") or None,
            rerank_top_n=_int(env, "RAG_RERANK_TOP_N", 20, minimum=1),
        )
        settings.validate()
        return settings

    def validate_retrieval(self) -> None:
        check_mode(self, self.retrieval_mode)

    def validate(self) -> None:
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError(
                f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                f"RAG_CHUNK_SIZE ({self.chunk_size}). Lower the overlap or raise the size."
            )
        if self.device not in DEVICES:
            raise ConfigError(f"RAG_DEVICE is {self.device!r}; use one of {', '.join(DEVICES)}.")
        self.validate_retrieval()
        if not _valid_collection_name(self.collection):
            raise ConfigError(
                f"RAG_COLLECTION {self.collection!r} is not a valid name: use 3-512 "
                "characters from a-z, A-Z, 0-9, '.', '_' and '-', starting and ending "
                "with a letter or digit."
            )


def _float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}.")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}.")
    return value


def check_mode(settings: Settings, mode: str) -> None:
    """Refuse a retrieval mode that cannot run under these settings, saying the fix."""
    parsed = parse_mode(mode)
    if parsed.rerank and not settings.rerank_model:
        raise ConfigError(
            f"Retrieval mode {mode!r} reranks, but RAG_RERANK_MODEL is not set. Set it to a "
            "local sentence-transformers CrossEncoder directory, or drop '+rerank'."
        )
    if parsed.base == "hybrid" and settings.dense_weight + settings.bm25_weight == 0:
        raise ConfigError(
            "RAG_DENSE_WEIGHT and RAG_BM25_WEIGHT are both 0: hybrid retrieval needs one "
            "of them above 0."
        )


def _valid_collection_name(name: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    return (
        3 <= len(name) <= 512 and set(name) <= allowed and name[0].isalnum() and name[-1].isalnum()
    )
