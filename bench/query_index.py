"""Build the index `bench/query.py` measures, in a child process of its own, through the
project's write path: real chunk texts through ``Ingestor.run_records`` (the writer, Chroma
upserts, the manifest, the BM25 sync), their vectors precomputed (``query_corpus``); at
``SYNTHETIC_FROM`` chunks and above, random unit vectors without texts via ``Store.upsert``."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from query_corpus import Corpus, interpolation_check

from rag.config import Settings
from rag.store.index import load_model, open_index

SYNTHETIC_FROM = 1_000_000  # this size and above: random vectors, no texts
CHECKED = 200  # windows embedded for real to check the interpolation


def peak_rss_mb() -> float:
    """This process's own peak resident set: VmHWM of its memory map. Not ``ru_maxrss``:
    Linux carries the parent's peak into a child across fork and exec, so a child's
    ``getrusage(RUSAGE_SELF)`` (and ``wait4``) reports at least its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def settings_for(store_dir: Path) -> Settings:
    return Settings.from_env().replace(store_dir=store_dir, chroma_url=None)


def build(size: int, store_dir: Path, data: Path, *, embedded: int) -> dict[str, Any]:
    """Child: write ``size`` chunks into a new index at ``store_dir``."""
    from ingest.corpus import Precomputed
    from ingest.pipeline import Ingestor, Record

    settings = settings_for(store_dir)
    model = load_model(settings.embedding)
    started = time.perf_counter()
    if size >= SYNTHETIC_FROM:
        index = open_index(settings, writing=True, model=model)
        index.embedder  # noqa: B018 - records the model's dimension in the contract
        rng = np.random.default_rng(0)
        step = index.store.max_batch
        for start in range(0, size, step):
            n = min(step, size - start)
            batch = rng.standard_normal((n, model.dimension)).astype(np.float32)
            batch /= np.linalg.norm(batch, axis=1, keepdims=True)
            index.store.upsert(
                ids=[f"s{i}" for i in range(start, start + n)],
                vectors=batch,
                texts=[""] * n,
                metadatas=[
                    {"source": f"synthetic/{i}", "page": 0} for i in range(start, n + start)
                ],
            )
            if (start + n) % 50_000 < step:
                print(f"progress: {start + n:,} of {size:,} vectors written", file=sys.stderr)
        index.close()
        return {
            "size": size,
            "build_s": round(time.perf_counter() - started, 1),
            "build_peak_rss_mb": round(peak_rss_mb()),
            "vectors": "synthetic",
        }
    corpus = Corpus(data=data, settings=settings, model=model, embedded=embedded)
    pieces, vectors = corpus.take(size)
    known = Precomputed(model, {p.text: v for p, v in zip(pieces, vectors, strict=True)})
    # one record per text (the chunker's start offsets are not always unique in a document)
    records = [Record(id=f"{p.source}#{n}", text=p.text) for n, p in enumerate(pieces)]
    started = time.perf_counter()
    with open_index(settings, writing=True, model=known) as index:
        report = Ingestor(index).run_records(records)
        stored = index.store.count()
    windows = sum(1 for p in pieces if p.window)
    return {
        "size": size,
        "build_s": round(time.perf_counter() - started, 1),
        "build_peak_rss_mb": round(peak_rss_mb()),
        "chunks_stored": stored,
        "failed": len(report.errors),
        "vectors": "embedded" if not windows else "embedded + interpolated",
        "chunks": len(pieces) - windows,
        "windows": windows,
        "documents_covered": len({p.source for p in pieces}),
        "window_budgets": sorted({p.window for p in pieces if p.window}, reverse=True),
        "mean_chars": round(float(np.mean([len(p.text) for p in pieces]))),
        **corpus.describe,
        "interpolation_check": interpolation_check(corpus, pieces, vectors, CHECKED),
    }
