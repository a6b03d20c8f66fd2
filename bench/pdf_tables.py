"""Tables in PDFs: what each text extractor gives retrieval, on the page-known questions.

    nice -n 10 .venv/bin/python bench/pdf_tables.py [--extractors pdfium,pypdf,pypdf-layout]

For each value of ``RAG_PDF_TEXT`` the six manuals behind ``bench/data/pages_questions.json``
(``bench/fetch_pdfs.py`` puts them in ``.rag/bench-pdfs/``) are ingested through the real
pipeline, each in its own collection as ``rag eval --pages`` does, and every question is
asked in the default retrieval mode. page@1/5/10 and MRR@10 per half (tune chooses, report
only reports) and per kind (``table``: the answer sits in a table, ``prose``: in running
text). The extraction alone is timed too (fastest of ``--repeat`` reads of every page).

COVID-QA's papers come as text, not PDFs: no extractor changes them, so that yardstick is
recorded as unchanged rather than measured again.

An extractor replaces the default only if it gains more than ``MARGIN`` of page@5 on the
tuning half, or ties there and gains page@1. Writes ``bench/results/pdf_tables.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.provenance import write_result  # noqa: E402
from ingest.longdocs import index_document  # noqa: E402
from ingest.pdf import EXTRACTORS, page_texts  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation.longeval import summarize  # noqa: E402
from rag.evaluation.longsets import PageQuestion, ask_pages, load_page_questions  # noqa: E402
from rag.retrieval.retriever import Retriever  # noqa: E402
from rag.store.index import load_model  # noqa: E402
from rag.types import Hit  # noqa: E402

PAGES = ROOT / "bench" / "data" / "pages_questions.json"
DOCS = ROOT / ".rag" / "bench-pdfs"
STORE = ROOT / ".rag" / "bench-tables"
DEPTH = 10
MARGIN = 0.005


def extraction_seconds(extractor: str, paths: list[Path], repeat: int) -> dict[str, float]:
    def read(path: Path) -> int:
        return len(page_texts(str(path), path.read_bytes(), extractor))

    best = float("inf")
    pages = 0
    for _ in range(repeat):
        start = time.perf_counter()
        pages = sum(read(p) for p in paths)
        best = min(best, time.perf_counter() - start)
    return {"pages": pages, "seconds": round(best, 3), "pages_per_s": round(pages / best, 1)}


def measure(extractor: str, questions: list[PageQuestion], settings: Settings) -> dict[str, Any]:
    settings = settings.replace(store_dir=STORE / extractor, chroma_url=None, pdf_text=extractor)
    model = load_model(settings.embedding)
    retrievers: dict[str, Retriever] = {}
    indexes = []
    chunks: dict[str, int] = {}
    for name in dict.fromkeys(q.file for q in questions):
        progress(f"{extractor}: {name}")
        index, _ = index_document(DOCS / name, settings=settings, model=model, rebuild=True)
        indexes.append(index)
        retrievers[name] = Retriever(index=index, settings=settings.retrieval)
        chunks[name] = index.store.count()

    def search(q: PageQuestion) -> list[Hit]:
        return retrievers[q.file].retrieve(q.question, k=DEPTH)

    rows, latency = ask_pages(questions, search=search)
    for index in indexes:
        index.close()
    return {"chunks": chunks, **summarize(rows, name="page"), "latency_ms": latency}


def choose(results: dict[str, dict[str, Any]], default: str) -> str:
    def key(name: str) -> tuple[float, float]:
        tune = results[name]["tune"]
        return tune["page@5"], tune["page@1"]

    best = default
    for name in results:
        gain5 = key(name)[0] - key(best)[0]
        if gain5 > MARGIN or (abs(gain5) <= MARGIN and key(name)[1] - key(best)[1] > MARGIN):
            best = name
    return best


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extractors", default=",".join(EXTRACTORS))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    extractors = [e.strip() for e in args.extractors.split(",") if e.strip()]
    unknown = sorted(set(extractors) - set(EXTRACTORS))
    if unknown:
        parser.error(f"unknown extractor {', '.join(unknown)}; choose from {EXTRACTORS}")
    pageset = load_page_questions(PAGES)
    names = list(dict.fromkeys(q.file for q in pageset.questions))
    missing = [n for n in names if not (DOCS / n).is_file()]
    if missing:
        raise SystemExit(f"{len(missing)} PDFs missing in {DOCS}; run bench/fetch_pdfs.py")
    settings = Settings.from_env()
    default = settings.ingest.pdf_text
    results: dict[str, dict[str, Any]] = {}
    for extractor in extractors:
        progress(f"{extractor}: extraction time")
        speed = extraction_seconds(extractor, [DOCS / n for n in names], args.repeat)
        results[extractor] = {
            "extraction": speed,
            **measure(extractor, list(pageset.questions), settings),
        }
    chosen = choose(results, default)
    payload: dict[str, Any] = {
        "questions_file": str(PAGES.relative_to(ROOT)),
        "documents": names,
        "questions": {h: sum(q.half == h for q in pageset.questions) for h in ("tune", "report")},
        "mode": settings.retrieval.retrieval_mode,
        "margin": MARGIN,
        "default": default,
        "chosen_on_tune": chosen,
        "extractors": results,
        "covidqa": "unchanged: its papers are text, not PDFs, so no PDF extractor reads them",
    }
    path = write_result("pdf_tables", payload)
    progress(f"wrote {path}; chosen on the tuning half: {chosen} (default {default})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
