"""The language model: any OpenAI-compatible chat server through the official ``openai``
client (OpenAI, Ollama, vLLM, llama.cpp, LM Studio), or the bundled local one.

Only ``rag/openai_client.py`` imports ``openai``: it sets the client up and translates SDK
errors into the project's ``LLMError``s, with the words in ``CHAT_ERRORS`` here; their
messages say the fix and never contain the API key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast

from rag.answers.prompt import Message
from rag.config import AnswerSettings
from rag.errors import LLMAuthError, LLMError, LLMRateLimitError, LLMUnavailableError
from rag.openai_client import OPENAI_URL, Family, OpenAIError, make_client, translate_error

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0
CHAT_ERRORS = Family[LLMError](
    error=LLMError,
    unavailable=LLMUnavailableError,
    auth=LLMAuthError,
    rate_limit=LLMRateLimitError,
    server="LLM server",
    call="LLM call",
    name_model=False,
    slow="Is it overloaded or is the model still loading? Raise RAG_LLM_TIMEOUT, or use a "
    "smaller model.",
    unreachable="fix RAG_LLM_BASE_URL; unset it to answer without an LLM.",
    key="OPENAI_API_KEY",
    missing="Set RAG_LLM_MODEL to a model it serves, and check that RAG_LLM_BASE_URL ends "
    "with /v1.",
    too_long="If the prompt is too long, lower RAG_LLM_CONTEXT_TOKENS or RAG_LLM_MAX_TOKENS.",
    wait="ask again",
    again="ask again",
)


class LLM(Protocol):
    """What the answer pipeline needs from a chat model."""

    model: str

    def stream(self, messages: Sequence[Message]) -> Iterator[str]: ...

    def complete(self, messages: Sequence[Message]) -> str: ...

    def check(self) -> None: ...


class OpenAILLM:
    """Chat completions over the OpenAI API; retries with backoff are the SDK's own
    (connection errors, 408, 409, 429 and 5xx, honouring Retry-After)."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.1,
        max_tokens: int = 512,
        timeout: float = 30.0,
        retries: int = 2,
    ) -> None:
        self.model = model
        self.base_url = (base_url or OPENAI_URL).rstrip("/")
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.retries = retries
        self._secret = api_key or ""
        self._client = make_client(
            base_url=self.base_url, api_key=api_key, timeout=timeout, retries=retries
        )

    def __repr__(self) -> str:
        return f"OpenAILLM(model={self.model!r}, base_url={self.base_url!r})"

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """Text deltas as the server sends them."""
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=cast(Any, list(messages)),
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                stream=True,
            )
            with response:
                for chunk in response:
                    if chunk.choices and (text := chunk.choices[0].delta.content):
                        yield text
        except OpenAIError as exc:
            raise self._translate(exc) from exc

    def complete(self, messages: Sequence[Message]) -> str:
        """The whole reply at once (used to condense follow-up questions)."""
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=cast(Any, list(messages)),
                temperature=self.temperature,
                max_tokens=self.max_tokens,
            )
        except OpenAIError as exc:
            raise self._translate(exc) from exc
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def check(self) -> None:
        """Raise an LLMError with the fix unless the server answers and serves the model."""
        try:
            client = self._client.with_options(timeout=min(self.timeout, CHECK_TIMEOUT))
            served = [m.id for m in client.models.list()]
        except OpenAIError as exc:
            raise self._translate(exc) from exc
        if served and self.model not in served:
            listed = ", ".join(served[:10]) + (" …" if len(served) > 10 else "")
            raise LLMError(
                f"The LLM server at {self.base_url} does not serve model {self.model!r} "
                f"(it serves: {listed}). Set RAG_LLM_MODEL to one of them."
            )

    def _translate(self, exc: OpenAIError) -> LLMError:
        return translate_error(
            exc, CHAT_ERRORS, base_url=self.base_url, model=self.model, timeout=self.timeout,
            retries=self.retries, secret=self._secret,
        )  # fmt: skip


def make_llm(settings: AnswerSettings) -> LLM | None:
    """The configured LLM, or None for extractive answers. ``RAG_LLM=local`` starts the
    bundled llama.cpp server (stopped when the process exits)."""
    if not settings.llm_enabled:
        return None
    base_url, model = settings.llm_base_url, settings.effective_llm_model
    if settings.llm == "local":
        from rag.answers.local_server import start_local_server

        server = start_local_server(settings)
        base_url, model = server.base_url, server.model
    return OpenAILLM(
        model=model,
        base_url=base_url,
        api_key=settings.openai_api_key,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        retries=settings.llm_retries,
    )
