"""Quality against storage for ``RAG_EMBED_DIM``: SciFact at each PCA size, dense and hybrid.

    nice -n 10 .venv/bin/python bench/dims.py [--dims 384,256,128,64] [--split test]

Runs ``python -m rag eval --beir SCIFACT --dims ... --mode dense,hybrid --json`` as a user
runs it (store under ``.rag/bench-dims``) and writes ``bench/results/dims.json``, which
``bench/tables.py`` renders into docs/analytics.md. Nothing is chosen here: RAG_EMBED_DIM is
off by default, so the figures are reported on the test split.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact"
STORE = ROOT / ".rag" / "bench-dims"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", default="384,256,128,64")
    parser.add_argument("--modes", default="dense,hybrid")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    env = {**os.environ, "RAG_STORE_DIR": str(STORE), "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "rag",
        "eval",
        "--beir",
        str(SCIFACT),
        "--split",
        args.split,
        "--dims",
        args.dims,
        "--mode",
        args.modes,
        "--json",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"rag eval --dims failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    path = write_result(
        "dims",
        {
            "split": args.split,
            "modes": args.modes.split(","),
            "command": "python -m rag eval " + " ".join(command[4:]),
            **result,
        },
    )
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
