"""The language model: any OpenAI-compatible chat server through the official ``openai``
client (OpenAI, Ollama, vLLM, llama.cpp, LM Studio), or the bundled local one.

Only this module and ``rag/openai_embeddings.py`` (the embeddings, a job of its own) import
``openai``. SDK errors are translated here into the project's ``LLMError``s, whose messages
say the fix and never contain the API key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast

import openai

from rag.config import AnswerSettings
from rag.errors import LLMAuthError, LLMError, LLMRateLimitError, LLMUnavailableError
from rag.prompt import Message

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # local servers ignore the key, the client requires one
CHECK_TIMEOUT = 5.0


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
        self._client = openai.OpenAI(
            api_key=api_key or NO_KEY,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=retries,
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
        except openai.OpenAIError as exc:
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
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def check(self) -> None:
        """Raise an LLMError with the fix unless the server answers and serves the model."""
        try:
            client = self._client.with_options(timeout=min(self.timeout, CHECK_TIMEOUT))
            served = [m.id for m in client.models.list()]
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        if served and self.model not in served:
            listed = ", ".join(served[:10]) + (" …" if len(served) > 10 else "")
            raise LLMError(
                f"The LLM server at {self.base_url} does not serve model {self.model!r} "
                f"(it serves: {listed}). Set RAG_LLM_MODEL to one of them."
            )

    def _translate(self, exc: openai.OpenAIError) -> LLMError:
        return translate_error(
            exc, base_url=self.base_url, model=self.model, timeout=self.timeout,
            retries=self.retries, secret=self._secret,
        )  # fmt: skip


def translate_error(
    exc: openai.OpenAIError,
    *,
    base_url: str,
    model: str,
    timeout: float,
    retries: int,
    secret: str = "",
) -> LLMError:
    """The project's error for an SDK error: what failed, with values, and the fix."""
    tries = f"{retries + 1} attempt{'s' if retries else ''}"
    if isinstance(exc, openai.APITimeoutError):
        error: LLMError = LLMUnavailableError(
            f"The LLM server at {base_url} did not answer within {timeout:g} s "
            f"({tries}). Is it overloaded or is the model still loading? Raise "
            "RAG_LLM_TIMEOUT, or use a smaller model."
        )
    elif isinstance(exc, openai.APIConnectionError):
        error = LLMUnavailableError(
            f"Cannot reach the LLM server at {base_url} ({tries}). Is it running? Start it "
            "(e.g. `ollama serve`), or fix RAG_LLM_BASE_URL; unset it to answer without an LLM."
        )
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        error = LLMAuthError(
            f"The LLM server at {base_url} refused the API key (HTTP {exc.status_code}: "
            f"{error_detail(exc)}). Set OPENAI_API_KEY to a valid key for this server."
        )
    elif isinstance(exc, openai.RateLimitError):
        error = LLMRateLimitError(
            f"The LLM server at {base_url} is rate-limiting requests (HTTP 429 after "
            f"{tries}: {error_detail(exc)}). Wait and ask again, raise RAG_LLM_RETRIES, or "
            "check your plan's quota."
        )
    elif isinstance(exc, openai.NotFoundError):
        error = LLMError(
            f"The LLM server at {base_url} answered 404 for model {model!r} "
            f"({error_detail(exc)}). Set RAG_LLM_MODEL to a model it serves, and check that "
            "RAG_LLM_BASE_URL ends with /v1."
        )
    elif isinstance(exc, openai.BadRequestError):
        error = LLMError(
            f"The LLM server at {base_url} rejected the request for {model!r} "
            f"(HTTP 400: {error_detail(exc)}). If the prompt is too long, lower "
            "RAG_LLM_CONTEXT_TOKENS or RAG_LLM_MAX_TOKENS."
        )
    elif isinstance(exc, openai.APIStatusError):
        error = LLMUnavailableError(
            f"The LLM server at {base_url} failed (HTTP {exc.status_code} after {tries}: "
            f"{error_detail(exc)}). Check the server's log, then ask again."
        )
    else:
        error = LLMError(f"The LLM call to {base_url} failed: {exc}. Check the server.")
    if secret and secret in str(error):  # a server may echo the key back
        error = type(error)(str(error).replace(secret, "[redacted]"))
    return error


def error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return " ".join(str(message).split())[:200]
    return " ".join(exc.message.split())[:200]


def make_llm(settings: AnswerSettings) -> LLM | None:
    """The configured LLM, or None for extractive answers. ``RAG_LLM=local`` starts the
    bundled llama.cpp server (stopped when the process exits)."""
    if not settings.llm_enabled:
        return None
    base_url, model = settings.llm_base_url, settings.effective_llm_model
    if settings.llm == "local":
        from rag.local_server import start_local_server

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
