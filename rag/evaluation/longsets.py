"""The question files of the long-document yardsticks, and asking their questions.

- ``load_squad``: SQuAD format whose paragraphs are whole papers (COVID-QA): each question
  keeps its first answer, located in the paper by ``rag.evaluation.longeval.locate_answer``, and the
  half of its paper (``half_of(document_id)``);
- ``load_page_questions``: questions over PDFs, each with the pages that answer it, its
  half and its kind (prose, table or howto), as written by the person who read the pages,
  and what a correct answer states (``answer``) or names (``must_name``) when the file
  gives it (``rag eval --answers`` grades on these).

``ask_spans`` and ``ask_pages`` run the questions through any search function (our
retriever in some mode, or a baseline pipeline), so every pipeline is judged alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.evaluation.longeval import HALVES, KINDS, Row, SpanJudge, half_of, locate_answer, page_rank
from rag.evaluation.metrics import percentile
from rag.types import Hit

Search = Callable[[str], Sequence[Hit]]


# -- answer spans (SQuAD format) ------------------------------------------------------------


@dataclass(frozen=True)
class SpanQuestion:
    id: str
    paper: str  # document id
    question: str
    span: tuple[int, int]  # the answer's characters in the paper
    half: str


@dataclass(frozen=True)
class SpanSet:
    name: str
    papers: dict[str, str]  # document id -> full text
    questions: list[SpanQuestion]
    unlocated: int = 0  # questions left out: their answer text is not in the paper
    moved: int = 0  # answers found away from their answer_start


def load_squad(path: Path) -> SpanSet:
    """A SQuAD-format file whose paragraphs are whole papers (``context``, ``document_id``,
    ``qas``); each question keeps its first answer, located by ``locate_answer``."""
    data = _read_json(path, hint="a SQuAD-format file (data[].paragraphs[].context/qas)")
    try:
        entries = data["data"]
        papers: dict[str, str] = {}
        questions: list[SpanQuestion] = []
        unlocated = moved = 0
        for entry in entries:
            for n, paragraph in enumerate(entry["paragraphs"]):
                context = str(paragraph["context"])
                doc = str(paragraph.get("document_id", f"{len(papers)}-{n}"))
                if doc in papers:
                    raise ConfigError(f"{path}: document_id {doc!r} appears twice.")
                papers[doc] = context
                for qa in paragraph["qas"]:
                    if qa.get("is_impossible") or not qa.get("answers"):
                        continue
                    answer = qa["answers"][0]
                    text, hint = str(answer["text"]), int(answer.get("answer_start", 0))
                    span = locate_answer(context, text, hint=hint)
                    if span is None:
                        unlocated += 1
                        continue
                    moved += span[0] != hint + len(text) - len(text.lstrip())
                    questions.append(
                        SpanQuestion(str(qa["id"]), doc, str(qa["question"]), span, half_of(doc))
                    )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{path} is not a SQuAD-format file ({type(exc).__name__}: {exc}); it needs "
            "data[].paragraphs[] with context, document_id and qas[].answers[].text."
        ) from exc
    if not questions:
        raise ConfigError(f"{path} holds no answerable question with its answer in the text.")
    return SpanSet(path.stem, papers, questions, unlocated=unlocated, moved=moved)


# -- known pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageQuestion:
    id: str
    file: str
    question: str
    pages: frozenset[int]  # 1-based PDF pages; any of them counts
    half: str
    kind: str
    answer: str = ""  # what a correct answer states ("" when the file gives none)
    must_name: tuple[str, ...] = ()  # or the names it must mention, any one of them


@dataclass(frozen=True)
class PageSet:
    name: str
    documents: list[dict[str, Any]]  # as in the file: file, origin, license, sha256, pages
    questions: list[PageQuestion] = field(default_factory=list)
    # "parts": each answer is ' ... '-separated text found on its pages; "" (the default):
    # answers are people's own words (figures are still compared as numbers)
    answer_format: str = ""

    def files(self) -> list[str]:
        return [str(d["file"]) for d in self.documents]


ANSWER_FORMATS = ("", "parts")


def load_page_questions(path: Path) -> PageSet:
    """``{"documents": [{"file": ...}], "questions": [{"id", "file", "question", "pages",
    "half", "kind"}]}`` (each question optionally with ``answer`` or ``must_name``, the file
    optionally with ``answer_format``), every field checked with a one-line reason."""
    data = _read_json(path, hint='{"documents": [...], "questions": [...]}')
    try:
        documents = [dict(d) for d in data["documents"]]
        files = {str(d["file"]) for d in documents}
        answer_format = str(data.get("answer_format", ""))
        if answer_format not in ANSWER_FORMATS:
            raise ValueError(f"answer_format is one of {ANSWER_FORMATS}, got {answer_format!r}")
        questions = []
        for q in data["questions"]:
            qid = str(q["id"])
            pages = frozenset(int(p) for p in q["pages"])
            if str(q["file"]) not in files:
                raise ValueError(f"question {qid!r} is on {q['file']!r}, not in documents")
            if not pages or min(pages) < 1:
                raise ValueError(f"question {qid!r} needs 1-based pages, got {q['pages']!r}")
            if q["half"] not in HALVES or q["kind"] not in KINDS:
                raise ValueError(
                    f"question {qid!r}: half must be one of {HALVES}, kind one of {KINDS}"
                )
            questions.append(
                PageQuestion(
                    qid,
                    str(q["file"]),
                    str(q["question"]),
                    pages,
                    q["half"],
                    q["kind"],
                    answer=str(q.get("answer", "")),
                    must_name=must_names(q.get("must_name", []), qid),
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{path}: not a page-questions file ({type(exc).__name__}: {exc})."
        ) from exc
    if not questions:
        raise ConfigError(f"{path} holds no questions.")
    return PageSet(path.stem, documents, questions, answer_format=answer_format)


def must_names(raw: object, qid: str) -> tuple[str, ...]:
    """A question's ``must_name``: one name or a list of alternatives, none of them blank."""
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError(f"question {qid!r}: must_name is a name or a list of names, got {raw!r}")
    return tuple(n.strip() for n in names)


def ask_spans(
    questions: Sequence[SpanQuestion], *, search: Search, judge: SpanJudge
) -> tuple[list[Row], dict[str, float]]:
    """(half, "", rank) per question and the latency percentiles of ``search``."""
    rows: list[Row] = []
    latencies: list[float] = []
    for q in questions:
        started = time.perf_counter()
        hits = search(q.question)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append((q.half, "", judge.rank(q.paper, q.span, hits)))
    return rows, latency(latencies)


def ask_pages(
    questions: Sequence[PageQuestion], *, search: Callable[[PageQuestion], Sequence[Hit]]
) -> tuple[list[Row], dict[str, float]]:
    """(half, kind, rank) per question; ``search`` asks the question's own document."""
    rows: list[Row] = []
    latencies: list[float] = []
    for q in questions:
        started = time.perf_counter()
        hits = search(q)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append((q.half, q.kind, page_rank(q.pages, hits)))
    return rows, latency(latencies)


def latency(ms: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(ms, 50), 2), "p95": round(percentile(ms, 95), 2)}


def _read_json(path: Path, *, hint: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; give the path of {hint}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not readable JSON ({exc}); expected {hint}.") from exc
