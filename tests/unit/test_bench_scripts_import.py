"""Every bench script still imports: they run by hand, outside mypy's files, so a rename in
rag/ (a private helper they used, a moved module) breaks them silently until someone needs
the figure again. bench/extractive_tune.py went that way once."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

IMPORT_ALL = """
import importlib, pathlib, sys
sys.path.insert(0, "bench")  # the scripts that import a sibling by its bare name
failed = []
for path in sorted(pathlib.Path("bench").glob("*.py")):
    try:
        importlib.import_module("bench." + path.stem)
    except Exception as exc:  # noqa: BLE001 -- every failure is reported, not the first
        failed.append(f"{path.name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_bench_script_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
