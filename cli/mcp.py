"""``python -m rag mcp``: the index as MCP tools (``search``, ``ask``) over stdio, for agents
and desktop assistants; see docs/api.md."""

from __future__ import annotations

import argparse
from typing import Any

from rag.config import Settings


def register(sub: Any) -> None:
    parser = sub.add_parser("mcp", help="serve the index as MCP tools (search, ask) over stdio")
    parser.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    from api.mcp import run  # the mcp SDK loads only here

    run(settings)  # logs go to stderr; stdout is the protocol's
    return 0
