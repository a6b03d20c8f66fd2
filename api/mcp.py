"""The MCP server (``python -m rag mcp``): the index as tools for agents and desktop
assistants, over stdio with the official ``mcp`` SDK.

Tools: ``search`` (hits as ``rag search --json`` gives them) and ``ask`` (the answer as
``rag ask --json`` gives it, with its citations). Both run through the same ``Service`` as
the HTTP server. stdout carries the protocol: everything else (logs) goes to stderr.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from application.service import Service
from application.wire import answer_json, hit_json
from rag.config import Settings
from rag.errors import RagError

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Tools over the user's own indexed documents (PDF, Markdown, text). Use `search` to find "
    "passages, with their file and page; use `ask` for an answer that cites them as [n]. "
    "Cite the file and page to the user."
)


def build(service: Service) -> MCPServer:
    server: MCPServer = MCPServer("rag-chat", instructions=INSTRUCTIONS)

    @server.tool(
        name="search",
        description="Ranked passages of the indexed documents for a query: source file, "
        "page, score, text and chunk id of each.",
    )
    def search(
        query: str,
        k: int | None = None,
        mode: str | None = None,
        label: str | None = None,
        collection: str | None = None,
    ) -> dict[str, Any]:
        """k: number of hits (default RAG_TOP_K); mode: dense, bm25 or hybrid, optionally
        +mmr/+rerank; label: only documents so labelled; collection: default RAG_COLLECTION."""
        try:
            hits = service.search(query, collection=collection, k=k, mode=mode, label=label)
        except RagError as exc:
            raise ToolError(str(exc)) from exc
        return {"hits": [hit_json(h) for h in hits]}

    @server.tool(
        name="ask",
        description="An answer to a question from the indexed documents, with [n] citations "
        "and the cited sources (file, page); it abstains when the documents do not say.",
    )
    def ask(
        question: str, label: str | None = None, collection: str | None = None
    ) -> dict[str, Any]:
        """label: only documents so labelled; collection: default RAG_COLLECTION."""
        try:
            answer = service.ask(question, collection=collection, label=label).answer
        except RagError as exc:
            raise ToolError(str(exc)) from exc
        data = answer_json(answer)
        if notice := answer.metadata.get("notice"):
            data["notice"] = notice
        return data

    return server


def run(settings: Settings) -> None:
    """Serve over stdio until the client closes the pipe."""
    service = Service(settings)
    try:
        service.warm()
        log.info("MCP server ready on stdio (collection %s)", settings.store.collection)
        build(service).run("stdio")
    finally:
        service.close()
