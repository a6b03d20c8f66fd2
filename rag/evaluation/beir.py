"""Retrieval evaluation on a BEIR-format folder: load it, run every query, score.

The corpus is indexed by ``ingest.corpus`` through the ingestion pipeline, into a collection
of its own (``eval_settings``); a hit's source is its BEIR document id.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.errors import ConfigError
from rag.evaluation.metrics import evaluate, percentile
from rag.retrieval.retriever import Retriever
from rag.store.chroma import Store

log = logging.getLogger(__name__)

DEPTH = 100  # documents retrieved per query: recall@100 needs them


@dataclass(frozen=True)
class Dataset:
    name: str
    corpus: dict[str, str]  # doc id -> title + " " + text
    queries: dict[str, str]  # query id -> text (only queries with judgements)
    qrels: dict[str, dict[str, int]]
    split: str = "test"


def queries_file(folder: Path, split: str) -> Path:
    """``queries-<split>.jsonl`` when the folder has one (SciFact's train split), else
    ``queries.jsonl`` (the BEIR layout, which holds the queries of every split)."""
    own = folder / f"queries-{split}.jsonl"
    return own if own.is_file() else folder / "queries.jsonl"


def load_beir(folder: Path, *, limit: int | None = None, split: str = "test") -> Dataset:
    """A BEIR folder's ``split``; with ``limit``, its first N documents and the queries
    judged on them. A split whose judged queries are all missing is an error, not an empty
    evaluation."""
    paths = [
        folder / "corpus.jsonl",
        queries_file(folder, split),
        folder / "qrels" / f"{split}.tsv",
    ]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(
            f"{folder} is not a BEIR folder for split {split!r}: {', '.join(missing)} "
            "missing. Point --beir at a folder holding corpus.jsonl, queries.jsonl (or "
            f"queries-{split}.jsonl) and qrels/{split}.tsv."
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
    if qrels and not queries:
        raise ConfigError(
            f"{paths[1]} holds none of the {len(qrels)} queries judged in {paths[2]}: the "
            f"split's queries are elsewhere. Add queries-{split}.jsonl beside it."
        )
    qrels = {q: judged for q, judged in qrels.items() if q in queries}
    return Dataset(
        name=folder.resolve().name, corpus=corpus, queries=queries, qrels=qrels, split=split
    )


def document_text(title: str, text: str) -> str:
    """MTEB's document string: ``title + " " + text``, stripped."""
    return f"{title} {text}".strip() if title else text.strip()


def eval_settings(settings: Settings, dataset: Dataset, *, limit: int | None) -> Settings:
    """The settings of the dataset's own collection, next to the user's: one chunk per
    document (no overlap) and no near-duplicate skipping, as MTEB indexes a corpus."""
    embedding = settings.embedding
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(embedding.embed_model).name)
    part = f"-l{limit}" if limit is not None else ""
    part += f"-d{embedding.embed_dim}" if embedding.embed_dim else ""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"eval-{dataset.name}{part}-{slug}")[:200]
    return settings.replace(collection=name.strip("-._") or "eval", chunk_overlap=0, dedup="off")


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
        run[query_id] = list(dict.fromkeys(h.source for h in hits))
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
    result["split"] = dataset.split
    return result


def restrict_to_label(dataset: Dataset, store: Store, label: str) -> Dataset:
    """The part of ``dataset`` inside one label (``rag classify``): its documents, the
    judgements on them, and the queries that still have a relevant document."""
    labelled, _ = store.get(sorted(store.ids_with_label(label)), vectors=False)
    allowed = {h.source for h in labelled}
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
        split=dataset.split,
    )
