"""``rag eval --answers FILE [--docs DIR] [--half tune|report|all] [--limit N] [--mode MODE]
[--rebuild] [--json]``: the answers the app gives, graded (``rag.evaluation.answer_eval``).

Every question goes through the app's own answer path (``rag.answers.answer.answerer_for``: the
retriever in the configured mode, then an LLM when the settings configure one, else the
extractive answer) and is graded on its gold (``rag.evaluation.answersets``). FILE is one of:

- a SQuAD-format file (COVID-QA): its papers ingested into their own collection, as
  ``--qa`` does;
- a page-questions file with ``--docs DIR``: each PDF in a collection of its own, as
  ``--pages`` does, each question asked of its own document;
- your own question file: asked of the current collection (``RAG_COLLECTION``).

``--limit N`` asks the first N questions of each half (for a SQuAD file only their papers
are ingested, into a collection of their own); ``--mode`` sets the retrieval mode for the
run. ``--json`` prints the summary and every question's answer and grade.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli._longeval import Counter, index_documents, ingested
from ingest.longdocs import index_papers
from rag.answers.answer import Answerer, answerer_for
from rag.answers.llm import LLM, make_llm
from rag.config import Settings, check_mode
from rag.errors import ConfigError
from rag.evaluation.answer_eval import Progress, Row, ask_all, row_record, summarize
from rag.evaluation.answersets import (
    AnswerQuestion,
    first_of_each_half,
    from_pages,
    from_spans,
    load_own_questions,
    question_file_kind,
    restrict_spans,
)
from rag.evaluation.longeval import HALVES, select_half
from rag.evaluation.longsets import PageSet, SpanSet, load_page_questions, load_squad
from rag.store.index import load_model, open_index


def cmd_answers(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit takes a number of questions of at least 1, got {args.limit}.")
    if args.mode:
        mode = args.mode.strip().lower()
        if "," in mode:
            raise ConfigError("--answers grades one retrieval mode a run; give --mode one mode.")
        check_mode(settings.retrieval, mode)
        settings = settings.replace(retrieval_mode=mode)
    halves = select_half(args.half)
    kind = question_file_kind(args.answers)
    if kind == "pages" and args.docs is None:
        raise ConfigError(
            f"{args.answers} is a page-questions file: give --docs DIR, the folder of its PDFs."
        )
    llm = make_llm(settings.answers)
    progress = None if args.json else _progress
    if kind == "squad":
        result = answers_on_papers(
            load_squad(args.answers), settings=settings, llm=llm, halves=halves,
            limit=args.limit, rebuild=args.rebuild, progress=progress,
        )  # fmt: skip
    elif kind == "pages":
        result = answers_on_documents(
            load_page_questions(args.answers), args.docs, settings=settings, llm=llm,
            halves=halves, limit=args.limit, rebuild=args.rebuild, progress=progress,
        )  # fmt: skip
    else:
        result = answers_on_collection(
            args.answers, settings=settings, llm=llm, halves=halves, limit=args.limit,
            progress=progress,
        )  # fmt: skip
    result = {"questions_file": args.answers.name, "half": args.half, **result}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(file=sys.stderr)
        print_result(result)
    return 0


def answers_on_papers(
    spans: SpanSet,
    *,
    settings: Settings,
    llm: LLM | None,
    halves: tuple[str, ...] = HALVES,
    limit: int | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """A SQuAD set's questions asked of its papers' collection."""
    questions = asked(first_of_each_half(from_spans(spans), halves, limit), spans.name, halves)
    if limit is not None:  # only the papers asked about: a small collection of their own
        spans = restrict_spans(spans, (q.id for q in questions))
    index, report = index_papers(
        spans,
        settings=settings,
        model=load_model(settings.embedding),
        rebuild=rebuild,
        progress=None if progress is None else Counter("ingesting", len(spans.papers)),
    )
    _end_line(progress)
    try:
        answerer = answerer_for(index, settings, llm)
        rows = ask_all(questions, lambda _: answerer, progress=progress)
        return {
            "set": "squad",
            "papers": len(spans.papers),
            "collection": index.store.name,
            "chunks": index.store.count(),
            "ingest": ingested(report.as_dict()),
            **_graded(rows, answerer, llm, settings, limit),
        }
    finally:
        index.close()


def answers_on_documents(
    pageset: PageSet,
    docs: Path,
    *,
    settings: Settings,
    llm: LLM | None,
    halves: tuple[str, ...] = HALVES,
    limit: int | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """A page-questions set's questions, each asked of its own document's collection."""
    questions = asked(first_of_each_half(from_pages(pageset), halves, limit), pageset.name, halves)
    files = list(dict.fromkeys(q.file for q in questions))
    indexes, documents = index_documents(
        pageset, files, docs, settings=settings, rebuild=rebuild, quiet=progress is None
    )
    _end_line(progress)
    try:
        answerers = {name: answerer_for(index, settings, llm) for name, index in indexes.items()}
        rows = ask_all(questions, lambda q: answerers[q.file], progress=progress)
        first = next(iter(answerers.values()))
        return {
            "set": "pages",
            "documents": documents,
            **_graded(rows, first, llm, settings, limit),
        }
    finally:
        for index in indexes.values():
            index.close()


def answers_on_collection(
    path: Path,
    *,
    settings: Settings,
    llm: LLM | None,
    halves: tuple[str, ...] = HALVES,
    limit: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """A user's own questions asked of the current collection."""
    own = load_own_questions(path)
    questions = asked(first_of_each_half(own.questions, halves, limit), own.name, halves)
    index = open_index(settings, writing=False, model=lambda: load_model(settings.embedding))
    try:
        if index.store.count() == 0:
            raise ConfigError(
                f"Collection {settings.store.collection!r} in {settings.store.store_dir} is "
                "empty: ingest the documents your questions are about (python -m ingest PATH), "
                "or set RAG_COLLECTION to their collection."
            )
        answerer = answerer_for(index, settings, llm)
        rows = ask_all(questions, lambda _: answerer, progress=progress)
        return {
            "set": "own",
            "collection": index.store.name,
            "chunks": index.store.count(),
            **_graded(rows, answerer, llm, settings, limit),
        }
    finally:
        index.close()


