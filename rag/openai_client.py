"""The official ``openai`` client, shared by the chat model (``rag/answers/llm.py``) and the
embeddings (``rag/embedding/remote.py``). This is the only module that imports ``openai``.

It sets the client up (retries with backoff are the SDK's own: connection errors, 408, 409,
429 and 5xx, honouring Retry-After) and translates SDK errors into the project's errors
(``rag/errors.py``), whose messages say the fix and never contain the API key. Callers
catch ``OpenAIError`` from here and pass it to ``translate_error`` with their ``Family``:
which errors to raise and the words their messages differ in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import openai
from openai import OpenAIError as OpenAIError  # what callers catch, for translate_error

from rag.errors import RagError

if TYPE_CHECKING:
    import httpx2  # the openai SDK's HTTP client library

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # local servers ignore the key, the client requires one

E = TypeVar("E", bound=RagError)


def make_client(
    *,
    base_url: str,
    api_key: str | None,
    timeout: float,
    retries: int,
    http_client: httpx2.Client | None = None,
) -> openai.OpenAI:
    """A client for the server at ``base_url``; the SDK retries ``retries`` times."""
    return openai.OpenAI(
        api_key=api_key or NO_KEY,
        base_url=base_url,
        timeout=timeout,
        max_retries=retries,
        http_client=http_client,
    )


@dataclass(frozen=True)
class Family(Generic[E]):
    """The errors one kind of call raises, and the words its messages differ in."""

    error: type[E]  # 404, 400, anything else
    unavailable: type[E]  # timeout, unreachable, any other HTTP status
    auth: type[E]  # 401, 403
    rate_limit: type[E]  # 429 after all retries
    server: str  # "LLM server": "The LLM server at <url> ..."
    call: str  # "LLM call": "The LLM call to <url> failed ..."
    name_model: bool  # name the model as "model 'x'" in every message, not only 404's
    slow: str  # the fix after a timeout
    unreachable: str  # the fix after "Is it running? Start it (e.g. `ollama serve`), or "
    key: str  # "Set <key> to a valid key for this server."
    missing: str  # the fix after a 404
    too_long: str  # the fix after a 400
    wait: str  # after a 429: "Wait and <wait>, raise RAG_LLM_RETRIES, ..."
    again: str  # after another status: "Check the server's log, then <again>."


def translate_error(
    exc: OpenAIError,
    family: Family[E],
    *,
    base_url: str,
    model: str,
    timeout: float,
    retries: int,
    secret: str = "",
    hint: str = "",
) -> E:
    """The project's error for an SDK error: what failed, with values, and the fix.
    ``hint`` is added to a 400's fix; ``secret`` (the API key) is redacted."""
    tries = f"{retries + 1} attempt{'s' if retries else ''}"
    named = f"model {model!r}" if family.name_model else repr(model)
    attempts = f"{tries}, {named}" if family.name_model else tries
    where = f"The {family.server} at {base_url}"
    if isinstance(exc, openai.APITimeoutError):
        error = family.unavailable(
            f"{where} did not answer within {timeout:g} s ({attempts}). {family.slow}"
        )
    elif isinstance(exc, openai.APIConnectionError):
        error = family.unavailable(
            f"Cannot reach the {family.server} at {base_url} ({attempts}). Is it running? "
            f"Start it (e.g. `ollama serve`), or {family.unreachable}"
        )
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        error = family.auth(
            f"{where} refused the API key (HTTP {exc.status_code}: {error_detail(exc)}). "
            f"Set {family.key} to a valid key for this server."
        )
    elif isinstance(exc, openai.RateLimitError):
        error = family.rate_limit(
            f"{where} is rate-limiting requests (HTTP 429 after {tries}: "
            f"{error_detail(exc)}). Wait and {family.wait}, raise RAG_LLM_RETRIES, or check "
            "your plan's quota."
        )
    elif isinstance(exc, openai.NotFoundError):
        error = family.error(
            f"{where} answered 404 for model {model!r} ({error_detail(exc)}). {family.missing}"
        )
    elif isinstance(exc, openai.BadRequestError):
        error = family.error(
            f"{where} rejected the request for {named} (HTTP 400: {error_detail(exc)}). "
            f"{family.too_long}{hint}"
        )
    elif isinstance(exc, openai.APIStatusError):
        error = family.unavailable(
            f"{where} failed (HTTP {exc.status_code} after {attempts}: {error_detail(exc)}). "
            f"Check the server's log, then {family.again}."
        )
    else:
        subject = f" ({named})" if family.name_model else ""
        error = family.error(
            f"The {family.call} to {base_url}{subject} failed: {exc}. Check the server."
        )
    if secret and secret in str(error):  # a server may echo the key back
        error = type(error)(str(error).replace(secret, "[redacted]"))
    return error


def error_detail(exc: openai.APIStatusError) -> str:
    """The server's own message in an error reply, on one line, at most 200 characters."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return " ".join(str(message).split())[:200]
    return " ".join(exc.message.split())[:200]
