"""Retrieval latency and memory at 10k, 100k and 1M chunks.

    python bench/query.py [--json] [--sizes 10000,100000,1000000] [--timeout-s 1500]

Each size runs in a child process (so its peak memory is its own): the index is built
with the app's Store (Chroma, cosine HNSW, batched upserts), then each of SciFact's 300
test queries is embedded and searched (top 5) as `rag search` does, and the latencies of
embedding + search are summarised as p50/p95.

- 10k:  REAL vectors: SciFact abstracts cut into passages of two sentences, embedded
        with the app's embedder (cached after the first run).
- 100k, 1M: RANDOM unit vectors (synthetic): a stand-in for corpora we do not have;
        HNSW search cost depends on the count and dimension, not on where vectors come from.

Memory: peak RSS of the child minus its RSS before the index was built, scaled to one
million chunks (from the largest size measured).

Hybrid mode (BM25 + dense fusion) is built by another change; once `rag.retriever` offers
it, add it to MODES below: it needs the chunk texts, so measure it on the 10k real set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.config import Settings  # noqa: E402
from rag.index import load_model, open_index  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact"
REAL_SIZE = 10_000
MODES = ("dense",)  # extension point: add "hybrid" once rag.retriever has it
K = 5


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def real_passages(n: int) -> list[str]:
    passages: list[str] = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            sentences = re.split(r"(?<=[.!?])\s+", json.loads(line)["text"])
            for i in range(0, len(sentences), 2):
                passage = " ".join(sentences[i : i + 2]).strip()
                if passage:
                    passages.append(passage)
                if len(passages) == n:
                    return passages
    raise SystemExit(f"SciFact has fewer than {n} passages")


def real_vectors(settings: Settings, embedder: object, n: int) -> tuple[np.ndarray, list[str]]:
    texts = real_passages(n)
    cache = settings.embedding.cache_dir / f"bench-scifact-passages-{n}.npy"
    if cache.is_file():
        return np.load(cache), texts
    vectors = embedder.embed_documents(texts)  # type: ignore[attr-defined]
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors, texts


def worker(size: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="rag-bench-query-") as tmp:
        settings = Settings.from_env().replace(store_dir=Path(tmp), chroma_url=None)
        embedder = load_model(settings.embedding)
        real = size <= REAL_SIZE
        vectors, texts = real_vectors(settings, embedder, size) if real else (None, None)
        before = rss_mb()
        index = open_index(settings, writing=True, model=embedder)
        store = index.store
        index.embedder  # noqa: B018 - records the model's dimension in the contract
        rng = np.random.default_rng(0)
        step = store.max_batch
        started = time.perf_counter()
        for start in range(0, size, step):
            n = min(step, size - start)
            if vectors is not None and texts is not None:
                batch, docs = vectors[start : start + n], texts[start : start + n]
            else:
                batch = rng.standard_normal((n, embedder.dimension)).astype(np.float32)
                batch /= np.linalg.norm(batch, axis=1, keepdims=True)
                docs = [""] * n
            store.upsert(
                ids=[f"c{i}" for i in range(start, start + n)],
                vectors=batch,
                texts=docs,
                metadatas=[{"source": "bench", "page": 0}] * n,
            )
        build_s = time.perf_counter() - started
        queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()]
        for q in queries[:10]:  # warm-up: caches, lazy index load
            store.query(embedder.embed_query(q), k=K)
        latencies = []
        for q in queries:
            t0 = time.perf_counter()
            hits = store.query(embedder.embed_query(q), k=K)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert len(hits) == K
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "size": size,
            "vectors": "real" if real else "random",
            "backend": embedder.backend,
            "build_s": round(build_s, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)), 2),
            "p95_ms": round(float(np.percentile(latencies, 95)), 2),
            "rss_before_mb": round(before, 1),
            "rss_peak_mb": round(peak, 1),
            "queries": len(latencies),
        }


def memory_per_million(rows: list[dict[str, object]]) -> float | None:
    """Growth of peak RSS per million chunks: the slope between the two largest random-vector
    sizes when there are two (fixed costs cancel), else peak minus start at the largest
    size (an upper bound: it includes Chroma's fixed overhead)."""
    grown = sorted(
        (
            (int(str(r["size"])), float(str(r["rss_peak_mb"])) - float(str(r["rss_before_mb"])))
            for r in rows
        ),
    )
    randoms = [
        g
        for g, r in zip(grown, sorted(rows, key=lambda r: int(str(r["size"]))), strict=True)
        if r["vectors"] == "random"
    ]
    if len(randoms) >= 2:
        (n1, m1), (n2, m2) = randoms[-2:]
        return round((m2 - m1) / (n2 - n1) * 1e6)
    if grown:
        n, m = grown[-1]
        return round(m / n * 1e6)
    return None


def run_child(size: int, timeout_s: float) -> dict[str, object]:
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(size)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"size": size, "error": f"not finished in {timeout_s:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"size": size, "error": exc.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--timeout-s", type=float, default=1500, help="per size")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker)))
        return 0
    rows = [run_child(int(s), args.timeout_s) for s in args.sizes.split(",")]
    done = [r for r in rows if "error" not in r]
    per_million = memory_per_million(done)
    result = {
        "p50_ms": {str(r["size"]): r["p50_ms"] for r in done},
        "p95_ms": {str(r["size"]): r["p95_ms"] for r in done},
        "rss_mb_per_million": per_million,
        "modes": list(MODES),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'chunks':>9} {'vectors':>8} {'build s':>9} {'p50 ms':>8} {'p95 ms':>8} {'peak MB':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['size']:>9} {'':>8} {r['error']}")
            continue
        print(
            f"{r['size']:>9} {r['vectors']:>8} {r['build_s']:>9} {r['p50_ms']:>8} "
            f"{r['p95_ms']:>8} {r['rss_peak_mb']:>9}"
        )
    print(f"memory: {per_million} MB per million chunks (from the largest size measured)")
    print("mode: dense (query embedding + HNSW search, top 5); hybrid: not built yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
