"""Every retrieval lever on every yardstick: chosen on the tuning halves, reported on the rest.

    nice -n 10 .venv/bin/python bench/levers.py [--fresh] [--yardsticks filings,...]

The four yardsticks, each with a half that chooses and a half that only reports:

- SciFact (``rag eval``'s collection): nDCG@10, train chooses, test reports;
- COVID-QA (98 papers in one index, ``bench/longdocs.py``'s): hit@5, halves by paper;
- page-known PDFs (each manual in its own index): page@5, halves as in the question file;
- the filings (``../shared/data/filings``: real 10-K/10-Q/8-K PDFs, each in its own index,
  long, table-heavy and mostly without an outline): page@5, halves by company.

The indexes are the ones ``bench/tune.py``, ``bench/longdocs.py`` and ``bench/filings.py`` build
through the ingestion pipeline (built here when absent). Each lever is replayed from the stored
chunks: dense is an exact search over the stored vectors, BM25 is
``rag.retrieval.bm25.Bm25Index`` over the stored texts, fusion is ``rag.retrieval.fusion``'s, so
the grid costs no index build. The replay of the shipped hybrid is checked against the real
``Retriever`` on COVID-QA.

Levers:

- the mode: dense, BM25, RRF over a grid of k and dense weight, min-max score fusion;
- page aggregation: a page's score is its best chunk's plus ``beta`` times its other
  chunks' (several hits on one page count for that page), and the best chunk of each page
  comes first, so the top k covers k pages;
- contextual chunks: the document's title and the section heading path (a PDF's outline,
  a text's first line) put before the text that is embedded and indexed for BM25; the
  passage itself is unchanged;
- question focus (issue 25: questions wrapped in instructions): a question of several
  sentences is embedded whole and sentence by sentence; the sentence whose best passage
  stands out most from its other candidates (the z-score of its top cosine) is the one
  that names something in the document, and the dense query moves ``lambda`` towards it.
  No list of phrasings: a one-sentence question is unchanged, and an instruction finds
  nothing in particular in a filing. BM25 keeps the whole question;
- pseudo-relevance feedback: Rocchio on the dense side (the query vector moved towards its
  first results), RM3 on the BM25 side (the query's terms mixed with the best terms of its
  first results, Anserini's defaults: 10 documents, 10 terms, original weight 0.5).

The objective is the mean of the four tuning metrics; a setting replaces the shipped one
only if it gains more than ``MARGIN`` there. Writes ``bench/results/levers.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import pickle
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

from bench.provenance import env_precision, write_result  # noqa: E402
from bench.tables import lever_cell  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding.types import Embedder  # noqa: E402
from rag.evaluation.longeval import SpanJudge, page_rank  # noqa: E402
from rag.evaluation.metrics import evaluate  # noqa: E402
from rag.retrieval import bm25, fusion  # noqa: E402
from rag.retrieval.fusion import reciprocal_rank_fusion  # noqa: E402
from rag.store.index import load_model  # noqa: E402
from rag.types import Hit  # noqa: E402

log = logging.getLogger("levers")

SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact"
COVIDQA = ROOT.parent / "shared" / "data" / "qa" / "covidqa" / "covidqa-200423.json"
PAGES = ROOT / "bench" / "data" / "pages_questions.json"
DOCS = ROOT / ".rag" / "bench-pdfs"
FILINGS = ROOT.parent / "shared" / "data" / "filings"
# the yardsticks of page-known questions over PDFs: their question file and PDF folder
PAGED = {"pages": (PAGES, DOCS), "filings": (FILINGS / "questions.json", FILINGS / "pdfs")}
CACHE = ROOT / ".rag" / "bench-levers"
DUPLICATES_OF_TEST = {"871", "1291"}
DEPTH = 50  # candidates per ranker, as the retriever's default
MARGIN = 0.005
RRF_KS = (1, 2, 5, 10, 20, 60)
DENSE_WEIGHTS = (0.5, 0.75, 1.0, 1.5, 2.0)
ALPHAS = (0.3, 0.4, 0.5, 0.6, 0.7)  # dense share of min-max fusion
PRF_DOCS = 3
PRFS = (0.5, 1.0)
RM3_DOCS, RM3_TERMS, RM3_ORIGINAL = 10, 10, 0.5  # Anserini's defaults (fbDocs, fbTerms, weight)
BETAS = (None, 0.0, 0.25, 0.5, 1.0)  # None: no page aggregation
FOCUS = (0.5, 1.0, 2.0)  # how far the dense query moves towards its most telling sentence
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z(])")


@dataclass
class Group:
    """Chunks searched together (one index) and the questions asked of them."""

    ids: list[str]
    texts: list[str]  # what is embedded and indexed: the passage, maybe with its context
    vectors: np.ndarray
    hits: dict[str, Hit]
    questions: dict[str, str]  # question id -> text


@dataclass
class Yardstick:
    name: str
    metric: str
    groups: list[Group]
    half: dict[str, str]  # question id -> tune / report
    qrels: dict[str, Any] = field(default_factory=dict)  # SciFact's, per half, for nDCG


# -- building the yardsticks from the stored indexes -----------------------------------------


def stored_group(index: Any, questions: dict[str, str]) -> Group:
    stored, vectors = index.store.all_vectors()
    return Group(
        ids=[h.chunk_id for h in stored],
        texts=[h.text for h in stored],
        vectors=np.asarray(vectors, dtype=np.float32),
        hits={h.chunk_id: h for h in stored},
        questions=questions,
    )


def scifact(model: Embedder) -> Yardstick:
    from ingest.corpus import index_corpus
    from rag.evaluation.beir import eval_settings, load_beir

    train = load_beir(SCIFACT, split="train")
    test = load_beir(SCIFACT, split="test")
    settings = eval_settings(
        Settings.default(
            ROOT / ".rag" / "bench-tune", device="cpu", embed_precision=env_precision()
        ),
        train,
        limit=None,
    )
    index = index_corpus(train, settings=settings, model=model)
    queries = {f"train:{q}": t for q, t in train.queries.items() if q not in DUPLICATES_OF_TEST}
    queries.update({f"test:{q}": t for q, t in test.queries.items()})
    group = stored_group(index, queries)
    index.close()
    qrels = {
        "tune": {f"train:{q}": r for q, r in train.qrels.items() if q not in DUPLICATES_OF_TEST},
        "report": {f"test:{q}": r for q, r in test.qrels.items()},
    }
    half = {q: ("tune" if q.startswith("train:") else "report") for q in queries}
    return Yardstick("scifact", "ndcg@10", [group], half, qrels)


def covidqa(model: Embedder, settings: Settings) -> Yardstick:
    from ingest.longdocs import index_papers
    from rag.evaluation.longsets import load_squad

    spans = load_squad(COVIDQA)
    index, _ = index_papers(spans, settings=settings, model=model)
    group = stored_group(index, {q.id: q.question for q in spans.questions})
    index.close()
    return Yardstick("covidqa", "hit@5", [group], {q.id: q.half for q in spans.questions})


def pages(model: Embedder, settings: Settings, name: str = "pages") -> Yardstick:
    from ingest.longdocs import index_document
    from rag.evaluation.longsets import load_page_questions

    questions, docs = PAGED[name]
    if name == "filings":  # the indexes bench/filings.py builds, not built twice
        settings = settings.replace(store_dir=ROOT / ".rag" / "bench-filings")
    pageset = load_page_questions(questions)
    groups = []
    for file in dict.fromkeys(q.file for q in pageset.questions):
        index, _ = index_document(docs / file, settings=settings, model=model)
        asked = {q.id: q.question for q in pageset.questions if q.file == file}
        groups.append(stored_group(index, asked))
        index.close()
    return Yardstick(name, "page@5", groups, {q.id: q.half for q in pageset.questions})


def judge_for(name: str) -> Callable[[str, list[Hit]], int | None] | None:
    """The rank of a question's first hit (None for SciFact, scored by nDCG)."""
    if name == "covidqa":
        from ingest.longdocs import paper_lookup
        from rag.evaluation.longsets import load_squad

        spans = load_squad(COVIDQA)
        judge = SpanJudge(spans.papers, paper_lookup(spans.papers))
        by_span = {q.id: q for q in spans.questions}
        return lambda qid, hits: judge.rank(by_span[qid].paper, by_span[qid].span, hits)
    if name in PAGED:
        from rag.evaluation.longsets import load_page_questions

        by_page = {q.id: q for q in load_page_questions(PAGED[name][0]).questions}
        return lambda qid, hits: page_rank(by_page[qid].pages, hits)
    return None


