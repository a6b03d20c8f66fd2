"""CLI: python -m rag search|stats|ask ..."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rag import cli_ask, cli_classify, cli_duplicates, cli_eval, cli_topics
from rag.components import index_contract, make_embedder, open_manifest, open_store
from rag.config import Settings
from rag.errors import RagError
from rag.retriever import Retriever
from rag.types import Hit


def snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    # a contract mismatch is cheaper to report before the model is loaded
    store.open(index_contract(settings), writing=False)
    retriever = Retriever(embedder=make_embedder(settings), store=store, settings=settings)
    hits = retriever.retrieve(args.query, k=args.k, mode=args.mode, label=args.label)
    if args.json:
        print(json.dumps([hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("No results. Is anything ingested? Try: python -m ingest data/")
        return 0
    for rank, hit in enumerate(hits, start=1):
        page = f" p.{hit.page}" if hit.page else ""
        print(f"{rank:>2}. {hit.score:.3f}  {Path(hit.source).name}{page}")
        print(f"    {snippet(hit.text)}")
    return 0


def hit_json(hit: Hit) -> dict[str, object]:
    return {
        "source": hit.source,
        "page": hit.page,
        "score": round(hit.score, 6),
        "text": hit.text,
        "chunk_id": hit.chunk_id,
    }


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    manifest = open_manifest(settings)
    contract = store.contract()
    stats = {
        "documents": manifest.count(),
        "chunks": store.count(),
        "embedding_model": contract.embedding_model if contract else settings.embed_model,
        "dimension": contract.dimension if contract else 0,
        "provider": contract.provider if contract else settings.embed_provider,
        "reduction": (
            f"pca {contract.projection or '(not fitted)'}" if contract.reduction else "none"
        )
        if contract
        else "none",
        "collection": settings.collection,
        "store": str(settings.store_dir),
    }
    manifest.close()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key:>16}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Query the index.")
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search", help="ranked passages for a query")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=None, help="number of hits (RAG_TOP_K)")
    search.add_argument("--mode", default=None, help="dense | bm25 | hybrid [+mmr] [+rerank]")
    search.add_argument("--label", default=None, help="only documents so labelled (classify)")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)
    stats = sub.add_parser("stats", help="what the index holds")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)
    cli_ask.add_parser(sub)
    cli_eval.register(sub)
    cli_topics.register(sub)
    cli_duplicates.register(sub)
    cli_classify.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
