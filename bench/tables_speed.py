"""The speed and load renderers of ``bench/tables.py``: ingestion, PDF text, start-up, query
latency and the API under load (the quality ones stay in ``bench/tables.py``)."""

from __future__ import annotations

from typing import Any


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


PIPELINE_LABELS = {
    "tutorial": "tutorial: pypdf, 1000/200-character splitter, `encode` per file, torch",
    "torch": "this project, `RAG_EMBED_BACKEND=torch`",
    "default": "this project, default backend",
}


def ingest(result: dict[str, Any]) -> str:
    machine = result["machine"]
    out = [
        f"Commit `{result['commit']}`, {result['date']}, {machine['cores']} cores "
        f'"{machine["cpu"]}" (shared with other jobs: compare the ratios, not the seconds).'
        "\n"
    ]
    corpora = (
        ("scifact", "SciFact abstracts, one process per pipeline over the folder", ""),
        ("pdfs", "PDFs, one process per file (`python -m ingest FILE`)", "pdf_"),
    )
    for key, title, prefix in corpora:
        section = result.get(key)
        if not section:
            continue
        if key == "scifact":
            title = f"{title}: the first {section['abstracts']:,} abstracts"
        else:
            title = f"{title}: {', '.join(f'`{f}`' for f in section['files'])}"
        rows = [
            f"**{title}**\n",
            "| pipeline | files | processes | chunks | seconds | CPU seconds | speed-up (wall) "
            "| speed-up (CPU) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, run in section["runs"].items():
            key_suffix = {"tutorial": None, "torch": "_torch", "default": ""}[name]
            wall = cpu = "1.00x" if key_suffix is None else ""
            if key_suffix is not None:
                wall = f"**{section[f'{prefix}ratio_vs_tutorial{key_suffix}']:.2f}x**"
                cpu = f"{section[f'{prefix}cpu_ratio_vs_tutorial{key_suffix}']:.2f}x"
            rows.append(
                f"| {PIPELINE_LABELS[name]} | {run['files']:,} | {run['processes']} | "
                f"{run['chunks']:,} | {run['seconds']:,.1f} | {run['cpu_seconds']:,.1f} | "
                f"{wall} | {cpu} |"
            )
        if key == "pdfs" and section.get("per_file"):
            rows.append(_per_file(section["per_file"]))
        floor = section.get("embedding_floor") if key == "pdfs" else None
        if floor:
            rows.append(
                f"\nThe embedding alone (the default embedder over the same "
                f"{floor['chunks']:,} chunk texts the default pipeline embedded, in one "
                f"warm process): {floor['seconds']:,.1f} s ({floor['cpu_seconds']:,.1f} CPU "
                f"seconds). Were reading, chunking, start-up and writing free, these "
                f"{floor['chunks']:,} texts would still reach at most "
                f"**{floor['ceiling_ratio_vs_tutorial']:.2f}x** the tutorial with this "
                f"embedder in {floor.get('precision', result.get('embed_precision', 'f32'))} "
                "on this CPU: a bound for this corpus, model, precision and machine only."
            )
        if key == "scifact":
            rows.append(
                f"\nRe-ingest of the unchanged folder (a new process that skips every file): "
                f"{section['reingest_seconds']} s, {section['reingest_speedup']}x faster than "
                "the first ingest."
            )
        out.append("\n".join(rows) + "\n")
    return "\n".join(out)


def _per_file(per_file: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Each PDF's process: seconds (CPU seconds) per pipeline, and the default's speed-up."""
    rows = [
        "\nPer file (wall seconds, CPU seconds in brackets; chunks tutorial / ours):\n",
        "| file | chunks | tutorial | torch backend | default | speed-up (wall) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in per_file.items():
        cells = [
            f"{runs[p]['seconds']:,.1f} ({runs[p]['cpu_seconds']:,.1f})"
            for p in ("tutorial", "torch", "default")
        ]
        ratio = runs["tutorial"]["seconds"] / runs["default"]["seconds"]
        chunks = f"{runs['tutorial']['chunks']} / {runs['default']['chunks']}"
        rows.append(f"| `{name}` | {chunks} | {' | '.join(cells)} | {ratio:.2f}x |")
    return "\n".join(rows)


def pdf_text(result: dict[str, Any]) -> str:
    rows = [
        "| file | pages | extractor | pages/s | CPU s | words | hyphen breaks | ligatures "
        "| control chars |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, per in result["files"].items():
        for extractor, row in per.items():
            rows.append(
                f"| `{name}` | {row['pages']} | {extractor} | {row['pages_per_s']:,.1f} | "
                f"{row['cpu_seconds']:.2f} | {row['words']:,} | {row['hyphen_breaks']} | "
                f"{row['ligatures']} | {row['control_chars']} |"
            )
    return (
        f"Commit `{result['commit']}`, {result['date']}, fastest of {result['repeat']} runs; "
        f"PDFium reads the text layers **{result['pdfium_speedup']}x** as fast as pypdf "
        f"({result['pdfium_cpu_speedup']}x in CPU time):\n\n" + "\n".join(rows) + "\n"
    )


def startup(result: dict[str, Any]) -> str:
    rows = [
        "| command | before: seconds | CPU s | after: seconds | CPU s | speed-up (wall) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {"ingest": "`python -m ingest note.txt`", "search": "`python -m rag search ...`"}
    for command, after in result["runs"]["current"].items():
        before = result["runs"]["baseline"][command]
        rows.append(
            f"| {labels[command]} | {before['seconds']:.1f} | {before['cpu_seconds']:.1f} | "
            f"{after['seconds']:.1f} | {after['cpu_seconds']:.1f} | "
            f"{result['speedup'][command]:.2f}x |"
        )
    stages = ", ".join(f"{k} {v} s" for k, v in result["stages_cpu_seconds"].items())
    return (
        f"Before: `{result['baseline']}`; after: `{result['commit']}` ({result['date']}), "
        f"fastest of {result['repeat']} runs each:\n\n" + "\n".join(rows) + "\n\n"
        f"CPU seconds of each stage of a start, after: {stages}.\n"
    )


def query(result: dict[str, Any]) -> str:
    machine, queries = result["machine"], result["queries"]
    counts = sorted({int(r["queries"]) for r in result["rows"] if "queries" in r})
    per_row = len(counts) > 1  # sizes kept from runs with another --queries
    rows = [
        "| chunks | mode |" + (" queries |" if per_row else "") + " p50 ms | p95 ms | p99 ms |",
        "|---:|---|" + ("---:|" if per_row else "") + "---:|---:|---:|",
    ]
    for r in sorted(result["rows"], key=lambda r: int(r["size"])):
        asked = f" {r.get('queries', '')} |" if per_row else ""
        if "error" in r:
            rows.append(f"| {r['size']:,} | `{r['mode']}` |{asked} {r['error']} | | |")
            continue
        rows.append(
            f"| {r['size']:,} | `{r['mode']}` |{asked} {r['p50_ms']:,.1f} | {r['p95_ms']:,.1f} | "
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
    asked = (
        " or ".join(_scifact_queries(n) for n in counts) + " (the queries column)"
        if per_row
        else _scifact_queries(queries["count"])
    )
    loads = [x for r in result["processes"].values() for x in r["load_average_1m"]]
    load = f", 1-minute load average {min(loads)} to {max(loads)} while timing" if loads else ""
    return (
        f"`rag search` latency per query, over {asked} (their "
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
        f" The {' and '.join(f'{n:,}' for n in part['sizes'])}-chunk figures are from an earlier "
        f"run of the same script at commit `{part['commit']}`, {part['date']} (kept with "
        "`--merge`)."
        for part in parts
    )


def _scifact_queries(n: int) -> str:
    """Which of SciFact's queries (300 test, then 809 train) the first ``n`` are."""
    if n <= 300:
        return f"SciFact's {n} test queries" if n == 300 else f"the first {n} SciFact test queries"
    return f"SciFact's 300 test and {n - 300} train queries"