# -- contextual chunks ------------------------------------------------------------------------


def pdf_context(path: Path) -> Callable[[int], str]:
    """Page (1-based) -> "title > heading > subheading" from the PDF's outline."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
        if not title and len(pdf):
            text = pdf[0].get_textpage().get_text_range()
            title = next((line.strip() for line in text.splitlines() if line.strip()), "")
        marks = []
        for mark in pdf.get_toc(max_depth=6):
            dest = mark.get_dest()
            if dest is not None and dest.get_index() is not None:
                marks.append((int(dest.get_index()) + 1, int(mark.level), mark.get_title()))
    finally:
        pdf.close()

    def context(page: int) -> str:
        stack: list[str] = []
        for at, level, heading in marks:
            if at > page:
                break
            stack = [*stack[:level], heading.strip()]
        return " > ".join(p for p in [title[:120], *stack] if p)

    return context


def headings(yard: Yardstick, model: Embedder) -> Yardstick:
    """The chunks as the pipeline now embeds and indexes them (``rag.store.passages``): after
    their heading path from the PDF's outline (``ingest.outline``). Only the PDFs have
    outlines; the other yardsticks are unchanged."""
    from ingest.loaders import load
    from ingest.outline import section_at
    from rag.store.passages import CONTEXT, indexed_text

    if yard.name not in PAGED:
        return yard
    groups = []
    for group in yard.groups:
        path = PAGED[yard.name][1] / Path(next(iter(group.hits.values())).source).name
        sections = {p.number: p.sections for p in load(path).pages}
        texts = [
            indexed_text(
                group.texts[n],
                section_at(sections.get(group.hits[c].page, ()), group.hits[c].start_index),
                context=CONTEXT,
            )
            for n, c in enumerate(group.ids)
        ]
        vectors = embed_cached(model, texts, f"{yard.name}-headings-{len(groups)}")
        groups.append(Group(group.ids, texts, vectors, group.hits, group.questions))
    return Yardstick(yard.name, yard.metric, groups, yard.half, yard.qrels)


def contextual(yard: Yardstick, model: Embedder, papers: dict[str, str] | None) -> Yardstick:
    """The chunks after their document's title (a paper's first line, a PDF's title) and,
    for PDFs, the heading path: the variant with the title, measured and not shipped."""
    groups = []
    for group in yard.groups:
        if yard.name in PAGED:
            source = Path(next(iter(group.hits.values())).source)
            where = pdf_context(PAGED[yard.name][1] / source.name)
            heads = [where(group.hits[c].page) for c in group.ids]
        elif yard.name == "covidqa":
            assert papers is not None
            from ingest.longdocs import file_stem

            firsts = {file_stem(doc): t.split("\n", 1)[0] for doc, t in papers.items()}
            heads = [firsts.get(Path(group.hits[c].source).stem, "") for c in group.ids]
        else:  # SciFact: one chunk per abstract, its title already first
            return yard
        texts = [
            f"{head}\n\n{text}" if head and not text.startswith(head) else text
            for head, text in zip(heads, group.texts, strict=True)
        ]
        vectors = embed_cached(model, texts, f"{yard.name}-{len(groups)}")
        groups.append(Group(group.ids, texts, vectors, group.hits, group.questions))
    return Yardstick(yard.name, yard.metric, groups, yard.half, yard.qrels)


def embed_cached(model: Embedder, texts: list[str], name: str) -> np.ndarray:
    import hashlib

    key = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:20]
    path = CACHE / f"context-{name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    log.info("embedding %d contextual chunks of %s", len(texts), name)
    vectors = np.concatenate(
        [model.embed_documents(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# -- rankings and their replay ----------------------------------------------------------------


Ranked = list[tuple[str, float]]


@dataclass
class Pools:
    dense: dict[str, Ranked]
    lexical: dict[str, Ranked]
    hits: dict[str, Hit]


def rm3(built: bm25.Bm25Index, tokens: list[list[str]], query: str, *, k: int) -> Ranked:
    """BM25 with RM3 feedback: the relevance model of the first RM3_DOCS results (each
    result's term distribution weighted by its share of their scores), its RM3_TERMS best
    terms mixed with the query's own at RM3_ORIGINAL, and the corpus scored again with the
    mixed weights. A query without results keeps its plain ranking (none)."""
    first = built.search(query, k=RM3_DOCS)
    asked = [t for t in built.tokenizer(query) if t in built.model.vocab_dict]
    if not first or not asked:
        return first
    position = {cid: n for n, cid in enumerate(built.ids)}
    total = sum(s for _, s in first)
    model: dict[str, float] = {}
    for cid, s in first:
        doc = tokens[position[cid]]
        for term in doc:
            model[term] = model.get(term, 0.0) + (s / total) / len(doc)
    best = sorted(model.items(), key=lambda item: -item[1])[:RM3_TERMS]
    norm = sum(w for _, w in best)
    weights = {t: RM3_ORIGINAL * asked.count(t) / len(asked) for t in set(asked)}
    for term, w in best:
        if term in built.model.vocab_dict:
            weights[term] = weights.get(term, 0.0) + (1 - RM3_ORIGINAL) * w / norm
    scores = np.zeros(len(built.ids), dtype=np.float64)
    for term, w in weights.items():
        scores += w * np.asarray(built.model.get_scores([term]), dtype=np.float64)
    top = np.argsort(-scores, kind="stable")[:k]
    return [(built.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def pools(
    yard: Yardstick, queries: dict[str, np.ndarray], *, prf: float = 0.0, rm3_on: bool = False
) -> Pools:
    """Both rankers' candidates per question; with ``prf``, the dense query moves that far
    towards the mean of its first PRF_DOCS results and searches again (Rocchio); with
    ``rm3_on``, the BM25 side is RM3's."""
    dense: dict[str, Ranked] = {}
    lexical: dict[str, Ranked] = {}
    hits: dict[str, Hit] = {}
    for group in yard.groups:
        built = bm25.Bm25Index.build(group.ids, group.texts)
        tokens = [built.tokenizer(t) for t in group.texts] if rm3_on else []
        hits.update(group.hits)
        for qid, text in group.questions.items():
            sims = group.vectors @ queries[text]
            top = np.argsort(-sims, kind="stable")[:DEPTH]
            if prf:
                moved = queries[text] + prf * group.vectors[top[:PRF_DOCS]].mean(axis=0)
                sims = group.vectors @ (moved / np.linalg.norm(moved))
                top = np.argsort(-sims, kind="stable")[:DEPTH]
            dense[qid] = [(group.ids[i], float(sims[i])) for i in top]
            lexical[qid] = (
                rm3(built, tokens, text, k=DEPTH) if rm3_on else built.search(text, k=DEPTH)
            )
    return Pools(dense, lexical, hits)


def sentences(question: str) -> list[str]:
    """A question's sentences; one when it has only one."""
    return [s.strip() for s in SENTENCE_END.split(question.strip()) if s.strip()]


def focused(
    yard: Yardstick,
    queries: dict[str, np.ndarray],
    sentence_vectors: dict[str, np.ndarray],
    lam: float,
) -> dict[str, np.ndarray]:
    """Each question's dense query moved ``lam`` towards its most telling sentence: the one
    whose top cosine over its own document's chunks stands out most (z-score against the
    first DEPTH), so wrapper instructions, which match nothing in particular, weigh less."""
    out = dict(queries)
    for group in yard.groups:
        for text in group.questions.values():
            parts = sentences(text)
            if len(parts) < 2:
                continue

            best = max(parts, key=lambda p, g=group: standing(g.vectors, sentence_vectors[p]))
            moved = queries[text] + lam * sentence_vectors[best]
            out[text] = (moved / np.linalg.norm(moved)).astype(np.float32)
    return out


def standing(vectors: np.ndarray, query: np.ndarray) -> float:
    """How far the query's best cosine stands out of its first DEPTH (a z-score)."""
    sims = np.sort(vectors @ query)[::-1][:DEPTH]
    return float((sims[0] - sims.mean()) / (sims.std() or 1.0))


def rrf(k: int, weight: float) -> Callable[[Ranked, Ranked], Ranked]:
    def fuse(dense: Ranked, lexical: Ranked) -> Ranked:
        return reciprocal_rank_fusion(
            [[c for c, _ in dense], [c for c, _ in lexical]], weights=[weight, 1.0], k=k
        )

    return fuse


def minmax(alpha: float) -> Callable[[Ranked, Ranked], Ranked]:
    def scaled(ranked: Ranked) -> dict[str, float]:
        if not ranked:
            return {}
        values = [s for _, s in ranked]
        low, span = min(values), max(values) - min(values)
        return {c: (s - low) / span if span else 1.0 for c, s in ranked}

    def fuse(dense: Ranked, lexical: Ranked) -> Ranked:
        d, b = scaled(dense), scaled(lexical)
        order = list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical]))
        scores = {c: alpha * d.get(c, 0.0) + (1 - alpha) * b.get(c, 0.0) for c in order}
        return sorted(scores.items(), key=lambda item: -item[1])

    return fuse


