"""Where the extractive answer loses the how-to questions (issue 24): the rank of the first
retrieved passage that names the gold, per mode and half, beside whether the graded answer
stated it.

    nice -n 10 .venv/bin/python bench/howto_ranks.py [--store DIR]

The how-to questions (bench/data/howto_questions.json) over data/, ingested into ``--store``
as ``python -m ingest`` does (a new index when the folder is empty). For each question and
each mode (``hybrid``, ``dense``, ``bm25``), the top 20 passages from the ``Retriever`` with
every other setting at its default, ranked as the answer ranks them (``ANSWER_RANKING``);
a passage names the gold when the grader's own ``NamesGold.stated_in`` finds one of
``must_name`` in its text (so a name may also match a passage that uses the word otherwise:
"system" in "your system"). Beside each question, the extractive answer's grade from
bench/results/answers.jsonl (``bench/answers.py``, the run it names), to count how many
answers missed a gold the top passages held. Writes
bench/results/howto_ranks.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.provenance import write_result  # noqa: E402
from rag.answers.answer import ANSWER_RANKING  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation.grading import NamesGold  # noqa: E402
from rag.retrieval.retriever import Retriever  # noqa: E402
from rag.store.index import open_index  # noqa: E402

HOWTO = ROOT / "bench" / "data" / "howto_questions.json"
ANSWERS = ROOT / "bench" / "results" / "answers.jsonl"
MODES = ("hybrid", "dense", "bm25")
DEPTH = 20

log = logging.getLogger("howto_ranks")


def bucket(rank: int | None) -> str:
    if rank is None:
        return f"not in top {DEPTH}"
    if rank == 1:
        return "1"
    return "2-3" if rank <= 3 else "4-5" if rank <= 5 else f"6-{DEPTH}"


def graded_answers() -> dict[str, str]:
    """Question -> stated / missed / abstained, of the extractive answer answers.jsonl holds."""
    if not ANSWERS.is_file():
        return {}
    outcome = {}
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["set"] == "howto" and row["answers"] == "extractive":
            state = "stated" if row["stated"] else "missed" if row["answered"] else "abstained"
            outcome[row["question"]] = state
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=ROOT / ".rag" / "bench-howto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None)
    index = open_index(settings, writing=False)
    if index.store.count() == 0:
        index.close()
        parser.error(
            f"{args.store} holds no chunks: RAG_STORE_DIR={args.store} python -m ingest data/"
        )
    retriever = Retriever(index=index, settings=settings.retrieval)
    questions = json.loads(HOWTO.read_text(encoding="utf-8"))["questions"]
    answered = graded_answers()
    rows: list[dict[str, Any]] = []
    for q in questions:
        gold = NamesGold(tuple(q["must_name"]))
        ranks: dict[str, int | None] = {}
        for mode in MODES:
            hits = retriever.retrieve(q["question"], k=DEPTH, mode=mode, rank_by=ANSWER_RANKING)
            found = (i for i, hit in enumerate(hits, 1) if gold.stated_in(hit.text))
            ranks[mode] = next(found, None)
        rows.append(
            {
                "question": q["question"],
                "half": q["half"],
                "must_name": q["must_name"],
                "ranks": ranks,
                "answer": answered.get(q["question"], "not graded"),
            }
        )
    index.close()
    halves = sorted({r["half"] for r in rows})
    by_mode = {
        mode: {
            half: dict(Counter(bucket(r["ranks"][mode]) for r in rows if r["half"] == half))
            for half in halves
        }
        for mode in MODES
    }
    by_answer = {
        half: dict(
            Counter(
                f"{r['answer']}, gold at hybrid rank {bucket(r['ranks']['hybrid'])}"
                for r in rows
                if r["half"] == half
            )
        )
        for half in halves
    }
    results = {
        "questions": {half: sum(r["half"] == half for r in rows) for half in halves},
        "depth": DEPTH,
        "answers_from": "bench/results/answers.jsonl (answers.json names its run)"
        if answered
        else None,
        "by_mode": by_mode,
        "by_answer": by_answer,
        "rows": rows,
    }
    path = write_result("howto_ranks", results)
    print(f"wrote {path.relative_to(ROOT)}")
    for mode, halves_of in by_mode.items():
        for half, counts in halves_of.items():
            print(mode, half, dict(sorted(counts.items())))
    for half, counts in by_answer.items():
        for label, n in sorted(counts.items()):
            print(half, label, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
