"""Calibrate FOLLOWUP_DRIFT (rag/answers/answer.py) on follow-up pairs, and report how often the
chosen value keeps or drops the previous question wrongly on pairs it was not chosen on.

    .venv/bin/python bench/calibrate_followups.py [--store DIR] [--json]

Without an LLM, a follow-up that cannot stand alone ("and a while loop?") is searched
joined to the previous question. The join is kept when the passages it finds name what the
follow-up names, or else when the previous question's best match barely got worse: its
drift (best cosine of the previous question alone minus best cosine of the joined query)
is at most FOLLOWUP_DRIFT. Otherwise the follow-up is searched alone, and a subject the
documents do not cover abstains.

The pairs (``bench/data/followup_pairs.json``) are over the two manuals in data/, ingested
into a temporary store (or DIR) as a user would. The cut is chosen on the tune pairs that
the drift decides (the joined query is answerable and its passages do not name the
follow-up's own words): the one that makes the larger of the two error rates smallest, at
the middle of its gap, as ``calibrate_abstain.py`` does. The report pairs then give, end
to end through the same rule the answerer runs, how often a same-subject follow-up kept
its previous question and how often a new-subject one wrongly did. Writes
``bench/results/followups.json``; FOLLOWUP_DRIFT must equal it (a test checks).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calibrate_abstain import choose, rates  # noqa: E402
from bench.provenance import write_result  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from rag.answers.answer import (  # noqa: E402
    FOLLOWUP_DRIFT,
    drift,
    keeps_join,
    names_its_passages,
    needs_context,
    passages_answer,
)
from rag.config import Settings  # noqa: E402
from rag.retrieval.retriever import Retriever  # noqa: E402
from rag.store.index import open_index  # noqa: E402
from rag.types import Hit  # noqa: E402

PAIRS = ROOT / "bench" / "data" / "followup_pairs.json"
DOCUMENTS = [ROOT / "data" / "R-intro.pdf", ROOT / "data" / "gmpl.pdf"]
HALVES = ("tune", "report")


def score_pair(retriever: Retriever, threshold: float, pair: dict[str, Any]) -> dict[str, Any]:
    """What the answerer sees for one pair: the drift, and whether the drift decides."""
    previous, followup = pair["previous"], pair["followup"]
    if not needs_context(followup):
        raise SystemExit(f"{followup!r} stands alone; it is not a follow-up (fix {PAIRS.name})")
    alone = retriever.retrieve(previous)
    if not passages_answer(previous, alone, threshold):
        raise SystemExit(f"{previous!r} is not answered, so it is never joined (fix the pair)")
    joined = f"{previous.strip()} {followup}"
    combined = retriever.retrieve(joined)

    def answerable(hits: list[Hit]) -> bool:  # the answerer's own test
        return passages_answer(joined, hits, threshold)

    return {
        **pair,
        "drift": round(drift(alone, combined), 4),
        "joined_answerable": answerable(combined),
        "named": names_its_passages(followup, combined, answerable),
    }


def kept(row: dict[str, Any], cut: float) -> bool:
    """The answerer's rule: the joined query is kept (the previous subject carried on)."""
    return keeps_join(
        answerable=row["joined_answerable"], named=row["named"], drift=lambda: row["drift"], cut=cut
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="reuse this store")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    store = args.store or Path(tempfile.mkdtemp(prefix="rag-followups-")) / "store"
    settings = Settings.from_env().replace(store_dir=store.resolve(), chroma_url=None)
    threshold = settings.answers.abstain_threshold
    pairs = json.loads(PAIRS.read_text(encoding="utf-8"))
    with open_index(settings, writing=True) as index:
        report = Ingestor(index).run(DOCUMENTS)
        assert not report.errors, report.errors
        retriever = Retriever(index=index, settings=settings.retrieval)
        rows = {h: [score_pair(retriever, threshold, p) for p in pairs[h]] for h in HALVES}
    decided = [r for r in rows["tune"] if r["joined_answerable"] and not r["named"]]
    # rates() counts "abstains below the cut"; here a same-subject pair is wrong above it
    same = [-r["drift"] for r in decided if r["same_subject"]]
    new = [-r["drift"] for r in decided if not r["same_subject"]]
    cut = -choose(same, new) if same and new else FOLLOWUP_DRIFT
    result: dict[str, Any] = {
        "drift": round(cut, 3),
        "shipped": FOLLOWUP_DRIFT,
        "mode": settings.retrieval.retrieval_mode,
        "abstain_threshold": threshold,
        "documents": [p.name for p in DOCUMENTS],
        "decided_on_tune": {"same_subject": len(same), "new_subject": len(new)},
    }
    if same and new:
        split_same, joined_new = rates(-cut, same, new)
        result["tune_decided"] = {
            "same_subject_dropped": round(split_same, 4),
            "new_subject_kept": round(joined_new, 4),
        }
    for half in HALVES:
        same_rows = [r for r in rows[half] if r["same_subject"]]
        new_rows = [r for r in rows[half] if not r["same_subject"]]
        result[half] = {
            "same_subject": len(same_rows),
            "new_subject": len(new_rows),
            "same_subject_kept": round(sum(kept(r, cut) for r in same_rows) / len(same_rows), 4),
            "new_subject_kept": round(sum(kept(r, cut) for r in new_rows) / len(new_rows), 4),
            "decided_by_drift": sum(r["joined_answerable"] and not r["named"] for r in rows[half]),
        }
    result["pairs"] = rows
    path = write_result("followups", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"FOLLOWUP_DRIFT {result['drift']} (shipped {FOLLOWUP_DRIFT}), written to {path}")
        for half in HALVES:
            row = result[half]
            print(
                f"{half:>7}: same subject kept {row['same_subject_kept']:.0%} of "
                f"{row['same_subject']}, new subject kept {row['new_subject_kept']:.0%} of "
                f"{row['new_subject']} ({row['decided_by_drift']} decided by the drift)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
