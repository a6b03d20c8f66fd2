"""Near-duplicates: pairs of chunks from different files whose embeddings nearly coincide.

Cosine similarities are computed tile by tile (``block`` x ``block`` rows at a time), so
memory stays at one tile however large the collection; only pairs at or above the
threshold are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.analytics.topics import normalize
from rag.types import Hit

DEFAULT_THRESHOLD = 0.95


@dataclass(frozen=True)
class Pair:
    score: float
    a: Hit
    b: Hit

    def as_dict(self) -> dict[str, object]:
        return {"score": round(self.score, 6), "a": _side(self.a), "b": _side(self.b)}


def _side(hit: Hit) -> dict[str, object]:
    return {"source": hit.source, "page": hit.page, "text": hit.text}


def similar_pairs(
    vectors: np.ndarray, groups: Sequence[str], *, threshold: float, block: int = 1024
) -> list[tuple[int, int, float]]:
    """(i, j, cosine) with i < j, different ``groups``, cosine >= threshold; best first."""
    n = len(vectors)
    if n < 2:
        return []
    unit = normalize(vectors)
    _, group_ids = np.unique(np.asarray(list(groups), dtype=object), return_inverse=True)
    found: list[tuple[int, int, float]] = []
    for r0 in range(0, n, block):
        rows = unit[r0 : r0 + block]
        for c0 in range(r0, n, block):
            sims = rows @ unit[c0 : c0 + block].T
            keep = sims >= threshold
            if c0 == r0:  # the diagonal tile: each unordered pair once, no self-pairs
                keep &= np.triu(np.ones_like(keep, dtype=bool), k=1)
            keep &= group_ids[r0 : r0 + len(rows), None] != group_ids[None, c0 : c0 + block]
            for i, j in zip(*np.nonzero(keep), strict=True):
                found.append((r0 + int(i), c0 + int(j), float(sims[i, j])))
    found.sort(key=lambda t: (-t[2], t[0], t[1]))
    return found


def near_duplicates(
    hits: list[Hit], vectors: np.ndarray, *, threshold: float = DEFAULT_THRESHOLD
) -> list[Pair]:
    """Pairs of chunks from different files with cosine >= ``threshold``, best first."""
    pairs = similar_pairs(vectors, [h.source for h in hits], threshold=threshold)
    return [Pair(score=s, a=hits[i], b=hits[j]) for i, j, s in pairs]
