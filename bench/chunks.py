"""Choose the chunk size on the long-document yardsticks' tuning halves; report the rest.

    nice -n 10 .venv/bin/python bench/chunks.py [--sizes 128,200,250]

Each size (with 15% overlap, as the default 200/30) ingests COVID-QA's 98 papers and the
page-known PDFs through ``rag eval --qa`` / ``rag eval --pages`` (the pipeline as a user
runs it, the default mode), into ``.rag/bench-chunks``, one collection per size. SciFact
is not here: ``rag eval`` stores each abstract whole, so the chunk size does not reach it.

The choice is made on the mean of the tuning halves' hit@5 (COVID-QA) and page@5 (PDFs);
a size replaces the shipped one only if it gains more than ``MARGIN``. Writes
``bench/results/chunks.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from rag.config import Settings  # noqa: E402

COVIDQA = ROOT.parent / "shared" / "data" / "qa" / "covidqa" / "covidqa-200423.json"
PAGES = ROOT / "bench" / "data" / "pages_questions.json"
DOCS = ROOT / ".rag" / "bench-pdfs"
STORE = ROOT / ".rag" / "bench-chunks"
MARGIN = 0.005
OVERLAP = 0.15


def evaluate(size: int, yardstick: list[str], mode: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "RAG_STORE_DIR": str(STORE),
        "RAG_CHUNK_SIZE": str(size),
        "RAG_CHUNK_OVERLAP": str(round(size * OVERLAP)),
        "HF_HUB_OFFLINE": "1",
    }
    args = [sys.executable, "-m", "rag", "eval", *yardstick, "--half", "all"]
    done = subprocess.run(
        [*args, "--mode", mode, "--json"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"size {size}: {' '.join(yardstick)} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="128,200,250")
    args = parser.parse_args()
    shipped = Settings.from_env({}).ingest.chunk_size
    mode = Settings.from_env({}).retrieval.retrieval_mode
    sizes = sorted({shipped, *(int(s) for s in args.sizes.split(","))})
    rows: dict[int, dict[str, Any]] = {}
    for size in sizes:
        print(f"size {size}: COVID-QA", file=sys.stderr, flush=True)
        qa = evaluate(size, ["--qa", str(COVIDQA)], mode)
        print(f"size {size}: page-known PDFs", file=sys.stderr, flush=True)
        pages = evaluate(size, ["--pages", str(PAGES), "--docs", str(DOCS)], mode)
        rows[size] = {
            "overlap": round(size * OVERLAP),
            "covidqa": {h: qa["modes"][mode][h]["hit@5"] for h in ("tune", "report")},
            "pages": {h: pages["modes"][mode][h]["page@5"] for h in ("tune", "report")},
            "chunks": {"covidqa": qa["chunks"]},
        }
        for half in ("tune", "report"):
            rows[size][f"mean_{half}"] = round(
                (rows[size]["covidqa"][half] + rows[size]["pages"][half]) / 2, 5
            )
        print(json.dumps({size: rows[size]}), file=sys.stderr, flush=True)
    best = max(sizes, key=lambda s: rows[s]["mean_tune"])
    chosen = best if rows[best]["mean_tune"] > rows[shipped]["mean_tune"] + MARGIN else shipped
    payload = {
        "mode": mode,
        "shipped": shipped,
        "chosen": chosen,
        "rule": f"a size replaces the shipped one if it gains > {MARGIN} in the tuning mean",
        "sizes": {str(s): rows[s] for s in sizes},
    }
    path = write_result("chunks", payload)
    print(f"wrote {path.relative_to(ROOT)}; shipped {shipped}, chosen {chosen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
