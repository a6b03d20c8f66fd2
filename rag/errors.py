"""The project's error hierarchy. Every message says what failed and how to fix it."""

from __future__ import annotations


class RagError(Exception):
    """Base class: the edges (CLI, UI) catch this and show ``str(error)``."""


class ConfigError(RagError):
    """A setting is missing or invalid."""


class ModelError(RagError):
    """The embedding model cannot be found, verified or loaded."""


class StoreError(RagError):
    """The vector store cannot be opened, read or written."""


class StoreBusyError(StoreError):
    """Another process holds the store's writer lock."""


class IndexMismatchError(StoreError):
    """The collection was built under a different index contract."""


class IngestError(RagError):
    """One file could not be ingested; carries the path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LLMError(RagError):
    """Base for failures talking to the language model."""


class LLMUnavailableError(LLMError):
    """The LLM server cannot be reached or did not answer in time."""


class LLMAuthError(LLMError):
    """The LLM server refused the credentials."""


class LLMRateLimitError(LLMError):
    """The LLM server kept answering 429 after all retries."""


class TopicError(RagError):
    """The collection cannot be clustered as asked (too few chunks, a bad k)."""


class EmbeddingError(RagError):
    """A remote embedding server (RAG_EMBED_PROVIDER=openai) refused or failed a request."""


class EmbeddingUnavailableError(EmbeddingError):
    """The embedding server cannot be reached, did not answer in time, or failed (5xx)."""


class NotFoundError(RagError):
    """A collection or document that a request names does not exist (the API server)."""


class UploadTooLargeError(IngestError):
    """An upload is larger than RAG_MAX_UPLOAD_MB."""


class PageViewError(RagError):
    """A cited page cannot be shown: its file is gone or unreadable, or the page is too
    large or broken to render. The message is the reason, for "cannot be shown: ..."."""
