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

BUNDLED_MODEL = "all-MiniLM-L6-v2"
DEVICES = ("auto", "cpu", "cuda")
EMBED_BACKENDS = ("auto", "torch", "onnx", "openvino")


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
    # performance and scale: the embedding runtime, where exported models are cached,
    # and an optional Chroma server instead of the embedded store
    embed_backend: str = "auto"
    cache_dir: Path | None = None  # None: a "models" folder inside store_dir
    chroma_url: str | None = None

    @property
    def model_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.store_dir / "models"

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
            # performance and scale
            embed_backend=(env.get("RAG_EMBED_BACKEND") or "auto").lower(),
            cache_dir=_cache_dir(env),
            chroma_url=(env.get("RAG_CHROMA_URL") or "").strip() or None,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError(
                f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                f"RAG_CHUNK_SIZE ({self.chunk_size}). Lower the overlap or raise the size."
            )
        if self.device not in DEVICES:
            raise ConfigError(f"RAG_DEVICE is {self.device!r}; use one of {', '.join(DEVICES)}.")
        if self.embed_backend not in EMBED_BACKENDS:
            raise ConfigError(
                f"RAG_EMBED_BACKEND is {self.embed_backend!r}; use one of "
                f"{', '.join(EMBED_BACKENDS)} (auto picks the fastest one installed)."
            )
        if self.chroma_url is not None and not _valid_url(self.chroma_url):
            raise ConfigError(
                f"RAG_CHROMA_URL is {self.chroma_url!r}; give the server as "
                "http://host:port (e.g. http://localhost:8000), or unset it to use the "
                "store under RAG_STORE_DIR."
            )
        if not _valid_collection_name(self.collection):
            raise ConfigError(
                f"RAG_COLLECTION {self.collection!r} is not a valid name: use 3-512 "
                "characters from a-z, A-Z, 0-9, '.', '_' and '-', starting and ending "
                "with a letter or digit."
            )


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


def _cache_dir(env: Mapping[str, str]) -> Path | None:
    raw = env.get("RAG_CACHE_DIR")
    if raw:
        return Path(raw).expanduser().resolve()
    xdg = env.get("XDG_CACHE_HOME")
    home = env.get("HOME")
    if xdg:
        return (Path(xdg) / "rag-chat" / "models").expanduser().resolve()
    if home:
        return (Path(home) / ".cache" / "rag-chat" / "models").resolve()
    return None


def _valid_url(url: str) -> bool:
    from urllib.parse import urlparse

    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def _valid_collection_name(name: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    return (
        3 <= len(name) <= 512 and set(name) <= allowed and name[0].isalnum() and name[-1].isalnum()
    )
