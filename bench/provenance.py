"""Where benchmark figures live: ``bench/results/NAME.json``, each with the commit, the
machine and the library versions it was measured with. Tables in the docs are generated
from these files, never typed."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PACKAGES = (
    "torch",
    "sentence-transformers",
    "tokenizers",
    "chromadb",
    "openvino",
    "onnxruntime",
    "numpy",
)


def write_result(name: str, payload: dict[str, object]) -> Path:
    """Write ``payload`` with its provenance to bench/results/NAME.json; the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"name": name, **provenance(), **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def provenance() -> dict[str, object]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
        },
        "versions": {name: _version(name) for name in PACKAGES},
    }


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}+dirty" if dirty else head


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