def asked(
    questions: list[AnswerQuestion], name: str, halves: tuple[str, ...]
) -> list[AnswerQuestion]:
    """``questions``, refused when there are none to ask."""
    if not questions:
        raise ConfigError(
            f"{name} has no questions in the {' or '.join(halves)} half; choose --half all."
        )
    return questions


def _graded(
    rows: list[Row], answerer: Answerer, llm: LLM | None, settings: Settings, limit: int | None
) -> dict[str, Any]:
    return {
        "mode": answerer.mode,
        "model": llm.model if llm is not None else None,
        "retrieval_mode": settings.retrieval.retrieval_mode,
        "top_k": settings.retrieval.top_k,
        "abstain_threshold": settings.answers.abstain_threshold,
        "limit": limit,
        "questions": len(rows),
        "gradable": sum(1 for r in rows if r.question.gold.gradable),
        "summary": summarize(rows),
        "rows": [row_record(r) for r in rows],
    }


def print_result(result: dict[str, Any]) -> None:
    """The summary per half (and kind), then the answered questions that missed their gold."""
    how = "extractive (no LLM)" if result["mode"] == "extractive" else f"llm ({result['model']})"
    limited = f", the first {result['limit']} of each half" if result["limit"] else ""
    print(
        f"{result['questions_file']}: {result['questions']} questions ({result['half']} half"
        f"{limited}), {result['gradable']} gradable automatically; answers: {how}; "
        f"retrieval {result['retrieval_mode']}, top {result['top_k']}"
    )
    heads = ("questions", "answered", "gradable", "stated", "supported", "chars", "words")
    print(f"{'half':<12}" + "".join(f"{h:>11}" for h in heads))
    for part in ("all", *HALVES):
        row = result["summary"].get(part)
        if row is None:
            continue
        print(_line(part, row))
        for kind, sub in row.get("kinds", {}).items():
            print(_line("  " + kind, sub))
    print("(answered: share of questions; stated, supported: share of the gradable ones; "
          "chars, words: median length of the answers given)")  # fmt: skip
    missed = [r for r in result["rows"] if r.get("answered") and r.get("stated") is False]
    if missed:
        print(f"\nanswered without stating the gold ({len(missed)}; --json shows every answer):")
        for r in missed[:10]:
            print(f"  {r['id']}: {r['question']}")


def _line(label: str, row: dict[str, Any]) -> str:
    cells = [
        f"{row['questions']:>11}",
        f"{row['answered']:>11.3f}",
        f"{row['gradable']:>11}",
        f"{row['stated']:>11.3f}",
        f"{row['supported']:>11.3f}",
        f"{row['chars']['median']:>11.0f}",
        f"{row['words']['median']:>11.0f}",
    ]
    return f"{label:<12}" + "".join(cells)


def _end_line(progress: Progress | None) -> None:
    """After the ingestion's progress line, so that the answering one starts afresh."""
    if progress is not None:
        print(file=sys.stderr)


def _progress(done: int, total: int) -> None:
    print(f"\ranswering {done}/{total}", end="", file=sys.stderr, flush=True)
