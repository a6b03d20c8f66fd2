"""Retrieval evaluation on a BEIR-format folder: load it, index it, run every query, score.

The corpus goes into its own collection (``eval-<dataset>[-l<limit>]-<model>``) under
``RAG_STORE_DIR``, one chunk per document (``title + " " + text``, as MTEB embeds it;
the model truncates at its ``max_seq_length``), with the BEIR doc ids as chunk ids. It is
incremental: documents already stored with the same text are not embedded again. This
path uses the store and the embedder directly, not the file ingestion pipeline, because
a BEIR corpus is a list of records, not files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rag import bm25
from rag.components import index_contract
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import ConfigError
from rag.metrics import evaluate, percentile
from rag.reduction import ReducedEmbedder, fit_pca, needs_fit, projection_id
from rag.retriever import Retriever
from rag.store import Store
from rag.types import Hit

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

EMBED_BATCH = 256
DEPTH = 100  # documents retrieved per query: recall@100 needs them


@dataclass(frozen=True)
class Dataset:
    name: str
    corpus: dict[str, str]  # doc id -> title + " " + text
    queries: dict[str, str]  # query id -> text (only queries with judgements)
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path, *, limit: int | None = None, split: str = "test") -> Dataset:
    """A BEIR folder; with ``limit``, its first N documents and the queries judged on them."""
    paths = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(
            f"{folder} is not a BEIR folder: {', '.join(missing)} missing. Point --beir at a "
            "folder holding corpus.jsonl, queries.jsonl and qrels/test.tsv."
        )
    corpus: dict[str, str] = {}
    with paths[0].open(encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(corpus) >= limit:
                break
            if line.strip():
                doc = json.loads(line)
                corpus[str(doc["_id"])] = document_text(doc.get("title", ""), doc.get("text", ""))
    qrels: dict[str, dict[str, int]] = {}
    with paths[2].open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        for row in rows:
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # the header, or a blank line
            query, doc, grade = row[0], row[1], int(row[2])
            if doc in corpus:
                qrels.setdefault(query, {})[doc] = grade
    qrels = {q: judged for q, judged in qrels.items() if any(g > 0 for g in judged.values())}
    queries: dict[str, str] = {}
    with paths[1].open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                if str(record["_id"]) in qrels:
                    queries[str(record["_id"])] = record["text"]
    qrels = {q: judged for q, judged in qrels.items() if q in queries}
    return Dataset(name=folder.resolve().name, corpus=corpus, queries=queries, qrels=qrels)


def document_text(title: str, text: str) -> str:
    """MTEB's document string: ``title + " " + text``, stripped."""
    return f"{title} {text}".strip() if title else text.strip()


