"""Figures the code depends on come from the results files that a committed script wrote."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from rag.answer import FOLLOWUP_DRIFT
from rag.config import DEFAULT_ABSTAIN_THRESHOLD, RetrievalSettings

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def test_the_default_abstain_threshold_is_the_calibrated_one() -> None:
    result = json.loads((RESULTS / "abstain.json").read_text(encoding="utf-8"))
    assert result["threshold"] == DEFAULT_ABSTAIN_THRESHOLD
    assert result["mode"] == RetrievalSettings().retrieval_mode  # calibrated as it runs
    held = result["heldout"]
    assert held["answerable"] >= 30 and held["unanswerable"] >= 30
    assert held["false_abstain_rate"] <= 0.10 and held["false_answer_rate"] <= 0.10


def test_the_follow_up_drift_is_the_calibrated_one() -> None:
    result = json.loads((RESULTS / "followups.json").read_text(encoding="utf-8"))
    assert result["drift"] == FOLLOWUP_DRIFT
    assert result["abstain_threshold"] == DEFAULT_ABSTAIN_THRESHOLD  # calibrated as it runs
    assert result["mode"] == RetrievalSettings().retrieval_mode
    assert result["report"]["same_subject"] >= 12 and result["report"]["new_subject"] >= 12


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


def _tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_tables", RESULTS.parent / "tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_query_results_cover_what_the_issue_asks() -> None:
    result = json.loads((RESULTS / "query.json").read_text(encoding="utf-8"))
    assert result["queries"]["count"] >= 300
    for mode in ("dense", "bm25", "hybrid"):
        for size in ("10000", "100000"):
            assert result["p95_ms"][mode][size] > 0, (mode, size)
    for row in result["rows"]:
        if "error" not in row:
            assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    for size in ("10000", "100000"):
        assert result["peak_rss_mb"][size] > 0
    assert result["p95_ms"]["dense"]["1000000"] > 0  # dense at a million (synthetic) vectors
    assert result["builds"]["1000000"]["vectors"] == "synthetic"


def test_the_query_table_shows_every_figure_of_its_results_file() -> None:
    tables = _tables()
    result = json.loads((RESULTS / "query.json").read_text(encoding="utf-8"))
    block = tables.render("query")
    for row in result["rows"]:
        if "error" in row:
            continue
        figures = [f"{row[k]:,.1f}" for k in ("p50_ms", "p95_ms", "p99_ms")]
        start, end = f"| {row['size']:,} | `{row['mode']}` |", f" {' | '.join(figures)} |"
        # a queries column sits between them when the sizes were run with different counts
        lines = block.splitlines()
        assert any(line.startswith(start) and line.endswith(end) for line in lines), row
    for size, peak in result["peak_rss_mb"].items():
        assert f"{int(size):,} chunks: {peak:,} MB" in block
    # a table edited by hand (one figure changed) is not what the JSON renders
    first = next(r for r in result["rows"] if "error" not in r)
    typed = block.replace(f"{first['p95_ms']:,.1f} |", f"{first['p95_ms'] + 1:,.1f} |", 1)
    assert typed != block
    assert tables.regenerate(typed) == block
