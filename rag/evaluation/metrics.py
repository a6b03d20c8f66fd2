"""Ranking metrics computed the way trec_eval (and so pytrec_eval, BEIR and MTEB) does.

Pure functions over plain dicts: ``qrels`` maps a query id to ``{doc_id: grade}`` and a
run maps a query id to its ranked list of doc ids (best first). Grades above zero count
as relevant. nDCG uses linear gains (``grade / log2(rank + 1)``) and the ideal ranking of
every judged document of the query, as trec_eval's ``ndcg_cut`` does. Scores are means
over the queries of ``qrels``; a query missing from the run scores zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))


def ndcg_at(judged: Mapping[str, int], ranked: Sequence[str], k: int) -> float:
    ideal = dcg(sorted((g for g in judged.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([max(judged.get(doc, 0), 0) for doc in ranked[:k]]) / ideal


def recall_at(judged: Mapping[str, int], ranked: Sequence[str], k: int) -> float:
    relevant = {doc for doc, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank_at(judged: Mapping[str, int], ranked: Sequence[str], k: int) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def evaluate(qrels: Qrels, run: Run, *, k: int = 10) -> dict[str, float]:
    """Mean nDCG@k, recall@k, recall@100 and MRR@k over the queries that have judgements."""
    queries = [q for q, judged in qrels.items() if any(g > 0 for g in judged.values())]
    if not queries:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, "recall@100": 0.0, f"mrr@{k}": 0.0}
    totals = {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, "recall@100": 0.0, f"mrr@{k}": 0.0}
    for query in queries:
        judged, ranked = qrels[query], list(run.get(query, ()))
        totals[f"ndcg@{k}"] += ndcg_at(judged, ranked, k)
        totals[f"recall@{k}"] += recall_at(judged, ranked, k)
        totals["recall@100"] += recall_at(judged, ranked, 100)
        totals[f"mrr@{k}"] += reciprocal_rank_at(judged, ranked, k)
    return {name: total / len(queries) for name, total in totals.items()}


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * pct / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
