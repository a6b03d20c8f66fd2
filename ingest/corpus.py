"""Evaluation corpora into the index, through the ingestion pipeline like any document.

``index_corpus`` writes a BEIR corpus (one record per document, ``title + " " + text``,
which the model truncates as MTEB does) to the dataset's own collection; re-runs embed only
new or changed documents. ``dimension_tradeoff`` writes the same corpus once per vector size,
each PCA fitted by the pipeline exactly as ``RAG_EMBED_DIM`` fits it on a first ingestion,
reusing the full-size vectors instead of embedding the corpus again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ingest.pipeline import Ingestor, Record
from rag.config import Settings
from rag.embedding.types import Embedder, Identity, Prefixes, Vectors
from rag.evaluation.beir import Dataset, run_queries, score
from rag.retrieval.retriever import Retriever
from rag.store.index import Index, open_index

FLOAT32_BYTES = 4  # Chroma stores each dimension as a float32

Progress = Callable[[int, int], None]


def index_corpus(
    dataset: Dataset,
    *,
    settings: Settings,
    model: Embedder,
    progress: Progress | None = None,
) -> Index:
    """The dataset's corpus in the index of ``settings`` (``eval_settings``), opened for
    writing and left open for the queries."""
    # records are stored whole: the chunk size the contract records is what the model reads
    settings = settings.replace(chunk_size=model.max_tokens, chunk_overlap=0)
    index = open_index(settings, writing=True, model=model)
    records = [Record(id=i, text=text) for i, text in dataset.corpus.items()]
    done = 0

    def counted(_: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(records))

    Ingestor(index).run_records(records, progress=counted)
    return index


def dimension_tradeoff(
    dataset: Dataset,
    *,
    settings: Settings,
    model: Embedder,
    dims: list[int],
    modes: list[str],
    k: int = 10,
    progress: Progress | None = None,
) -> list[dict[str, object]]:
    """Quality against storage: for each size in ``dims``, the corpus PCA-reduced exactly as
    ``RAG_EMBED_DIM`` does and every query run through the reduced embedder; the model's own
    size is the baseline. Each size is a collection in a folder of its own, so its size on
    disk can be measured."""
    full = index_corpus(dataset, settings=settings, model=model, progress=progress)
    hits, vectors = full.store.all_vectors()
    known = Precomputed(model, {h.text: v for h, v in zip(hits, vectors, strict=True)})
    rows: list[dict[str, object]] = []
    for dim in dims:
        dim = min(dim, model.dimension)
        name = f"{settings.store.collection[:190]}-{dim}"
        sized = settings.replace(
            store_dir=settings.store.store_dir / "dims" / name,
            collection=name,
            chroma_url=None,  # measured on disk
            embed_dim=dim if dim < model.dimension else None,
        )
        index = index_corpus(dataset, settings=sized, model=known)
        retriever = Retriever(index=index, settings=sized.retrieval)
        chroma = sized.store.chroma_dir
        disk = sum(f.stat().st_size for f in chroma.rglob("*") if f.is_file())
        row: dict[str, object] = {
            "dims": dim,
            "bytes_per_vector": dim * FLOAT32_BYTES,
            "disk_bytes_per_chunk": round(disk / max(len(hits), 1)),
            "variance_kept": round(_variance_kept(index), 4),
        }
        for mode in modes:
            run, latencies = run_queries(dataset, retriever=retriever, mode=mode)
            row[mode] = score(dataset, run, latencies, mode=mode, k=k)
        index.close()
        rows.append(row)
    full.close()
    return rows


def _variance_kept(index: Index) -> float:
    from rag.embedding.reduction import ReducedEmbedder

    embedder = index.embedder
    if isinstance(embedder, ReducedEmbedder) and embedder.projection is not None:
        return embedder.projection.variance_kept
    return 1.0


class Precomputed:
    """``base`` with the vectors of texts it already embedded looked up, not recomputed."""

    def __init__(self, base: Embedder, vectors: dict[str, Vectors]) -> None:
        self.base = base
        self.vectors = vectors
        self.name: str = base.name
        self.prefixes: Prefixes = base.prefixes

    @property
    def identity(self) -> Identity:
        return self.base.identity

    @property
    def dimension(self) -> int:
        return self.base.dimension

    @property
    def max_tokens(self) -> int:
        return self.base.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.base.count_tokens(text)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.base.token_offsets(text)

    def embed_documents(self, texts: list[str]) -> Vectors:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            fresh = self.base.embed_documents(missing)
            self.vectors.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.base.embed_query(text)
