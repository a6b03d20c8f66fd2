"""``rag eval --qa FILE`` and ``rag eval --pages FILE --docs DIR``: retrieval on long
documents (``rag.evaluation.longeval``), each mode of ``--mode`` (a comma list) on the same index.

- ``--qa``: a SQuAD-format file of whole papers (COVID-QA); every paper written to a
  ``.txt`` under ``RAG_STORE_DIR/eval/NAME/papers`` and ingested into one collection of
  its own; a hit is a top-k passage of the right paper that overlaps the answer;
- ``--pages``: questions with the PDF pages that answer them; each document ingested into
  a collection of its own (as a user indexes one file) and asked its own questions; a hit
  is a top-k passage on one of those pages.

``--half tune|report|all`` picks the questions (the index always holds every document).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from ingest.longdocs import index_document, index_papers, paper_lookup
from rag.config import Settings, check_mode
from rag.errors import ConfigError
from rag.evaluation.longeval import DEPTH, HALVES, KS, SpanJudge, select_half, summarize
from rag.evaluation.longsets import (
    PageQuestion,
    PageSet,
    ask_pages,
    ask_spans,
    load_page_questions,
    load_squad,
)
from rag.retrieval.retriever import Retriever
from rag.store.index import Index, load_model
from rag.types import Hit


def parse_modes(raw: str | None, settings: Settings) -> list[str]:
    modes = [m.strip().lower() for m in (raw or settings.retrieval.retrieval_mode).split(",")]
    modes = list(dict.fromkeys(m for m in modes if m))
    if not modes:
        raise ConfigError(f"--mode needs at least one mode, got {raw!r}.")
    for mode in modes:
        check_mode(settings.retrieval, mode)
    return modes


def cmd_qa(args: argparse.Namespace, settings: Settings) -> int:
    modes = parse_modes(args.mode, settings)
    halves = select_half(args.half)
    spans = load_squad(args.qa)
    questions = [q for q in spans.questions if q.half in halves]
    if not args.json:
        print(
            f"{spans.name}: {len(spans.papers)} papers, {len(questions)} questions "
            f"({args.half} half)",
            file=sys.stderr,
        )
    progress = None if args.json else Counter("ingesting", len(spans.papers))
    model = load_model(settings.embedding)
    index, report = index_papers(
        spans, settings=settings, model=model, rebuild=args.rebuild, progress=progress
    )
    judge = SpanJudge(spans.papers, paper_lookup(spans.papers))
    retriever = Retriever(index=index, settings=settings.retrieval)
    result: dict[str, Any] = {
        "dataset": spans.name,
        "half": args.half,
        "papers": len(spans.papers),
        "questions": len(questions),
        "unlocated_answers": spans.unlocated,
        "answers_away_from_answer_start": spans.moved,
        "collection": index.store.name,
        "chunks": index.store.count(),
        "ingest": ingested(report.as_dict()),
        "k": list(KS),
        "modes": {},
    }
    for mode in modes:

        def search(text: str, mode: str = mode) -> list[Hit]:
            return retriever.retrieve(text, k=DEPTH, mode=mode)

        rows, latency = ask_spans(questions, search=search, judge=judge)
        result["modes"][mode] = {**summarize(rows), "latency_ms": latency}
    result["passages_checked"] = judge.checked
    result["offsets_off"] = judge.misplaced  # stored offsets that missed their passage
    index.close()
    _show(result, args.json, name="hit")
    return 0


def cmd_pages(args: argparse.Namespace, settings: Settings) -> int:
    if args.docs is None:
        raise ConfigError("--pages needs --docs DIR: the folder holding the questions' PDFs.")
    modes = parse_modes(args.mode, settings)
    halves = select_half(args.half)
    pageset = load_page_questions(args.pages)
    questions = [q for q in pageset.questions if q.half in halves]
    files = list(dict.fromkeys(q.file for q in questions))
    indexes, documents = index_documents(
        pageset, files, args.docs, settings=settings, rebuild=args.rebuild, quiet=args.json
    )
    retrievers = {f: Retriever(index=i, settings=settings.retrieval) for f, i in indexes.items()}
    result: dict[str, Any] = {
        "questions_file": pageset.name,
        "half": args.half,
        "documents": documents,
        "questions": len(questions),
        "k": list(KS),
        "modes": {},
    }
    for mode in modes:

        def search(q: PageQuestion, mode: str = mode) -> list[Hit]:
            return retrievers[q.file].retrieve(q.question, k=DEPTH, mode=mode)

        rows, latency = ask_pages(questions, search=search)
        result["modes"][mode] = {**summarize(rows, name="page"), "latency_ms": latency}
    for index in indexes.values():
        index.close()
    _show(result, args.json, name="page")
    return 0


def index_documents(
    pageset: PageSet,
    files: list[str],
    folder: Path,
    *,
    settings: Settings,
    rebuild: bool = False,
    quiet: bool = False,
) -> tuple[dict[str, Index], list[dict[str, object]]]:
    """Each of ``files`` (found in ``folder``, checked) in a collection of its own, as a user
    indexes one file: the open indexes by file name, and what each ingestion did."""
    paths = _documents(pageset, files, folder)
    model = load_model(settings.embedding)
    indexes: dict[str, Index] = {}
    documents: list[dict[str, object]] = []
    for n, name in enumerate(files, start=1):
        if not quiet:
            print(f"\ringesting {n}/{len(files)}: {name}", end="", file=sys.stderr, flush=True)
        index, report = index_document(paths[name], settings=settings, model=model, rebuild=rebuild)
        indexes[name] = index
        documents.append(
            {"file": name, "chunks": index.store.count(), **ingested(report.as_dict())}
        )
    return indexes, documents


def _documents(pageset: PageSet, files: list[str], folder: Path) -> dict[str, Path]:
    """The question files' PDFs in ``folder``, their sha256 checked when the set gives it
    (other bytes would put the answers on other pages)."""
    known = {str(d["file"]): d for d in pageset.documents}
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise ConfigError(
            f"{len(missing)} document(s) of {pageset.name} are not in {folder}: "
            f"{', '.join(missing[:5])}. Put them there or point --docs at their folder."
        )
    for name in files:
        want = known[name].get("sha256")
        if want and hashlib.sha256((folder / name).read_bytes()).hexdigest() != want:
            raise ConfigError(
                f"{folder / name} is not the file the questions were written on (sha256 "
                f"differs from {str(want)[:12]}…); fetch that version of it."
            )
    return {name: folder / name for name in files}


def ingested(report: dict[str, object]) -> dict[str, object]:
    keys = ("added", "updated", "unchanged", "chunks_written", "seconds")
    return {k: report[k] for k in keys}


def _show(result: dict[str, Any], as_json: bool, *, name: str) -> None:
    if as_json:
        print(json.dumps(result))
        return
    print(file=sys.stderr)
    print_table(result, name=name)


def print_table(result: dict[str, Any], *, name: str) -> None:
    """Each mode's hit (or page) rates per half, and per kind of question where known."""
    heads = [f"{name}@{k}" for k in KS] + [f"mrr@{DEPTH}"]
    print(f"{'mode':<16}{'half':<8}{'n':>6}" + "".join(f"{h:>9}" for h in heads))
    for mode, parts in result["modes"].items():
        for part in ("all", *HALVES):
            if part in parts:
                row = parts[part]
                cells = "".join(f"{row[h]:>9.3f}" for h in heads)
                print(f"{mode:<16}{part:<8}{row['questions']:>6}{cells}")
                for kind, sub in row.get("kinds", {}).items():
                    cells = "".join(f"{sub[h]:>9.3f}" for h in heads)
                    print(f"{'':<16}{'  ' + kind:<8}{sub['questions']:>6}{cells}")


class Counter:
    """Ingestion progress on stderr: one line, rewritten."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.done = what, total, 0

    def __call__(self, _: str) -> None:
        self.done += 1
        print(f"\r{self.what} {self.done}/{self.total}", end="", file=sys.stderr, flush=True)
