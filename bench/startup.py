"""What a user pays before any work: one ``python -m ingest FILE`` and one ``rag search``.

    python bench/startup.py [--json] [--baseline REV] [--repeat 3]

Each command runs as a user runs it, a new process, on a one-line text file (so the work
itself is negligible and what is measured is the start: imports, model load, the backend's
check against torch and OpenVINO's compile), for this checkout and for ``--baseline`` (a
commit extracted with ``git archive``; default: the commit before the start-up changes).
One unmeasured run of each warms the page cache and the caches under ``RAG_CACHE_DIR``
(the export, and from this change on the compiled model and torch's probe vectors); then
the versions take turns ``--repeat`` times and the fastest wall time of each is kept, with
its CPU time (user + system, ``wait4``). Then, for this checkout, the CPU seconds of each
stage of a start inside one process. Writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from bench.timing import timed  # noqa: E402

BASELINE = "d00b305"  # main before the torch-free embedder (b2ebfc6: before the CLI cuts)
STAGES = """
import json, time
out = {}
def stage(name, fn):
    c = time.process_time(); value = fn(); out[name] = round(time.process_time() - c, 2)
    return value
stage("import the ingest command", lambda: __import__("cli.ingest"))
from rag.config import Settings
from rag.store.index import load_model, connect
settings = Settings.from_env()
stage("import chromadb, open the store", lambda: connect(settings.store).count())
stage("load the model (default backend)", lambda: load_model(settings.embedding))
print(json.dumps(out))
"""


def commands(note: Path) -> dict[str, list[str]]:
    return {
        "ingest": [sys.executable, "-m", "ingest", str(note), "--json"],
        "search": [sys.executable, "-m", "rag", "search", "herons on the river", "--json"],
    }


def measure(checkout: Path, store: Path, note: Path) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_STORE_DIR": str(store)}
    results = {}
    for name, command in commands(note).items():
        if name == "ingest":
            env_run = {**env, "RAG_STORE_DIR": str(store / f"i{time.monotonic_ns()}")}
            wall, cpu, _ = timed(command, cwd=checkout, env=env_run)
        else:
            wall, cpu, _ = timed(command, cwd=checkout, env=env)
        results[name] = (wall, cpu)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline", default=BASELINE, help="a commit to compare against")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rag-bench-startup-") as tmp_name:
        tmp = Path(tmp_name)
        base = tmp / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        note = tmp / "note.txt"
        note.write_text("A note about herons on the river at dawn.\n", encoding="utf-8")
        checkouts = {"baseline": base, "current": ROOT}
        stores = {}
        for name, checkout in checkouts.items():
            stores[name] = tmp / f"store-{name}"
            env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_STORE_DIR": str(stores[name])}
            timed(commands(note)["ingest"], cwd=checkout, env=env)  # warm, and a store to search
            measure(checkout, stores[name], note)
        best: dict[str, dict[str, tuple[float, float]]] = {n: {} for n in checkouts}
        for _ in range(args.repeat):
            for name, checkout in checkouts.items():
                for command, took in measure(checkout, stores[name], note).items():
                    if command not in best[name] or took[0] < best[name][command][0]:
                        best[name][command] = took
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_STORE_DIR": str(stores["current"])}
        _, _, stages_out = timed([sys.executable, "-c", STAGES], cwd=ROOT, env=env)
    runs = {
        name: {
            command: {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}
            for command, (wall, cpu) in per.items()
        }
        for name, per in best.items()
    }
    payload: dict[str, object] = {
        "baseline": args.baseline,
        "repeat": args.repeat,
        "runs": runs,
        "speedup": {
            command: round(best["baseline"][command][0] / best["current"][command][0], 2)
            for command in best["current"]
        },
        "cpu_speedup": {
            command: round(best["baseline"][command][1] / best["current"][command][1], 2)
            for command in best["current"]
        },
        "stages_cpu_seconds": json.loads(stages_out.strip().splitlines()[-1]),
    }
    path = write_result("startup", payload)
    print(json.dumps(payload) if args.json else json.dumps(payload, indent=2))
    if not args.json:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