def zscores(ranked: Ranked) -> dict[str, float]:
    if not ranked:
        return {}
    values = np.asarray([s for _, s in ranked], dtype=np.float64)
    spread = float(values.std()) or 1.0
    return {c: (s - float(values.mean())) / spread for c, s in ranked}


def zfusion(alpha: float) -> Callable[[Ranked, Ranked], Ranked]:
    """Each ranker's scores as z-scores over its candidates (absent: the lowest seen)."""

    def fuse(dense: Ranked, lexical: Ranked) -> Ranked:
        d, b = zscores(dense), zscores(lexical)
        low_d, low_b = min(d.values(), default=0.0), min(b.values(), default=0.0)
        order = list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical]))
        scores = {c: alpha * d.get(c, low_d) + (1 - alpha) * b.get(c, low_b) for c in order}
        return sorted(scores.items(), key=lambda item: -item[1])

    return fuse


def confident(alpha: float) -> Callable[[Ranked, Ranked], Ranked]:
    """Min-max fusion whose dense share follows how far each ranker's top score stands out
    of its candidates (its z-score): a flat ranking says little about this question."""

    def fuse(dense: Ranked, lexical: Ranked) -> Ranked:
        zd = max(zscores(dense).values(), default=0.0)
        zb = max(zscores(lexical).values(), default=0.0)
        share = zd / (zd + zb) if zd + zb > 0 else 0.5
        return minmax(alpha * 2 * share if share < 0.5 else 1 - (1 - alpha) * 2 * (1 - share))(
            dense, lexical
        )

    return fuse


