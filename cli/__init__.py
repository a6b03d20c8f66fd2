"""The command line: ``python -m rag COMMAND`` (and ``python -m ingest``, its ingest command).

Each command is a module here with one hook, ``register(sub)``, that adds its subparser and
sets ``func(args, settings) -> exit code``. Commands print; the library below them logs.
A ``RagError`` anywhere becomes one ``error:`` line and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from types import ModuleType

from rag.config import Settings
from rag.errors import RagError

EXIT_USAGE = 2
# module names under cli; each is imported only when the parser needs it, so that
# `python -m rag search` does not pay for the imports of `ask` or `eval`
COMMANDS: tuple[str, ...] = (
    "ingest",
    "search",
    "ask",
    "stats",
    "evaluate",
    "topics",
    "duplicates",
    "classify",
    "feedback",
    "configuration",
    "serve",
    "mcp",
)
ALIASES = {"eval": "evaluate", "settings": "configuration"}  # command name -> module


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"cli.{name}")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="python -m rag", description="Chat with your documents: ingest, search, ask."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    first = next((a for a in argv or [] if not a.startswith("-")), "")
    # a command's own name: "eval", not its module's "evaluate"
    wanted = ALIASES.get(first) or (first if first not in ALIASES.values() else None)
    for name in (wanted,) if wanted in COMMANDS else COMMANDS:
        command_module(str(name)).register(sub)
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
    args = sys.argv[1:] if argv is None else argv
    return run(build_parser(args).parse_args(args))
