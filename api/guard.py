"""What stands between the network and the API: one ASGI middleware that checks, in order,

1. the ``Host`` header when the server runs without keys (so it is bound to localhost): a
   web page that rebinds its own name to 127.0.0.1 (DNS rebinding) is refused;
2. the ``Origin`` header: a browser's cross-origin request is refused, so no web page can
   make your browser post to this server (only its own ``/docs`` page may);
3. the bearer token, against each of ``RAG_API_KEYS`` in constant time (401 otherwise);
4. the rate, per key (per address without keys): a token bucket of ``RAG_API_RATE_LIMIT``
   requests a minute (429 with ``Retry-After``);
5. the body size: ``RAG_API_MAX_REQUEST_MB``, or ``RAG_MAX_UPLOAD_MB`` plus 1 MB of form
   overhead for uploads (413, before the route reads anything).

Every refusal is an OpenAI-style error. Keys are never logged, nor echoed in a message.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from rag.config import Settings, is_local_host

OPEN_PATHS = ("/health",)  # no key, no rate limit: a load balancer's probe
DOCS_PATHS = ("/docs", "/openapi.json")  # no key: the schema holds no data
UPLOAD_PATHS = ("/v1/documents",)
FORM_OVERHEAD = 1_000_000  # multipart boundaries and headers around an upload
MAX_CLIENTS = 10_000  # rate buckets kept before idle ones are forgotten


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).digest()


class Keys:
    """The accepted bearer tokens, compared in constant time (digests of equal length;
    every key compared, whether or not an earlier one matched)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._digests = [_digest(k) for k in keys]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def match(self, token: str) -> int | None:
        """The index of the key ``token`` is, or None."""
        given = _digest(token)
        found = None
        for i, digest in enumerate(self._digests):
            if hmac.compare_digest(given, digest):
                found = i
        return found


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimit:
    """A token bucket per client: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, Bucket] = {}

    def take(self, client: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_idle(now, rate)
            bucket = self._buckets[client] = Bucket(tokens=float(self.per_minute), at=now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _forget_idle(self, now: float, rate: float) -> None:
        full = [c for c, b in self._buckets.items() if b.tokens + (now - b.at) * rate >= 1.0]
        for client in full:  # a full bucket holds nothing worth remembering
            del self._buckets[client]


class Guard:
    """The checks above, in front of the app (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.keys = Keys(settings.api.keys)
        self.rate = RateLimit(settings.api.api_rate_limit)
        self.max_body = int(settings.api.api_max_request_mb * 1_000_000)
        self.max_upload = settings.app.max_upload_mb * 1_000_000 + FORM_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        refusal = self._refusal(scope, headers, path)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        limit = self.max_upload if path in UPLOAD_PATHS else self.max_body
        await self._limited(scope, receive, send, headers, limit)

    def _refusal(self, scope: Scope, headers: Headers, path: str) -> ASGIApp | None:
        if not self.keys and not _local_name(headers.get("host", "")):
            return error_response(
                403,
                "This server has no API keys, so it answers only requests addressed to "
                "localhost. Set RAG_API_KEYS to serve other names.",
                type="permission_error",
                code="host_not_allowed",
            )
        origin = headers.get("origin")
        if origin is not None and urlparse(origin).netloc != headers.get("host", ""):
            return error_response(
                403,
                "Cross-origin requests from browsers are refused: call this API from a "
                "program or a server, not from a web page.",
                type="permission_error",
                code="origin_not_allowed",
            )
        if path in OPEN_PATHS:
            return None
        key = None
        if self.keys and not _docs(path):
            scheme, _, token = headers.get("authorization", "").partition(" ")
            key = self.keys.match(token.strip()) if scheme.lower() == "bearer" else None
            if key is None:
                given = bool(token.strip())
                return error_response(
                    401,
                    "Incorrect API key provided."
                    if given
                    else "No API key provided: send "
                    "it as the header 'Authorization: Bearer KEY' (one of RAG_API_KEYS).",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        client = f"key:{key}" if key is not None else f"addr:{_address(scope)}"
        wait = self.rate.take(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            return error_response(
                429,
                f"Rate limit reached: at most {self.rate.per_minute} requests a minute "
                f"(RAG_API_RATE_LIMIT). Try again in {seconds} s.",
                type="requests",
                code="rate_limit_exceeded",
                headers={"Retry-After": str(seconds)},
            )
        return None

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, limit: int
    ) -> None:
        """Refuse a body over ``limit`` before the app reads any of it: by its declared
        length, or (chunked) by reading at most ``limit`` bytes first."""
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                await _too_large(limit)(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server reads no more than declared
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _too_large(limit)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def _too_large(limit: int) -> ASGIApp:
    return error_response(
        413,
        f"The request body is over this server's limit of {limit / 1e6:g} MB "
        "(RAG_API_MAX_REQUEST_MB; uploads: RAG_MAX_UPLOAD_MB). Nothing was stored.",
        code="request_too_large",
    )


def _docs(path: str) -> bool:
    return path in DOCS_PATHS or path.startswith("/docs/")


def _local_name(host_header: str) -> bool:
    host = urlparse(f"//{host_header}").hostname or ""
    return is_local_host(host)


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
