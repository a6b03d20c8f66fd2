"""Choose the extractive answer's constants on the tuning halves (issue 24): the weights of
``rag.answers.quote_scores.QuoteWeights``, how many passages quotes come from, the spread and
how many sentences follow the best quote; each variant replayed from the hits
``bench/extractive_hits.py`` kept, graded by ``rag.evaluation.grading`` as
``rag eval --answers`` grades it.

    nice -n 10 .venv/bin/python bench/extractive_tune.py [--sets covidqa,howto,pages,filings]

Every question's candidate units are embedded once (cached by text under the store), then
each variant only re-weights and re-selects. The objective is the mean, over the sets'
TUNING halves, of the share of gradable questions whose answer states the gold, answering
every question (the abstain cut is calibrated apart, by bench/calibrate_abstain.py); the
reporting halves are printed beside it for the record and choose nothing. A constant moves
from its shipped value only when that raises the objective by more than ``MARGIN``, or when
it leaves every set's tuning half stating exactly as often and the filings' tuning half
quotes more of its line items (below) by more than ``MARGIN``. The
extractor before issue 24 (``bench/legacy_extractive.py``) is scored on the same hits.

For the filings' table questions (``kind`` table), where most golds are computed from
several rows and no quote can state them, each answer is also read for the line items the
annotators' justification names ("... a single line item named: Capital spending."): the
share of those rows the answer quotes, by name and figure (``line_items``), and the share
found in the retrieved passages at all (``line_items_retrieved``: what retrieval left to
choose from); the second criterion above. Writes bench/results/extractive_tune.json, with
each constant's other values at the chosen point (``around_chosen``: what the margin
weighed), and the share of each half's questions whose gold the first 3 and 5 retrieved
passages state (``gold_in_passages``: what no variant can do better than).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench import legacy_extractive as legacy  # noqa: E402
from bench.answers import FILINGS  # noqa: E402
from bench.extractive_hits import STORE, questions_of  # noqa: E402
from bench.provenance import write_result  # noqa: E402
from rag.answers import extractive  # noqa: E402
from rag.answers.answer_types import expected_kind  # noqa: E402
from rag.answers.quote_scores import QuoteWeights, Signals  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding.types import Embedder  # noqa: E402
from rag.evaluation.answersets import AnswerQuestion  # noqa: E402
from rag.evaluation.grading import grade  # noqa: E402
from rag.store.index import load_model  # noqa: E402
from rag.types import Answer, Citation, Hit  # noqa: E402

SETS = ("covidqa", "howto", "pages", "filings")
GRID = {
    "lexical": (0.0, 0.15, 0.3, 0.5, 0.8, 1.2),
    "code": (0.0, 0.1, 0.2, 0.3),
    "heading": (0.0, 0.1, 0.2),
    "rank": (0.0, 0.05, 0.1, 0.2),
    "near": (0.0, 0.3, 0.6, 1.0),
    "expected": (0.0, 0.05, 0.1, 0.2, 0.3),
    "label": (0.0, 0.1, 0.2, 0.3, 0.5),
    "year": (0.0, 0.05, 0.1),
    "command": (0.0, 0.1, 0.2, 0.3),
}
PASSAGES = (3, 5)
ROW_PASSAGES = (3, 5)  # table rows for a figure question from this many passages
SPREADS = (0.15, 1.0)
COMPANIONS = ("none", "before")
FOLLOWS = (0, 1, 2)  # prose sentences after the best quote, in its paragraph
# a constant leaves its current value only for more than this gain of the objective: one
# question must not buy a constant, and one of the manuals' 37 tuning questions is 0.0068 of
# the four sets' mean (a how-to question 0.0053); at 0.005 one manuals question moved the
# row-label weight (982b5d8)
MARGIN = 0.01
_LINE_ITEM = re.compile(r"line item (?:named|name, as seen in the 10K, was): (.+?)\.(?:\s|$)")


@dataclass
class Case:
    """One question with its hits, gold and (per passage count) its scored candidates."""

    set: str
    question: AnswerQuestion
    hits: list[Hit]
    # per (passages, row passages): the candidates, their signals and vectors
    candidates: dict[tuple[int, int], tuple[list[extractive.Sentence], list[Signals], np.ndarray]]
    line_items: tuple[str, ...] = ()  # a filings table question's line items, normalised


class Vectors:
    """Unit and query embeddings, cached by text on disk between runs."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.embedder = embedder
        self.path = path
        self.docs: dict[str, np.ndarray] = {}
        self.queries: dict[str, np.ndarray] = {}
        if path.exists():
            saved = np.load(path, allow_pickle=True)
            self.docs = dict(zip(saved["doc_texts"].tolist(), saved["docs"], strict=True))
            self.queries = dict(zip(saved["query_texts"].tolist(), saved["queries"], strict=True))

    def fill(self, docs: Sequence[str], queries: Sequence[str]) -> None:
        new = sorted(set(docs) - set(self.docs))
        for start in range(0, len(new), 512):
            batch = new[start : start + 512]
            self.docs.update(zip(batch, self.embedder.embed_documents(batch), strict=True))
            print(f"\r  embedded {start + len(batch)}/{len(new)} units", end="", file=sys.stderr)
        for q in set(queries) - set(self.queries):
            self.queries[q] = self.embedder.embed_query(q)
        if new:
            print(file=sys.stderr)
            self.save()

    def save(self) -> None:
        np.savez(
            self.path,
            doc_texts=np.array(list(self.docs), dtype=object),
            docs=np.stack(list(self.docs.values())),
            query_texts=np.array(list(self.queries), dtype=object),
            queries=np.stack(list(self.queries.values())),
        )


