"""``python -m rag eval --beir DIR [--mode MODE] [--k 10] [--limit N] [--label L]
[--dims 384,256,128,64] [--json]``: retrieval quality on a BEIR folder; ``--qa FILE`` and
``--pages FILE --docs DIR`` [--half tune|report|all] [--rebuild]: on long documents
(``cli._longeval``); ``--feedback FILE``: the app's feedback, exported by ``rag
feedback --export``, on the current collection (``cli.feedback``).

``--answers FILE [--docs DIR] [--half tune|report|all] [--limit N] [--mode MODE] [--rebuild]
[--json]``: the answers themselves, graded (``cli._answers``): each question asked
through the app's answer path (an LLM when the settings configure one, else the extractive
answer; the output says which), and per question whether it answered or abstained, whether
the answer states the gold, whether a passage it cites does, and its length; summed up per
half. FILE is a SQuAD file (its papers ingested as ``--qa`` does), a page-questions file
with ``--docs DIR`` (each PDF in its own collection, as ``--pages``), or your own questions,
asked of the current collection: JSON (``{"questions": [...]}`` or a list) or JSONL, one
object per question with ``question`` and either ``answer`` (the text or figure a correct
answer states; ``' ... '`` separates parts that must all be stated) or ``must_name`` (a name
or a list of names, any one of which a correct answer mentions), and optionally ``id`` and
``half`` (``tune`` or ``report``). ``--limit N`` asks the first N questions of each half.
The rules (text normalised, names as whole tokens, figures as numbers at their printed
precision) are in docs/retrieval.md#grading-answers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli import _longeval, feedback
from ingest.corpus import dimension_tradeoff, index_corpus
from rag.config import Settings, check_mode
from rag.errors import ConfigError
from rag.evaluation.beir import eval_settings, load_beir, restrict_to_label, run_queries, score
from rag.retrieval.retriever import Retriever
from rag.store.index import load_model


def register(sub: Any) -> None:
    parser = sub.add_parser("eval", help="retrieval quality on a BEIR folder or long documents")
    parser.add_argument("--beir", type=Path, default=None, help="corpus.jsonl, queries, qrels")
    parser.add_argument(
        "--qa", type=Path, default=None, help="SQuAD-format file of whole papers (COVID-QA)"
    )
    parser.add_argument(
        "--pages", type=Path, default=None, help="questions with the PDF pages that answer them"
    )
    parser.add_argument(
        "--docs", type=Path, default=None, help="the PDFs of --pages (or of --answers FILE)"
    )
    parser.add_argument(
        "--answers",
        type=Path,
        default=None,
        metavar="FILE",
        help="grade the answers to FILE's questions (SQuAD, page questions with --docs, or "
        "your own question file on the current collection)",
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        default=None,
        help="a question set written by rag feedback --export, scored on the collection",
    )
    parser.add_argument(
        "--half",
        default="all",
        help="--qa/--pages/--feedback/--answers: questions of the tune half (choose on these), "
        "report or all",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="--qa/--pages/--answers: ingest the documents afresh"
    )
    parser.add_argument(
        "--mode",
        default=None,
        help="dense | bm25 | hybrid [+mmr] [+rerank] (RAG_RETRIEVAL_MODE); "
        "--qa/--pages/--feedback take a comma list, --answers one",
    )
    parser.add_argument(
        "--split",
        default="test",
        help="which judgements: test (report figures) or train (tune constants on these)",
    )
    parser.add_argument("--k", type=int, default=10, help="cut-off for nDCG, recall and MRR")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="only the first N documents (--answers: the first N questions of each half)",
    )
    parser.add_argument(
        "--label", default=None, help="only documents so labelled (rag classify on the collection)"
    )
    parser.add_argument(
        "--dims",
        default=None,
        help="quality vs storage: comma-separated vector sizes, e.g. 384,256,128,64 "
        "(PCA fitted on the corpus, as RAG_EMBED_DIM does); dense mode unless --mode",
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_eval)


def parse_dims(raw: str) -> list[int]:
    try:
        dims = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--dims takes whole numbers separated by commas, got {raw!r}.") from None
    if not dims or min(dims) < 2:
        raise ConfigError(f"--dims needs sizes of at least 2, got {raw!r}.")
    return sorted(set(dims), reverse=True)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    given = [
        name
        for name in ("beir", "qa", "pages", "feedback", "answers")
        if getattr(args, name) is not None
    ]
    if len(given) != 1:
        raise ConfigError(
            "rag eval needs exactly one of --beir DIR, --qa FILE, --pages FILE, --feedback "
            f"FILE or --answers FILE (got {', '.join('--' + g for g in given) or 'none'})."
        )
    if args.answers is not None:
        from cli._answers import cmd_answers  # its imports (the LLM client) only when asked

        return cmd_answers(args, settings)
    if args.feedback is not None:
        return feedback.cmd_score(args, settings)
    if args.qa is not None:
        return _longeval.cmd_qa(args, settings)
    if args.pages is not None:
        return _longeval.cmd_pages(args, settings)
    if args.dims is not None:
        return cmd_dims(args, settings)
    mode = (args.mode or settings.retrieval.retrieval_mode).strip().lower()
    check_mode(settings.retrieval, mode)
    dataset = load_beir(args.beir, limit=args.limit, split=args.split)
    if not args.json:
        print(
            f"{dataset.name} ({dataset.split}): {len(dataset.corpus)} documents, "
            f"{len(dataset.queries)} queries",
            file=sys.stderr,
        )
    settings = eval_settings(settings, dataset, limit=args.limit)
    index = index_corpus(
        dataset,
        settings=settings,
        model=load_model(settings.embedding),
        progress=None if args.json else _progress,
    )
    store = index.store
    if args.label:
        dataset = restrict_to_label(dataset, store, args.label)
        if not args.json:
            print(
                f"\nlabel {args.label!r}: {len(dataset.corpus)} documents, "
                f"{len(dataset.queries)} queries",
                file=sys.stderr,
            )
    retriever = Retriever(index=index, settings=settings.retrieval)
    run, latencies = run_queries(dataset, retriever=retriever, mode=mode, label=args.label)
    result = score(dataset, run, latencies, mode=mode, k=args.k)
    if args.label:
        result["label"] = args.label
    if args.json:
        print(json.dumps(result))
        return 0
    print(file=sys.stderr)
    latency = result["latency_ms"]
    assert isinstance(latency, dict)
    for name, value in result.items():
        if name not in ("latency_ms", "mode"):
            print(f"{name:>12}: {value}")
    print(f"{'latency_ms':>12}: p50 {latency['p50']}  p95 {latency['p95']}")
    print(f"{'mode':>12}: {mode}  (collection {settings.store.collection})")
    return 0


def cmd_dims(args: argparse.Namespace, settings: Settings) -> int:
    """The quality/storage table: nDCG@k and bytes per vector at each size."""
    if settings.embedding.embed_provider != "local":
        raise ConfigError(
            "--dims compares PCA sizes of a local model. For OpenAI models, run the eval "
            "once per RAG_EMBED_DIM (the API's `dimensions` parameter) instead."
        )
    if args.label:
        raise ConfigError("--dims and --label do not combine; run them separately.")
    dims = parse_dims(args.dims)
    modes = [m.strip().lower() for m in (args.mode or "dense").split(",") if m.strip()]
    for mode in modes:
        check_mode(settings.retrieval, mode)
    dataset = load_beir(args.beir, limit=args.limit, split=args.split)
    settings = eval_settings(settings.replace(embed_dim=None), dataset, limit=args.limit)
    rows = dimension_tradeoff(
        dataset,
        settings=settings,
        model=load_model(settings.embedding),
        dims=dims,
        modes=modes,
        k=args.k,
        progress=None if args.json else _progress,
    )
    if args.json:
        print(json.dumps({"dataset": dataset.name, "k": args.k, "dimensions": rows}))
        return 0
    print(file=sys.stderr)
    print(
        f"{dataset.name}: {len(dataset.corpus)} documents, {len(dataset.queries)} queries, "
        f"{settings.embedding.embed_model}"
    )
    head = f"{'dims':>5} {'bytes/vector':>12} {'disk/chunk':>10} {'variance':>9}"
    for mode in modes:
        head += f" {f'nDCG@{args.k} {mode}':>18} {'recall@100':>10}"
    print(head)
    base: dict[str, float] = {}
    for row in rows:
        line = f"{row['dims']:>5} {row['bytes_per_vector']:>12} {row['disk_bytes_per_chunk']:>10}"
        line += f" {row['variance_kept']:>9.1%}"
        for mode in modes:
            result = row[mode]
            assert isinstance(result, dict)
            ndcg, recall = float(result[f"ndcg@{args.k}"]), float(result["recall@100"])
            base.setdefault(mode, ndcg)
            line += f" {ndcg:>9.4f} ({ndcg / base[mode]:>6.1%}) {recall:>10.4f}"
        print(line)
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\rembedding {done}/{total}", end="", file=sys.stderr, flush=True)
