"""The one way up from the core: ``python -m rag`` and ``python -m ingest``.

The layers contract (pyproject.toml, checked by ``lint-imports``) sees only import
statements. The two ``__main__`` entries reach the command line by name, through
``importlib``, because ``python -m`` can only run a module inside ``rag`` or ``ingest``;
this test keeps them the only modules below the edges that name an edge that way, and
checks that they still start the command line."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOWER = ("rag", "ingest")  # below the application layer and the edges
EDGES = ("cli", "api", "ui", "application")
ENTRIES = {"rag/__main__.py", "ingest/__main__.py"}


def named_imports(path: Path) -> set[str]:
    """The modules a file imports by name: ``importlib.import_module("x")``,
    ``__import__("x")``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
            found.add(str(first.value))
    return found


def test_only_the_entries_name_an_edge() -> None:
    reaching = {}
    for package in LOWER:
        for path in sorted((ROOT / package).rglob("*.py")):
            edges = {m for m in named_imports(path) if m.split(".")[0] in EDGES}
            if edges:
                reaching[str(path.relative_to(ROOT))] = edges
    assert reaching == {"rag/__main__.py": {"cli"}, "ingest/__main__.py": {"cli.ingest"}}


def test_the_entries_start_the_command_line() -> None:
    for entry in ("rag", "ingest"):
        done = subprocess.run(
            [sys.executable, "-m", entry, "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "usage: python -m" in done.stdout
