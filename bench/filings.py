"""Filings: the tutorial pipeline beside ours on page-known questions over real SEC filings.

    nice -n 10 python bench/filings.py [--questions FILE] [--docs DIR] [--modes dense,bm25,hybrid]

The yardstick of long, table-heavy documents without an outline: ``../shared/data/filings/``
(47 questions over 31 10-K, 10-Q and 8-K filings of 12 companies, FinanceBench's open
sample; read its README). Each filing goes into an index of its own, as a user indexes
one file, and is asked its own questions; a hit is a top-k passage on an evidence page.
The halves are by company, so no company is on both sides: choose on ``tune``, report on
``report``. Every figure also comes per ``kind`` (``table``: a figure computed from the
financial statements; ``prose``: the rest).

Both pipelines run in the same process on the same questions (``bench/longdocs.py``'s
``pages``): the tutorial (pypdf pages, 1000/200-character splitter, torch MiniLM, Chroma
cosine) and ours with the settings from the environment, in each of ``--modes``. The
filings are question data for evaluation only and are read from the shared folder, never
copied into the repository. Writes ``bench/results/filings.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.longdocs import Tutorial, pages, recorded_settings, shown  # noqa: E402
from bench.provenance import write_result  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.store.index import load_model  # noqa: E402

FILINGS = ROOT.parent / "shared" / "data" / "filings"
STORE = ROOT / ".rag" / "bench-filings"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=FILINGS / "questions.json")
    parser.add_argument("--docs", type=Path, default=FILINGS / "pdfs")
    parser.add_argument("--modes", default="dense,bm25,hybrid")
    parser.add_argument("--store", type=Path, default=STORE, help="where our indexes are built")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep our indexes from an earlier run in --store: for a change of retrieval "
        "settings, not of chunking or extraction",
    )
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        raise SystemExit(f"{shown(args.questions)} not found: the filings live in {FILINGS}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None)
    model = load_model(settings.embedding)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rag-bench-filings-") as tmp:
        tutorial = Tutorial(Path(tmp))
        measured = pages(
            args.questions,
            args.docs,
            settings=settings,
            model=model,
            tutorial=tutorial,
            modes=modes,
            rebuild=not args.reuse,
        )
    if "skipped" in measured:
        raise SystemExit(f"filings not measured: {measured['skipped']}")
    payload: dict[str, Any] = {
        "settings": recorded_settings(settings, model, modes, args.reuse),
        **measured,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write_result("filings", payload)
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    print(json.dumps(payload["ours"]["modes"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
