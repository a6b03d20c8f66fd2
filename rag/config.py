"""The one settings object, read from the environment once and passed down.

Every environment variable the project reads is read here and documented in the
README's configuration table. Components take plain arguments and never read the
environment themselves.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import ConfigError
from rag.modes import parse_mode

BUNDLED_MODEL = "all-MiniLM-L6-v2"
DEVICES = ("auto", "cpu", "cuda")
LLM_MODES = ("auto", "openai", "local", "none")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# Best-hit cosine below which the extractive answerer abstains; calibrated on R-intro.pdf
# with bench/calibrate_abstain.py (see the README's "Answers" section).
DEFAULT_ABSTAIN_THRESHOLD = 0.44
EMBED_BACKENDS = ("auto", "torch", "onnx", "openvino")
DEDUP_MODES = ("off", "skip")
EMBED_PROVIDERS = ("local", "openai")
DEFAULT_OPENAI_EMBED_MODEL = "text-embedding-3-small"


@dataclass(frozen=True)
class Settings:
    store_dir: Path
    collection: str = "docs"
    # local: a sentence-transformers model on this machine; openai: an OpenAI-compatible
    # /v1/embeddings endpoint (OpenAI itself, Ollama, vLLM, llama.cpp) via the openai client
    embed_provider: str = "local"
    embed_model: str = BUNDLED_MODEL
    embed_base_url: str | None = None
    embed_api_key: str | None = field(default=None, repr=False)
    # stored vector size: the `dimensions` parameter for openai, a PCA fitted on the
    # corpus for local models; None keeps the model's own size
    embed_dim: int | None = None
    query_prefix: str | None = None  # None: take the prefix registry's value
    document_prefix: str | None = None
    chunk_size: int = 200  # in tokens of the embedding model
    chunk_overlap: int = 30
    top_k: int = 5
    device: str = "auto"
    lock_timeout: int = 300  # seconds a writer waits for another one
    # UI uploads
    max_upload_mb: int = 50
    # answers: the LLM (any OpenAI-compatible server, or the bundled local one) and the
    # extractive default used when none is configured
    llm: str = "auto"  # auto: use an LLM when a base URL or API key is set
    llm_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    llm_temperature: float = 0.1
    llm_max_tokens: int = 512
    llm_timeout: float = 30.0  # seconds per request
    llm_retries: int = 2  # on connection errors, 408/409/429 and 5xx, with backoff
    llm_context_tokens: int = 4096
    llm_threads: int = 1  # CPU threads of the local llama.cpp server
    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
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

    # performance and scale: the embedding runtime, where exported models are cached,
    # and an optional Chroma server instead of the embedded store
    embed_backend: str = "auto"
    cache_dir: Path | None = None  # None: a "models" folder inside store_dir
    chroma_url: str | None = None

    # near-duplicates (issue 8): RAG_DEDUP=skip leaves out chunks that copy another file's
    dedup: str = "off"
    dedup_threshold: float = 0.95

    @property
    def projection_path(self) -> Path:
        """The PCA fitted on this collection's corpus (RAG_EMBED_DIM with a local model)."""
        return self.store_dir / "projections" / f"{self.collection}.npz"

    @property
    def reduces_locally(self) -> bool:
        return self.embed_dim is not None and self.embed_provider == "local"

    @property
    def model_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.store_dir / "models"

    @property
    def chroma_dir(self) -> Path:
        return self.store_dir / "chroma"

    @property
    def upload_dir(self) -> Path:
        return self.store_dir / "uploads"

    @property
    def manifest_path(self) -> Path:
        return self.store_dir / "manifest.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every ``RAG_*`` variable once; raise ConfigError with the fix on bad values."""
        env = os.environ if env is None else env
        store_dir = Path(env.get("RAG_STORE_DIR") or ".rag").expanduser()
        provider = (env.get("RAG_EMBED_PROVIDER") or "local").strip().lower()
        default_model = DEFAULT_OPENAI_EMBED_MODEL if provider == "openai" else BUNDLED_MODEL
        settings = cls(
            store_dir=store_dir.resolve(),
            collection=env.get("RAG_COLLECTION") or "docs",
            embed_provider=provider,
            embed_model=env.get("RAG_EMBED_MODEL") or default_model,
            embed_base_url=env.get("RAG_EMBED_BASE_URL") or env.get("OPENAI_BASE_URL") or None,
            embed_api_key=env.get("RAG_EMBED_API_KEY") or env.get("OPENAI_API_KEY") or None,
            embed_dim=_int(env, "RAG_EMBED_DIM", 0, minimum=0) or None,
            query_prefix=env.get("RAG_QUERY_PREFIX"),
            document_prefix=env.get("RAG_DOCUMENT_PREFIX"),
            chunk_size=_int(env, "RAG_CHUNK_SIZE", 200, minimum=16),
            chunk_overlap=_int(env, "RAG_CHUNK_OVERLAP", 30, minimum=0),
            top_k=_int(env, "RAG_TOP_K", 5, minimum=1),
            device=(env.get("RAG_DEVICE") or "auto").lower(),
            lock_timeout=_int(env, "RAG_LOCK_TIMEOUT", 300, minimum=0),
            max_upload_mb=_int(env, "RAG_MAX_UPLOAD_MB", 50, minimum=1),
            # answers
            llm=(env.get("RAG_LLM") or "auto").lower(),
            llm_base_url=env.get("RAG_LLM_BASE_URL") or env.get("OPENAI_BASE_URL") or None,
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            llm_model=env.get("RAG_LLM_MODEL") or None,
            llm_temperature=_float(env, "RAG_LLM_TEMPERATURE", 0.1, minimum=0.0),
            llm_max_tokens=_int(env, "RAG_LLM_MAX_TOKENS", 512, minimum=1),
            llm_timeout=_float(env, "RAG_LLM_TIMEOUT", 30.0, minimum=0.1),
            llm_retries=_int(env, "RAG_LLM_RETRIES", 2, minimum=0),
            llm_context_tokens=_int(env, "RAG_LLM_CONTEXT_TOKENS", 4096, minimum=256),
            llm_threads=_int(env, "RAG_LLM_THREADS", 1, minimum=1),
            abstain_threshold=_float(
                env, "RAG_ABSTAIN_THRESHOLD", DEFAULT_ABSTAIN_THRESHOLD, minimum=-1.0
            ),
            # retrieval quality (issue 5)
            retrieval_mode=(env.get("RAG_RETRIEVAL_MODE") or "hybrid").strip().lower(),
            candidates=_int(env, "RAG_CANDIDATES", 50, minimum=1),
            rrf_k=_int(env, "RAG_RRF_K", 60, minimum=1),
            dense_weight=_float(env, "RAG_DENSE_WEIGHT", 1.0, minimum=0.0, maximum=100.0),
            bm25_weight=_float(env, "RAG_BM25_WEIGHT", 1.0, minimum=0.0, maximum=100.0),
            mmr_lambda=_float(env, "RAG_MMR_LAMBDA", 0.7, minimum=0.0, maximum=1.0),
            rerank_model=env.get("RAG_RERANK_MODEL") or None,
            rerank_top_n=_int(env, "RAG_RERANK_TOP_N", 20, minimum=1),
            # performance and scale
            embed_backend=(env.get("RAG_EMBED_BACKEND") or "auto").lower(),
            cache_dir=_cache_dir(env),
            chroma_url=(env.get("RAG_CHROMA_URL") or "").strip() or None,
            # near-duplicates (issue 8)
            dedup=(env.get("RAG_DEDUP") or "off").strip().lower(),
            dedup_threshold=_float(env, "RAG_DEDUP_THRESHOLD", 0.95, minimum=-1.0, maximum=1.0),
        )
        settings.validate()
        return settings

    @property
    def llm_enabled(self) -> bool:
        """Whether answers are written by an LLM (else they are extractive)."""
        if self.llm == "auto":
            return bool(self.llm_base_url or self.openai_api_key)
        return self.llm != "none"

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
        self._validate_embedder()
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
        if self.dedup not in DEDUP_MODES:
            raise ConfigError(
                f"RAG_DEDUP is {self.dedup!r}; use off (store every chunk) or skip (leave "
                "out chunks that nearly copy one of another file, see RAG_DEDUP_THRESHOLD)."
            )
        self._validate_llm()

    def _validate_embedder(self) -> None:
        if self.embed_provider not in EMBED_PROVIDERS:
            raise ConfigError(
                f"RAG_EMBED_PROVIDER is {self.embed_provider!r}; use local (a "
                "sentence-transformers model on this machine) or openai (an "
                "OpenAI-compatible /v1/embeddings endpoint)."
            )
        if self.embed_dim is not None and self.embed_dim < 2:
            raise ConfigError(f"RAG_EMBED_DIM must be at least 2, got {self.embed_dim}.")
        if self.embed_provider != "openai":
            return
        if not (self.embed_base_url or self.embed_api_key):
            raise ConfigError(
                "RAG_EMBED_PROVIDER=openai but neither RAG_EMBED_BASE_URL (or "
                "OPENAI_BASE_URL) nor OPENAI_API_KEY is set. Set OPENAI_API_KEY for OpenAI, "
                "or the server's URL, e.g. RAG_EMBED_BASE_URL=http://localhost:11434/v1."
            )
        if self.embed_base_url and not self.embed_base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"RAG_EMBED_BASE_URL {self.embed_base_url!r} is not an http(s) URL; "
                "use e.g. http://localhost:11434/v1."
            )

    def _validate_llm(self) -> None:
        if self.llm not in LLM_MODES:
            raise ConfigError(f"RAG_LLM is {self.llm!r}; use one of {', '.join(LLM_MODES)}.")
        if self.llm == "openai" and not (self.llm_base_url or self.openai_api_key):
            raise ConfigError(
                "RAG_LLM=openai but neither RAG_LLM_BASE_URL (or OPENAI_BASE_URL) nor "
                "OPENAI_API_KEY is set. Set the server's URL, e.g. "
                "RAG_LLM_BASE_URL=http://localhost:11434/v1 for Ollama, or OPENAI_API_KEY "
                "for OpenAI."
            )
        remote = self.llm in ("auto", "openai") and self.llm_enabled
        if remote and self.llm_base_url and not self.llm_model:
            raise ConfigError(
                f"RAG_LLM_BASE_URL is {self.llm_base_url} but RAG_LLM_MODEL is not set. "
                "Set it to a model that server serves, e.g. RAG_LLM_MODEL=llama3.2 for "
                f"Ollama (list them with: curl {self.llm_base_url.rstrip('/')}/models)."
            )
        if self.llm_base_url and not self.llm_base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"RAG_LLM_BASE_URL {self.llm_base_url!r} is not an http(s) URL; "
                "use e.g. http://localhost:11434/v1."
            )
        if self.llm_temperature > 2:
            raise ConfigError(
                f"RAG_LLM_TEMPERATURE must be between 0 and 2, got {self.llm_temperature}."
            )
        if self.llm_max_tokens >= self.llm_context_tokens:
            raise ConfigError(
                f"RAG_LLM_MAX_TOKENS ({self.llm_max_tokens}) must be smaller than "
                f"RAG_LLM_CONTEXT_TOKENS ({self.llm_context_tokens}), or no passage fits "
                "the prompt. Lower the first or raise the second."
            )

    @property
    def effective_llm_model(self) -> str:
        """RAG_LLM_MODEL, or OpenAI's small default when talking to OpenAI itself."""
        return self.llm_model or DEFAULT_OPENAI_MODEL


def _float(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    maximum: float = math.inf,
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None
    if not minimum <= value <= maximum:  # also refuses nan
        if math.isinf(maximum):
            raise ConfigError(f"{name} must be at least {minimum}, got {value}.")
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}.")
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
