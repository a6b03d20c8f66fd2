"""``python -m rag topics [--k K] [--png FILE] [--json]``: the topic map of the chunks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.analytics.topics import build_topic_map
from rag.config import Settings
from rag.store.index import open_index


def register(sub: Any) -> None:
    parser = sub.add_parser("topics", help="cluster the chunks into labelled topics")
    parser.add_argument("--k", type=int, default=None, help="number of topics (default: best)")
    parser.add_argument("--terms", type=int, default=5, help="distinctive terms per topic")
    parser.add_argument("--png", type=Path, default=None, help="write the 2-D map here")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_topics)


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    hits, vectors = open_index(settings, writing=False).store.all_vectors()
    topic_map = build_topic_map(hits, vectors, k=args.k, terms=args.terms)
    if args.png is not None:
        from ui.topic_map import save_png

        save_png(topic_map, args.png, title=f"Topics in '{settings.store.collection}'")
    if args.json:
        result: dict[str, object] = {"clusters": [c.as_dict() for c in topic_map.clusters]}
        if topic_map.silhouette is not None:
            result["silhouette"] = round(topic_map.silhouette, 4)
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    score = f", silhouette {topic_map.silhouette:.3f}" if topic_map.silhouette is not None else ""
    print(f"{len(topic_map.clusters)} topics over {len(hits)} chunks{score}")
    for i, cluster in enumerate(topic_map.clusters, start=1):
        names = ", ".join(Path(s).name for s in cluster.sources[:5])
        more = f" +{len(cluster.sources) - 5}" if len(cluster.sources) > 5 else ""
        print(f"{i:>2}. {cluster.label}  ({cluster.size} chunks)")
        print(f"    terms: {', '.join(cluster.top_terms)}")
        print(f"    files: {names}{more}")
    if args.png is not None:
        print(f"map: {args.png}")
    return 0
