"""Choose the retrieval constants on SciFact's TRAIN split; report them on TEST.

    .venv/bin/python bench/tune.py [--json] [--store DIR]

What it tunes, each on the 807 train queries (train 871 and 1291 are dropped: they repeat
test 870 and 1292, see ../shared/data/README.md), by nDCG@10:

- BM25: k1, b and the analyzer (stemming, stopwords), BM25 alone;
- hybrid fusion: the RRF constant k and the dense/BM25 weights, over the chosen BM25;
- the HNSW beam: how often the approximate dense top 10 differs from the exact one.

The corpus goes through the ingestion pipeline into the same collection `rag eval` uses
(``eval_settings``), and every ranking comes from the project's own code: the store's dense
query, ``rag.retrieval.bm25.Bm25Index`` and ``rag.retrieval.fusion.reciprocal_rank_fusion``, at
the depth ``rag eval`` retrieves. Fusion is replayed from the two rankings of each query, so the
grid costs no search; the script checks that the replay gives exactly what the real
``Retriever`` gives for the shipped defaults before it trusts it.

Rule: a candidate replaces the shipped value only if it beats it on train by more than
``MARGIN`` nDCG@10 (smaller gains are within what a different split would undo). The test
figures are printed for the defaults and the choice, never used to choose.

Writes bench/results/tune.json; ``bench/tables.py`` renders it into docs/retrieval.md.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.provenance import env_precision, write_result  # noqa: E402
from ingest.corpus import index_corpus  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation.beir import Dataset, eval_settings, load_beir, run_queries  # noqa: E402
from rag.evaluation.metrics import evaluate  # noqa: E402
from rag.retrieval import bm25  # noqa: E402
from rag.retrieval.fusion import reciprocal_rank_fusion  # noqa: E402
from rag.retrieval.retriever import Retriever  # noqa: E402
from rag.store.index import load_model  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact"
DUPLICATES_OF_TEST = {"871", "1291"}
DEPTH = 100  # what `rag eval` retrieves per query (rag.evaluation.beir.DEPTH)
MARGIN = 0.002
K1S = (0.6, 0.9, 1.2, 1.5, 2.0)
BS = (0.3, 0.5, 0.75, 0.9, 1.0)
RRF_KS = (5, 10, 20, 40, 60, 100)
DENSE_WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)  # BM25's weight stays 1: only the ratio counts

log = logging.getLogger("tune")


def analyzers() -> dict[str, Callable[[str], list[str]]]:
    """The shipped analyzer and the variants it is compared with."""
    word = re.compile(r"\w+", re.UNICODE)

    def no_stopwords(text: str) -> list[str]:
        return list(bm25._stemmer().stemWords(word.findall(text.lower())))

    def no_stemming(text: str) -> list[str]:
        return [w for w in word.findall(text.lower()) if w not in bm25._stopwords()]

    # memoised: the grid re-indexes the same texts once per (k1, b)
    return {
        "stem+stopwords": functools.lru_cache(maxsize=None)(bm25.tokenize),
        "stem": functools.lru_cache(maxsize=None)(no_stopwords),
        "stopwords": functools.lru_cache(maxsize=None)(no_stemming),
    }


class QueryMemo:
    """The model with its query vectors remembered: each query is embedded once however
    many configurations search with it."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._queries: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self._model.embed_query(text)
        return self._queries[text]


@dataclass
class Rankings:
    dense: dict[str, list[str]]  # query id -> chunk ids, best first
    exact: dict[str, list[str]]  # the same by brute force over every stored vector
    bm25: dict[str, list[str]]


def doc_run(rankings: dict[str, list[str]], source: dict[str, str]) -> dict[str, list[str]]:
    """Chunk rankings to document rankings, as ``run_queries`` maps hits."""
    return {q: list(dict.fromkeys(source[c] for c in ids)) for q, ids in rankings.items()}


def ndcg(dataset: Dataset, run: dict[str, list[str]]) -> float:
    return round(float(evaluate(dataset.qrels, run, k=10)["ndcg@10"]), 5)


def fuse(
    dense: dict[str, list[str]], lexical: dict[str, list[str]], *, k: int, dense_weight: float
) -> dict[str, list[str]]:
    return {
        q: [
            doc
            for doc, _ in reciprocal_rank_fusion(
                [dense[q], lexical[q]], weights=[dense_weight, 1.0], k=k
            )[:DEPTH]
        ]
        for q in dense
    }


