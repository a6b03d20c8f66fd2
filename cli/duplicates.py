"""``python -m rag duplicates [--threshold 0.95] [--json]``: near-copies across files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.analytics.duplicates import DEFAULT_THRESHOLD, near_duplicates
from rag.config import Settings
from rag.errors import ConfigError
from rag.store.index import open_index


def register(sub: Any) -> None:
    parser = sub.add_parser("duplicates", help="near-identical chunks in different files")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"minimum cosine similarity (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_duplicates)


def cmd_duplicates(args: argparse.Namespace, settings: Settings) -> int:
    if not -1.0 <= args.threshold <= 1.0:
        raise ConfigError(
            f"--threshold is {args.threshold}; a cosine similarity lies in -1..1 "
            f"(try {DEFAULT_THRESHOLD})."
        )
    hits, vectors = open_index(settings, writing=False).store.all_vectors()
    pairs = near_duplicates(hits, vectors, threshold=args.threshold)
    if args.json:
        print(json.dumps({"pairs": [p.as_dict() for p in pairs]}, ensure_ascii=False, indent=2))
        return 0
    if not pairs:
        print(
            f"No chunks from different files with cosine >= {args.threshold} "
            f"among {len(hits)} chunks."
        )
        return 0
    for pair in pairs:
        a, b = pair.a, pair.b
        print(
            f"{pair.score:.3f}  {Path(a.source).name} p.{a.page}  ~  "
            f"{Path(b.source).name} p.{b.page}"
        )
        print(f"       {' '.join(a.text.split())[:150]}")
    print(f"{len(pairs)} pair(s) among {len(hits)} chunks")
    return 0
