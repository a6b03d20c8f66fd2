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

from rag import bm25
from rag.components import index_contract
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import ConfigError
from rag.metrics import evaluate, percentile
from rag.retriever import Retriever
from rag.store import Store

log = logging.getLogger(__name__)

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
    for start in range(0, len(todo), EMBED_BATCH):
        ids = todo[start : start + EMBED_BATCH]
        texts = [dataset.corpus[i] for i in ids]
        store.upsert(
            ids=ids,
            vectors=embedder.embed_documents(texts),
            texts=texts,
            metadatas=[{"source": i, "page": 0, "sha": hashes[i]} for i in ids],
        )
        if progress:
            progress(start + len(ids), len(todo))
    if todo:
        log.info("embedded %d documents in %.1f s", len(todo), time.perf_counter() - started)
    bm25.sync(store, settings.bm25_dir, changed=bool(todo or stale))
    return store


def run_queries(
    dataset: Dataset, *, retriever: Retriever, mode: str, depth: int = DEPTH
) -> tuple[dict[str, list[str]], list[float]]:
    """Ranked doc ids per query and the latency of each query in milliseconds."""
    run: dict[str, list[str]] = {}
    latencies: list[float] = []
    for query_id, text in dataset.queries.items():
        started = time.perf_counter()
        hits = retriever.retrieve(text, k=depth, mode=mode)
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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
