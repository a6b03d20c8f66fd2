"""``python -m rag classify LABELS.toml [--dry-run] [--json]``: label each document."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.analytics.classify import classify, document_vectors, load_labels
from rag.config import Settings
from rag.errors import StoreError
from rag.store.index import open_index


def register(sub: Any) -> None:
    parser = sub.add_parser("classify", help="label each document from a TOML labels file")
    parser.add_argument("labels", type=Path, help="TOML: [labels.NAME] description / examples")
    parser.add_argument("--dry-run", action="store_true", help="show the labels, store nothing")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_classify)


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    labels = load_labels(args.labels)
    index = open_index(settings, writing=False)
    store = index.store
    hits, vectors = store.all_vectors()
    if not hits:
        raise StoreError(
            f"Collection '{settings.store.collection}' holds no chunks to classify. "
            "Ingest documents first: python -m ingest data/"
        )
    sources, doc_vectors = document_vectors(hits, vectors)
    assignments, method = classify(labels, sources, doc_vectors, embedder=index.embedder)
    if not args.dry_run:
        by_source = {a.source: a.label for a in assignments}
        store.set_labels({h.chunk_id: by_source[h.source] for h in hits})
    if args.json:
        result = {
            "method": method,
            "stored": not args.dry_run,
            "documents": [a.as_dict() for a in assignments],
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    for a in assignments:
        print(f"{a.label:<20} {a.score:.3f}  {Path(a.source).name}")
    stored = "not stored (--dry-run)" if args.dry_run else "stored as the 'label' metadata"
    print(f"{len(assignments)} documents, {method}; {stored}. Filter: rag search --label NAME")
    return 0
