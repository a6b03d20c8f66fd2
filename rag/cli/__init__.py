"""The command line: ``python -m rag COMMAND`` (and ``python -m ingest``, its ingest command).

Each command is a module here with one hook, ``register(sub)``, that adds its subparser and
sets ``func(args, settings) -> exit code``. Commands print; the library below them logs.
A ``RagError`` anywhere becomes one ``error:`` line and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from rag.cli import (
    ask,
    classify,
    configuration,
    duplicates,
    evaluate,
    ingest,
    mcp,
    search,
    serve,
    stats,
    topics,
)
from rag.config import Settings
from rag.errors import RagError

EXIT_USAGE = 2
COMMANDS: tuple[ModuleType, ...] = (
    ingest,
    search,
    ask,
    stats,
    evaluate,
    topics,
    duplicates,
    classify,
    configuration,
    serve,
    mcp,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rag", description="Chat with your documents: ingest, search, ask."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def setup_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)


def run(args: argparse.Namespace) -> int:
    """Run a parsed command: read the settings once, turn errors into one line."""
    try:
        return int(args.func(args, Settings.from_env()))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    return run(build_parser().parse_args(argv))
