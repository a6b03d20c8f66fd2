"""Figures the code depends on come from the results files that a committed script wrote."""

from __future__ import annotations

import json
from pathlib import Path

from rag.config import DEFAULT_ABSTAIN_THRESHOLD, RetrievalSettings

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def test_the_default_abstain_threshold_is_the_calibrated_one() -> None:
    result = json.loads((RESULTS / "abstain.json").read_text(encoding="utf-8"))
    assert result["threshold"] == DEFAULT_ABSTAIN_THRESHOLD
    assert result["mode"] == RetrievalSettings().retrieval_mode  # calibrated as it runs
    held = result["heldout"]
    assert held["answerable"] >= 30 and held["unanswerable"] >= 30
    assert held["false_abstain_rate"] <= 0.10 and held["false_answer_rate"] <= 0.10


def test_the_docs_tables_match_their_results_files() -> None:
    import subprocess
    import sys

    root = RESULTS.parents[1]
    done = subprocess.run(
        [sys.executable, "bench/tables.py", "--check"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"run `python bench/tables.py`: {done.stdout}"
