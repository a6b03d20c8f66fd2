"""Widening each quoted passage to its page (issue 25, item 3): the extractive answer read
with ``RAG_ANSWER_WIDEN`` characters of the passage's page either side of it, against the
passage alone, on every answer set, both halves, in one run.

    nice -n 19 .venv/bin/python bench/answer_widen.py [--widths 0,200,400,800]
        [--sets covidqa,pages,filings,howto] [--store DIR]

Each width runs the app's own answer path (``rag eval --answers``, as ``bench/answers.py``
asks each set) over the same indexes and retrieval; only the text each of the first
passages is read with changes. The width that ships is chosen on the TUNING halves: the
mean, over the sets, of the share of gradable questions whose answer states the gold; a
width leaves 0 (the passage alone) only for a gain above ``MARGIN``, and the smallest of
equal widths wins. The reporting halves are printed beside it and choose nothing. Writes
bench/results/answer_widen.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.answers import SETS, STORE, answers_of, progress  # noqa: E402
from bench.provenance import write_result  # noqa: E402
from rag.config import Settings  # noqa: E402

WIDTHS = (0, 200, 400, 800)
# as bench/extractive_tune.py: one question of a small half must not buy it (one of the
# how-to set's 47 tuning questions is 0.0071 of answer_howto's three-set mean; at 0.005 one
# moved RAG_ANSWER_HOWTO_BM25 to 0.25 at f42bbd4)
MARGIN = 0.01
KEPT = ("answered", "stated", "supported")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--pages-docs", type=Path, default=ROOT / ".rag" / "bench-pdfs")
    parser.add_argument("--store", type=Path, default=STORE, help="where the indexes are built")
    args = parser.parse_args(argv)
    widths = sorted({int(w) for w in args.widths.split(",") if w.strip()})
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if set(sets) - set(SETS) or not widths or min(widths) < 0 or 0 not in widths:
        parser.error(f"--sets takes {', '.join(SETS)}; --widths non-negative, 0 among them")
    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None, llm="none")
    asked = argparse.Namespace(pages_docs=args.pages_docs, limit=None)
    results = measured_over(sets, widths, "widen", settings, asked)
    means = {str(w): tuning_mean(results, str(w)) for w in widths}
    chosen = choose(means)
    path = write_result(
        "answer_widen",
        {
            "settings": {
                "retrieval_mode": settings.retrieval.retrieval_mode,
                "top_k": settings.retrieval.top_k,
                "abstain_threshold": settings.answers.abstain_threshold,
            },
            "widths": widths,
            "margin": MARGIN,
            "sets": results,
            "tuning_mean": means,
            "chosen": int(chosen),
        },
    )
    print(f"tuning means {means}; chosen widen={chosen}; wrote {path}")
    return 0


def measured_over(
    sets: list[str],
    values: Sequence[float],
    setting: str,
    settings: Settings,
    asked: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    """Each set answered with the answer setting ``setting`` at each of ``values``, as
    ``measured`` keeps it, by set and value; a set none of whose PDFs is there is left out."""
    results: dict[str, dict[str, Any]] = {}
    for name in sets:
        for value in values:
            progress(f"{name}: {setting} {value}")
            started = time.perf_counter()
            got = answers_of(name, asked, settings.replace(**{setting: value}), None)
            print(file=sys.stderr)
            if got is None:
                progress(f"{name}: skipped, none of its PDFs is there")
                break
            results.setdefault(name, {})[str(value)] = measured(got, started)
    return results


def measured(got: dict[str, Any], started: float) -> dict[str, Any]:
    """What a results file keeps of one set answered at one value, per half."""
    summary = got["summary"]
    return {
        "seconds": round(time.perf_counter() - started, 1),
        **{
            half: {
                "gradable": summary[half]["gradable"],
                **{k: summary[half][k] for k in KEPT},
                "median_chars": summary[half]["chars"]["median"],
            }
            for half in ("tune", "report")
            if half in summary
        },
    }


def tuning_mean(results: dict[str, dict[str, Any]], value: str) -> float:
    """The mean, over the sets, of the tuning half's share of answers stating the gold."""
    shares = [
        by_value[value]["tune"]["stated"]
        for by_value in results.values()
        if value in by_value and "tune" in by_value[value]
    ]
    return round(sum(shares) / len(shares), 4) if shares else 0.0


def choose(
    means: dict[str, float],
    margin: float = MARGIN,
    base: str = "0",
    first: Callable[[str], float] = float,
) -> str:
    """The value that ships: the best tuning mean when it beats ``base`` (the answer as it
    is without the lever; "0", reading the passage alone) by more than ``margin``, the
    ``first`` among equals (the smallest width); else ``base``."""
    best = max(means.values())
    if best <= means[base] + margin:
        return base
    return min((v for v, m in means.items() if m == best), key=first)


if __name__ == "__main__":
    sys.exit(main())
