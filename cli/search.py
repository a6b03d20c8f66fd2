"""``python -m rag search QUERY [-k K] [--mode MODE] [--label L] [--json]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from application.queries import search
from application.wire import hit_json
from rag.config import Settings
from rag.store.index import open_index

SNIPPET = 160  # characters of each hit's passage printed


def register(sub: Any) -> None:
    parser = sub.add_parser("search", help="ranked passages for a query")
    parser.add_argument("query")
    parser.add_argument("-k", type=int, default=None, help="number of hits (RAG_TOP_K)")
    parser.add_argument("--mode", default=None, help="dense | bm25 | hybrid [+mmr] [+rerank]")
    parser.add_argument("--label", default=None, help="only documents so labelled (classify)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    # the contract is checked on open, before the model loads; the search is the app's and
    # the servers' (application.queries)
    index = open_index(settings, writing=False)
    hits = search(index, args.query, k=args.k, mode=args.mode, label=args.label)
    if args.json:
        print(json.dumps([hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("No results. Is anything ingested? Try: python -m ingest data/")
        return 0
    for rank, hit in enumerate(hits, start=1):
        place = f" {hit.place(short=True)}" if hit.place() else ""
        print(f"{rank:>2}. {hit.score:.3f}  {Path(hit.source).name}{place}")
        print(f"    {hit.snippet(SNIPPET)}")
    return 0
