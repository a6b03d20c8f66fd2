"""The questions of ``rag eval --answers``, each with its gold (``rag.evaluation.grading``):
from the long-document sets (``rag.evaluation.longsets``) and from a user's own file.

Where each gold comes from:

- a SQuAD-format file (COVID-QA): the text of the answer span (``TextGold``, punctuation
  read as spaces);
- a page-questions file: ``must_name`` (``NamesGold``); else an ``answer`` that is one
  figure (``FigureGold``, counted in the unit its question asks for, "(in USD billions)");
  else, when the file says ``"answer_format": "parts"`` (its answers are text found on the
  pages), the ``' ... '``-separated parts of ``answer`` (``TextGold``, punctuation kept);
  else the answer is a person's prose, a judgement or an explanation (``NotGradable``);
- your own file (``load_own_questions``), the format documented in docs/retrieval.md:
  ``question`` and either ``answer`` (a figure, else text whose ``' ... '``-separated parts
  an answer states) or ``must_name`` (names, any one of them); ``id`` and ``half`` optional.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from rag.answers.figures import declared_unit, parse_figure
from rag.errors import ConfigError
from rag.evaluation.grading import FigureGold, Gold, NamesGold, NotGradable, TextGold
from rag.evaluation.longeval import HALVES, half_of
from rag.evaluation.longsets import PageSet, SpanSet, must_names

OWN_FORMAT_HINT = (
    'one object per question: {"question": "...", "answer": "..."} or {"question": "...", '
    '"must_name": ["name", ...]}, optionally with "id" and "half" (tune or report); as JSON '
    '({"questions": [...]} or a list) or as JSONL (one object a line)'
)


@dataclass(frozen=True)
class AnswerQuestion:
    id: str
    question: str
    gold: Gold
    half: str
    kind: str = ""
    file: str = ""  # the document it is asked of; "" when asked of a whole collection


@dataclass(frozen=True)
class OwnSet:
    name: str
    questions: list[AnswerQuestion]


def gold_of(
    question: str, *, answer: str = "", must_name: Sequence[str] = (), parts: bool = True,
    punctuation: bool = False,
) -> Gold:  # fmt: skip
    """What a correct answer to ``question`` states: the names, else a figure, else the
    text's parts when ``parts``, else prose no rule can grade."""
    if must_name:
        return NamesGold(tuple(must_name))
    figure = parse_figure(answer)
    if figure is not None:
        return FigureGold(figure, declared_unit(question) or Decimal(1), answer.strip())
    if parts:
        return TextGold.of(answer, punctuation=punctuation)
    return NotGradable(answer)


def from_spans(spans: SpanSet) -> list[AnswerQuestion]:
    """A SQuAD set's questions; the gold is the located answer text (all of it)."""
    out = []
    for q in spans.questions:
        text = spans.papers[q.paper][q.span[0] : q.span[1]]
        out.append(AnswerQuestion(q.id, q.question, TextGold((text,)), q.half))
    return out


def from_pages(pageset: PageSet) -> list[AnswerQuestion]:
    """A page-questions set's questions, each asked of its own document."""
    parts = pageset.answer_format == "parts"
    return [
        AnswerQuestion(
            q.id,
            q.question,
            gold_of(
                q.question, answer=q.answer, must_name=q.must_name, parts=parts, punctuation=True
            ),
            q.half,
            q.kind,
            q.file,
        )
        for q in pageset.questions
    ]


def restrict_spans(spans: SpanSet, keep: Iterable[str]) -> SpanSet:
    """``spans`` with only the questions of ids ``keep`` and only their papers, under a name
    of its own (it is ingested into a collection of its own)."""
    wanted = set(keep)
    questions = [q for q in spans.questions if q.id in wanted]
    papers = {q.paper: spans.papers[q.paper] for q in questions}
    name = f"{spans.name}-{len(questions)}q"
    return replace(spans, name=name, papers=papers, questions=questions)