def load_cases(store: Path, sets: Sequence[str], pages_docs: Path) -> list[Case]:
    cases = []
    items = line_items() if "filings" in sets else {}
    for name in sets:
        golds = {q.id: q for q in questions_of(name, pages_docs)}
        rows = json.loads((store / f"hits-{name}.json").read_text(encoding="utf-8"))
        for row in rows:
            hits = [Hit(**h) for h in row["hits"]]
            named = items.get(row["id"], ()) if name == "filings" else ()
            cases.append(Case(name, golds[row["id"]], hits, {}, named))
    return cases


def line_items() -> dict[str, tuple[str, ...]]:
    """The line items each filings table question's justification names, normalised."""
    data = json.loads((FILINGS / "questions.json").read_text(encoding="utf-8"))
    return {
        q["id"]: tuple(plain(m) for m in _LINE_ITEM.findall(q.get("justification", "")))
        for q in data["questions"]
        if q.get("kind") == "table"
    }


def plain(text: str) -> str:
    """Lower case, one space, no stray "Â" of a mis-decoded no-break space."""
    text = unicodedata.normalize("NFKC", text).replace("Â", " ")
    return " ".join(text.split()).lower()


def prepare(cases: list[Case], vectors: Vectors) -> None:
    texts: list[str] = []
    for case in cases:
        numbered = list(enumerate(case.hits, start=1))
        texts += [
            s.text
            for s in extractive.candidates(
                numbered, passages=max(PASSAGES), row_passages=max(ROW_PASSAGES)
            )
        ]
        texts += [
            s for _, h in numbered[: legacy.MAX_PASSAGES] for s in legacy.split_sentences(h.text)
        ]
    vectors.fill(texts, [c.question.question for c in cases])
    for case in cases:
        numbered = list(enumerate(case.hits, start=1))
        q = vectors.queries[case.question.question]
        headings = {n: h.header_path for n, h in numbered}
        figure = expected_kind(case.question.question) == "number"
        for p, r in itertools.product(PASSAGES, ROW_PASSAGES):
            found = extractive.candidates(numbered, passages=p, row_passages=r if figure else 0)
            if not found:
                case.candidates[p, r] = ([], [], np.zeros((0, q.shape[0])))
                continue
            unit_vectors = np.stack([vectors.docs[s.text] for s in found])
            cosines = [float(x) for x in unit_vectors @ q]
            sig = extractive.signals(case.question.question, found, cosines, headings)
            case.candidates[p, r] = (found, sig, unit_vectors)


@dataclass(frozen=True)
class Variant:
    weights: QuoteWeights
    passages: int
    spread: float
    companions: str = "both"
    row_passages: int = extractive.ROW_PASSAGES
    follow: int = extractive.FOLLOW

    def name(self) -> str:
        w = ", ".join(f"{f.name}={getattr(self.weights, f.name)}" for f in fields(QuoteWeights))
        return (
            f"{w}; passages={self.passages}; row_passages={self.row_passages}; "
            f"spread={self.spread}; companions={self.companions}; follow={self.follow}"
        )


def with_value(v: Variant, axis: str, value: Any) -> Variant:
    if axis in GRID:
        return replace(v, weights=replace(v.weights, **{axis: value}))
    return replace(v, **{axis: value})


def answer_new(case: Case, v: Variant) -> Answer:
    found, sig, unit_vectors = case.candidates[v.passages, v.row_passages]
    if not found:
        return Answer(text="", mode="extractive", hits=tuple(case.hits))
    scores = extractive.scored(found, sig, v.weights)
    chosen = extractive.select(found, scores, unit_vectors, spread=v.spread)
    chosen = extractive.with_followers(chosen, found, follow=v.follow)
    if v.companions != "none":
        chosen = extractive.with_companions(chosen, found, after=v.companions == "both")
    chosen = extractive.in_reading_runs(chosen)
    cited = extractive.cite(chosen, case.hits)
    return Answer(
        text="".join(extractive.render(chosen)), mode="extractive", citations=tuple(cited),
        hits=tuple(case.hits),
    )  # fmt: skip


