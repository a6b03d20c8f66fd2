"""Encoding throughput of the app's embedder on SciFact's abstracts (documents/s).

    python bench/encode.py [--json] [--limit N] [--batch-size B]

Uses RAG_DEVICE and RAG_EMBED_BACKEND as the app does: on a GPU machine (RAG_DEVICE=auto
finds CUDA) it reports the fp16/fp32 choice; on the CPU the backend auto picked. Each
abstract is one input (title + text, truncated at the model's 256 tokens), as in the
reference figure of about 2,800 documents/s for plain sentence-transformers on an H200.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.config import Settings  # noqa: E402
from rag.index import load_model  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact" / "corpus.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the app's")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    with SCIFACT.open(encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    texts = [f"{d['title']}\n\n{d['text']}" for d in docs[: args.limit]]
    started = time.perf_counter()
    embedder = load_model(settings.replace(chroma_url=None).embedding)
    load_s = time.perf_counter() - started
    if args.batch_size:
        embedder.batch_size = args.batch_size
    embedder.embed_documents(texts[:64])  # warm-up
    started = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    seconds = time.perf_counter() - started
    result = {
        "documents": len(texts),
        "docs_per_s": round(len(texts) / seconds, 1),
        "seconds": round(seconds, 2),
        "device": embedder.device,
        "backend": embedder.backend,
        "precision": embedder.precision,
        "batch_size": embedder.batch_size,
        "model_load_s": round(load_s, 2),
        "dimension": int(vectors.shape[1]),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['documents']} abstracts in {seconds:.1f} s: {result['docs_per_s']} docs/s "
            f"({embedder.device}, {embedder.backend}, {embedder.precision}, "
            f"batch {embedder.batch_size})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
