"""Pure ranking logic: score and reciprocal rank fusion, page aggregation, maximal marginal
relevance."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from rag.types import Hit


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], *, weights: Sequence[float], k: int = 60
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: ``score(d) = sum_i w_i / (k + rank_i(d))`` with 1-based ranks.

    Ties keep the order in which ids were first seen (earlier lists, then earlier ranks),
    so the result is deterministic.
    """
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    order = {doc: i for i, doc in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def min_max_fusion(
    rankings: Sequence[Sequence[tuple[str, float]]], *, weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Fuse scored rankings: each one's scores scaled to [0, 1] over its own candidates (0
    where an id is absent), then summed with ``weights``. Unlike RRF it keeps how far
    apart the scores are, not only their order.

    Ties keep the order in which ids were first seen, as ``reciprocal_rank_fusion``.
    """
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        scaled = min_max([score for _, score in ranking])
        for (doc, _), value in zip(ranking, scaled, strict=True):
            scores[doc] = scores.get(doc, 0.0) + weight * float(value)
    order = {doc: i for i, doc in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def page_of(hit: Hit) -> tuple[str, int] | None:
    """The page a passage is on, across documents; None for a text without pages (page 0)."""
    return (hit.source, hit.page) if hit.page else None


def by_page(
    ranked: Sequence[tuple[str, float]],
    pages: Mapping[str, Hashable | None],
    *,
    weight: float,
) -> list[tuple[str, float]]:
    """``ranked`` with pages ranked, not chunks: each page scores its best chunk's score plus
    ``weight`` times the sum of its other chunks' scores, and its best chunk stands for it,
    so the first results cover as many pages as they can; the other chunks follow in their
    own order, each scored no higher than the result before it. ``pages`` maps a chunk to its
    page (``page_of``); a chunk it maps to None, or lacks, is a page of its own.

    A statement page of a filing is cut into several chunks that each match part of a
    question (the statement's name, the line item, the year); together they say more than
    the one that ranks best, and a page that already holds the best chunk needs no second
    place in the top five.
    """
    groups: dict[Hashable, list[tuple[str, float]]] = {}
    for doc, score in ranked:
        page = pages.get(doc)
        groups.setdefault(("page", page) if page is not None else ("chunk", doc), []).append(
            (doc, score)
        )
    firsts = [
        (members[0][0], members[0][1] + weight * sum(s for _, s in members[1:]))
        for members in groups.values()
    ]
    firsts.sort(key=lambda item: -item[1])  # stable: ties keep the order of ``ranked``
    lead = {doc for doc, _ in firsts}
    out = list(firsts)
    floor = firsts[-1][1] if firsts else 0.0
    for doc, score in ranked:
        if doc not in lead:
            floor = min(floor, score)
            out.append((doc, floor))
    return out


def mmr(
    relevance: npt.NDArray[np.float64],
    candidates: npt.NDArray[np.float32],
    *,
    k: int,
    lambda_: float,
) -> list[int]:
    """Indices of ``k`` candidates picked by maximal marginal relevance.

    Each step takes the candidate maximising ``lambda * relevance(d) - (1 - lambda) *
    max cos(d, already picked)``; vectors are expected L2-normalised. ``lambda_ = 1`` keeps
    the relevance order, lower values trade relevance for diversity.
    """
    n = len(candidates)
    if n == 0 or k <= 0:
        return []
    similarity = candidates @ candidates.T
    picked: list[int] = []
    redundancy = np.zeros(n, dtype=np.float64)
    available = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        score = lambda_ * relevance - (1 - lambda_) * redundancy
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))
        picked.append(best)
        available[best] = False
        redundancy = (
            np.maximum(redundancy, similarity[best]) if len(picked) > 1 else similarity[best]
        )
    return picked


def min_max(scores: Sequence[float]) -> npt.NDArray[np.float64]:
    """Scores scaled to [0, 1] (all 1.0 when they are equal): comparable relevance for MMR."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        return values
    span = float(values.max() - values.min())
    return np.ones_like(values) if span == 0 else (values - values.min()) / span
