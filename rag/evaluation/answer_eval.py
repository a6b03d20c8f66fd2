"""Asking ``rag eval --answers``'s questions through the app's answer path (an ``Answerer`` per
document, ``rag.answers.answer.answerer_for``) and summing up the grades
(``rag.evaluation.grading``).

Per question: answered or abstained, the gold stated in the answer, the gold in a cited
passage (citation support), the answer's length. Summed up over all questions, per half and
per kind of question:

- ``answered`` and ``abstained``: shares of all questions (a question whose LLM call failed
  is neither; ``failed`` counts them);
- ``stated`` and ``supported``: shares of the *gradable* questions (``gradable`` counts
  them; an abstention states nothing); ``stated_when_answered``: of the gradable questions
  that were answered;
- ``chars`` and ``words``: median and mean length of the answers given (abstentions left
  out), as shown to the user, ``[n]`` markers included.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answers.answer import Answerer
from rag.errors import LLMError
from rag.evaluation.answersets import AnswerQuestion
from rag.evaluation.grading import Grade, grade
from rag.evaluation.longeval import HALVES
from rag.types import Answer

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Row:
    """One question asked: its answer and grade, or the LLM's error."""

    question: AnswerQuestion
    answer: Answer | None = None
    grade: Grade | None = None
    error: str = ""


def ask_all(
    questions: Sequence[AnswerQuestion],
    answerer_of: Callable[[AnswerQuestion], Answerer],
    *,
    progress: Progress | None = None,
) -> list[Row]:
    """Every question asked of its answerer, in order, and graded. An LLM failure is kept as
    that question's error (a long run is not lost to one timeout); other errors raise."""
    rows = []
    for n, q in enumerate(questions, start=1):
        try:
            answer = answerer_of(q).ask(q.question).answer
        except LLMError as exc:
            log.warning("question %s: the LLM failed: %s", q.id, exc)
            rows.append(Row(q, error=str(exc)))
        else:
            rows.append(Row(q, answer, grade(answer, q.gold)))
        if progress is not None:
            progress(n, len(questions))
    return rows


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    """The grades over all questions, each half present, and each kind inside a half."""
    out: dict[str, Any] = {"all": grades(rows)}
    for half in HALVES:
        mine = [r for r in rows if r.question.half == half]
        if not mine:
            continue
        out[half] = part = grades(mine)
        kinds = sorted({r.question.kind for r in mine if r.question.kind})
        if len(kinds) > 1:
            part["kinds"] = {k: grades([r for r in mine if r.question.kind == k]) for k in kinds}
    return out


def grades(rows: Sequence[Row]) -> dict[str, Any]:
    """The figures of the module docstring over ``rows``, shares rounded to 5 places."""
    done = [r.grade for r in rows if r.grade is not None]
    gradable = [g for g in done if g.stated is not None]
    failed = sum(1 for r in rows if r.grade is None)
    answered = [g for g in done if g.answered]
    answered_gradable = [g for g in gradable if g.answered]
    n_gradable = len(gradable) + sum(
        1 for r in rows if r.grade is None and r.question.gold.gradable
    )  # a failed question still counts against the rates
    return {
        "questions": len(rows),
        "answered": _share(len(answered), len(rows)),
        "abstained": _share(len(done) - len(answered), len(rows)),
        "failed": failed,
        "gradable": n_gradable,
        "stated": _share(sum(1 for g in gradable if g.stated), n_gradable),
        "supported": _share(sum(1 for g in gradable if g.supported), n_gradable),
        "stated_when_answered": _share(
            sum(1 for g in answered_gradable if g.stated), len(answered_gradable)
        ),
        "chars": _lengths([g.chars for g in answered]),
        "words": _lengths([g.words for g in answered]),
    }


def row_record(row: Row) -> dict[str, Any]:
    """One question as a JSON object, for reading the failures one by one."""
    q, answer, got = row.question, row.answer, row.grade
    record: dict[str, Any] = {
        "id": q.id,
        "half": q.half,
        "kind": q.kind,
        "file": q.file,
        "question": q.question,
        "gold": q.gold.as_dict(),
        "gradable": q.gold.gradable,
    }
    if got is None or answer is None:
        return {**record, "error": row.error}
    return {
        **record,
        "answered": got.answered,
        "stated": got.stated,
        "supported": got.supported,
        "chars": got.chars,
        "words": got.words,
        "mode": answer.mode,
        "answer": answer.text,
        "citations": [
            {"n": c.n, "source": c.source, "page": c.page, "chunk_id": c.chunk_id}
            for c in answer.citations
        ],
        "best_score": answer.metadata.get("best_score"),
        "total_ms": answer.timings.get("total_ms"),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 5) if whole else 0.0


def _lengths(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {"median": 0.0, "mean": 0.0}
    return {
        "median": float(statistics.median(values)),
        "mean": round(statistics.fmean(values), 1),
    }