def answer_legacy(case: Case, vectors: Vectors) -> Answer:
    numbered = list(enumerate(case.hits, start=1))
    found = [
        legacy.Sentence(s, n, i)
        for n, h in numbered[: legacy.MAX_PASSAGES]
        for i, s in enumerate(legacy.split_sentences(h.text))
    ]
    if not found:
        return Answer(text="", mode="extractive", hits=tuple(case.hits))
    unit_vectors = np.stack([vectors.docs[s.text] for s in found])
    scores = [float(x) for x in unit_vectors @ vectors.queries[case.question.question]]
    chosen = legacy.select(found, scores, unit_vectors)
    return composed(case, "".join(legacy.render(chosen)), [s.n for s in chosen])


def composed(case: Case, text: str, numbers: list[int]) -> Answer:
    cited = [Citation(n, case.hits[n - 1]) for n in dict.fromkeys(numbers)]
    return Answer(text=text, mode="extractive", citations=tuple(cited), hits=tuple(case.hits))


def score(
    cases: Sequence[Case],
    answer: Callable[[Case], Answer],
    halves: Sequence[str] = ("tune", "report"),
) -> dict[str, Any]:
    """Per set and half: the share of gradable questions whose answer states the gold (every
    question answered), and the median length."""
    out: dict[str, Any] = {}
    for (name, half), group in itertools.groupby(
        sorted(
            (c for c in cases if c.question.half in halves), key=lambda c: (c.set, c.question.half)
        ),
        key=lambda c: (c.set, c.question.half),
    ):
        stated, lengths, items, retrieved = [], [], [], []
        for case in group:
            a: Answer | None = None
            if case.line_items:
                a = answer(case)
                items.append(quoted_share(case.line_items, a.text))
                passages = plain(" ".join(h.text for h in case.hits))
                retrieved.append(quoted_share(case.line_items, passages))
            if not case.question.gold.gradable:
                continue
            a = a or answer(case)
            stated.append(bool(grade(a, case.question.gold).stated))
            lengths.append(len(a.text))
        out[f"{name}/{half}"] = {
            "questions": len(stated),
            "stated": round(sum(stated) / max(len(stated), 1), 4),
            "median_chars": statistics.median(lengths) if lengths else 0,
            **(
                {
                    "table_questions": len(items),
                    "line_items": round(statistics.fmean(items), 4),
                    "line_items_retrieved": round(statistics.fmean(retrieved), 4),
                }
                if items
                else {}
            ),
        }
    return out


def gold_in_passages(cases: Sequence[Case], depths: Sequence[int] = (3, 5)) -> dict[str, Any]:
    """Per set and half: the share of gradable questions whose gold one of the first ``depth``
    retrieved passages states, for each depth: what retrieval leaves every variant to quote
    from (quotes come from the first ``extractive.MAX_PASSAGES``)."""
    out: dict[str, Any] = {}
    for case in cases:
        if not case.question.gold.gradable:
            continue
        row = out.setdefault(f"{case.set}/{case.question.half}", {"questions": 0})
        row["questions"] += 1
        for depth in depths:
            held = any(case.question.gold.stated_in(h.text, context="") for h in case.hits[:depth])
            row[str(depth)] = row.get(str(depth), 0) + held
    for row in out.values():
        for depth in depths:
            row[str(depth)] = round(row.get(str(depth), 0) / row["questions"], 4)
    return dict(sorted(out.items()))


def quoted_share(items: Sequence[str], text: str) -> float:
    """The share of ``items`` (line item names) that ``text`` holds as a table row: the
    name, then a figure ("capital spending (4,625)"), not the name in a sentence ("net
    capital spending of $4.5 billion")."""
    flat = plain(text)
    found = sum(
        1 for item in items if re.search(re.escape(item) + r"[,:]?\s*[$€£(—–-]*\s*\d", flat)
    )
    return found / len(items) if items else 0.0


def gains_over(
    tried: dict[str, dict[str, Any]],
    v: Variant,
    current: Variant,
    sets: Sequence[str],
    evaluate: Callable[[Variant], float],
) -> bool:
    """Whether ``v`` is worth leaving ``current`` for: the objective higher by more than
    ``MARGIN``; or, when every set's tuning half states exactly as often (the filings' row
    signals change no gradable answer of the other sets, and few of the filings' golds can be
    quoted at all), the filings' tuning half quoting more of its line items by more than
    ``MARGIN``."""
    if evaluate(v) > evaluate(current) + MARGIN:
        return True
    mine, theirs = tried[v.name()], tried[current.name()]
    same = all(mine[f"{s}/tune"]["stated"] == theirs[f"{s}/tune"]["stated"] for s in sets)
    return same and items_of(mine) > items_of(theirs) + MARGIN


