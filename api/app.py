"""The HTTP server: ``create_app(settings)`` builds the FastAPI app, ``serve(settings)`` runs
it with uvicorn (``python -m rag serve``).

Layers, outside in: ``CatchAll`` (an unexpected error is a logged 500, never a traceback),
``Guard`` (host, origin, API key, rate, body size; ``api.guard``), then the routes of
``openai_compat`` and ``rest``. The model loads (and ``RAG_LLM=local`` starts) before the
server accepts a connection, so ``/health`` answering means ready. ``/docs`` serves Swagger
UI from the ``swagger-ui-bundle`` package: nothing is fetched from a CDN.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import anyio.to_thread
import uvicorn
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles

from api import errors, openai_compat, rest
from api.guard import Guard
from application.service import Service
from rag.config import Settings
from rag.errors import ConfigError

log = logging.getLogger(__name__)

DOCS_STATIC = "/docs/static"
BEARER = HTTPBearer(auto_error=False, description="one of RAG_API_KEYS, when set")
DESCRIPTION = """Chat with your documents over HTTP.

* **OpenAI-compatible**: `/v1/models` lists the collections; `/v1/chat/completions` answers
  from the collection named by `model` (streaming or not), with the citations also in the
  extra field `rag`; `/v1/embeddings` embeds as the collection does.
* **Search and documents**: `/v1/search`, `/v1/documents` (list, upload, delete).

With `RAG_API_KEYS` set, send `Authorization: Bearer KEY` (the Authorize button below).
"""


def _version() -> str:
    try:
        return version("rag-chat")
    except PackageNotFoundError:  # pragma: no cover - a source checkout not installed
        return "0"


def create_app(settings: Settings, *, service: Service | None = None) -> FastAPI:
    """The app over ``settings``' store; ``service`` to share an already loaded model."""
    served = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(served.warm)
        log.info(
            "ready: collections %s; %s",
            ", ".join(served.collections()),
            f"{len(settings.api.keys)} API key(s)" if settings.api.keys else "no API keys",
        )
        yield
        await anyio.to_thread.run_sync(served.close)

    app = FastAPI(
        title="rag-chat API",
        version=_version(),
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = served
    errors.install(app)
    keyed = [Depends(BEARER)]  # for the schema (the Authorize button); Guard checks keys
    app.include_router(openai_compat.router, dependencies=keyed)
    app.include_router(rest.router, dependencies=keyed)
    app.include_router(rest.health)
    _docs(app)
    app.add_middleware(Guard, settings=settings)
    app.add_middleware(errors.CatchAll)
    return app


def _docs(app: FastAPI) -> None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - a dependency; without it, no /docs page
        log.warning("swagger-ui-bundle is not installed: no /docs page (see /openapi.json)")
        return
    app.mount(DOCS_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="rag-chat API",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
        )


def check_bind(settings: Settings) -> None:
    """Refuse to serve beyond this machine without API keys."""
    api = settings.api
    if not api.local and not api.keys:
        raise ConfigError(
            f"Refusing to listen on {api.api_host} without API keys: anyone who can reach "
            "this address could read your documents. Set RAG_API_KEYS (e.g. RAG_API_KEYS="
            "$(python -c 'import secrets; print(secrets.token_urlsafe(32))')), or bind to "
            "127.0.0.1."
        )


def serve(settings: Settings) -> None:
    """Run the server until interrupted (uvicorn's own logging: startup and access lines,
    which never include a key)."""
    check_bind(settings)
    api = settings.api
    config = uvicorn.Config(
        create_app(settings),
        host=api.api_host,
        port=api.api_port,
        log_level="info",
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()