def first_of_each_half(
    questions: Sequence[AnswerQuestion], halves: Sequence[str], limit: int | None
) -> list[AnswerQuestion]:
    """The questions of ``halves``, only the first ``limit`` of each when given."""
    out = []
    for half in halves:
        mine = [q for q in questions if q.half == half]
        out.extend(mine if limit is None else mine[:limit])
    return out


def question_file_kind(path: Path) -> str:
    """``squad``, ``pages`` or ``own``: by the file's shape (a ``.jsonl`` file is ``own``)."""
    if path.suffix.lower() == ".jsonl":
        return "own"
    data = _read(path)
    if isinstance(data, dict) and "data" in data:
        return "squad"
    if isinstance(data, dict) and "documents" in data:
        return "pages"
    if isinstance(data, list) or (isinstance(data, dict) and "questions" in data):
        return "own"
    raise ConfigError(
        f"{path} is not a question file: it needs data[] (SQuAD format), documents[] and "
        f"questions[] (page questions), or {OWN_FORMAT_HINT}."
    )


def load_own_questions(path: Path) -> OwnSet:
    """A user's own questions (format in the module docstring), each checked with a
    one-line reason that says how to fix it."""
    items: list[tuple[int, Any]]
    if path.suffix.lower() == ".jsonl":
        items = list(_jsonl(path))
    else:
        data = _read(path)
        listed = data.get("questions") if isinstance(data, dict) else data
        if not isinstance(listed, list):
            raise ConfigError(f"{path}: expected {OWN_FORMAT_HINT}.")
        items = list(enumerate(listed, start=1))
    questions = []
    seen: set[str] = set()
    for where, item in items:
        q = _own_question(path, where, item)
        if q.id in seen:
            raise ConfigError(f"{path} {_place(path, where)}: id {q.id!r} is used twice; "
                              "give every question its own id.")  # fmt: skip
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise ConfigError(f"{path} holds no questions; expected {OWN_FORMAT_HINT}.")
    return OwnSet(path.stem, questions)


def _own_question(path: Path, where: int, item: Any) -> AnswerQuestion:
    place = f"{path} {_place(path, where)}"
    if not isinstance(item, dict):
        raise ConfigError(f"{place}: expected an object, got {type(item).__name__}; "
                          f"expected {OWN_FORMAT_HINT}.")  # fmt: skip
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ConfigError(f'{place}: "question" is missing or empty; write the question there.')
    answer, names = item.get("answer"), item.get("must_name")
    if (answer is None) == (names is None):
        raise ConfigError(
            f'{place}: give "answer" (the text or figure a correct answer states) or '
            f'"must_name" (the names it must mention, any one of them), '
            f"{'not both' if answer is not None else 'one of them'}."
        )
    qid = str(item.get("id", where))
    usable = isinstance(answer, str | int | float) and not isinstance(answer, bool)
    if answer is not None and (not usable or not str(answer).strip()):
        raise ConfigError(f'{place}: "answer" must be non-empty text or a number, got {answer!r}.')
    try:
        must = must_names(names, qid) if names is not None else ()
    except ValueError as exc:
        raise ConfigError(f"{place}: {exc}.") from None
    half = item.get("half", half_of(qid))
    if half not in HALVES:
        raise ConfigError(f'{place}: "half" is tune or report, got {half!r} (or leave it out).')
    gold = gold_of(question, answer=str(answer or ""), must_name=must)
    if not gold.gradable:
        raise ConfigError(f'{place}: "answer" {answer!r} has no letters or digits to look for.')
    return AnswerQuestion(qid, question.strip(), gold, half)


def _place(path: Path, where: int) -> str:
    return f"line {where}" if path.suffix.lower() == ".jsonl" else f"question {where}"


def _jsonl(path: Path) -> Iterable[tuple[int, Any]]:
    for n, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path} line {n} is not JSON ({exc.msg}); JSONL holds one JSON object a line."
            ) from None


def _read(path: Path) -> Any:
    try:
        return json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not JSON ({exc.msg} at line {exc.lineno}); name it .jsonl if it holds "
            "one object a line."
        ) from None


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; give the path of a question file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); it must be UTF-8 text.") from None
