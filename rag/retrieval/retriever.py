"""Query -> hits: dense, BM25 or hybrid (score or rank fusion), then optional MMR and rerank.

The mode is ``dense``, ``bm25`` or ``hybrid`` with optional ``+mmr`` and ``+rerank``
(``MODES`` lists them all, for the UI). Each ranker hands ``max(k, candidates)`` passages
on; ``hybrid`` fuses them and, with ``rank_by="pages"``, ranks a PDF's pages rather than
its passages (``rag.retrieval.fusion.by_page``); MMR then picks the ``k`` (when reranking,
at least ``rerank_top_n``) most relevant yet diverse of them; the reranker reorders the
first ``rerank_top_n`` by cross-encoder score and leaves the rest in place.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from rag.config import RetrievalSettings, check_mode
from rag.embedding.types import Embedder
from rag.modes import MODES, Mode, parse_mode
from rag.retrieval.bm25 import Bm25Cache
from rag.retrieval.fusion import (
    by_page,
    min_max,
    min_max_fusion,
    mmr,
    page_of,
    reciprocal_rank_fusion,
)
from rag.retrieval.reranker import load_reranker
from rag.store.index import Index
from rag.store.passages import indexed_text
from rag.types import Hit

log = logging.getLogger(__name__)

__all__ = ["MODES", "Mode", "Retriever", "parse_mode"]


class Retriever:
    """Ranked passages from an opened index (``rag.store.index.open_index``)."""

    def __init__(self, *, index: Index, settings: RetrievalSettings) -> None:
        self.index = index
        self.store = index.store
        self.settings = settings
        self.top_k = settings.top_k
        self.mode = parse_mode(settings.retrieval_mode)
        where = index.settings.store
        # an embedded store's manifest is not opened here: a reader needs none
        shared = index.shared if where.chroma_url else None
        lease = index.lease()
        self._bm25 = Bm25Cache(
            where.bm25_dir,
            index.store,
            store_dir=where.store_dir,
            context=index.context,
            # with RAG_CHROMA_URL: other hosts' writes are seen by the shared generation
            marker=shared.generation if shared is not None else None,
            writer_live=lease.live if lease is not None else None,
        )
        self._allowed: set[str] | None = None  # chunk ids of a label filter, per retrieve()

    @property
    def embedder(self) -> Embedder:
        return self.index.embedder

    def retrieve(
        self,
        query: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        label: str | None = None,
        rank_by: str | None = None,
        bm25_weight: float | None = None,
    ) -> list[Hit]:
        """The top ``k`` hits; with ``label``, only chunks classified so (``rag classify``);
        ``rank_by`` (``pages`` or ``chunks``) and ``bm25_weight`` override the settings' for
        ``hybrid``."""
        query = query.strip()
        k = k or self.top_k
        if not query:
            return []
        if mode is not None:
            check_mode(self.settings, mode)
        self.index.check()  # another process may have refitted the PCA (--rebuild)
        chosen = parse_mode(mode) if mode else self.mode
        depth = max(k, self.settings.candidates)
        vector: np.ndarray | None = None
        self._allowed = self.store.ids_with_label(label) if label else None
        if chosen.base == "bm25":
            hits = self._bm25_hits(query, depth)
        else:
            vector = self.embedder.embed_query(query)
            where = {"label": label} if label else None
            dense = self.store.query(vector, k=depth, where=where)
            pages = (rank_by or self.settings.rank_by) == "pages"
            hits = (
                dense
                if chosen.base == "dense"
                else self._fuse(query, dense, depth, pages, bm25_weight)
            )
        keep = max(k, self.settings.rerank_top_n) if chosen.rerank else k
        if chosen.mmr and hits:
            hits = self._diversify(hits, keep)
        if chosen.rerank and hits:
            top_n = self.settings.rerank_top_n
            hits = self._rerank(query, hits[:top_n]) + hits[top_n:]
        return self._with_similarity(hits[:k], query, vector)

    def _with_similarity(self, hits: list[Hit], query: str, vector: np.ndarray | None) -> list[Hit]:
        """Give every hit its cosine to the query: fused, BM25 and rerank scores are not
        comparable across queries, but the answerer's abstain threshold needs a number that is."""
        missing = [h.chunk_id for h in hits if h.similarity is None]
        if not missing:
            return hits
        if vector is None:
            vector = self.embedder.embed_query(query)
        stored, vectors = self._vectors(missing)
        cosine = {h.chunk_id: float(v @ vector) for h, v in zip(stored, vectors, strict=True)}
        return [
            h if h.similarity is not None else replace(h, similarity=cosine.get(h.chunk_id))
            for h in hits
        ]

    # -- the rankers ----------------------------------------------------------------------

    def _lexical(self, query: str, depth: int) -> list[tuple[str, float]]:
        if self._allowed is None:
            return self._bm25.get().search(query, k=depth)
        # a label filter: rank everything, keep the allowed, so depth hits remain
        ranked = self._bm25.get().search(query, k=max(self.store.count(), 1))
        return [(doc, score) for doc, score in ranked if doc in self._allowed][:depth]

    def _bm25_hits(self, query: str, depth: int) -> list[Hit]:
        ranked = self._lexical(query, depth)
        scores = dict(ranked)
        hits, _ = self.store.get([doc for doc, _ in ranked], vectors=False)
        return [_rescored(h, scores[h.chunk_id]) for h in hits]

    def _fuse(
        self, query: str, dense: list[Hit], depth: int, pages: bool, bm25_weight: float | None
    ) -> list[Hit]:
        lexical = self._lexical(query, depth)
        bm25 = self.settings.bm25_weight if bm25_weight is None else bm25_weight
        weights = [self.settings.dense_weight, bm25]
        if self.settings.fusion == "rrf":
            fused = reciprocal_rank_fusion(
                [[h.chunk_id for h in dense], [doc for doc, _ in lexical]],
                weights=weights,
                k=self.settings.rrf_k,
            )[:depth]
        else:
            fused = min_max_fusion(
                [[(h.chunk_id, h.score) for h in dense], lexical], weights=weights
            )[:depth]
        known = {h.chunk_id: h for h in dense}
        fetched, _ = self.store.get([doc for doc, _ in fused if doc not in known], vectors=False)
        known.update({h.chunk_id: h for h in fetched})
        fused = [(doc, score) for doc, score in fused if doc in known]
        if pages:
            on = {doc: page_of(known[doc]) for doc, _ in fused}
            fused = by_page(fused, on, weight=self.settings.page_weight)
        return [_rescored(known[doc], score) for doc, score in fused]

    def _vectors(self, ids: list[str]) -> tuple[list[Hit], np.ndarray]:
        """Stored vectors of ``ids``; recomputed from the texts when a concurrent writer
        keeps them from being read (the same model and prefix give the same vectors)."""
        hits, vectors = self.store.get(ids)
        if len(hits) and vectors.shape[0] != len(hits):
            context = self.index.context
            vectors = self.embedder.embed_documents(
                [indexed_text(h.text, h.header_path, context=context) for h in hits]
            )
        return hits, vectors

    def _diversify(self, hits: list[Hit], keep: int) -> list[Hit]:
        """MMR over the ranked hits: relevance is their own score scaled to [0, 1]."""
        stored, vectors = self._vectors([h.chunk_id for h in hits])
        order = {h.chunk_id: i for i, h in enumerate(stored)}
        pool = [h for h in hits if h.chunk_id in order]
        matrix = np.asarray([vectors[order[h.chunk_id]] for h in pool], dtype=np.float32)
        relevance = min_max([h.score for h in pool])
        picked = mmr(relevance, matrix, k=keep, lambda_=self.settings.mmr_lambda)
        return [pool[i] for i in picked]

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        assert self.settings.rerank_model is not None  # check_mode guarantees it
        device = self.index.settings.embedding.device
        reranker = load_reranker(self.settings.rerank_model, device)
        scores = reranker.score(query, [h.text for h in hits])
        ranked = sorted(zip(hits, scores, strict=True), key=lambda pair: -pair[1])
        return [_rescored(h, s) for h, s in ranked]


def _rescored(hit: Hit, score: float) -> Hit:
    return replace(hit, score=float(score))