def items_of(row: dict[str, Any]) -> float:
    """The filings' tuning half's share of line items quoted (0 without the filings)."""
    return float(row.get("filings/tune", {}).get("line_items", 0.0))


def tuning_mean(result: dict[str, Any], sets: Sequence[str]) -> float:
    return float(np.mean([result[f"{s}/tune"]["stated"] for s in sets if f"{s}/tune" in result]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--pages-docs", type=Path, default=ROOT / ".rag" / "bench-pdfs")
    parser.add_argument("--store", type=Path, default=STORE)
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    settings = Settings.from_env()
    cases = load_cases(args.store, sets, args.pages_docs)
    vectors = Vectors(load_model(settings.embedding), args.store / "extractive-vectors.npz")
    prepare(cases, vectors)
    before = score(cases, lambda c: answer_legacy(c, vectors))
    print(f"before: tuning mean {tuning_mean(before, sets):.4f} {before}", file=sys.stderr)
    # as rag.answers.extractive ships it: each prose quote after the code line just before it
    shipped = Variant(
        QuoteWeights(), extractive.MAX_PASSAGES, extractive.SPREAD, "before",
        extractive.ROW_PASSAGES, extractive.FOLLOW,
    )  # fmt: skip
    tried: dict[str, dict[str, Any]] = {}

    def evaluate(v: Variant) -> float:
        if v.name() not in tried:
            result = score(cases, lambda c: answer_new(c, v), ("tune",))
            weights = {f.name: getattr(v.weights, f.name) for f in fields(QuoteWeights)}
            tried[v.name()] = {
                "variant": v.name(), "tuning_mean": tuning_mean(result, sets), **result,
                "weights": weights, "passages": v.passages, "spread": v.spread,
                "companions": v.companions, "row_passages": v.row_passages,
                "follow": v.follow,
            }  # fmt: skip
            print(f"{tried[v.name()]['tuning_mean']:.4f} {v.name()}", file=sys.stderr)
        return float(tried[v.name()]["tuning_mean"])

    # coordinate ascent from the shipped values: each constant in turn over its grid, the
    # others held, until a whole pass changes nothing (a full grid is hours on 2 cores)
    current = shipped
    axes: list[tuple[str, Sequence[Any]]] = [
        *GRID.items(), ("passages", PASSAGES), ("spread", SPREADS), ("companions", COMPANIONS),
        ("row_passages", ROW_PASSAGES), ("follow", FOLLOWS),
    ]  # fmt: skip
    for _ in range(3):
        before_pass = current
        for axis, values in axes:
            options = [with_value(current, axis, value) for value in values]
            gains = [v for v in options if gains_over(tried, v, current, sets, evaluate)]
            if gains:
                current = max(gains, key=lambda v: (evaluate(v), items_of(tried[v.name()])))
        if current == before_pass:
            break
    # each constant's other values with the rest as chosen: what the margin kept it from
    around = {
        axis: {str(value): round(evaluate(with_value(current, axis, value)), 4) for value in values}
        for axis, values in axes
    }
    ranked = sorted(tried.values(), key=lambda r: -r["tuning_mean"])
    best = tried[current.name()]
    for row in [best, *ranked[:10]]:  # the reporting halves, for the record only
        if any(key.endswith("/report") for key in row):
            continue
        v = Variant(
            QuoteWeights(**row["weights"]), row["passages"], row["spread"], row["companions"],
            row["row_passages"], row["follow"],
        )  # fmt: skip
        row.update(score(cases, lambda c, v=v: answer_new(c, v), ("report",)))  # type: ignore[misc]
    print(f"chosen: {best['variant']} {best['tuning_mean']:.4f}", file=sys.stderr)
    shipped_result = score(cases, lambda c: answer_new(c, shipped))
    payload = {
        "sets": sets,
        "objective": "mean over the sets' tuning halves of the share of gradable questions "
        "whose answer states the gold, every question answered",
        "margin": MARGIN,
        "before": {"tuning_mean": tuning_mean(before, sets), **before},
        "shipped": {
            "variant": shipped.name(),
            "tuning_mean": tuning_mean(shipped_result, sets),
            **shipped_result,
        },
        "chosen": best,
        "around_chosen": around,
        "gold_in_passages": gold_in_passages(cases),
        "tried": len(tried),
        "top": ranked[:20],
    }
    write_result("extractive_tune", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
