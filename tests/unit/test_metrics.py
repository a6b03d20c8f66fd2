"""Metrics on hand-computed examples, and against trec_eval itself (pytrec_eval)."""

import math
import random

import pytest

from rag.evaluation.metrics import evaluate, ndcg_at, percentile, recall_at, reciprocal_rank_at

# q1: graded judgements; the run puts the grade-1 document first, the grade-2 one third
QRELS = {
    "q1": {"a": 2, "b": 1, "x": 0},
    "q2": {"c": 1},
    "q3": {"d": 1, "e": 1},
}
RUN = {
    "q1": ["b", "x", "a", "z"],
    "q2": ["y", "z"],  # nothing relevant retrieved
    "q3": ["e"],
}


def test_ndcg_uses_linear_gains_and_the_ideal_of_all_judged() -> None:
    # DCG = 1/log2(2) + 0 + 2/log2(4) = 2.0; IDCG = 2/log2(2) + 1/log2(3) = 2.6309298
    assert ndcg_at(QRELS["q1"], RUN["q1"], 10) == pytest.approx(2.0 / (2 + 1 / math.log2(3)))
    assert ndcg_at(QRELS["q1"], RUN["q1"], 10) == pytest.approx(0.7601875, abs=1e-7)
    # cut at 2: only "b" counts; the ideal is cut at 2 as well
    assert ndcg_at(QRELS["q1"], RUN["q1"], 2) == pytest.approx(0.3800938, abs=1e-7)
    assert ndcg_at(QRELS["q2"], RUN["q2"], 10) == 0.0
    # one of two relevant at rank 1: 1 / (1 + 1/log2(3)) = 0.6131472
    assert ndcg_at(QRELS["q3"], RUN["q3"], 10) == pytest.approx(0.6131472, abs=1e-7)


def test_recall_and_reciprocal_rank() -> None:
    assert recall_at(QRELS["q1"], RUN["q1"], 1) == 0.5
    assert recall_at(QRELS["q1"], RUN["q1"], 10) == 1.0
    assert recall_at(QRELS["q3"], RUN["q3"], 10) == 0.5
    assert reciprocal_rank_at(QRELS["q1"], ["x", "z", "a"], 10) == pytest.approx(1 / 3)
    assert reciprocal_rank_at(QRELS["q1"], ["x", "z", "a"], 2) == 0.0


def test_evaluate_means_over_judged_queries_and_missing_queries_score_zero() -> None:
    got = evaluate(QRELS, RUN, k=10)
    assert got == pytest.approx(
        {
            "ndcg@10": (0.7601875 + 0 + 0.6131472) / 3,
            "recall@10": (1 + 0 + 0.5) / 3,
            "recall@100": (1 + 0 + 0.5) / 3,
            "mrr@10": (1 + 0 + 1) / 3,
        },
        abs=1e-7,
    )
    partial = evaluate(QRELS, {"q3": ["e", "d"]}, k=10)
    assert partial["ndcg@10"] == pytest.approx(1 / 3)
    assert partial["mrr@10"] == pytest.approx(1 / 3)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([], 50) == 0.0


def test_agrees_with_trec_eval_on_random_graded_runs() -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(60)]
    qrels = {
        f"q{q}": {d: rng.choice([1, 1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 8))}
        for q in range(40)
    }
    run = {q: rng.sample(docs, 40) for q in qrels}
    ours = evaluate(qrels, run, k=10)
    # trec_eval ranks by score: give strictly decreasing scores in our order
    scored = {
        q: {d: float(len(ranked) - i) for i, d in enumerate(ranked)} for q, ranked in run.items()
    }
    measures = {"ndcg_cut.10", "recall.10", "recall.100", "recip_rank"}
    theirs = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(scored)
    mean = lambda key: sum(v[key] for v in theirs.values()) / len(theirs)  # noqa: E731
    assert ours["ndcg@10"] == pytest.approx(mean("ndcg_cut_10"), abs=1e-9)
    assert ours["recall@10"] == pytest.approx(mean("recall_10"), abs=1e-9)
    assert ours["recall@100"] == pytest.approx(mean("recall_100"), abs=1e-9)
    # trec_eval's recip_rank has no cut-off; ours stops at 10, so compare on the cut runs
    cut = {q: {d: s for d, s in v.items() if s > len(run[q]) - 10} for q, v in scored.items()}
    cut_theirs = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)
    mrr = sum(v["recip_rank"] for v in cut_theirs.values()) / len(cut_theirs)
    assert ours["mrr@10"] == pytest.approx(mrr, abs=1e-9)