def by_page(ranked: Ranked, hits: dict[str, Hit], beta: float) -> Ranked:
    """The best chunk of each page first, pages ordered by best + beta * the others: the
    retriever's own ``rag.retrieval.fusion.by_page`` (``RAG_RANK_BY=pages``)."""
    return fusion.by_page(ranked, {c: fusion.page_of(hits[c]) for c, _ in ranked}, weight=beta)


Lever = Callable[[Ranked, Ranked], Ranked]


def score(
    yard: Yardstick,
    pool: Pools,
    lever: Lever,
    beta: float | None,
    judge: Callable[[str, list[Hit]], int | None] | None,
) -> dict[str, float]:
    """The yardstick's metric on each half for one lever."""
    out: dict[str, float] = {}
    ranked: dict[str, list[str]] = {}
    for qid in pool.dense:
        fused = lever(pool.dense[qid], pool.lexical[qid])
        if beta is not None:
            fused = by_page(fused, pool.hits, beta)
        ranked[qid] = [c for c, _ in fused[:100]]
    for half in ("tune", "report"):
        mine = [q for q in ranked if yard.half[q] == half]
        if judge is None:
            run = {q: list(dict.fromkeys(pool.hits[c].source for c in ranked[q])) for q in mine}
            qrels = yard.qrels[half]
            out[half] = round(float(evaluate(qrels, run, k=10)["ndcg@10"]), 5)
        else:
            ranks = [judge(q, [pool.hits[c] for c in ranked[q][:10]]) for q in mine]
            out[half] = round(sum(1 for r in ranks if r is not None and r <= 5) / len(mine), 5)
    return out


