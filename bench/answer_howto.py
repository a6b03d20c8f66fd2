"""BM25's weight in the passages a how-to question's answer reads (``RAG_ANSWER_HOWTO_BM25``):
the extractive answer with the shares 1 (the retrieval settings' fusion), 0.5, 0.25 and 0
(the dense ranking alone), on the answer sets, both halves, in one run.

    nice -n 19 .venv/bin/python bench/answer_howto.py [--shares 1,0.5,0.25,0]
        [--sets howto,pages,covidqa] [--store DIR]

A how-to question ("How do I draw box plots to compare groups?") rarely uses the words of
the manual that answers it (``boxplot``), and the fusion the retrieval yardsticks chose
weighs BM25 above the dense ranking. Only questions that ``rag.answers.answer_types``
reads as how-to change: all of the how-to set, a few of the manuals' and COVID-QA's, none
of the filings' (so they are not run). Each share runs the app's own answer path
(``rag eval --answers``, as ``bench/answers.py`` asks each set) over the same indexes. The
share that ships is chosen on the TUNING halves as ``bench/answer_widen.py`` chooses a
width: the mean, over the sets, of the share of gradable questions whose answer states the
gold; a share leaves 1 only for a gain above ``MARGIN``, the one nearest 1 among equals.
The reporting halves are printed beside it and choose nothing. Writes
bench/results/answer_howto.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.answer_widen import MARGIN, choose, measured_over, tuning_mean  # noqa: E402
from bench.answers import STORE  # noqa: E402
from bench.provenance import write_result  # noqa: E402
from rag.config import Settings  # noqa: E402

SHARES = (1.0, 0.5, 0.25, 0.0)
SETS = ("howto", "pages", "covidqa")  # the filings hold no how-to question


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shares", default=",".join(map(str, SHARES)))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--pages-docs", type=Path, default=ROOT / ".rag" / "bench-pdfs")
    parser.add_argument("--store", type=Path, default=STORE, help="where the indexes are built")
    args = parser.parse_args(argv)
    shares = sorted({float(v) for v in args.shares.split(",") if v.strip()}, reverse=True)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if set(sets) - set(SETS) or not shares or 1.0 not in shares or min(shares) < 0:
        parser.error(f"--sets takes {', '.join(SETS)}; --shares from 0 to 1, 1 among them")
    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None, llm="none")
    asked = argparse.Namespace(pages_docs=args.pages_docs, limit=None)
    results = measured_over(sets, shares, "howto_bm25", settings, asked)
    means = {str(s): tuning_mean(results, str(s)) for s in shares}
    chosen = choose(means, base="1.0", first=lambda share: -float(share))
    path = write_result(
        "answer_howto",
        {
            "settings": {
                "retrieval_mode": settings.retrieval.retrieval_mode,
                "top_k": settings.retrieval.top_k,
                "dense_weight": settings.retrieval.dense_weight,
                "bm25_weight": settings.retrieval.bm25_weight,
                "rrf_k": settings.retrieval.rrf_k,
                "abstain_threshold": settings.answers.abstain_threshold,
            },
            "shares": shares,
            "margin": MARGIN,
            "sets": results,
            "tuning_mean": means,
            "chosen": float(chosen),
        },
    )
    print(f"tuning means {means}; chosen howto_bm25={chosen}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
