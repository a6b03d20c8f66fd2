"""``python -m rag feedback [--export FILE] [--json]``: the feedback given in the app on the
current collection's answers, summed up or written as a question set; and ``rag eval
--feedback FILE [--mode M[,M]] [--half tune|report|all] [--json]``: that set scored on the
current collection (``cmd_score``): hit@1/5/10 and MRR@10, a hit being a top-k passage
judged useful (``rag.conversations.feedback.useful_rank``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from time import perf_counter
from typing import Any

from cli._longeval import print_table
from rag.answers.answer import ANSWER_RANKING
from rag.config import Settings
from rag.conversations.feedback import all_feedback, load_question_set, question_set, useful_rank
from rag.conversations.history import FILE_NAME, Conversations
from rag.errors import ConfigError
from rag.evaluation.longeval import DEPTH, KS, Row, select_half, summarize
from rag.evaluation.longsets import latency
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "feedback", help="the app's thumbs up/down, summed up or exported for rag eval"
    )
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the feedback as a question set (score it with rag eval --feedback FILE)",
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_feedback)


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    collection = settings.store.collection
    path = settings.store.store_dir / FILE_NAME
    if args.export is not None and not args.export.parent.is_dir():
        raise ConfigError(
            f"Cannot write {args.export}: folder {args.export.parent} does not exist."
        )
    feedback = all_feedback(Conversations.for_store(settings.store)) if path.is_file() else []
    if not feedback:
        raise ConfigError(
            f"No feedback on collection {collection!r} in {settings.store.store_dir} yet: "
            "rate answers in the app (thumbs up or down), then run this again."
        )
    data = question_set(feedback, collection=collection)
    useful = sum(1 for q in data["questions"] if q["useful"])
    summary = {
        "collection": collection,
        "feedback": len(feedback),
        "up": sum(1 for f in feedback if f.rating == "up"),
        "down": sum(1 for f in feedback if f.rating == "down"),
        "with_useful_passages": useful,
    }
    if args.export is not None:
        try:
            text = json.dumps(data, ensure_ascii=False, indent=1)
            args.export.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot write {args.export} ({exc.strerror}).") from exc
        summary["exported_to"] = str(args.export)
    if args.json:
        print(json.dumps(summary))
        return 0
    print(
        f"{summary['feedback']} feedback on collection {collection!r}: {summary['up']} up, "
        f"{summary['down']} down, {useful} with passages judged useful"
    )
    if args.export is not None:
        print(f"wrote {args.export}; score it with: python -m rag eval --feedback {args.export}")
    return 0


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    """``rag eval --feedback FILE``: each mode of ``--mode`` on the current collection."""
    from cli._longeval import parse_modes  # beside the other eval commands' helpers

    modes = parse_modes(args.mode, settings)
    halves = select_half(args.half)
    judged = load_question_set(args.feedback)
    questions = [q for q in judged.questions if q.half in halves]
    collection = settings.store.collection
    if judged.collection != collection and not args.json:
        print(
            f"note: {args.feedback} was given on collection {judged.collection!r}; scoring "
            f"it on {collection!r} (passages match by chunk id, or by source, page and "
            "overlapping characters)",
            file=sys.stderr,
        )
    index = open_index(settings, writing=False)
    if index.store.count() == 0:
        index.close()
        raise ConfigError(
            f"Collection {collection!r} in {settings.store.store_dir} is empty: ingest the "
            "documents the feedback was given on, or set RAG_COLLECTION to their collection."
        )
    retriever = Retriever(index=index, settings=settings.retrieval)
    result: dict[str, Any] = {
        "questions_file": judged.name,
        "collection": collection,
        "half": args.half,
        "questions": len(questions),
        "unjudged": judged.unjudged,
        "k": list(KS),
        "modes": {},
    }
    for mode in modes:
        rows: list[Row] = []
        times: list[float] = []
        for q in questions:
            started = perf_counter()
            # the useful passages were judged among an answer's: ranked as an answer ranks them
            hits = retriever.retrieve(q.question, k=DEPTH, mode=mode, rank_by=ANSWER_RANKING)
            times.append((perf_counter() - started) * 1000)
            rows.append((q.half, "", useful_rank(q.useful, hits)))
        result["modes"][mode] = {**summarize(rows), "latency_ms": latency(times)}
    index.close()
    _show(result, as_json=args.json)
    return 0


def _show(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    print(
        f"{result['questions_file']}: {result['questions']} questions with passages judged "
        f"useful ({result['half']} half), {result['unjudged']} without (not scored); "
        f"collection {result['collection']}"
    )
    print_table(result, name="hit")