def levers() -> dict[str, Lever]:
    out: dict[str, Lever] = {
        "dense": lambda d, b: d,
        "bm25": lambda d, b: b,
    }
    for k, w in itertools.product(RRF_KS, DENSE_WEIGHTS):
        out[f"rrf k={k} w={w}"] = rrf(k, w)
    for alpha in ALPHAS:
        out[f"minmax a={alpha}"] = minmax(alpha)
        out[f"zscore a={alpha}"] = zfusion(alpha)
        out[f"confident a={alpha}"] = confident(alpha)
    return out


BEFORE = "rrf k=5 w=0.75"  # the fusion shipped before this script chose one, and still


def summarize(table: dict[str, dict[str, dict[str, float]]], names: list[str]) -> dict[str, Any]:
    """Each lever's mean over the yardsticks' halves, and the choices, made one after the
    other on the tuning halves, each kept only if it gains more than MARGIN:

    1. the fusion, over the chunks as the pipeline embeds them ("headings");
    2. page aggregation, over that fusion, and over the shipped fusion (``BEFORE``);
    2b. question focus, over that fusion (kept only with the margin, like the others);
    3. the chunk text (plain, headings, with the title, BM25 only) and dense PRF are
       reported beside it.
    """

    means: dict[str, dict[str, float]] = {}
    for key in table:
        cells = [lever_cell(table, key, name) for name in names]
        if any(c is None for c in cells):
            continue
        means[key] = {
            half: round(sum(c[half] for c in cells if c) / len(cells), 5)
            for half in ("tune", "report")
        }

    def pick(keys: list[str], baseline: str) -> str:
        best = max(keys, key=lambda key: means[key]["tune"])
        return best if means[best]["tune"] > means[baseline]["tune"] + MARGIN else baseline

    fusions = [k for k in means if k.startswith("headings | ") and " | page" not in k]
    fusion = pick(fusions, f"headings | {BEFORE}")
    pages = [k for k in means if k.startswith(fusion + " | page")]
    page = pick(pages, fusion)
    # page aggregation over the fusion that ships, which the rule's pick may not be (a pick
    # that loses a reporting half by more than the issue allows is not shipped)
    shipped = f"headings | {BEFORE}"
    on_shipped = pick([k for k in means if k.startswith(shipped + " | page")], shipped)
    lever = fusion.split(" | ")[1]
    focused_keys = [k for k in means if k.startswith("focus") and k.endswith(f" | {lever}")]
    focus = pick(focused_keys, fusion) if focused_keys else fusion
    return {
        "objective": "mean over the yardsticks of each half's metric; chosen on tune",
        "before": {"lever": f"plain | {BEFORE}", **means[f"plain | {BEFORE}"]},
        "fusion": {"lever": fusion, **means[fusion]},
        "page": {"lever": page, **means[page]},
        "page_on_shipped": {"lever": on_shipped, **means[on_shipped]},
        "focus": {"lever": focus, **means[focus]},
        "variants": {
            k: means[k] for k in means if k.split(" | ", 1)[1] == lever and " | page" not in k
        },
        "ranked": sorted(
            ({"lever": k, **v} for k, v in means.items()), key=lambda row: -row["tune"]
        )[:20],
    }


