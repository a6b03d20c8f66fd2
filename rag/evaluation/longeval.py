"""Retrieval on long documents: questions whose answer sits at a known place.

Two yardsticks share this module's pure logic:

- **answer spans** (``rag eval --qa``, SQuAD format such as COVID-QA): a question is hit
  at rank r when the r-th passage comes from the right paper and overlaps the answer's
  characters in it;
- **known pages** (``rag eval --pages``): a question is hit at rank r when the r-th
  passage lies on one of the question's PDF pages.

Questions are split into a tuning half and a reporting half by a stable hash of their
paper (``half_of``), so no paper has questions on both sides (the page questions carry
their half). Locating answers (about 17% of COVID-QA's ``answer_start`` offsets are off,
the answer text itself is always in the paper), judging passages and the metrics live
here; the question files are ``rag.evaluation.longsets``'s, ingestion and retrieval the caller's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.errors import ConfigError
from rag.types import Hit

HALVES = ("tune", "report")
KINDS = ("prose", "table", "howto")  # howto: answered by naming a function or keyword
KS = (1, 5, 10)
DEPTH = max(KS)  # passages retrieved per question; MRR is cut there too


def half_of(key: str) -> str:
    """``tune`` or ``report`` for a document key, the same on every machine and run."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return HALVES[int(digest[:8], 16) % 2]


def locate_answer(context: str, answer: str, *, hint: int) -> tuple[int, int] | None:
    """The ``[start, end)`` characters of ``answer`` in ``context``: of its occurrences the
    one nearest ``hint`` (the dataset's ``answer_start``, sometimes off), with surrounding
    whitespace left out; None when the text is not there."""
    needle = answer.strip()
    if not needle:
        return None
    starts = []
    at = context.find(needle)
    while at != -1:
        starts.append(at)
        at = context.find(needle, at + 1)
    if not starts:
        return None
    lead = len(answer) - len(answer.lstrip())  # hint points at the untrimmed text
    best = min(starts, key=lambda s: (abs(s - (hint + lead)), s))
    return best, best + len(needle)


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two ``[start, end)`` character ranges share at least one character."""
    return max(a[0], b[0]) < min(a[1], b[1])


def place_in(context: str, text: str, start: int) -> int | None:
    """Where a stored passage starts in ``context``: ``start`` when the text is there (the
    chunker's offset), else the occurrence nearest it, else None."""
    if context[start : start + len(text)] == text:
        return start
    found = locate_answer(context, text, hint=start)
    return found[0] if found else None


def first_rank(flags: Iterable[bool]) -> int | None:
    """The 1-based rank of the first true flag, None when none is."""
    for rank, flag in enumerate(flags, start=1):
        if flag:
            return rank
    return None


def hit_metrics(
    ranks: Sequence[int | None], *, name: str = "hit", ks: Sequence[int] = KS
) -> dict[str, float | int]:
    """``name@k`` for each k (the share of questions hit within the top k) and ``mrr@D``
    (mean reciprocal rank of the first hit, cut at the deepest k), rounded to 5 places."""
    depth = max(ks)
    n = len(ranks)
    out: dict[str, float | int] = {"questions": n}
    for k in ks:
        out[f"{name}@{k}"] = (
            round(sum(1 for r in ranks if r is not None and r <= k) / n, 5) if n else 0.0
        )
    rr = sum(1 / r for r in ranks if r is not None and r <= depth)
    out[f"mrr@{depth}"] = round(rr / n, 5) if n else 0.0
    return out


# -- judging passages ------------------------------------------------------------------


@dataclass
class SpanJudge:
    """Ranks of first hits for span questions; counts stored offsets that did not point at
    their passage (``misplaced``: each is found again by its text, and should stay 0)."""

    papers: dict[str, str]
    paper_of: Callable[[str], str | None]  # a hit's source -> its document id
    checked: int = 0
    misplaced: int = 0

    def rank(self, paper: str, span: tuple[int, int], hits: Sequence[Hit]) -> int | None:
        """The first of ``hits`` that lies in ``paper`` and overlaps ``span``."""
        return first_rank(self._hits(paper, span, h) for h in hits)

    def _hits(self, paper: str, span: tuple[int, int], hit: Hit) -> bool:
        if self.paper_of(hit.source) != paper:
            return False
        context = self.papers[paper]
        self.checked += 1
        start = place_in(context, hit.text, hit.start_index)
        if start != hit.start_index:
            self.misplaced += 1
        if start is None:
            return False
        return overlaps((start, start + len(hit.text)), span)


def page_rank(pages: Collection[int], hits: Sequence[Hit]) -> int | None:
    """The first of ``hits`` on one of ``pages``."""
    return first_rank(h.page in pages for h in hits)


# -- summaries -------------------------------------------------------------------------------


Row = tuple[str, str, int | None]  # (half, kind, rank of the first hit)


def summarize(rows: Sequence[Row], *, name: str = "hit") -> dict[str, Any]:
    """Metrics over all questions, over each half present and, when the questions have
    kinds, over each kind inside each half (``kinds``)."""
    out: dict[str, Any] = {"all": hit_metrics([r for _, _, r in rows], name=name)}
    for half in HALVES:
        mine = [row for row in rows if row[0] == half]
        if not mine:
            continue
        out[half] = part = dict[str, Any](hit_metrics([r for _, _, r in mine], name=name))
        kinds = sorted({kind for _, kind, _ in mine if kind})
        if kinds:
            part["kinds"] = {
                kind: hit_metrics([r for _, k, r in mine if k == kind], name=name) for kind in kinds
            }
    return out


def select_half(half: str) -> tuple[str, ...]:
    if half == "all":
        return HALVES
    if half not in HALVES:
        raise ConfigError(f"--half is tune, report or all, got {half!r}.")
    return (half,)
