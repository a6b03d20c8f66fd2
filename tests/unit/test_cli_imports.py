"""A command imports what it needs: `python -m ingest` and `rag search` do not pay for the
imports of `ask` (the LLM client) or `eval`."""

import subprocess
import sys

CHECK = """
import sys
from cli import build_parser
build_parser({argv!r}).parse_args({argv!r})
print(sorted(m for m in ("cli.ask", "cli.evaluate", "rag.answers.answer", "openai",
                         "cli.search", "cli.ingest") if m in sys.modules))
"""


def imported(argv: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(argv=argv)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_command_imports_only_its_own_module() -> None:
    assert imported(["search", "q"]) == "['cli.search']"
    assert imported(["ingest", "x.txt"]) == "['cli.ingest']"


def test_help_and_unknown_commands_still_list_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rag", "nosuch"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "choose from 'ingest', 'search', 'ask', 'stats', 'eval'" in done.stderr
