"""The answer yardstick (issue 24): ``rag eval --answers`` on every question set, both
halves, in each answer mode; the figures behind docs/retrieval.md#grading-answers.

    nice -n 19 .venv/bin/python bench/answers.py [--sets covidqa,pages,filings,howto]
        [--limit N] [--modes extractive,llm] [--pages-docs DIR] [--store DIR]

Sets (each through ``cli._answers``, exactly as the command runs them):

- ``covidqa``: COVID-QA (../shared/data/qa/covidqa/), 98 papers in one collection; the gold
  is the answer span's text;
- ``pages``: bench/data/pages_questions.json over ``--pages-docs`` (bench/fetch_pdfs.py puts
  the PDFs in .rag/bench-pdfs), each PDF in its own collection; the gold is every
  ``' ... '``-separated part of ``answer``. Questions whose PDF is not there are left out
  and counted (``left_out``);
- ``filings``: the SEC filings (../shared/data/filings/), each filing in its own collection;
  the annotators' answer compared as a number when it is one figure, else counted as not
  gradable automatically;
- ``howto``: bench/data/howto_questions.json over data/; the gold is any of ``must_name``.

Modes: ``extractive`` (the run sets RAG_LLM=none for it, whatever the environment says) and
``llm``: whatever OpenAI-compatible server the settings configure (RAG_LLM_BASE_URL and
RAG_LLM_MODEL, OPENAI_API_KEY, or RAG_LLM=local for the bundled SmolLM2, which shows the
mechanics only). By default ``llm`` runs when an LLM is configured.

``--before`` also runs the extractive answer as it was before issue 24
(``bench/legacy_extractive.py``: sentences by cosine in reading order, abstaining on the
best passage's cosine at 0.415) as the mode ``extractive-before``, on the same indexes in
the same run, so the two are compared on the same machine, retrieval and questions.

``--limit N`` asks only the first N questions of each half of each set (COVID-QA then
ingests only their papers): a subset to see it work, recorded in the results and shown in
the table. Writes bench/results/answers.json (summaries, with provenance) and
bench/results/answers.jsonl (one line per question and mode, for reading the failures).
A run of some sets keeps the other sets' results from the files it replaces, each with the
provenance of the run that measured it (``measured``: its commit, date, machine and
settings), so that ``--sets filings`` does not drop COVID-QA's figures; the table names the
kept ones.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.legacy_extractive import legacy_extractor  # noqa: E402
from bench.provenance import RESULTS, write_result  # noqa: E402
from cli._answers import answers_on_documents, answers_on_papers  # noqa: E402
from rag.answers.llm import LLM, make_llm  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation.longeval import HALVES  # noqa: E402
from rag.evaluation.longsets import PageSet, load_page_questions, load_squad  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
COVIDQA = SHARED / "qa" / "covidqa" / "covidqa-200423.json"
FILINGS = SHARED / "filings"
PAGES = ROOT / "bench" / "data" / "pages_questions.json"
HOWTO = ROOT / "bench" / "data" / "howto_questions.json"
SETS = ("covidqa", "pages", "filings", "howto")
MODES = ("extractive", "llm")
BEFORE = "extractive-before"  # the extractive answer before issue 24, bench only
STORE = ROOT / ".rag" / "bench-answers"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="a comma list of " + ", ".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each half")
    parser.add_argument("--modes", default=None, help="extractive,llm (llm when configured)")
    parser.add_argument("--pages-docs", type=Path, default=ROOT / ".rag" / "bench-pdfs")
    parser.add_argument("--store", type=Path, default=STORE, help="where the indexes are built")
    parser.add_argument(
        "--before", action="store_true", help="also run the extractive answer before issue 24"
    )
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None)
    modes = chosen_modes(args.modes, settings, parser.error)
    llms: dict[str, LLM | None] = {
        **({BEFORE: None} if args.before else {}),
        "extractive": None,
        **({"llm": make_llm(settings.answers)} if "llm" in modes else {}),
    }
    payload: dict[str, Any] = {
        "limit": args.limit,
        "settings": {
            "retrieval_mode": settings.retrieval.retrieval_mode,
            "top_k": settings.retrieval.top_k,
            "abstain_threshold": settings.answers.abstain_threshold,
            "embed_model": Path(settings.embedding.embed_model).name,
            "chunk_size": settings.ingest.chunk_size,
            "chunk_overlap": settings.ingest.chunk_overlap,
        },
        "sets": {},
    }
    records: list[dict[str, Any]] = []
    for name in sets:
        payload["sets"][name] = run_set(name, args, settings, llms, records)
    jsonl = RESULTS / "answers.jsonl"
    previous = RESULTS / "answers.json"
    if previous.exists():
        payload = merged(json.loads(previous.read_text(encoding="utf-8")), payload)
    if jsonl.exists():
        records = merged_records(jsonl.read_text(encoding="utf-8"), records, sets)
    path = write_result("answers", payload)
    jsonl.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    print(f"wrote {path.relative_to(ROOT)} and {jsonl.relative_to(ROOT)}", file=sys.stderr)
    return 0


# what a results file records about the run that measured it: a kept set carries its own
PROVENANCE = ("commit", "date", "machine", "embed_precision", "versions", "limit", "settings")


def merged(previous: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` (this run's sets, without provenance yet) with the sets of ``previous``
    (the results file it replaces) that this run did not measure, each kept with the
    provenance of its own run under ``measured``, in the order of ``SETS``."""
    kept = {}
    for name, part in previous.get("sets", {}).items():
        if name in payload["sets"]:
            continue
        measured = part.get("measured") or {k: previous[k] for k in PROVENANCE if k in previous}
        kept[name] = {**part, "measured": measured}
    together = {**kept, **payload["sets"]}
    order = [*SETS, *sorted(set(together) - set(SETS))]
    return {**payload, "sets": {name: together[name] for name in order if name in together}}