def best(
    scored: Sequence[tuple[dict[str, object], float]], shipped: dict[str, object]
) -> tuple[dict[str, object], float]:
    """The shipped values unless a candidate beats them by more than MARGIN."""
    baseline = next(score for params, score in scored if params == shipped)
    top, top_score = max(scored, key=lambda pair: pair[1])
    return (top, top_score) if top_score > baseline + MARGIN else (shipped, baseline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--store", type=Path, default=ROOT / ".rag" / "bench-tune")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.json else logging.INFO, format="%(message)s")

    train = load_beir(SCIFACT, split="train")
    train = Dataset(
        name=train.name,
        corpus=train.corpus,
        queries={q: t for q, t in train.queries.items() if q not in DUPLICATES_OF_TEST},
        qrels={q: r for q, r in train.qrels.items() if q not in DUPLICATES_OF_TEST},
        split="train",
    )
    test = load_beir(SCIFACT, split="test")
    settings = eval_settings(
        Settings.default(args.store, device="cpu", embed_precision=env_precision()),
        train,
        limit=None,
    )
    shipped_retrieval = settings.retrieval
    model = QueryMemo(load_model(settings.embedding))
    log.info("indexing %d documents (embedded once, kept in %s)", len(train.corpus), args.store)
    index = index_corpus(train, settings=settings, model=model)
    stored, vectors = index.store.all_vectors()
    source = {h.chunk_id: h.source for h in stored}
    ids = [h.chunk_id for h in stored]
    texts = [h.text for h in stored]

    def rankings_for(dataset: Dataset) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        dense: dict[str, list[str]] = {}
        exact: dict[str, list[str]] = {}
        for query_id, text in dataset.queries.items():
            vector = model.embed_query(text)
            dense[query_id] = [h.chunk_id for h in index.store.query(vector, k=DEPTH)]
            order = np.argsort(-(vectors @ vector), kind="stable")[:DEPTH]
            exact[query_id] = [ids[i] for i in order]
        return dense, exact

    def lexical(dataset: Dataset, built: bm25.Bm25Index) -> dict[str, list[str]]:
        return {q: [c for c, _ in built.search(t, k=DEPTH)] for q, t in dataset.queries.items()}

    results: dict[str, Any] = {"corpus": len(train.corpus), "chunks": len(ids)}
    splits = {"train": train, "test": test}
    dense_runs = {name: rankings_for(ds) for name, ds in splits.items()}

    # -- BM25 ------------------------------------------------------------------------------
    shipped_bm25: dict[str, object] = {"k1": bm25.K1, "b": bm25.B, "analyzer": "stem+stopwords"}
    grid: list[tuple[dict[str, object], float]] = []
    analyzer_of = analyzers()
    for name, tokenizer in analyzer_of.items():
        for k1, b in itertools.product(K1S, BS):
            built = bm25.Bm25Index.build(ids, texts, k1=k1, b=b, tokenizer=tokenizer)
            score = ndcg(train, doc_run(lexical(train, built), source))
            grid.append(({"k1": k1, "b": b, "analyzer": name}, score))
            log.info("bm25 %s k1=%s b=%s: train nDCG@10 %.4f", name, k1, b, score)
    chosen_bm25, chosen_bm25_train = best(grid, shipped_bm25)
    bm25_of: dict[str, bm25.Bm25Index] = {}
    for label, params in (("shipped", shipped_bm25), ("chosen", chosen_bm25)):
        bm25_of[label] = bm25.Bm25Index.build(
            ids,
            texts,
            k1=float(params["k1"]),  # type: ignore[arg-type]
            b=float(params["b"]),  # type: ignore[arg-type]
            tokenizer=analyzer_of[str(params["analyzer"])],
        )
    lexical_runs = {
        label: {name: lexical(ds, built) for name, ds in splits.items()}
        for label, built in bm25_of.items()
    }
    results["bm25"] = {
        "grid": [{**p, "train_ndcg@10": s} for p, s in grid],
        "shipped": shipped_bm25,
        "chosen": chosen_bm25,
        "test_ndcg@10": {
            label: ndcg(test, doc_run(lexical_runs[label]["test"], source)) for label in bm25_of
        },
    }

    # -- fusion ----------------------------------------------------------------------------
    shipped_fusion: dict[str, object] = {
        "rrf_k": shipped_retrieval.rrf_k,
        "dense_weight": shipped_retrieval.dense_weight / shipped_retrieval.bm25_weight,
    }
    fusion_grid: list[tuple[dict[str, object], float]] = []
    ratios = sorted({*DENSE_WEIGHTS, float(shipped_fusion["dense_weight"])})  # type: ignore[arg-type]
    for rrf_k, weight in itertools.product(RRF_KS, ratios):
        fused = fuse(
            dense_runs["train"][0], lexical_runs["chosen"]["train"], k=rrf_k, dense_weight=weight
        )
        score = ndcg(train, doc_run(fused, source))
        fusion_grid.append(({"rrf_k": rrf_k, "dense_weight": weight}, score))
    chosen_fusion, chosen_fusion_train = best(fusion_grid, shipped_fusion)

    def hybrid(dataset: str, bm25_label: str, params: dict[str, object]) -> float:
        fused = fuse(
            dense_runs[dataset][0],
            lexical_runs[bm25_label][dataset],
            k=int(params["rrf_k"]),  # type: ignore[call-overload]
            dense_weight=float(params["dense_weight"]),  # type: ignore[arg-type]
        )
        return ndcg(splits[dataset], doc_run(fused, source))

    results["fusion"] = {
        "grid": [{**p, "train_ndcg@10": s} for p, s in fusion_grid],
        "shipped": shipped_fusion,
        "chosen": chosen_fusion,
    }

    # -- the replay must equal the real retriever for the shipped defaults ------------------
    # RRF is what this script replays (bench/levers.py compares it with score fusion)
    retriever = Retriever(index=index, settings=replace(shipped_retrieval, fusion="rrf"))
    real, _ = run_queries(test, retriever=retriever, mode="hybrid")
    replayed = hybrid("test", "shipped", shipped_fusion)
    results["replay_check"] = {"retriever_test_ndcg@10": ndcg(test, real), "replay": replayed}
    if abs(ndcg(test, real) - replayed) > 1e-9:
        print(f"replay differs from the retriever: {results['replay_check']}", file=sys.stderr)
        return 1

    # -- HNSW beam ---------------------------------------------------------------------------
    dense_train, exact_train = dense_runs["train"]
    differ = sum(1 for q in dense_train if dense_train[q][:10] != exact_train[q][:10])
    results["hnsw"] = {
        "queries_whose_top10_differs_from_exact": differ,
        "queries": len(dense_train),
        "train_ndcg@10": {
            "hnsw": ndcg(train, doc_run(dense_train, source)),
            "exact": ndcg(train, doc_run(exact_train, source)),
        },
    }

    # -- the summary: every mode, shipped and chosen, on both splits -------------------------
    summary: dict[str, dict[str, float]] = {}
    for name in splits:
        summary[name] = {
            "dense": ndcg(splits[name], doc_run(dense_runs[name][0], source)),
            "bm25 shipped": ndcg(splits[name], doc_run(lexical_runs["shipped"][name], source)),
            "bm25 chosen": ndcg(splits[name], doc_run(lexical_runs["chosen"][name], source)),
            "hybrid shipped": hybrid(name, "shipped", shipped_fusion),
            "hybrid chosen": hybrid(name, "chosen", chosen_fusion),
        }
    results["summary"] = summary
    results["rule"] = f"a candidate replaces the shipped value if it gains > {MARGIN} on train"
    results["queries"] = {"train": len(train.queries), "test": len(test.queries)}
    path = write_result("tune", results)
    if args.json:
        print(json.dumps({k: results[k] for k in ("summary", "bm25", "fusion", "hnsw")}))
    else:
        print(f"written {path.relative_to(ROOT)}")
        print(f"bm25: shipped {shipped_bm25} -> chosen {chosen_bm25} (train {chosen_bm25_train})")
        print(f"fusion: shipped {shipped_fusion} -> chosen {chosen_fusion} ({chosen_fusion_train})")
        for name, row in summary.items():
            print(name, json.dumps(row))
        print("hnsw", json.dumps(results["hnsw"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