def load_or_build(name: str, build: Callable[[], Any], *, fresh: bool) -> Any:
    path = CACHE / f"{name}.pkl"
    if path.is_file() and not fresh:
        return pickle.loads(path.read_bytes())
    value = build()
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached pools")
    parser.add_argument("--no-context", action="store_true", help="skip contextual chunks")
    parser.add_argument(
        "--yardsticks",
        default="scifact,covidqa,pages,filings",
        help="a comma list; a run on fewer prints its summary and writes no results file",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env().replace(
        store_dir=ROOT / ".rag" / "bench-longdocs", chroma_url=None
    )
    model = load_model(settings.embedding)
    from rag.evaluation.longsets import load_squad

    papers = {f"{k}": v for k, v in load_squad(COVIDQA).papers.items()}
    started = time.perf_counter()
    yards = {
        "scifact": lambda: scifact(model),
        "covidqa": lambda: covidqa(model, settings),
        "pages": lambda: pages(model, settings),
        "filings": lambda: pages(model, settings, "filings"),
    }
    chosen = [y.strip() for y in args.yardsticks.split(",") if y.strip()]
    if not chosen or set(chosen) - set(yards):
        parser.error(f"--yardsticks takes a comma list of {', '.join(yards)}")
    yards = {name: yards[name] for name in chosen}
    results: dict[str, Any] = {"yardsticks": {}, "depth": DEPTH, "margin": MARGIN}
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, build in yards.items():
        yard = load_or_build(f"yard-{name}", build, fresh=args.fresh)
        variants = {"plain": yard}
        if not args.no_context:
            variants["headings"] = headings(yard, model)
            variants["title+headings"] = contextual(yard, model, papers)
            # a variant that changes nothing here is scored as plain (summarize's fallback)
            variants = {k: v for k, v in variants.items() if k == "plain" or v is not yard}
        judge = judge_for(name)
        texts = {t for g in yard.groups for t in g.questions.values()}
        queries = load_or_build(
            f"queries-{name}",
            lambda texts=texts: {t: model.embed_query(t) for t in texts},  # type: ignore[misc]
            fresh=args.fresh,
        )
        results["yardsticks"][name] = {
            "metric": yard.metric,
            "questions": {h: sum(v == h for v in yard.half.values()) for h in ("tune", "report")},
        }
        built = {variant: pools(y, queries) for variant, y in variants.items()}
        if "title+headings" in built:
            built["title+headings, BM25 only"] = Pools(
                built["plain"].dense, built["title+headings"].lexical, built["plain"].hits
            )
        for prf in PRFS:
            built[f"prf{prf}"] = pools(yard, queries, prf=prf)
        # RM3 over the chunks as shipped (with their heading paths where there are any)
        built["rm3"] = pools(variants.get("headings", yard), queries, rm3_on=True)
        # built on every yardstick (the same as "headings" where no question has two
        # sentences), so each is scored as itself, not as a fallback
        parts = {p for t in texts for p in sentences(t) if len(sentences(t)) > 1}
        by_sentence = load_or_build(
            f"sentences-{name}",
            lambda parts=parts: {p: model.embed_query(p) for p in parts},  # type: ignore[misc]
            fresh=args.fresh,
        )
        shipped = variants.get("headings", yard)
        for lam in FOCUS:
            built[f"focus{lam}"] = pools(shipped, focused(shipped, queries, by_sentence, lam))
        for variant, pool in built.items():
            y = variants.get(
                variant, variants.get("headings", yard) if "focus" in variant else yard
            )
            for label, lever in levers().items():
                for beta in BETAS:
                    if beta is not None and name not in PAGED:
                        continue  # no pages: aggregation is the identity
                    key = f"{variant} | {label}" + ("" if beta is None else f" | page b={beta}")
                    table.setdefault(key, {})[name] = score(y, pool, lever, beta, judge)
                    log.info("%s %s: %s", name, key, table[key][name])
    results["table"] = table
    results["summary"] = summarize(table, list(yards))
    results["seconds"] = round(time.perf_counter() - started, 1)
    if len(yards) < 4:
        print(json.dumps(results["summary"], indent=2))
        return 0
    path = write_result("levers", results)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
