"""Figures the code depends on come from the results files that a committed script wrote."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from rag.answers import extractive
from rag.answers.answer import FOLLOWUP_DRIFT
from rag.answers.extractive import EVIDENCE_TERMS
from rag.answers.quote_scores import QuoteWeights
from rag.config import DEFAULT_ABSTAIN_THRESHOLD, AnswerSettings, RetrievalSettings

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def test_the_default_abstain_threshold_is_the_calibrated_one() -> None:
    result = json.loads((RESULTS / "abstain.json").read_text(encoding="utf-8"))
    assert result["threshold"] == DEFAULT_ABSTAIN_THRESHOLD
    assert result["mode"] == RetrievalSettings().retrieval_mode  # calibrated as it runs
    held = result["heldout"]
    assert held["answerable"] >= 30 and held["unanswerable"] >= 30
    assert held["false_abstain_rate"] <= 0.05 and held["false_answer_rate"] <= 0.05
    # the evidence the cut reads is weighted as it was calibrated
    assert result["terms_weight"] == EVIDENCE_TERMS


def test_the_follow_up_drift_is_the_calibrated_one() -> None:
    result = json.loads((RESULTS / "followups.json").read_text(encoding="utf-8"))
    assert result["drift"] == FOLLOWUP_DRIFT
    assert result["abstain_threshold"] == DEFAULT_ABSTAIN_THRESHOLD  # calibrated as it runs
    assert result["mode"] == RetrievalSettings().retrieval_mode
    assert result["report"]["same_subject"] >= 12 and result["report"]["new_subject"] >= 12


def test_the_extractive_constants_are_the_tuned_ones() -> None:
    """What bench/extractive_tune.py chose on the tuning halves is what ships, and it was
    run with the shipped values as its start."""
    result = json.loads((RESULTS / "extractive_tune.json").read_text(encoding="utf-8"))
    chosen = result["chosen"]
    assert QuoteWeights(**chosen["weights"]) == QuoteWeights()
    assert (chosen["passages"], chosen["spread"], chosen["row_passages"], chosen["follow"]) == (
        extractive.MAX_PASSAGES, extractive.SPREAD, extractive.ROW_PASSAGES, extractive.FOLLOW,
    )  # fmt: skip
    assert result["shipped"]["variant"] == chosen["variant"]
    assert "filings" in result["sets"] and "filings/tune" in chosen


def test_pages_are_ranked_as_the_levers_chose_over_the_shipped_fusion() -> None:
    """bench/levers.py's choice of page aggregation over the fusion that ships is what
    ``RAG_RANK_BY`` and ``RAG_PAGE_WEIGHT`` default to, and that fusion is the shipped one."""
    summary = json.loads((RESULTS / "levers.json").read_text(encoding="utf-8"))["summary"]
    shipped = RetrievalSettings()
    fusion = f"rrf k={shipped.rrf_k} w={shipped.dense_weight / shipped.bm25_weight}"
    chosen = summary["page_on_shipped"]["lever"]
    assert chosen.startswith(f"headings | {fusion}")
    if " | page b=" in chosen:
        assert shipped.rank_by == "pages"
        assert float(chosen.rsplit("=", 1)[1]) == shipped.page_weight
    else:
        assert shipped.rank_by == "chunks"


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


def _bench_script(name: str) -> ModuleType:
    """bench/NAME.py loaded as a module (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", RESULTS.parent / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables() -> ModuleType:
    return _bench_script("tables")


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


def test_the_answers_table_shows_every_figure_of_its_results_file() -> None:
    tables = _tables()
    result = json.loads((RESULTS / "answers.json").read_text(encoding="utf-8"))
    block = tables.render("answers")
    for part in result["sets"].values():
        for got in part["modes"].values():
            for half in ("tune", "report"):
                row = got[half]
                cells = (
                    f"| {half} | {row['questions']} | {row['gradable']} | {row['answered']:.1%} "
                    f"| {row['stated']:.1%} | {row['supported']:.1%} "
                    f"| {row['chars']['median']:,.0f} |"
                )
                assert cells in block, cells
    assert ("A subset" in block) is bool(result["limit"])


def test_the_answers_table_says_what_was_not_graded_and_what_was_left_out() -> None:
    row = {"questions": 4, "gradable": 2, "answered": 0.75, "stated": 0.5, "supported": 0.25,
           "chars": {"median": 1234.0}}  # fmt: skip
    result = {
        "commit": "abc1234", "date": "2026-12-06", "machine": {"cores": 2}, "limit": None,
        "settings": {"retrieval_mode": "hybrid", "top_k": 5, "abstain_threshold": 0.415,
                     "embed_model": "all-MiniLM-L6-v2", "chunk_size": 200},
        "sets": {
            "filings": {"questions": 8, "gradable": 4, "modes": {"llm": {
                "model": "llama3.2", "tune": row, "report": row}}},
            "pages": {"questions": 8, "gradable": 8, "docs": ".rag/bench-pdfs",
                      "left_out": {"questions": 3, "files": ["glpk.pdf"]},
                      "modes": {"extractive": {"model": None, "tune": row, "report": row}}},
        },
    }  # fmt: skip
    block = _tables().answers(result)
    assert (
        "| SEC filings | `llm` (llama3.2) | tune | 4 | 2 | 75.0% | 50.0% | 25.0% | 1,234 |" in block
    )
    assert "SEC filings: 4 of 8 questions are gradable automatically" in block
    assert (
        "page-known manuals: 3 questions left out, their PDFs were not in `.rag/bench-pdfs`"
        in block
    )
    assert "A subset" not in block


def test_a_run_of_some_answer_sets_keeps_the_others_with_their_own_provenance() -> None:
    script = _bench_script("answers")
    row = {"questions": 1}
    previous = {
        "name": "answers", "commit": "old1234", "date": "2026-12-01", "limit": None,
        "machine": {"cpu": "AMD EPYC", "cores": 2, "flags": []}, "embed_precision": "f32",
        "settings": {"top_k": 5},
        "sets": {
            "covidqa": {"modes": {"extractive": row}},
            "filings": {"modes": {"extractive": {"questions": 0}}},
            "howto": {"modes": {"extractive": row}, "measured": {"commit": "older12"}},
        },
    }  # fmt: skip
    payload = {"limit": None, "settings": {"top_k": 5}, "sets": {"filings": {"modes": {}}}}
    got = script.merged(previous, payload)
    assert list(got["sets"]) == ["covidqa", "filings", "howto"]  # the order of SETS
    assert got["sets"]["filings"] == {"modes": {}}  # this run's, not the old one
    covidqa = got["sets"]["covidqa"]
    assert covidqa["modes"] == {"extractive": row}
    assert covidqa["measured"]["commit"] == "old1234"
    assert covidqa["measured"]["machine"]["cpu"] == "AMD EPYC"
    assert covidqa["measured"]["embed_precision"] == "f32"
    assert got["sets"]["howto"]["measured"] == {"commit": "older12"}  # kept twice: its own
    assert "commit" not in got  # write_result adds this run's
    lines = "\n".join(
        json.dumps(r) for r in ({"set": "covidqa", "id": 1}, {"set": "filings", "id": 2})
    )
    records = script.merged_records(lines, [{"set": "filings", "id": 3}], ["filings"])
    assert records == [{"set": "covidqa", "id": 1}, {"set": "filings", "id": 3}]


def test_the_answers_table_names_a_set_kept_from_an_earlier_run() -> None:
    row = {"questions": 4, "gradable": 4, "answered": 1.0, "stated": 0.5, "supported": 0.5,
           "chars": {"median": 300.0}}  # fmt: skip
    settings = {"retrieval_mode": "hybrid", "top_k": 5, "abstain_threshold": 0.356,
                "embed_model": "all-MiniLM-L6-v2", "chunk_size": 200}  # fmt: skip
    result = {
        "commit": "new1234", "date": "2026-12-07", "machine": {"cores": 2}, "limit": None,
        "settings": settings,
        "sets": {
            "covidqa": {"questions": 4, "gradable": 4,
                        "modes": {"extractive": {"model": None, "tune": row, "report": row}},
                        "measured": {"commit": "old1234", "date": "2026-12-01",
                                     "machine": {"cpu": "AMD EPYC", "cores": 2, "flags": []},
                                     "settings": {**settings, "abstain_threshold": 0.415}}},
            "howto": {"questions": 4, "gradable": 4,
                      "modes": {"extractive": {"model": None, "tune": row, "report": row}}},
        },
    }  # fmt: skip
    block = _tables().answers(result)
    assert (
        "COVID-QA: kept from an earlier run, commit `old1234`, 2026-12-01; measured on: AMD "
        "EPYC, 2 cores, flags none of note; with abstain_threshold 0.415" in block
    )
    assert "how-to, `data/`: kept" not in block


class _CountingModel:
    """Vectors that say which text they embed, and a record of what was embedded."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @property
    def embedded(self) -> set[str]:
        return {t for call in self.calls[1:] for t in call}  # the first call is the warm-up

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(len(t)), float(sum(map(ord, t)))] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(len(text)), 0.0]


def test_shards_fill_the_multilingual_cache_together(tmp_path: Path, monkeypatch: Any) -> None:
    """`bench/multilingual.py --embed-only --shard I/N`: each process embeds only its blocks,
    and the vectors joined from the cache are the ones one process would have made."""
    script = _bench_script("multilingual")
    models: list[_CountingModel] = []

    def load_model(_settings: object) -> _CountingModel:
        models.append(_CountingModel())
        return models[-1]

    monkeypatch.setattr(script, "load_model", load_model)
    monkeypatch.setattr(script, "BLOCK", 2)
    docs, queries = ["a", "bb", "ccc", "dddd", "eeeee"], ["q one", "q two"]

    monkeypatch.setattr(script, "CACHE", tmp_path / "shards")
    assert script.embed("minilm", docs, queries, (0, 2)) is None  # block 1 is the other's
    first = models[-1].embedded
    joined = script.embed("minilm", docs, queries, (1, 2))
    second = models[-1].embedded
    assert joined is not None
    assert first == {"a", "bb", "eeeee"} and second == {"ccc", "dddd"}

    monkeypatch.setattr(script, "CACHE", tmp_path / "alone")
    alone = script.embed("minilm", docs, queries)
    assert alone is not None
    assert (joined["docs"] == alone["docs"]).all() and len(joined["docs"]) == len(docs)
    assert (joined["queries"] == alone["queries"]).all()
    assert joined["seconds"] >= 0 and set(joined) == {"docs", "queries", "seconds", "cpu_seconds"}


def test_the_answer_widens_its_passages_as_measured() -> None:
    """``RAG_ANSWER_WIDEN`` defaults to the width bench/answer_widen.py chose on the tuning
    halves, a run that included reading the passage alone (0)."""
    result = json.loads((RESULTS / "answer_widen.json").read_text(encoding="utf-8"))
    assert 0 in result["widths"] and len(result["widths"]) >= 3
    assert result["chosen"] == AnswerSettings().widen
    assert {"covidqa", "howto", "pages"} <= set(result["sets"])


def test_a_how_to_answer_weighs_bm25_as_measured() -> None:
    """``RAG_ANSWER_HOWTO_BM25`` defaults to the share bench/answer_howto.py chose on the
    tuning halves, a run that included the retrieval settings' fusion (1)."""
    result = json.loads((RESULTS / "answer_howto.json").read_text(encoding="utf-8"))
    assert 1.0 in result["shares"] and len(result["shares"]) >= 3
    assert result["chosen"] == AnswerSettings().howto_bm25
    assert "howto" in result["sets"]
