"""The answer made without an LLM: the units of the top passages (prose sentences, code
lines, definitions, table rows: ``rag.answers.sentence_units``) that best answer the question, best
first, each under the heading of its section and followed by the ``[n]`` of its passage;
each citation holds the units quoted from its passage (``cite``).

A unit's score is the embedding's cosine to the question plus the weighted signals of
``rag.answers.quote_scores`` (sentence-level BM25, a code line naming what the question names, the
section heading, the passage's rank). The answer's *evidence*, what the abstain decision
reads, is taken from the quotes chosen and their passages (``evidence``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from rag.answers.answer_types import asks_command, expected_kind, holds, names_command
from rag.answers.question_words import asking_sentence, subject_terms, subject_words
from rag.answers.quote_scores import (
    QuoteWeights,
    Signals,
    coverage,
    names_asked,
    sentence_bm25,
    with_neighbours,
)
from rag.answers.sentence_units import (
    CLIPPED,
    MAX_CHARS,
    MIN_WORDS,
    SENTENCE_ENDS,
    units_of,
    without_reference_marks,
)
from rag.answers.table_rows import (
    TableHeader,
    asked_years,
    column_years,
    headers_by_row,
    label_share,
    split_row,
)
from rag.embedding.types import Embedder, Vectors
from rag.retrieval.bm25 import tokenize
from rag.types import Citation, Hit

__all__ = [
    "MAX_CHARS",
    "MIN_WORDS",
    "Extract",
    "Sentence",
    "cite",
    "extract",
    "render",
    "select",
    "split_sentences",
]

MAX_PASSAGES = 3  # units come from the best passages only
# ...and, for a question that asks for a figure, table rows from this many: a statement's
# row is often in the fourth or fifth passage, under prose that names it in words
ROW_PASSAGES = 3
MAX_SENTENCES = 3
# keep units within this score of the best one: no cut gained on the tuning halves (a third
# quote states the gold more often than it misleads), so three are always quoted
SPREAD = 1.0
# the prose sentences after the best quote that join it as one paragraph: a passage's best
# sentence often opens what the next one finishes ("Recent data suggest a 25% decrease in
# the incidence of pneumonia, ..." then the figures for 2000 and 2015); chosen on the
# tuning halves by bench/extractive_tune.py (bench/results/extractive_tune.json)
FOLLOW = 1
DUPLICATE = 0.92  # two units this similar say the same thing (chunks overlap)
# What the share of the question's terms found in the quotes adds to the passage's cosine
# in the evidence the abstain cut reads: chosen with the cut on the calibration questions
# by bench/calibrate_abstain.py (bench/results/abstain.json; a test keeps the two equal).
EVIDENCE_TERMS = 0.0
# a page number at either end of a line: "gnuplot 5.4 99", "62 gnuplot 5.4"
_PAGE_NUMBER_AT_END = re.compile(r"^\d{1,4}\s+|\s+\d{1,4}$")


@dataclass(frozen=True)
class Sentence:
    text: str
    n: int  # the 1-based number of the hit it comes from
    position: int  # order inside that hit
    score: float = 0.0
    kind: str = "prose"  # rag.answers.sentence_units.Kind
    heading: str = ""  # the section it sits under (the last part of its heading path)
    # a table row's units and column years that its heading does not show ("(in millions) ·
    # 2021 2020 2019"): what its numbers are
    table: str = ""
    years: tuple[str, ...] = ()  # a table row's column years, in order


@dataclass(frozen=True)
class Extract:
    """The quotes of an answer, best first, and what their evidence is made of: the best
    cosine of the passages they were chosen from, and the share of the question's terms
    that the quotes and their headings contain."""

    sentences: list[Sentence] = field(default_factory=list)
    cosine: float = -1.0
    terms: float = 0.0

    def evidence(self, terms_weight: float = EVIDENCE_TERMS) -> float:
        """How strongly the quotes answer (``evidence``); -1 without quotes."""
        return evidence(self.cosine, self.terms, terms_weight) if self.sentences else -1.0


def split_sentences(text: str) -> list[str]:
    """The quotable units of a passage as text (``rag.answers.sentence_units.units_of``)."""
    return [u.text for u in units_of(text)]


def section_of(hit: Hit) -> str:
    """The most specific heading a passage sits under: the last part of its path."""
    return hit.header_path.rsplit(">", 1)[-1].strip()


def candidates(
    numbered: Sequence[tuple[int, Hit]], *, passages: int = MAX_PASSAGES, row_passages: int = 0
) -> list[Sentence]:
    """The units of the first ``passages`` hits, and the table rows of the hits after them
    up to ``row_passages``; each row with the header its table gives it."""
    out: list[Sentence] = []
    running = running_lines([hit for _, hit in numbered])
    for at, (n, hit) in enumerate(numbered[: max(passages, row_passages)]):
        heading = section_of(hit)
        units = units_of(hit.text)
        rows = [u.text for u in units if u.kind == "row"]
        headers = headers_by_row(hit.text, hit.header_path, rows)
        for i, u in enumerate(units):
            if at >= passages and u.kind != "row":
                continue
            if u.kind == "row" and column_years(u.text):
                continue  # a header of years: what the rows under it are read by, no answer
            if u.kind in ("prose", "item") and is_title(u.text, hit.header_path):
                continue
            if u.kind != "code" and running_key(u.text) in running:
                continue
            header = headers.get(u.text, TableHeader())
            if len(split_row(u.text)[1]) != len(header.years):
                # years that do not fit the row's cells would name the wrong column
                header = TableHeader(units=header.units)
            out.append(Sentence(u.text, n, i, kind=u.kind, heading=u.section or heading,
                                table=header.shown(heading), years=header.years))  # fmt: skip
    return out


def running_lines(hits: Sequence[Hit]) -> frozenset[str]:
    """The lines that open passages of two or more pages of one document among ``hits``,
    their page numbers aside (``running_key``): a running header ("Table of Contents", the
    company's name, "gnuplot 5.4 99"), which pages keep in their text and which answered
    "What was PepsiCo's net revenue in 2022?" as an entry of a list."""
    pages: dict[str, set[tuple[str, int | None]]] = {}
    for hit in hits:
        first = next((" ".join(line.split()) for line in hit.text.splitlines() if line.strip()), "")
        key = running_key(first)
        if key:
            pages.setdefault(key, set()).add((hit.source, hit.page))
    return frozenset(
        key
        for key, where in pages.items()
        if len(where) >= 2 and len({source for source, _ in where}) == 1
    )


def running_key(line: str) -> str:
    """``line`` without a page number at either end: "gnuplot 5.4 99" on one page is
    "gnuplot 5.4 100" on the next."""
    return _PAGE_NUMBER_AT_END.sub("", line).strip()


TITLE_SHARE = 0.5  # a "sentence" at least this much made of its heading's words is a title


def is_title(text: str, header_path: str) -> bool:
    """A prose unit that is its passage's heading again: no sentence end, and at least half
    its terms in the heading path. A statement page's chunk opens with its title lines,
    which are joined into one "sentence" ("Table of Contents Consolidated Statement of Cash
    Flows PepsiCo, Inc. and Subsidiaries") and were quoted first; the heading is shown
    beside the quotes anyway."""
    terms = tokenize(text)
    if not header_path or not terms or text[-1:] in SENTENCE_ENDS:
        return False
    heading = set(tokenize(header_path))
    return sum(t in heading for t in terms) / len(terms) >= TITLE_SHARE


def signals(
    question: str,
    found: Sequence[Sentence],
    cosines: Sequence[float],
    headings: dict[int, str],
) -> list[Signals]:
    """Each candidate's signals (``rag.answers.quote_scores``), from its cosine to the question."""
    terms = subject_terms(question)
    words = subject_words(question)
    lexical = sentence_bm25(terms, [tokenize(s.text) for s in found])
    heading_share = {n: coverage(terms, tokenize(h)) for n, h in headings.items()}
    kind = expected_kind(question)
    figure = kind == "number"  # a row's label and columns answer a question for a figure
    years = asked_years(question)
    asked = subject_terms(asking_sentence(question))  # not the instructions around it
    how_to = asks_command(question)
    return [
        Signals(
            cosine=cosines[i],
            lexical=lexical[i],
            code=names_asked(s.text, words) if s.kind in ("code", "item") else 0.0,
            heading=heading_share.get(s.n, 0.0),
            rank=1.0 / s.n,
            expected=holds(s.text, kind),
            label=label_share(asked, split_row(s.text)[0]) if figure and s.kind == "row" else 0.0,
            year=1.0 if figure and set(years) & set(s.years) else 0.0,
            command=names_command(s.text, s.kind) if how_to else 0.0,
        )
        for i, s in enumerate(found)
    ]


def scored(found: Sequence[Sentence], sig: Sequence[Signals], w: QuoteWeights) -> list[float]:
    """Each candidate's score: its weighted signals, code lines lifted by their prose."""
    own = [s.score(w) for s in sig]
    return with_neighbours(own, [(s.n, s.position, s.kind) for s in found], w.near)


def select(
    sentences: Sequence[Sentence],
    scores: Sequence[float],
    vectors: Vectors,
    *,
    limit: int = MAX_SENTENCES,
    spread: float = SPREAD,
) -> list[Sentence]:
    """The best-scoring units, near-duplicates removed, best first."""
    order = sorted(range(len(sentences)), key=lambda i: -scores[i])
    chosen: list[int] = []
    for i in order:
        if len(chosen) == limit or scores[i] < scores[order[0]] - spread:
            break
        if any(float(vectors[i] @ vectors[j]) >= DUPLICATE for j in chosen):
            continue
        chosen.append(i)
    return [replace(sentences[i], score=scores[i]) for i in chosen]


def with_companions(
    chosen: Sequence[Sentence], found: Sequence[Sentence], *, after: bool = False
) -> list[Sentence]:
    """``chosen`` with each prose quote's code companions when they are not quoted already:
    the code line or definition just before it (a manual's explanation says what the line
    before it does: "will divert all subsequent output ..." after ``> sink("record.lis")``)
    and, with ``after``, the one just after it ("R has a function hist to plot
    histograms." then ``> hist(eruptions)``; measured, no gain on the tuning halves, so not
    shipped), which a quote that stops where the line takes over always brings
    (``_runs_on``). The line is what the reader types."""
    at = {(s.n, s.position): s for s in found}
    taken = {(s.n, s.position) for s in chosen}
    out: list[Sentence] = []

    def companion(s: Sentence, step: int) -> list[Sentence]:
        other = at.get((s.n, s.position + step))
        if s.kind not in ("prose", "item") or other is None or other.kind not in ("code", "item"):
            return []
        if s.kind == "item" and other.kind != "code":
            return []  # a list's entries stand alone; a program's output follows its command
        if (other.n, other.position) in taken:
            return []
        taken.add((other.n, other.position))
        return [replace(other, score=s.score)]

    for s in chosen:
        out += [*companion(s, -1), s, *(companion(s, 1) if after or _runs_on(s) else [])]
    return out


def with_followers(
    chosen: Sequence[Sentence], found: Sequence[Sentence], *, follow: int = FOLLOW
) -> list[Sentence]:
    """``chosen`` and, after them, up to ``follow`` prose sentences that come right after
    the best quote in its passage and section, when the best quote is prose and they are
    not quoted already. ``in_reading_runs`` then puts them where the best quote is, and
    ``render`` reads them as its paragraph."""
    if not chosen or follow <= 0 or chosen[0].kind != "prose":
        return list(chosen)
    best = chosen[0]
    at = {(s.n, s.position): s for s in found}
    taken = {(s.n, s.position) for s in chosen}
    out = list(chosen)
    for step in range(1, follow + 1):
        other = at.get((best.n, best.position + step))
        if (
            other is None
            or other.kind != "prose"
            or other.heading != best.heading
            or (other.n, other.position) in taken
        ):
            break
        out.append(replace(other, score=best.score))
    return out


def in_reading_runs(chosen: Sequence[Sentence]) -> list[Sentence]:
    """``chosen`` with the quotes that stand next to one another in one passage in that
    passage's order, each run where its first-placed quote was. A span of two sentences
    quoted best first reads backwards ("It was 37%." before "Of the 120 patients, ..."), and
    a gold answer that spans the two is then stated in no order a reader can follow. A
    reading order, not a tuned constant: the tuning halves state no gold fewer with it."""
    runs: list[list[Sentence]] = []
    for s in chosen:
        run = next((r for r in runs if any(_next_to(s, t) for t in r)), None)
        if run is None:
            runs.append([s])
        else:
            run.append(s)
    return [s for run in runs for s in sorted(run, key=lambda s: s.position)]


def _next_to(a: Sentence, b: Sentence) -> bool:
    return a.n == b.n and abs(a.position - b.position) == 1


def _runs_on(s: Sentence) -> bool:
    """A prose quote that stops where a code line takes over: no sentence end ("... they
    may be executed at any time in an R session with the command", then ``>
    source("commands.R")``), or a colon ("... is as follows:"). Its next line finishes it."""
    return s.kind == "prose" and not s.text.endswith(CLIPPED) and s.text[-1:] not in SENTENCE_ENDS


def evidence(cosine: float, terms: float, terms_weight: float = EVIDENCE_TERMS) -> float:
    """What the abstain cut reads: a passage's cosine to the question plus ``terms_weight``
    times the share of the question's terms found. A short how-to question scores a low
    cosine against a long passage even when the page is right; a question about something
    else finds few of its terms."""
    return cosine + terms_weight * terms


def terms_found(question: str, texts: Sequence[str]) -> float:
    """The share of the question's own terms (``subject_terms``) found in ``texts``."""
    return coverage(subject_terms(question), [t for text in texts for t in tokenize(text)])


def passages_read(query: str) -> int:
    """How many of the hits ``extract`` quotes from, for ``query``."""
    return max(MAX_PASSAGES, ROW_PASSAGES if expected_kind(query) == "number" else 0)


def extract(
    query: str,
    numbered: Sequence[tuple[int, Hit]],
    *,
    embedder: Embedder,
    weights: QuoteWeights | None = None,
) -> Extract:
    """The quotes of an extractive answer, best first (none when the hits have no units),
    from ``numbered``: each hit with its [n] in the answer, its place among all the
    retrieved hits (a caller that leaves some out keeps the others' numbers, so that a
    citation names the passage its sentence comes from), and their evidence."""
    rows = ROW_PASSAGES if expected_kind(query) == "number" else 0
    found = candidates(numbered, row_passages=rows)
    if not found:
        return Extract()
    vectors = embedder.embed_documents([s.text for s in found])
    query_vector = embedder.embed_query(query)
    cosines = [float(x) for x in np.asarray(vectors @ query_vector, dtype=np.float64)]
    hits = dict(numbered)
    headings = {n: hit.header_path for n, hit in numbered}
    w = weights or QuoteWeights()
    scores = scored(found, signals(query, found, cosines, headings), w)
    chosen = select(found, scores, vectors)
    return Extract(
        in_reading_runs(with_companions(with_followers(chosen, found), found)),
        cosine=max(_similarity(hit) for hit in hits.values()),
        terms=terms_found(query, [f"{s.heading} {s.text}" for s in chosen]),
    )


def render(sentences: Sequence[Sentence]) -> list[str]:
    """The answer's deltas: one paragraph per quote, best first (sentences that follow one
    another in a passage share one), each followed by its citation and, when it differs from
    the previous quote's, preceded by its section's heading in italics (``*Heading:* ``)."""
    parts = []
    previous = ""
    for i, s in enumerate(sentences):
        # the source's own "[7]" would read as a citation of passage 7; code keeps "x[1]"
        text = without_reference_marks(s.text) if s.kind in ("prose", "item") else s.text
        body, end = (text[:-1], text[-1]) if text[-1:] in SENTENCE_ENDS else (text, ".")
        # a run of sentences reads as one paragraph, cited once at its end
        cited = i + 1 == len(sentences) or not _continues(s, sentences[i + 1])
        quote = f"{body.rstrip(':;, ')} [{s.n}]{end}" if cited else text
        if i and _continues(sentences[i - 1], s):
            parts.append(f" {quote}")
            continue
        # a table row's units and column years go with its heading: "(4,625) (4,240)"
        # means nothing until the reader sees "(in millions) · 2021 2020 2019"
        heading = _heading(" · ".join(p for p in (s.heading, s.table) if p))
        lead = f"*{heading}:* " if heading and heading != previous else ""
        previous = heading or previous
        parts.append(("" if i == 0 else "\n\n") + f"{lead}{quote}")
    return parts


def _continues(before: Sentence, s: Sentence) -> bool:
    """Whether ``s`` is the prose sentence right after ``before`` in one passage: the two
    read as one paragraph with one citation."""
    return (
        before.n == s.n
        and s.position == before.position + 1
        and before.kind == s.kind == "prose"
        and before.heading == s.heading
    )


def cite(sentences: Sequence[Sentence], hits: Sequence[Hit]) -> list[Citation]:
    """The citations of an answer that quotes ``sentences`` (their ``n`` numbering
    ``hits`` from 1): one per passage, in the order of its first quote, each holding its
    quotes in the answer's order as the passage has them (a clipped unit without its
    ellipsis), which is what the page view marks inside the passage."""
    quoted: dict[int, list[str]] = {}
    for s in sentences:
        quoted.setdefault(s.n, []).append(s.text.removesuffix(CLIPPED))
    return [Citation(n, hits[n - 1], tuple(quotes)) for n, quotes in quoted.items()]


def _heading(text: str) -> str:
    # asterisks would end the italics early; the heading is shown as plain words, without
    # the colon a title line may end with ("Current assets:"), as render adds its own
    return " ".join(text.replace("*", " ").split()).rstrip(":").rstrip()


def _similarity(hit: Hit) -> float:
    return hit.similarity if hit.similarity is not None else hit.score
