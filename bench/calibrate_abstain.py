"""Calibrate RAG_ABSTAIN_THRESHOLD under the default retrieval mode, and report how often
the chosen value is wrong on questions it was not chosen on.

    .venv/bin/python bench/calibrate_abstain.py [--store DIR] [--json]

The two manuals in data/ (R-intro.pdf, gmpl.pdf) are ingested into a temporary store (or
DIR), as a user would. Every question of bench/data/abstain_questions.json is asked through
the app's extractive answer path (``rag.answers.answer.Answerer``, the retriever in the configured
mode, hybrid by default), and the evidence of its quotes recorded: the best cosine of a
passage they come from, and the share of the question's terms they contain (with their
section headings). The answer abstains when ``cosine + w * terms`` is below the threshold.
The weight ``w`` and the threshold are chosen together on the calibration questions: for
each ``w`` of a small grid, the cut that makes the larger of the two error rates smallest
(at the middle of its gap); among the ``w`` with the smallest error, the one whose cut
stands furthest from the nearest question (the widest margin). Then the false-abstain and
false-answer rates are measured on the held-out questions, which choose nothing. The result
goes to bench/results/abstain.json; rag/config.py's DEFAULT_ABSTAIN_THRESHOLD and
rag/answers/extractive.py's EVIDENCE_TERMS must equal it (a test checks).
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
from rag.answers.answer import Answerer, answerer_for  # noqa: E402
from rag.answers.extractive import evidence  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.store.index import open_index  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "abstain_questions.json"
HOWTO = ROOT / "bench" / "data" / "howto_questions.json"
DOCUMENTS = [ROOT / "data" / "R-intro.pdf", ROOT / "data" / "gmpl.pdf"]
TERMS_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)

Evidence = tuple[float, float]  # (best cosine of a quoted passage, share of terms quoted)


def quote_evidence(answerer: Answerer, question: str) -> Evidence:
    """The evidence of the quotes the extractive answer chooses for ``question``."""
    found = answerer.ask(question).answer.metadata["evidence"]
    assert isinstance(found, dict)
    return float(found["cosine"]), float(found["terms"])


def choose_cut(answerable: list[float], unanswerable: list[float]) -> tuple[float, float, float]:
    """(larger error rate, margin, cut): the cut minimising the larger error rate; ties go
    to the widest gap's middle."""
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
    return best[0], -best[1], round(best[2], 3)


def choose(answerable: list[float], unanswerable: list[float]) -> float:
    """The cut minimising the larger error rate; ties go to the widest gap's middle."""
    return choose_cut(answerable, unanswerable)[2]


def choose_weight(answerable: list[Evidence], unanswerable: list[Evidence]) -> tuple[float, float]:
    """(terms weight, cut): the smallest larger error rate, then the widest margin."""
    best: tuple[float, float, float, float] | None = None
    for w in TERMS_WEIGHTS:
        errors, margin, cut = choose_cut(
            [evidence(c, t, w) for c, t in answerable], [evidence(c, t, w) for c, t in unanswerable]
        )
        key = (errors, -margin, w, cut)
        if best is None or key < best:
            best = key
    assert best is not None
    return best[2], best[3]


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
        answerer = answerer_for(index, settings.replace(llm="none"), None)
        sets = json.loads(QUESTIONS.read_text(encoding="utf-8"))
        howto = json.loads(HOWTO.read_text(encoding="utf-8"))["questions"]
        # how users ask (issue 24): the how-to questions over the same manuals, all
        # answerable; their tuning half calibrates, their reporting half is held out
        for part, half in (("calibration", "tune"), ("heldout", "report")):
            sets[part]["howto"] = [q["question"] for q in howto if q["half"] == half]
        found = {
            part: {
                kind: [quote_evidence(answerer, q) for q in questions]
                for kind, questions in sets[part].items()
                if kind != "about"
            }
            for part in ("calibration", "heldout")
        }
    calibrating = found["calibration"]
    weight, threshold = choose_weight(
        calibrating["answerable"] + calibrating["howto"], calibrating["unanswerable"]
    )
    scores = {
        part: {kind: [evidence(c, t, weight) for c, t in values] for kind, values in kinds.items()}
        for part, kinds in found.items()
    }
    calibration, heldout = scores["calibration"], scores["heldout"]
    held_abstain, held_answer = rates(threshold, heldout["answerable"], heldout["unanswerable"])
    cal_abstain, cal_answer = rates(
        threshold, calibration["answerable"], calibration["unanswerable"]
    )
    howto = {
        part: {
            "questions": len(scores[part]["howto"]),
            "false_abstain_rate": round(
                sum(s < threshold for s in scores[part]["howto"]) / len(scores[part]["howto"]), 4
            ),
        }
        for part in ("calibration", "heldout")
    }
    result = {
        "threshold": threshold,
        "terms_weight": weight,
        "terms_weights_tried": list(TERMS_WEIGHTS),
        "mode": settings.retrieval.retrieval_mode,
        "score": "evidence of the quotes: best cosine of a quoted passage + terms_weight * "
        "share of the question's terms in the quotes and their headings",
        "documents": [p.name for p in DOCUMENTS],
        "calibration": {
            "answerable": len(calibration["answerable"]),
            "unanswerable": len(calibration["unanswerable"]),
            "false_abstain_rate": round(cal_abstain, 4),
            "false_answer_rate": round(cal_answer, 4),
            "howto": howto["calibration"],
        },
        "heldout": {
            "answerable": len(heldout["answerable"]),
            "unanswerable": len(heldout["unanswerable"]),
            "false_abstain_rate": round(held_abstain, 4),
            "false_answer_rate": round(held_answer, 4),
            "howto": howto["heldout"],
        },
        "scores": {
            part: {kind: [round(s, 4) for s in values] for kind, values in kinds.items()}
            for part, kinds in scores.items()
        },
        "evidence": {
            part: {kind: [[round(c, 4), round(t, 4)] for c, t in v] for kind, v in kinds.items()}
            for part, kinds in found.items()
        },
    }
    path = write_result("abstain", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"threshold {threshold}, terms weight {weight} (mode {result['mode']}), "
            f"written to {path}"
        )
        for part in ("calibration", "heldout"):
            row = result[part]
            assert isinstance(row, dict)
            print(
                f"{part:>12}: false abstain {row['false_abstain_rate']:.1%} of "
                f"{row['answerable']} answerable, false answer {row['false_answer_rate']:.1%} "
                f"of {row['unanswerable']} unanswerable; how-to questions: false abstain "
                f"{row['howto']['false_abstain_rate']:.1%} of {row['howto']['questions']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