def merged_records(
    previous: str, records: list[dict[str, Any]], ran: list[str]
) -> list[dict[str, Any]]:
    """The per-question lines of ``previous`` for the sets this run did not measure, then
    this run's."""
    old = [json.loads(line) for line in previous.splitlines() if line.strip()]
    return [r for r in old if r.get("set") not in ran] + records


def chosen_modes(raw: str | None, settings: Settings, error: Callable[[str], Any]) -> list[str]:
    if raw is None:
        return ["extractive", "llm"] if settings.answers.llm_enabled else ["extractive"]
    modes = [m.strip() for m in raw.split(",") if m.strip()]
    if not modes or set(modes) - set(MODES):
        error(f"--modes takes extractive and/or llm, got {raw!r}")
    if "llm" in modes and not settings.answers.llm_enabled:
        error(
            "--modes llm needs an LLM: set RAG_LLM_BASE_URL and RAG_LLM_MODEL (or "
            "OPENAI_API_KEY), or RAG_LLM=local for the bundled demo model"
        )
    return modes


def run_set(
    name: str,
    args: argparse.Namespace,
    settings: Settings,
    llms: dict[str, LLM | None],
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """One set in every mode: its summaries, its rows appended to ``records``."""
    out: dict[str, Any] = {"modes": {}}
    for mode, llm in llms.items():
        mode_settings = settings.replace(llm="none") if llm is None else settings
        progress(f"{name}: {mode}")
        started = time.perf_counter()
        with legacy_extractor() if mode == BEFORE else nullcontext():
            got = answers_of(name, args, mode_settings, llm)
        if got is None:
            where = shown(docs_of(name, args)[1])
            progress(f"{name}: skipped, none of its PDFs is in {where}")
            return {"skipped": f"none of its PDFs is in {where}"}
        if name == "covidqa":
            out.update(questions_file=shown(COVIDQA), papers=got["papers"])
        else:
            file, docs = docs_of(name, args)
            out.update(questions_file=shown(file), docs=shown(docs), left_out=got["left_out"])
            out["documents"] = len(got["documents"])
        print(file=sys.stderr)
        out["questions"], out["gradable"] = got["questions"], got["gradable"]
        out["modes"][mode] = {
            "mode": got["mode"],
            "model": got["model"],
            "seconds": round(time.perf_counter() - started, 1),
            **got["summary"],
        }
        records.extend({"set": name, "answers": mode, **row} for row in got["rows"])
    return out


def docs_of(name: str, args: argparse.Namespace) -> tuple[Path, Path]:
    """A page-questions set's file and the folder of its PDFs."""
    return {
        "pages": (PAGES, args.pages_docs),
        "filings": (FILINGS / "questions.json", FILINGS / "pdfs"),
        "howto": (HOWTO, ROOT / "data"),
    }[name]


def answers_of(
    name: str, args: argparse.Namespace, settings: Settings, llm: LLM | None
) -> dict[str, Any] | None:
    """One set asked in one mode, as ``rag eval --answers`` asks it; None when none of its
    PDFs is there."""
    if name == "covidqa":
        return answers_on_papers(
            load_squad(COVIDQA), settings=settings, llm=llm, halves=HALVES,
            limit=args.limit, progress=counter,
        )  # fmt: skip
    file, docs = docs_of(name, args)
    pageset, left_out = present(load_page_questions(file), docs)
    if not pageset.questions:
        return None
    got = answers_on_documents(
        pageset, docs, settings=settings, llm=llm, halves=HALVES,
        limit=args.limit, progress=counter,
    )  # fmt: skip
    return {**got, "left_out": left_out}


def present(pageset: PageSet, docs: Path) -> tuple[PageSet, dict[str, Any]]:
    """``pageset`` without the questions whose PDF is not in ``docs``, and what was left out."""
    missing = sorted({q.file for q in pageset.questions if not (docs / q.file).is_file()})
    kept = [q for q in pageset.questions if q.file not in missing]
    left_out = {"questions": len(pageset.questions) - len(kept), "files": missing}
    return replace(pageset, questions=kept), left_out


def counter(done: int, total: int) -> None:
    print(f"\r  answering {done}/{total}", end="", file=sys.stderr, flush=True)


def progress(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def shown(path: Path) -> str:
    """A path as the results file records it: relative to the repository or its parent."""
    for base, prefix in ((ROOT, ""), (ROOT.parent, "../")):
        try:
            return prefix + str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
