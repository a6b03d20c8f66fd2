"""Ingestion throughput: our pipeline against a tutorial-style baseline, in one process.

    python bench/ingest.py [--json] [--limit N] [--skip-naive]

The corpus: SciFact's 5,183 abstracts (../shared/data/beir/scifact, one .txt file each,
title and abstract) plus the PDFs in data/. Both pipelines use the same model, loaded
before the clock starts, and the same chunks (our loaders and chunker):

- ours:  ingest.pipeline.Ingestor (prefetch thread, cross-file length-sorted embedding,
         the fastest correct RAG_EMBED_BACKEND, batched writes) into a fresh store;
- naive: the way tutorials do it: files in arrival order, sentence-transformers
         ``encode`` on every 32 chunks, Chroma ``add`` per batch.

Then the unchanged corpus is ingested again by a fresh Ingestor whose model would load
lazily, and the speed-up over the first ingest is reported.

The baseline imports sentence_transformers and chromadb itself on purpose: it is the
thing we compare against, not part of the app.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ingest.chunking import Chunker  # noqa: E402
from ingest.loaders import load  # noqa: E402
from ingest.pipeline import Ingestor, discover  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embeddings import SentenceTransformerEmbedder, bundled_model_path  # noqa: E402
from rag.index import load_model, open_index  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact" / "corpus.jsonl"
NAIVE_BATCH = 32


def write_corpus(target: Path, *, limit: int | None) -> Path:
    """SciFact abstracts as .txt files, plus the PDFs in data/."""
    target.mkdir(parents=True, exist_ok=True)
    with SCIFACT.open(encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                break
            doc = json.loads(line)
            text = f"{doc['title']}\n\n{doc['text']}\n"
            (target / f"scifact-{doc['_id']}.txt").write_text(text, encoding="utf-8")
    for pdf in sorted((ROOT / "data").glob("*.pdf")):
        (target / pdf.name).write_bytes(pdf.read_bytes())
    return target


def run_ours(settings: Settings, corpus: Path, embedder: SentenceTransformerEmbedder) -> dict:
    started = time.perf_counter()
    with open_index(settings, writing=True, model=embedder) as index:
        report = Ingestor(index).run([corpus])
    seconds = time.perf_counter() - started
    assert not report.errors, report.errors
    return {"chunks": report.chunks_written, "seconds": seconds, "files": len(report.added)}


def run_reingest(settings: Settings, corpus: Path) -> dict:
    """A fresh Ingestor, as a new `python -m ingest` would build; its model loads lazily."""
    loads = []

    def factory() -> SentenceTransformerEmbedder:
        loads.append(1)
        return load_model(settings.embedding)

    started = time.perf_counter()
    with open_index(settings, writing=True, model=factory) as index:
        report = Ingestor(index).run([corpus])
    seconds = time.perf_counter() - started
    assert report.chunks_written == 0 and not report.added and not report.updated, report
    return {"seconds": seconds, "unchanged": len(report.unchanged), "model_loads": len(loads)}


def run_naive(settings: Settings, corpus: Path, counter: SentenceTransformerEmbedder) -> dict:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(bundled_model_path()), device="cpu", local_files_only=True)
    client = chromadb.PersistentClient(
        path=str(settings.store.store_dir / "naive"),
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    collection = client.create_collection("naive", configuration={"hnsw": {"space": "cosine"}})
    chunker = Chunker(
        counter, chunk_size=settings.ingest.chunk_size, chunk_overlap=settings.ingest.chunk_overlap
    )
    files, _, _ = discover([corpus])
    buffer: list[tuple[str, str, dict[str, str | int]]] = []
    total = 0

    def flush() -> None:
        nonlocal total
        if not buffer:
            return
        vectors = model.encode(
            [text for _, text, _ in buffer], batch_size=NAIVE_BATCH, normalize_embeddings=True
        )
        collection.add(
            ids=[i for i, _, _ in buffer],
            embeddings=vectors,
            documents=[text for _, text, _ in buffer],
            metadatas=[m for _, _, m in buffer],
        )
        total += len(buffer)
        buffer.clear()

    started = time.perf_counter()
    for path in files:
        document = load(path)
        chunks = chunker.split(document.pages, source=str(path), markdown=False)
        for c in chunks:
            chunk_key = f"{c.source}:{c.page}:{c.start_index}:{c.chunk_index}"
            buffer.append((chunk_key, c.text, {"source": c.source, "page": c.page}))
            if len(buffer) == NAIVE_BATCH:
                flush()
    flush()
    seconds = time.perf_counter() - started
    return {"chunks": total, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limit", type=int, default=None, help="only the first N abstracts")
    parser.add_argument("--skip-naive", action="store_true", help="time only our pipeline")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        base = Settings.from_env()
        settings = base.replace(store_dir=Path(tmp) / "store", chroma_url=None)
        corpus = write_corpus(Path(tmp) / "corpus", limit=args.limit)
        started = time.perf_counter()
        embedder = load_model(settings.embedding)
        load_seconds = time.perf_counter() - started

        naive = None if args.skip_naive else run_naive(settings, corpus, embedder)
        ours = run_ours(settings, corpus, embedder)
        again = run_reingest(settings, corpus)

    if naive is not None and naive["chunks"] != ours["chunks"]:
        print(f"warning: chunk counts differ: naive {naive['chunks']}, ours {ours['chunks']}")
    ours_rate = ours["chunks"] / ours["seconds"]
    naive_rate = naive["chunks"] / naive["seconds"] if naive else None
    result = {
        "chunks": ours["chunks"],
        "files": ours["files"],
        "backend": embedder.backend,
        "model_load_s": round(load_seconds, 2),
        "ours_s": round(ours["seconds"], 2),
        "ours_chunks_per_s": round(ours_rate, 1),
        "naive_s": round(naive["seconds"], 2) if naive else None,
        "naive_chunks_per_s": round(naive_rate, 1) if naive_rate else None,
        "ratio_vs_naive": round(ours_rate / naive_rate, 2) if naive_rate else None,
        "reingest_s": round(again["seconds"], 3),
        "reingest_speedup": round(ours["seconds"] / again["seconds"], 1),
        "reingest_model_loads": again["model_loads"],
        "nproc": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"corpus: {result['files']} files, {result['chunks']} chunks", end="")
    print(f"; backend {result['backend']}")
    print(f"{'pipeline':<28}{'seconds':>10}{'chunks/s':>12}")
    if naive:
        print(f"{'naive (encode b32, add)':<28}{naive['seconds']:>10.1f}{naive_rate:>12.1f}")
    print(f"{'ours':<28}{ours['seconds']:>10.1f}{ours_rate:>12.1f}")
    if naive_rate:
        print(f"ratio ours / naive: {result['ratio_vs_naive']:.2f}x")
    print(
        f"re-ingest unchanged corpus: {again['seconds']:.2f} s "
        f"({result['reingest_speedup']:.0f}x faster than the first ingest; "
        f"model loaded {again['model_loads']} times)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
