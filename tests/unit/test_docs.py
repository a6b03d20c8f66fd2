"""The configuration tables in the docs are generated from the one declaration of the
settings: a test fails when a table and the declaration differ."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.configuration import BLOCK, block, table
from rag.config import specs

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"README.md": "common", "docs/configuration.md": "all"}


@pytest.mark.parametrize(("name", "kind"), TABLES.items())
def test_the_docs_tables_are_generated_from_the_declaration(name: str, kind: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    found = [m.group(0) for m in BLOCK.finditer(text)]
    assert found == [block(kind)], (
        f"{name}'s settings table differs from rag/config.py: run "
        "`python -m rag settings --write README.md docs/configuration.md`"
    )


def test_every_setting_is_in_the_full_table_once_and_the_common_ones_in_the_readme() -> None:
    full = [line.split(" | ")[0] for line in table(common_only=False).splitlines()]
    common = [line.split(" | ")[0] for line in table(common_only=True).splitlines()]
    for _, _, spec, _ in specs():
        assert full.count(f"| `{spec.env}`") == 1, spec.env
        assert (f"| `{spec.env}`" in common) == spec.common, spec.env
    assert 8 <= sum(spec.common for _, _, spec, _ in specs()) <= 12  # "the ten people change"


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = []
    packages = ("rag", "ingest", "application", "cli", "api")
    for path in (p for name in packages for p in sorted((ROOT / name).rglob("*.py"))):
        source = path.read_text(encoding="utf-8")
        if re.search(r"environ(\.get)?\(?\[?[\"']RAG_|getenv\([\"']RAG_", source):
            readers.append(path.relative_to(ROOT).as_posix())
    assert readers == []
