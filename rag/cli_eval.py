"""CLI: python -m rag eval --beir DIR [--mode MODE] [--k 10] [--limit N] [--json]."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.components import make_embedder
from rag.config import Settings, check_mode
from rag.evaluation import eval_settings, index_corpus, load_beir, run_queries, score
from rag.retriever import Retriever


def register(sub: Any) -> None:
    """Add the ``eval`` subcommand to ``python -m rag``."""
    parser = sub.add_parser("eval", help="retrieval quality on a BEIR folder")
    parser.add_argument("--beir", type=Path, required=True, help="corpus.jsonl, queries, qrels")
    parser.add_argument(
        "--mode", default=None, help="dense | bm25 | hybrid [+mmr] [+rerank] (RAG_RETRIEVAL_MODE)"
    )
    parser.add_argument("--k", type=int, default=10, help="cut-off for nDCG, recall and MRR")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    mode = (args.mode or settings.retrieval_mode).strip().lower()
    check_mode(settings, mode)
    dataset = load_beir(args.beir, limit=args.limit)
    if not args.json:
        print(
            f"{dataset.name}: {len(dataset.corpus)} documents, {len(dataset.queries)} queries",
            file=sys.stderr,
        )
    settings = eval_settings(settings, dataset, limit=args.limit)
    embedder = make_embedder(settings)

    def progress(done: int, total: int) -> None:
        print(f"\rembedding {done}/{total}", end="", file=sys.stderr, flush=True)

    store = index_corpus(
        dataset, settings=settings, embedder=embedder, progress=None if args.json else progress
    )
    retriever = Retriever(embedder=embedder, store=store, settings=settings)
    run, latencies = run_queries(dataset, retriever=retriever, mode=mode)
    result = score(dataset, run, latencies, mode=mode, k=args.k)
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
    print(f"{'mode':>12}: {mode}  (collection {settings.collection})")
    return 0
