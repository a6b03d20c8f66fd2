"""RAG_EMBED_PROVIDER=openai: embeddings from any OpenAI-compatible ``/v1/embeddings``
endpoint (OpenAI, Ollama, vLLM, llama.cpp) through the official ``openai`` client.

Chat and embeddings are two jobs, so they live in two files (this one and ``rag/answers/llm.py``);
only ``rag/openai_client.py`` imports ``openai``. As for chat, retries with backoff are the
SDK's own, and SDK errors are translated there into the project's ``EmbeddingError``s,
with the words in ``EMBEDDING_ERRORS`` here; their messages say the fix and never contain
the API key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.embedding.models import resolve_prefixes
from rag.embedding.types import Identity, Vectors
from rag.errors import ConfigError, EmbeddingError, EmbeddingUnavailableError
from rag.openai_client import OPENAI_URL, Family, OpenAIError, make_client, translate_error

if TYPE_CHECKING:
    import httpx2  # the openai SDK's HTTP client library

log = logging.getLogger(__name__)

# OpenAI allows 2048 inputs and 300k tokens per request: stay well inside both, the token
# budget by a margin for the estimate (it binds only for long texts, e.g. `rag eval`'s
# whole documents)
BATCH = 256  # inputs per request
BATCH_TOKENS = 100_000  # estimated tokens per request
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
OPENAI_WINDOW = 8191  # tokens every text-embedding-* model reads
DEFAULT_WINDOW = 512  # an unknown server's model: assume a BERT-sized window

# No tokenizer for OpenAI's models is available offline (tiktoken downloads its BPE files
# at run time), and a remote server's tokenizer is unknown, so tokens are estimated: an
# ASCII letter run is one token per up to 6 letters, a digit run one per up to 3 digits,
# every other non-space character one. For English that is about what a BPE counts (a
# little more for long words, punctuation and other scripts), and chunks of a few hundred
# tokens stay far below the model's window, so an estimate off by a few tokens truncates
# nothing.
PIECE = re.compile(r"[A-Za-z]{1,6}|[0-9]{1,3}|[^\sA-Za-z0-9]")
SPECIALS = 2  # like a tokenizer's begin/end tokens

EMBEDDING_ERRORS = Family[EmbeddingError](
    error=EmbeddingError,
    unavailable=EmbeddingUnavailableError,
    auth=EmbeddingError,
    rate_limit=EmbeddingError,
    server="embedding server",
    call="embedding request",
    name_model=True,
    slow="Is it overloaded or still loading the model? Raise RAG_EMBED_TIMEOUT (which "
    "follows RAG_LLM_TIMEOUT when unset).",
    unreachable="fix RAG_EMBED_BASE_URL; unset RAG_EMBED_PROVIDER to embed with the bundled "
    "local model.",
    key="OPENAI_API_KEY (or RAG_EMBED_API_KEY)",
    missing="Set RAG_EMBED_MODEL to an embedding model it serves, and check that "
    "RAG_EMBED_BASE_URL ends with /v1.",
    too_long="Check that RAG_EMBED_MODEL is an embedding model; if the input is too long, "
    "lower RAG_CHUNK_SIZE.",
    wait="ingest again (finished files are skipped)",
    again="try again",
)


class OpenAIEmbedder:
    """L2-normalised embeddings from an OpenAI-compatible server, in batches of at most
    BATCH texts and BATCH_TOKENS estimated tokens."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        query_prefix: str | None = None,
        document_prefix: str | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        http_client: httpx2.Client | None = None,  # tests pass a mock transport here
    ) -> None:
        self.name = model
        self.prefixes = resolve_prefixes(
            model, query_prefix=query_prefix, document_prefix=document_prefix
        )
        self.base_url = (base_url or OPENAI_URL).rstrip("/")
        self.dimensions = dimensions
        self.timeout = timeout
        self.retries = retries
        self._secret = api_key or ""
        self._dimension = dimensions or KNOWN_DIMENSIONS.get(model)
        self._client = make_client(
            base_url=self.base_url,
            api_key=api_key,
            timeout=timeout,
            retries=retries,
            http_client=http_client,
        )

    def __repr__(self) -> str:
        return (
            f"OpenAIEmbedder(model={self.name!r}, base_url={self.base_url!r}, "
            f"dimensions={self.dimensions!r})"
        )

    @property
    def identity(self) -> Identity:
        return Identity.of("openai", self.name, self.dimension, self.prefixes)

    @property
    def dimension(self) -> int:
        """RAG_EMBED_DIM, the model's known size, or (once, then cached) a probe's length."""
        if self._dimension is None:
            self._dimension = int(self._embed(["dimension probe"]).shape[1])
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return OPENAI_WINDOW if self.name.startswith("text-embedding-") else DEFAULT_WINDOW

    def count_tokens(self, text: str) -> int:
        return len(self.token_offsets(text)) + SPECIALS

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in PIECE.finditer(text)]

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self._embed([self.prefixes.document + t for t in texts])

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._embed([self.prefixes.query + text])[0]
        return vector

    def _embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [self._request(batch) for batch in self._batches(texts)]
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised

    def _batches(self, texts: list[str]) -> Iterator[list[str]]:
        batch: list[str] = []
        tokens = 0
        for text in texts:
            cost = self.count_tokens(text)
            if batch and (len(batch) == BATCH or tokens + cost > BATCH_TOKENS):
                yield batch
                batch, tokens = [], 0
            batch.append(text)
            tokens += cost
        if batch:
            yield batch

    def _request(self, texts: list[str]) -> Vectors:
        """One request: the rows in input order, checked for shape and size."""
        extra: dict[str, Any] = {} if self.dimensions is None else {"dimensions": self.dimensions}
        try:
            response = self._client.embeddings.create(model=self.name, input=texts, **extra)
        except OpenAIError as exc:
            raise self._translate(exc) from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(texts):
            raise EmbeddingError(
                f"The embedding server at {self.base_url} returned {len(data)} vectors for "
                f"{len(texts)} inputs (model {self.name!r}). Check the server's log; it may "
                "not support batched input."
            )
        rows: list[Any] = [item.embedding for item in data]
        if any(row and isinstance(row[0], list) for row in rows):
            raise ConfigError(
                f"The embedding server at {self.base_url} returned token-level vectors for "
                f"model {self.name!r} (one vector per token, not one per text): it does not "
                "pool them. Make it pool: start llama-cpp-python's server with "
                "`--kv_overrides llama.pooling_type=int:1` (llama.cpp's llama-server: "
                "`--pooling mean`), or serve a real embedding model."
            )
        lengths = {len(row) for row in rows}
        if len(lengths) != 1 or 0 in lengths:
            raise EmbeddingError(
                f"The embedding server at {self.base_url} returned vectors of lengths "
                f"{sorted(lengths)} for model {self.name!r}; expected one length. Check "
                "the server's log and RAG_EMBED_MODEL."
            )
        self._check_length(lengths.pop())
        return np.asarray(rows, dtype=np.float32)

    def _check_length(self, got: int) -> None:
        if self.dimensions is not None and got != self.dimensions:
            raise ConfigError(
                f"RAG_EMBED_DIM asks for {self.dimensions} dims but the embedding server at "
                f"{self.base_url} returned {got} for model {self.name!r}: it ignores the "
                "`dimensions` parameter. Unset RAG_EMBED_DIM (only OpenAI's "
                "text-embedding-3 models take `dimensions`)."
            )
        if self._dimension is not None and got != self._dimension:
            raise ConfigError(
                f"The embedding server at {self.base_url} returned {got}-dim vectors for "
                f"model {self.name!r}, which has {self._dimension}. If this server serves "
                "another model under that name, set RAG_EMBED_MODEL to its own name."
            )

    def _translate(self, exc: OpenAIError) -> EmbeddingError:
        hint = (
            f" RAG_EMBED_DIM={self.dimensions} is sent as `dimensions`, which only OpenAI's "
            "text-embedding-3 models take: unset it for other models."
            if self.dimensions
            else ""
        )
        return translate_error(
            exc, EMBEDDING_ERRORS, base_url=self.base_url, model=self.name,
            timeout=self.timeout, retries=self.retries, secret=self._secret, hint=hint,
        )  # fmt: skip
