"""Encoding throughput of the app's embedder on SciFact's abstracts, against the baseline a
user would write (plain sentence-transformers on torch), in one process.

    python bench/encode.py [--limit N] [--rounds R] [--batch-size B]

Configurations, each loaded as the app loads it (``rag.store.index.load_model``) and timed in
interleaved rounds (best round kept, so a busy moment of a shared machine falls on all):

- ``torch``: RAG_EMBED_BACKEND=torch, the baseline;
- ``openvino f32``: the default backend, RAG_EMBED_PRECISION=f32;
- ``openvino bf16``: RAG_EMBED_PRECISION=bf16, only where the CPU has native bf16;
- on a machine where torch finds CUDA: ``cuda`` (RAG_DEVICE=auto, fp16 where it keeps the
  probes within cosine 0.999).

Each abstract is one input (title and text, truncated at the model's 256 tokens). Reports
documents/s, the ratio to torch, and the smallest cosine of each configuration's vectors to
torch's. Writes bench/results/encode.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from bench.provenance import write_result  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.cpu import this_cpu  # noqa: E402
from rag.embedding.types import Embedder  # noqa: E402
from rag.store.index import load_model  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact" / "corpus.jsonl"


def configurations() -> dict[str, dict[str, str]]:
    configs = {
        "torch": {"RAG_EMBED_BACKEND": "torch", "RAG_DEVICE": "cpu"},
        "openvino f32": {"RAG_EMBED_PRECISION": "f32", "RAG_DEVICE": "cpu"},
    }
    if this_cpu().native_bf16:
        configs["openvino bf16"] = {"RAG_EMBED_PRECISION": "bf16", "RAG_DEVICE": "cpu"}
    import torch

    if torch.cuda.is_available():
        configs["cuda"] = {"RAG_DEVICE": "auto"}
    return configs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1000, help="first N abstracts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the app's")
    args = parser.parse_args(argv)
    with SCIFACT.open(encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    texts = [f"{d['title']}\n\n{d['text']}" for d in docs[: args.limit]]
    models: dict[str, Embedder] = {}
    rows: dict[str, dict[str, Any]] = {}
    for name, env in configurations().items():
        started = time.perf_counter()
        model = load_model(Settings.from_env({**os.environ, **env}).embedding)
        load_s = time.perf_counter() - started
        if args.batch_size:
            model.batch_size = args.batch_size  # type: ignore[attr-defined]
        model.embed_documents(texts[:64])  # warm-up: compiles and allocates
        models[name] = model
        rows[name] = {
            "device": getattr(model, "device", "cpu"),
            "backend": getattr(model, "backend", "?"),
            "precision": getattr(model, "precision", "?"),
            "batch_size": getattr(model, "batch_size", None),
            "model_load_s": round(load_s, 2),
            "seconds": [],
        }
    vectors: dict[str, np.ndarray[Any, Any]] = {}
    for _ in range(args.rounds):
        for name, model in models.items():
            started = time.perf_counter()
            vectors[name] = model.embed_documents(texts)
            rows[name]["seconds"].append(round(time.perf_counter() - started, 2))
    base = min(rows["torch"]["seconds"])
    for name, row in rows.items():
        best = min(row["seconds"])
        row["docs_per_s"] = round(len(texts) / best, 1)
        row["speed_vs_torch"] = round(base / best, 2)
        row["min_cosine_to_torch"] = round(
            float(np.min(np.sum(vectors[name] * vectors["torch"], axis=1))), 6
        )
    result = {"documents": len(texts), "rounds": args.rounds, "configurations": rows}
    path = write_result("encode", result)
    for name, row in rows.items():
        print(
            f"{name:<14} {row['docs_per_s']:>7} docs/s  {row['speed_vs_torch']:>5}x torch  "
            f"min cosine {row['min_cosine_to_torch']}  ({row['precision']})"
        )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
