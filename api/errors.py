"""Errors as OpenAI's API gives them: ``{"error": {"message", "type", "param", "code"}}``
with a fitting status, never a traceback. The project's ``RagError`` messages (what failed
and the fix) become the message; anything unexpected is logged here and answered 500."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.errors import (
    ConfigError,
    EmbeddingError,
    IndexMismatchError,
    IngestError,
    LLMAuthError,
    LLMError,
    LLMRateLimitError,
    NotFoundError,
    RagError,
    StoreBusyError,
    StoreError,
    TopicError,
    UploadTooLargeError,
)

log = logging.getLogger(__name__)

INVALID = "invalid_request_error"
SERVER = "server_error"


@dataclass(frozen=True)
class Problem:
    status: int
    type: str
    code: str | None = None
    retry_after: int | None = None  # seconds, sent as Retry-After


# most specific first: the first class an error is an instance of decides
PROBLEMS: tuple[tuple[type[RagError], Problem], ...] = (
    (UploadTooLargeError, Problem(413, INVALID, "request_too_large")),
    (IngestError, Problem(400, INVALID, "invalid_file")),
    (NotFoundError, Problem(404, INVALID, "not_found")),
    (ConfigError, Problem(400, INVALID)),
    (TopicError, Problem(400, INVALID)),
    (StoreBusyError, Problem(503, SERVER, "store_busy", retry_after=5)),
    (IndexMismatchError, Problem(409, INVALID, "index_mismatch")),
    (StoreError, Problem(503, SERVER, "store_unavailable", retry_after=5)),
    (LLMRateLimitError, Problem(503, SERVER, "llm_rate_limited", retry_after=10)),
    (LLMAuthError, Problem(502, SERVER, "llm_auth_failed")),
    (LLMError, Problem(502, SERVER, "llm_unavailable")),
    (EmbeddingError, Problem(502, SERVER, "embedding_unavailable")),
)
UNEXPECTED = "The server failed unexpectedly; the details are in its log."


def problem_for(error: RagError) -> Problem:
    for kind, problem in PROBLEMS:
        if isinstance(error, kind):
            return problem
    return Problem(500, SERVER, "rag_error")


def error_body(
    message: str, *, type: str = INVALID, code: str | None = None, param: str | None = None
) -> dict[str, object]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(
    status: int,
    message: str,
    *,
    type: str = INVALID,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = error_body(message, type=type, code=code, param=param)
    return JSONResponse(body, status_code=status, headers=headers)


def rag_error_response(
    error: RagError, *, code: str | None = None, param: str | None = None
) -> JSONResponse:
    problem = problem_for(error)
    headers = {"Retry-After": str(problem.retry_after)} if problem.retry_after else None
    log.log(
        logging.WARNING if problem.status >= 500 else logging.INFO,
        "%d %s: %s",
        problem.status,
        type(error).__name__,
        error,
    )
    return error_response(
        problem.status,
        str(error),
        type=problem.type,
        code=code or problem.code,
        param=param,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Answer every error in OpenAI's format; the catch-all is ``CatchAll`` below."""

    @app.exception_handler(RagError)
    async def _rag(request: Request, error: RagError) -> JSONResponse:
        return rag_error_response(error)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        message = str(error.detail)
        if error.status_code == 404:
            message = f"No such endpoint: {request.method} {request.url.path}; see /docs."
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs."
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {item.get('msg', 'invalid')}")
        param = ".".join(str(p) for p in error.errors()[0].get("loc", ())) or None
        message = "Invalid request: " + "; ".join(problems) + ". See /docs for the schema."
        return error_response(400, message, param=param)


class CatchAll:
    """The innermost guard against tracebacks: an exception nothing else handled becomes a
    500 in OpenAI's format (logged here, once); after the response started, the
    connection is closed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                response = error_response(500, UNEXPECTED, type=SERVER, code="internal_error")
                await response(scope, receive, send)