def eval_settings(settings: Settings, dataset: Dataset, *, limit: int | None) -> Settings:
    """The settings of the dataset's own collection, next to the user's."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(settings.embed_model).name)
    part = f"-l{limit}" if limit is not None else ""
    part += f"-d{settings.embed_dim}" if settings.embed_dim else ""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"eval-{dataset.name}{part}-{slug}")[:200]
    return replace(settings, collection=name.strip("-._") or "eval")


def index_corpus(
    dataset: Dataset,
    *,
    settings: Settings,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
) -> Store:
    """Embed the documents not yet stored (or changed) and drop the ones not in the corpus."""
    settings = replace(settings, chunk_size=embedder.max_tokens, chunk_overlap=0)
    store = Store(path=settings.chroma_dir, collection=settings.collection)
    store.open(index_contract(settings, dimension=embedder.dimension), writing=True)
    stored = {i: str(m.get("sha", "")) for i, m in store.metadata_by_id().items()}
    hashes = {i: _sha(text) for i, text in dataset.corpus.items()}
    todo = [i for i, h in hashes.items() if stored.get(i) != h]
    stale = [i for i in stored if i not in hashes]
    store.delete(stale)
    started = time.perf_counter()
    # a PCA still to be fitted (RAG_EMBED_DIM) sees the whole corpus in one call
    step = len(todo) if needs_fit(embedder) else EMBED_BATCH
    for start in range(0, len(todo), max(step, 1)):
        ids = todo[start : start + step]
        texts = [dataset.corpus[i] for i in ids]
        store.upsert(
            ids=ids,
            vectors=embedder.embed_documents(texts),
            texts=texts,
            metadatas=[{"source": i, "page": 0, "sha": hashes[i]} for i in ids],
        )
        if progress:
            progress(start + len(ids), len(todo))
    if projection := projection_id(embedder):
        store.open(index_contract(settings, projection=projection), writing=True)
    if todo:
        log.info("embedded %d documents in %.1f s", len(todo), time.perf_counter() - started)
    bm25.sync(store, settings.bm25_dir, changed=bool(todo or stale))
    return store


def run_queries(
    dataset: Dataset,
    *,
    retriever: Retriever,
    mode: str,
    depth: int = DEPTH,
    label: str | None = None,
) -> tuple[dict[str, list[str]], list[float]]:
    """Ranked doc ids per query and the latency of each query in milliseconds."""
    run: dict[str, list[str]] = {}
    latencies: list[float] = []
    for query_id, text in dataset.queries.items():
        started = time.perf_counter()
        hits = retriever.retrieve(text, k=depth, mode=mode, label=label)
        latencies.append((time.perf_counter() - started) * 1000)
        run[query_id] = [h.chunk_id for h in hits]
    return run, latencies


def score(
    dataset: Dataset, run: dict[str, list[str]], latencies: list[float], *, mode: str, k: int
) -> dict[str, object]:
    """The ``--json`` object: metrics rounded to 5 places, latency percentiles in ms."""
    metrics = evaluate(dataset.qrels, run, k=k)
    result: dict[str, object] = {"mode": mode}
    result.update({name: round(value, 5) for name, value in metrics.items()})
    result["latency_ms"] = {
        "p50": round(percentile(latencies, 50), 2),
        "p95": round(percentile(latencies, 95), 2),
    }
    result["queries"] = len(dataset.queries)
    result["documents"] = len(dataset.corpus)
    return result


def restrict_to_label(dataset: Dataset, store: Store, label: str) -> Dataset:
    """The part of ``dataset`` inside one label (``rag classify``): its documents, the
    judgements on them, and the queries that still have a relevant document."""
    allowed = store.ids_with_label(label)
    if not allowed:
        known = ", ".join(store.labels()) or "none yet"
        raise ConfigError(
            f"No document of collection '{store.name}' has the label {label!r} (labels: "
            f"{known}). Label it first: RAG_COLLECTION={store.name} python -m rag classify "
            "LABELS.toml"
        )
    qrels = {
        q: {d: g for d, g in judged.items() if d in allowed} for q, judged in dataset.qrels.items()
    }
    qrels = {q: judged for q, judged in qrels.items() if any(g > 0 for g in judged.values())}
    return Dataset(
        name=dataset.name,
        corpus={d: t for d, t in dataset.corpus.items() if d in allowed},
        queries={q: t for q, t in dataset.queries.items() if q in qrels},
        qrels=qrels,
    )


FLOAT32_BYTES = 4  # Chroma stores each dimension as a float32


def dimension_tradeoff(
    dataset: Dataset,
    *,
    settings: Settings,
    embedder: Embedder,
    dims: list[int],
    modes: list[str],
    k: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, object]]:
    """Quality against storage: for each size in ``dims``, the corpus's vectors PCA-reduced
    exactly as ``RAG_EMBED_DIM`` does (fitted on this corpus) and every query run through
    the reduced embedder; the model's own size is the baseline (no projection). The corpus
    is embedded once; each size is written to a Chroma store of its own, so that its size
    on disk can be measured."""
    full = index_corpus(dataset, settings=settings, embedder=embedder, progress=progress)
    hits, vectors = full.all_vectors()
    rows: list[dict[str, object]] = []
    for dim in dims:
        dim = min(dim, embedder.dimension)
        retriever, kept, disk = _sized_retriever(hits, vectors, dim, settings, embedder)
        row: dict[str, object] = {
            "dims": dim,
            "bytes_per_vector": dim * FLOAT32_BYTES,
            "disk_bytes_per_chunk": round(disk / max(len(hits), 1)),
            "variance_kept": round(kept, 4),
        }
        for mode in modes:
            run, latencies = run_queries(dataset, retriever=retriever, mode=mode)
            row[mode] = score(dataset, run, latencies, mode=mode, k=k)
        rows.append(row)
    return rows


def _sized_retriever(
    hits: list[Hit], vectors: Vectors, dim: int, settings: Settings, embedder: Embedder
) -> tuple[Retriever, float, int]:
    """The corpus at ``dim`` dims in its own store (rewritten only when the PCA changed),
    a retriever over it, the variance kept and the store's bytes on disk."""
    reduce = dim < embedder.dimension
    projection = fit_pca(vectors, dim) if reduce else None
    name = f"{settings.collection[:190]}-{dim}"
    sized = replace(
        settings,
        store_dir=settings.store_dir / "dims" / name,
        collection=name,
        embed_dim=dim if reduce else None,
    )
    store = Store(path=sized.chroma_dir, collection=sized.collection)
    current = store.contract()
    wanted_id = projection.id if projection else ""
    fresh = current is None or current.projection != wanted_id or store.count() != len(hits)
    if fresh:
        store.drop()
        if projection:
            projection.save(sized.projection_path)
        store.open(index_contract(sized, dimension=dim, projection=wanted_id), writing=True)
        store.upsert(
            ids=[h.chunk_id for h in hits],
            vectors=projection.apply(vectors) if projection else vectors,
            texts=[h.text for h in hits],
            metadatas=[{"source": h.source, "page": h.page} for h in hits],
        )
    bm25.sync(store, sized.bm25_dir, changed=fresh)
    disk = sum(f.stat().st_size for f in sized.chroma_dir.rglob("*") if f.is_file())
    if projection is None:
        return Retriever(embedder=embedder, store=store, settings=sized), 1.0, disk
    reduced = ReducedEmbedder(embedder, dim=dim, path=sized.projection_path)
    retriever = Retriever(embedder=reduced, store=store, settings=sized)
    return retriever, projection.variance_kept, disk


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
