"""How well a candidate quote answers the question: the signals beside the embedding's
cosine, and how they add up. Pure: token lists and numbers in, scores out.

MiniLM's cosine is weak at telling the sentence that names ``hist`` from its neighbours,
and a short how-to question scores low against every sentence of a long passage. The other
signals, each measured on the tuning halves by ``bench/extractive_tune.py``:

- ``lexical``: BM25 at sentence level, the candidates of one answer being the collection
  (so a word every candidate has weighs little), divided by the most the question's terms
  could score, so it reads 0 to about 1 whatever the question's length;
- ``code``: a code line or definition that names what the question names, as a whole word
  or as the start of one ("hist" for "histogram", "seq" for "sequence");
- ``heading``: the share of the question's terms in the section heading its passage sits
  under;
- ``rank``: the passage's place in the retrieval, ``1/n``;
- ``expected``: the unit holds the kind of answer the question asks for, a figure for "how
  many" or a date for "when" (``rag.answers.answer_types``);
- ``label``: for a question that asks for a figure, a table row whose label the question
  names: the share of the label's terms the question has (``rag.answers.table_rows``;
  "Total current liabilities" for "total current liabilities"). A row of figures scores a
  low cosine against a long question, and one shared word of twenty weighs little in
  ``lexical``;
- ``command``: for a how-to question ("How do I ...?"), a prose sentence or list entry
  names something to type (a call such as ``ordered()``:
  ``rag.answers.answer_types.names_command``);
- ``year``: for a question that asks for a figure in a year ("FY2021"), a table row whose
  column years include it;
- ``near``: a code line or definition borrows the score of the prose next to it. Manuals
  put the line to type beside the sentence that says what it does ("> sink("record.lis")"
  then "will divert all subsequent output ... to an external file"); the sentence matches
  the question in words, the code line is what answers it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

K1 = 1.2  # BM25's term saturation and length normalisation, as rag.retrieval.bm25 scores passages
B = 0.5
MIN_PREFIX = 3  # "hist" names "histogram"; "rm" does not name "rmse"
_COMMENT = re.compile(r"(?:^|\s)(?:#|//).*$")  # a code line's comment, to its end
_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class QuoteWeights:
    """What each signal adds to the cosine. Chosen on the tuning halves of COVID-QA, the
    how-to questions and the page-known manuals (bench/extractive_tune.py,
    bench/results/extractive_tune.json)."""

    lexical: float = 0.5
    code: float = 0.3
    heading: float = 0.0  # measured: no gain on the tuning halves
    rank: float = 0.05
    near: float = 0.0  # measured: no gain once each prose quote brings its code line
    expected: float = 0.3  # a figure for "how many", a date for "when"
    label: float = 0.5  # a row whose label the question names (a figure asked)
    year: float = 0.0  # a row whose columns include the year asked about
    command: float = 0.0  # a how-to question's unit that names a command or function


@dataclass(frozen=True)
class Signals:
    """One candidate's signals, before weighting."""

    cosine: float
    lexical: float
    code: float
    heading: float
    rank: float
    expected: float = 0.0
    label: float = 0.0
    year: float = 0.0
    command: float = 0.0

    def score(self, w: QuoteWeights) -> float:
        return (
            self.cosine
            + w.lexical * self.lexical
            + w.code * self.code
            + w.heading * self.heading
            + w.rank * self.rank
            + w.expected * self.expected
            + w.label * self.label
            + w.year * self.year
            + w.command * self.command
        )


def sentence_bm25(query: Sequence[str], units: Sequence[Sequence[str]]) -> list[float]:
    """Each unit's BM25 for the query's terms, the units being the collection, divided by
    the query's best possible score (every term once in a unit of average length)."""
    terms = list(dict.fromkeys(query))
    if not terms or not units:
        return [0.0] * len(units)
    n = len(units)
    df = Counter(t for unit in units for t in set(unit))
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms}
    best = sum(idf.values())
    average = max(sum(len(u) for u in units) / n, 1.0)
    out = []
    for unit in units:
        tf = Counter(unit)
        norm = K1 * (1 - B + B * len(unit) / average)
        raw = sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in terms if tf[t])
        out.append(raw / (best * (K1 + 1) / (1 + K1)) if best > 0 else 0.0)
    return out


def names_asked(text: str, question_words: Sequence[str]) -> float:
    """1 when a code line or definition names what the question names: one of its
    identifiers (or a dotted part of one) is a question word, or the start of one. A code
    comment names nothing: "> rug(eruptions) # show the actual data points" opened the
    answer to "How do I make a histogram of my data?" for its comment's "data"."""
    words = {w.lower() for w in question_words if len(w) >= 2}
    if not words:
        return 0.0
    for ident in _IDENTIFIER.findall(_COMMENT.sub("", text)):
        for part in {ident.lower(), *ident.lower().split(".")}:
            if part in words:
                return 1.0
            if len(part) >= MIN_PREFIX and any(w.startswith(part) for w in words):
                return 1.0
    return 0.0


def coverage(query: Sequence[str], tokens: Sequence[str]) -> float:
    """The share of the query's distinct terms found among ``tokens``."""
    terms = set(query)
    return len(terms & set(tokens)) / len(terms) if terms else 0.0


def with_neighbours(
    own: Sequence[float], places: Sequence[tuple[int, int, str]], weight: float
) -> list[float]:
    """``own`` scores, where each code line or definition gains ``weight`` times the best
    score of the prose unit just before or after it in its passage. ``places`` are the
    units' (passage, position, kind)."""
    at = {(n, pos): (score, kind) for score, (n, pos, kind) in zip(own, places, strict=True)}
    out = []
    for score, (n, pos, kind) in zip(own, places, strict=True):
        if weight and kind in ("code", "item"):
            beside = [at[k] for k in ((n, pos - 1), (n, pos + 1)) if k in at]
            prose = [s for s, k in beside if k == "prose"]
            if prose:
                score += weight * max(prose)
        out.append(score)
    return out
