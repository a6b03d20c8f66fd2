"""The retrieved passages of every answer-set question, kept on disk, so that extractive
answer variants can be compared without retrieving again (bench/extractive_tune.py).

    nice -n 10 .venv/bin/python bench/extractive_hits.py [--sets covidqa,howto,pages,filings]
        [--pages-docs DIR] [--store DIR]

Each set is ingested and asked as ``bench/answers.py`` asks it (the same collections, the
retriever ``rag.answers.answer.answerer_for`` makes in the configured mode), and every question's
hits are written to ``STORE/hits-SET.json`` with the question's id, half and kind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.answers import COVIDQA, FILINGS, HOWTO, PAGES, present  # noqa: E402
from cli._longeval import index_documents  # noqa: E402
from ingest.longdocs import index_papers  # noqa: E402
from rag.answers.answer import answerer_for  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation.answersets import AnswerQuestion, from_pages, from_spans  # noqa: E402
from rag.evaluation.longsets import load_page_questions, load_squad  # noqa: E402
from rag.store.index import load_model  # noqa: E402

STORE = ROOT / ".rag" / "bench-answers"  # bench/answers.py's: its collections are reused
SETS = ("covidqa", "howto", "pages", "filings")


def documents_of(name: str, pages_docs: Path) -> tuple[Path, Path]:
    """A page-questions set's file and the folder of its PDFs."""
    return {
        "howto": (HOWTO, ROOT / "data"),
        "pages": (PAGES, pages_docs),
        "filings": (FILINGS / "questions.json", FILINGS / "pdfs"),
    }[name]


def questions_of(name: str, pages_docs: Path) -> list[AnswerQuestion]:
    if name == "covidqa":
        return from_spans(load_squad(COVIDQA))
    file, docs = documents_of(name, pages_docs)
    pageset, _ = present(load_page_questions(file), docs)
    return from_pages(pageset)


def collect(name: str, settings: Settings, pages_docs: Path) -> list[dict[str, Any]]:
    questions = questions_of(name, pages_docs)
    if name == "covidqa":
        index, _ = index_papers(
            load_squad(COVIDQA), settings=settings, model=load_model(settings.embedding)
        )
        indexes = {"": index}
    else:
        file, docs = documents_of(name, pages_docs)
        pageset, _ = present(load_page_questions(file), docs)
        files = list(dict.fromkeys(q.file for q in questions))
        indexes, _ = index_documents(pageset, files, docs, settings=settings)
    # the answer path's own retrieval: a how-to question's passages with its BM25 share
    answerers = {f: answerer_for(i, settings, None) for f, i in indexes.items()}
    out = []
    for n, q in enumerate(questions, start=1):
        hits = answerers[q.file if name != "covidqa" else ""].passages(q.question)
        out.append(
            {
                "id": q.id,
                "question": q.question,
                "half": q.half,
                "kind": q.kind,
                "file": q.file,
                "hits": [dataclasses.asdict(h) for h in hits],
            }
        )
        print(f"\r{name}: {n}/{len(questions)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for index in indexes.values():
        index.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--pages-docs", type=Path, default=ROOT / ".rag" / "bench-pdfs")
    parser.add_argument("--store", type=Path, default=STORE)
    args = parser.parse_args(argv)
    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None, llm="none")
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        rows = collect(name, settings, args.pages_docs)
        path = args.store / f"hits-{name}.json"
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
