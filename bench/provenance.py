"""Where benchmark figures live: ``bench/results/NAME.json``, each with the commit, the
machine (its CPU model, cores and the flags that change speed: AVX2, AVX-512, VNNI, bf16,
AMX), the embedding precision in force and the library versions it was measured with.
Tables in the docs are generated from these files, never typed, and each names its CPU."""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script, the project's packages beside bench/

from rag.cpu import this_cpu  # noqa: E402

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
        "machine": {**this_cpu().as_dict(), "python": platform.python_version()},
        "embed_precision": _precision(),
        "versions": {name: _version(name) for name in PACKAGES},
    }


def machine_line(result: dict[str, object]) -> str:
    """The CPU a results file was measured on, as the generated tables name it, so ratios
    from different machines are never compared silently."""
    machine = result.get("machine")
    if not isinstance(machine, dict):
        return "Measured on: machine not recorded."
    flags = machine.get("flags")
    shown = (
        "flags not recorded (measured before results named them)"
        if flags is None
        else "flags " + (", ".join(map(str, flags)) if flags else "none of note")
    )
    precision = result.get("embed_precision")
    embedding = f"; embedding in {precision}" if precision else ""
    cpu = f"{machine.get('cpu', 'unknown CPU')}, {machine.get('cores')} cores"
    return f"Measured on: {cpu}, {shown}{embedding}."


def env_precision() -> str:
    """RAG_EMBED_PRECISION as the environment sets it: for a script that builds its own
    settings (``Settings.default`` reads no environment), so what it measures in is what
    ``provenance`` records."""
    from rag.config import Settings

    return Settings.from_env().embedding.embed_precision


def _precision() -> str:
    """RAG_EMBED_PRECISION as it resolves here for the environment's settings."""
    from rag.config import Settings
    from rag.embedding.models import precision_in_use

    return precision_in_use(Settings.from_env().embedding)


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    # results written earlier in the same run of several benchmarks are not a change to
    # what is measured: only the code and data outside bench/results/ make a run dirty
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
    return f"{head}+dirty" if dirty else head


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
