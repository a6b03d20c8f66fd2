"""Regenerate the tables the docs show from bench/results/*.json (never typed by hand).

    .venv/bin/python bench/tables.py          # rewrite the marked blocks in the docs
    .venv/bin/python bench/tables.py --check  # exit 1 when a block differs (the test's job)

A block sits between ``<!-- bench-table:NAME -->`` and ``<!-- /bench-table -->``; NAME is
a results file and a renderer below.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOCS = [ROOT / "docs" / "retrieval.md", ROOT / "bench" / "README.md", ROOT / "README.md"]
BLOCK = re.compile(r"<!-- bench-table:(?P<name>[\w-]+) -->\n.*?<!-- /bench-table -->", re.S)


def abstain(result: dict[str, object]) -> str:
    rows = ["| questions | answerable | unanswerable | false abstain | false answer |"]
    rows.append("|---|---:|---:|---:|---:|")
    for part, label in (("calibration", "calibration (chooses it)"), ("heldout", "held out")):
        row = result[part]
        assert isinstance(row, dict)
        rows.append(
            f"| {label} | {row['answerable']} | {row['unanswerable']} | "
            f"{row['false_abstain_rate']:.1%} | {row['false_answer_rate']:.1%} |"
        )
    return (
        f"Threshold **{result['threshold']}** on the {result['score']} under `{result['mode']}` "
        f"retrieval, over {', '.join(str(d) for d in result['documents'])} "  # type: ignore[union-attr]
        f"(commit `{result['commit']}`, {result['date']}):\n\n" + "\n".join(rows) + "\n"
    )


def api_load(result: dict[str, Any]) -> str:
    setup, machine = result["setup"], result["machine"]
    rows = ["| endpoint | statuses | p50 ms | p95 ms | max ms |", "|---|---|---:|---:|---:|"]
    for endpoint, statuses in result["statuses"].items():
        shown = ", ".join(f"{code} × {n}" for code, n in sorted(statuses.items()))
        timing = result["latency"].get(endpoint, {})
        cells = [f"{timing[k]:,.0f}" if k in timing else "" for k in ("p50_ms", "p95_ms", "max_ms")]
        rows.append(f"| `{endpoint}` | {shown} | {' | '.join(cells)} |")
    lost = len(result["lost"])
    errors = len(result["server_log_errors"])
    return (
        f"{setup['clients']} clients × {setup['rounds']} rounds while `{setup['upload']}` was "
        f"ingested (commit `{result['commit']}`, {result['date']}, {machine['cores']} cores "
        f'"{machine["cpu"]}", 1-minute load average {result["load_average_1m_at_start"]} '
        "at the start):\n\n" + "\n".join(rows) + "\n\n"
        f"{result['answered']} of {setup['requests']} requests answered, {lost} lost, "
        f"{errors} error lines in the server's log; {result['wall_s']} s wall; the upload "
        f"({result['upload']['report']['chunks_written']} chunks) took "
        f"{result['upload']['seconds']} s.\n"
    )


def query(result: dict[str, Any]) -> str:
    machine, queries = result["machine"], result["queries"]
    rows = ["| chunks | mode | p50 ms | p95 ms | p99 ms |", "|---:|---|---:|---:|---:|"]
    for r in sorted(result["rows"], key=lambda r: int(r["size"])):
        if "error" in r:
            rows.append(f"| {r['size']:,} | `{r['mode']}` | {r['error']} | | |")
            continue
        rows.append(
            f"| {r['size']:,} | `{r['mode']}` | {r['p50_ms']:,.1f} | {r['p95_ms']:,.1f} | "
            f"{r['p99_ms']:,.1f} |"
        )
    peaks = "; ".join(
        f"{int(n):,} chunks: {mb:,} MB"
        for n, mb in sorted(result["peak_rss_mb"].items(), key=lambda item: int(item[0]))
    )
    sets = []
    for size, b in sorted(result["builds"].items(), key=lambda item: int(item[0])):
        if "error" in b:
            sets.append(f"- {int(size):,}: **not measured**: {b['error']}.")
        elif b["vectors"] == "synthetic":
            sets.append(
                f"- {int(size):,}: **synthetic**: random unit vectors, no texts, written with "
                f"`Store.upsert` in {b['build_s']:,} s (dense modes only)."
            )
        else:
            check = b.get("interpolation_check") or {}
            how = (
                f"{b['chunks']:,} chunks as `python -m ingest` cuts them ({b['chunk_size']}-token "
                f"chunks, overlap {b['chunk_overlap']}), embedded"
            )
            if b["windows"]:
                budgets = "/".join(str(t) for t in b["window_budgets"])
                how += (
                    f", and {b['windows']:,} windows of the {b['documents_covered']:,} documents "
                    "those chunks cover whole (at each sentence start, the longest run of whole "
                    f"sentences within {budgets} tokens; none repeats a chunk or another "
                    "window), their vectors "
                    "interpolated from the embedded chunks they overlap, not embedded (cosine "
                    f"to the real embedding over {check['windows_checked']} windows: mean "
                    f"{check['cosine_mean']}, 5th percentile {check['cosine_p5']})"
                )
            sets.append(
                f"- {int(size):,}: real texts of SciFact and COVID-QA, mean "
                f"{b['mean_chars']:,} characters: {how}; written through "
                f"`Ingestor.run_records` in {b['build_s']:,} s."
            )
    loads = [x for r in result["processes"].values() for x in r["load_average_1m"]]
    load = f", 1-minute load average {min(loads)} to {max(loads)} while timing" if loads else ""
    return (
        f"`rag search` latency per query, over {_scifact_queries(queries['count'])} (their "
        f"texts only), after {queries['warmup']} warm-up queries, the modes in turn; each chunk "
        "count in a fresh process "
        f"(commit `{result['commit']}`, {result['date']}, {machine['cores']} cores "
        f'"{machine["cpu"]}"{load}):\n\n' + "\n".join(rows) + "\n\n"
        f"Peak RSS of that process (the model, the index, BM25; every mode run): {peaks}.\n\n"
        + "\n".join(sets)
        + f"\n\nCommand: `{result['command']}`."
        + _merged(result)
        + "\n"
    )


def _merged(result: dict[str, Any]) -> str:
    merged = result.get("merged") or []
    parts = [merged] if isinstance(merged, dict) else merged
    return "".join(
        f" The {', '.join(f'{n:,}' for n in part['sizes'])}-chunk figures are from an earlier "
        f"run of the same script at commit `{part['commit']}`, {part['date']} (kept with "
        "`--merge`)."
        for part in parts
    )


def _scifact_queries(n: int) -> str:
    """Which of SciFact's queries (300 test, then 809 train) the first ``n`` are."""
    if n <= 300:
        return f"SciFact's {n} test queries" if n == 300 else f"the first {n} SciFact test queries"
    return f"SciFact's 300 test and {n - 300} train queries"


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "abstain": abstain,
    "api_load": api_load,
    "query": query,
}


def render(name: str) -> str:
    result = json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
    return f"<!-- bench-table:{name} -->\n{RENDERERS[name](result)}<!-- /bench-table -->"


def regenerate(text: str) -> str:
    return BLOCK.sub(lambda m: render(m.group("name")), text)


def main(argv: list[str]) -> int:
    stale = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        new = regenerate(text)
        if new != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if '--check' in argv else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
