"""``python -m rag stats [--json]``: what the index holds and how it was built."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rag.config import Settings
from rag.cpu import this_cpu
from rag.embedding.models import expected_identity, precision_in_use
from rag.store.index import open_index


def register(sub: Any) -> None:
    parser = sub.add_parser("stats", help="what the index holds")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    with open_index(settings, writing=False) as index:
        contract = index.contract()
        embedding = settings.embedding
        built = contract or expected_identity(embedding)  # the settings' before any ingest
        reduction = "none"
        if contract and contract.reduction:
            reduction = f"pca {contract.projection or '(not fitted)'}"
        stats = {
            "documents": index.manifest.count(),
            "chunks": index.store.count(),
            "embedding_model": contract.embedding_model if contract else embedding.embed_model,
            "dimension": contract.dimension if contract else 0,
            "provider": contract.provider if contract else embedding.embed_provider,
            "reduction": reduction,
            # the prefixes the collection was built with (else the settings'), as embedded:
            # "query: " / "passage: " for multilingual-e5-small, none for MiniLM
            "query_prefix": built.query_prefix,
            "document_prefix": built.document_prefix,
            "embed_precision": precision_in_use(embedding),
            "cpu": cpu_line(),
            "collection": settings.store.collection,
            "store": str(settings.store.store_dir),
        }
        if settings.store.chroma_url:
            stats["server"] = settings.store.chroma_url
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            # a prefix's trailing space is part of it: shown quoted
            shown = repr(value) if key.endswith("_prefix") else value
            print(f"{key:>16}: {shown}")
    return 0


def cpu_line() -> str:
    cpu = this_cpu()
    return f"{cpu.model}, {cpu.cores} cores, {'native' if cpu.native_bf16 else 'no native'} bf16"
