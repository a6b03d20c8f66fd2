"""Calibrate RAG_ABSTAIN_THRESHOLD under the default retrieval mode, and report how often
the chosen value is wrong on questions it was not chosen on.

    .venv/bin/python bench/calibrate_abstain.py [--store DIR] [--json]

The two manuals in data/ (R-intro.pdf, gmpl.pdf) are ingested into a temporary store (or
DIR), as a user would. Every question of bench/data/abstain_questions.json is asked through
the retriever the answerer uses, in the configured mode (hybrid by default), and its best
hit's cosine similarity recorded: the extractive answer abstains when that is below the
threshold. The threshold is chosen on the calibration questions (the cut that makes the
larger of the two error rates smallest, at the middle of its gap), then the false-abstain
and false-answer rates are measured on the held-out questions. The result goes to
bench/results/abstain.json; rag/config.py's DEFAULT_ABSTAIN_THRESHOLD must equal it (a
test checks).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.index import open_index  # noqa: E402
from rag.retriever import Retriever  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "abstain_questions.json"
DOCUMENTS = [ROOT / "data" / "R-intro.pdf", ROOT / "data" / "gmpl.pdf"]


def best_similarity(retriever: Retriever, question: str) -> float:
    hits = retriever.retrieve(question)
    return max((h.similarity or -1.0 for h in hits), default=-1.0)


def choose(answerable: list[float], unanswerable: list[float]) -> float:
    """The cut minimising the larger error rate; ties go to the widest gap's middle."""
    scores = sorted(set(answerable) | set(unanswerable))
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(scores)] or scores
    best: tuple[float, float, float] | None = None
    for cut in cuts:
        errors = max(rates(cut, answerable, unanswerable))
        gap = min(abs(s - cut) for s in scores)
        key = (errors, -gap, cut)
        if best is None or key < best:
            best = key
    assert best is not None
    return round(best[2], 3)


def rates(cut: float, answerable: list[float], unanswerable: list[float]) -> tuple[float, float]:
    """(false-abstain rate, false-answer rate) of abstaining below ``cut``."""
    false_abstain = sum(s < cut for s in answerable) / len(answerable)
    false_answer = sum(s >= cut for s in unanswerable) / len(unanswerable)
    return false_abstain, false_answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="reuse this store")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    store = args.store or Path(tempfile.mkdtemp(prefix="rag-abstain-")) / "store"
    settings = Settings.from_env().replace(store_dir=store.resolve(), chroma_url=None)
    with open_index(settings, writing=True) as index:
        report = Ingestor(index).run(DOCUMENTS)
        assert not report.errors, report.errors
        retriever = Retriever(index=index, settings=settings.retrieval)
        sets = json.loads(QUESTIONS.read_text(encoding="utf-8"))
        scores = {
            part: {
                kind: [best_similarity(retriever, q) for q in questions]
                for kind, questions in sets[part].items()
                if kind != "about"
            }
            for part in ("calibration", "heldout")
        }
    calibration, heldout = scores["calibration"], scores["heldout"]
    threshold = choose(calibration["answerable"], calibration["unanswerable"])
    held_abstain, held_answer = rates(threshold, heldout["answerable"], heldout["unanswerable"])
    cal_abstain, cal_answer = rates(
        threshold, calibration["answerable"], calibration["unanswerable"]
    )
    result = {
        "threshold": threshold,
        "mode": settings.retrieval.retrieval_mode,
        "score": "best hit's cosine similarity",
        "documents": [p.name for p in DOCUMENTS],
        "calibration": {
            "answerable": len(calibration["answerable"]),
            "unanswerable": len(calibration["unanswerable"]),
            "false_abstain_rate": round(cal_abstain, 4),
            "false_answer_rate": round(cal_answer, 4),
        },
        "heldout": {
            "answerable": len(heldout["answerable"]),
            "unanswerable": len(heldout["unanswerable"]),
            "false_abstain_rate": round(held_abstain, 4),
            "false_answer_rate": round(held_answer, 4),
        },
        "scores": {
            part: {kind: [round(s, 4) for s in values] for kind, values in kinds.items()}
            for part, kinds in scores.items()
        },
    }
    path = write_result("abstain", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"threshold {threshold} (mode {result['mode']}), written to {path}")
        for part in ("calibration", "heldout"):
            row = result[part]
            assert isinstance(row, dict)
            print(
                f"{part:>12}: false abstain {row['false_abstain_rate']:.1%} of "
                f"{row['answerable']} answerable, false answer {row['false_answer_rate']:.1%} "
                f"of {row['unanswerable']} unanswerable"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
