"""``python -m rag serve [--host H] [--port P]``: the HTTP API (OpenAI-compatible chat and
embeddings, search, documents) over the index; see docs/api.md."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from rag.config import Settings


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "serve", help="serve the index over HTTP: OpenAI-compatible chat, embeddings, REST"
    )
    parser.add_argument("--host", default=None, help="address to bind (RAG_API_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (RAG_API_PORT)")
    parser.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    changes: dict[str, object] = {}
    if args.host is not None:
        changes["api_host"] = args.host
    if args.port is not None:
        changes["api_port"] = args.port
    settings = settings.replace(**changes)
    from api.app import check_bind, serve  # fastapi and uvicorn load only here

    check_bind(settings)  # before the model loads: a refusal is immediate
    # the server's own lines ("ready: ...") and the library's, at INFO
    for name in ("api", "application", "rag"):
        logging.getLogger(name).setLevel(logging.INFO)
    serve(settings)
    return 0
