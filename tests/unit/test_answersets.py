"""The questions of `rag eval --answers` (rag.evaluation.answersets) and their summary
(rag.evaluation.answer_eval): where each gold comes from, the user's own file with a one-line reason
for every mistake in it, subsets, and the figures summed up per half and kind."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.evaluation.answer_eval import Row, grades, summarize
from rag.evaluation.answersets import (
    AnswerQuestion,
    first_of_each_half,
    from_pages,
    from_spans,
    gold_of,
    load_own_questions,
    question_file_kind,
    restrict_spans,
)
from rag.evaluation.grading import FigureGold, Grade, NamesGold, NotGradable, TextGold
from rag.evaluation.longeval import half_of
from rag.evaluation.longsets import (
    PageQuestion,
    PageSet,
    SpanQuestion,
    SpanSet,
    load_page_questions,
)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "data"


def test_where_each_gold_comes_from() -> None:
    assert gold_of("Which function?", must_name=["rm"], answer="ignored") == NamesGold(("rm",))
    figure = gold_of("How much (in USD billions) was paid?", answer="$0.40", parts=False)
    assert isinstance(figure, FigureGold) and figure.unit == Decimal(10) ** 9
    assert isinstance(gold_of("A ratio?", answer="1.73", parts=False), FigureGold)
    assert gold_of("Q?", answer="a ... b", punctuation=True) == TextGold(("a", "b"), True)
    assert gold_of("Q?", answer="Yes. It decreased.", parts=False) == NotGradable(
        "Yes. It decreased."
    )


def test_the_manuals_answers_are_parts_and_the_filings_prose_is_not_graded(tmp_path: Path) -> None:
    manuals = from_pages(load_page_questions(BENCH / "pages_questions.json"))
    assert all(q.gold.gradable for q in manuals)
    first = manuals[0]
    assert (first.id, first.file, first.gold) == ("rintro-01", "R-intro.pdf",
                                                  TextGold(("(length(x)-1)",), True))  # fmt: skip
    # a file without answer_format: the annotators' prose is not graded, figures are
    filings = {
        "documents": [{"file": "A.pdf"}],
        "questions": [
            {"id": "1", "file": "A.pdf", "question": "How much (in USD millions)?", "pages": [3],
             "half": "tune", "kind": "table", "answer": "$1,577.00"},
            {"id": "2", "file": "A.pdf", "question": "Did it grow?", "pages": [4],
             "half": "report", "kind": "prose", "answer": "Yes, by 4% in FY2022."},
        ],
    }  # fmt: skip
    path = tmp_path / "filings.json"
    path.write_text(json.dumps(filings), encoding="utf-8")
    got = from_pages(load_page_questions(path))
    assert isinstance(got[0].gold, FigureGold) and got[0].gold.unit == Decimal(10) ** 6
    assert got[1].gold == NotGradable("Yes, by 4% in FY2022.")


def test_page_questions_keep_must_name_and_refuse_a_bad_one(tmp_path: Path) -> None:
    data = {
        "documents": [{"file": "R.pdf"}],
        "questions": [{"id": "h1", "file": "R.pdf", "question": "How?", "pages": [2],
                       "half": "tune", "kind": "howto", "must_name": ["rm", "remove"]}],
    }  # fmt: skip
    path = tmp_path / "howto.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_page_questions(path).questions[0].must_name == ("rm", "remove")
    data["questions"][0]["must_name"] = ["rm", ""]  # type: ignore[index]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="must_name is a name or a list of names"):
        load_page_questions(path)
    data["answer_format"] = "verbatim"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="answer_format is one of"):
        load_page_questions(path)


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        assert isinstance(content, list)
        path.write_text("\n".join(json.dumps(c) for c in content) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_own_questions_as_json_and_jsonl(tmp_path: Path) -> None:
    items = [
        {"question": "How do I remove objects?", "must_name": "rm"},
        {"id": "fig", "question": "How many?", "answer": 37, "half": "report"},
        {"question": "What is R?", "answer": "a language ... environment"},
    ]
    for name, content in (("own.json", {"questions": items}), ("own.jsonl", items),
                          ("list.json", items)):  # fmt: skip
        own = load_own_questions(write(tmp_path, name, content))
        ids = [q.id for q in own.questions]
        assert ids == ["1", "fig", "3"]  # by place: line or position
        assert own.questions[0].gold == NamesGold(("rm",))
        assert own.questions[0].half == half_of("1")  # no half given: a stable hash of the id
        assert isinstance(own.questions[1].gold, FigureGold) and own.questions[1].half == "report"
        assert own.questions[2].gold == TextGold(("a language", "environment"))
        assert question_file_kind(tmp_path / name) == "own"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([{"answer": "x"}], 'question 1: "question" is missing or empty; write the question'),
        ([{"question": "Q?"}], 'question 1: give "answer" (the text or figure a correct answer'),
        ([{"question": "Q?", "answer": "a", "must_name": "b"}], "not both"),
        ([{"question": "Q?", "answer": ""}], '"answer" must be non-empty text or a number'),
        ([{"question": "Q?", "answer": True}], '"answer" must be non-empty text or a number'),
        ([{"question": "Q?", "answer": "..."}], "has no letters or digits to look for"),
        ([{"question": "Q?", "must_name": [1]}], "must_name is a name or a list of names"),
        ([{"question": "Q?", "answer": "a", "half": "test"}], '"half" is tune or report'),
        (
            [
                {"id": "a", "question": "Q?", "answer": "a"},
                {"id": "a", "question": "R?", "answer": "b"},
            ],
            "question 2: id 'a' is used twice",
        ),
        (["Q?"], "question 1: expected an object, got str"),
        ({"questions": "Q?"}, "expected one object per question"),
        ([], "holds no questions"),
    ],
)
def test_a_mistake_in_an_own_file_is_one_line_that_says_how_to_fix_it(
    tmp_path: Path, content: object, message: str
) -> None:
    path = write(tmp_path, "own.json", content)
    with pytest.raises(ConfigError, match=None) as caught:
        load_own_questions(path)
    text = str(caught.value)
    assert message in text and "\n" not in text and str(path) in text


def test_broken_files_are_named_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "own.jsonl"
    path.write_text('{"question": "Q?", "answer": "a"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"own.jsonl line 2 is not JSON \(Expecting value\)"):
        load_own_questions(path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"question": "Q?"}\n{"question": "R?"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not JSON .*name it \.jsonl if it holds one object"):
        question_file_kind(bad)
    with pytest.raises(ConfigError, match="does not exist; give the path of a question file"):
        question_file_kind(tmp_path / "missing.json")
    other = write(tmp_path, "other.json", {"rows": []})
    with pytest.raises(ConfigError, match="is not a question file: it needs data"):
        question_file_kind(other)


def test_the_kind_of_a_question_file() -> None:
    assert question_file_kind(BENCH / "pages_questions.json") == "pages"
    assert question_file_kind(BENCH / "howto_questions.json") == "pages"


def spanset() -> SpanSet:
    papers = {"p1": "Zebras have stripes.", "p2": "Penguins huddle.", "p3": "Copper conducts."}
    questions = [
        SpanQuestion("a", "p1", "Why stripes?", (12, 19), "tune"),
        SpanQuestion("b", "p2", "What do penguins do?", (9, 15), "report"),
        SpanQuestion("c", "p1", "What has stripes?", (0, 6), "tune"),
        SpanQuestion("d", "p3", "What conducts?", (0, 6), "report"),
    ]
    return SpanSet("tiny", papers, questions)


def test_span_golds_and_the_first_questions_of_each_half() -> None:
    questions = from_spans(spanset())
    golds = [TextGold((text,)) for text in ("stripes", "huddle", "Zebras", "Copper")]
    assert [q.gold for q in questions] == golds
    picked = first_of_each_half(questions, ("tune", "report"), 1)
    assert [q.id for q in picked] == ["a", "b"]
    assert [q.id for q in first_of_each_half(questions, ("report",), None)] == ["b", "d"]
    small = restrict_spans(spanset(), ["a", "b"])
    assert (small.name, sorted(small.papers), [q.id for q in small.questions]) == (
        "tiny-2q", ["p1", "p2"], ["a", "b"],
    )  # fmt: skip


def question(qid: str, half: str, kind: str = "", gradable: bool = True) -> AnswerQuestion:
    gold = NamesGold(("rm",)) if gradable else NotGradable("prose")
    return AnswerQuestion(qid, "Q?", gold, half, kind)


def row(q: AnswerQuestion, answered: bool, stated: bool, supported: bool, chars: int) -> Row:
    gradable = q.gold.gradable
    got = Grade(answered, stated if gradable else None, supported if gradable else None,
                chars, chars // 5, 1 if answered else 0)  # fmt: skip
    return Row(q, grade=got)


def test_grades_sum_up_shares_of_the_gradable_and_lengths_of_the_answers() -> None:
    rows = [
        row(question("1", "tune", "prose"), True, True, True, 100),
        row(question("2", "tune", "table"), True, False, True, 300),
        row(question("3", "tune", "table"), False, False, False, 41),  # abstained
        row(question("4", "report", "prose", gradable=False), True, False, False, 500),
        Row(question("5", "report", "prose"), error="the LLM timed out"),
    ]
    got = grades(rows)
    assert got == {
        "questions": 5,
        "answered": 0.6,
        "abstained": 0.2,
        "failed": 1,
        "gradable": 4,  # the failed question counts, as not stated
        "stated": 0.25,
        "supported": 0.5,
        "stated_when_answered": 0.5,
        "chars": {"median": 300.0, "mean": 300.0},
        "words": {"median": 60.0, "mean": 60.0},
    }
    summary = summarize(rows)
    assert summary["tune"]["questions"] == 3 and summary["report"]["questions"] == 2
    assert summary["tune"]["kinds"]["table"]["stated"] == 0.0
    assert summary["tune"]["kinds"]["prose"]["stated"] == 1.0
    assert "kinds" not in summary["report"]  # one kind only
    assert summary["report"]["gradable"] == 1 and summary["report"]["stated"] == 0.0


def test_a_set_with_no_answer_given_has_zero_lengths() -> None:
    got = grades([row(question("1", "tune"), False, False, False, 41)])
    assert got["chars"] == {"median": 0.0, "mean": 0.0} and got["answered"] == 0.0
    assert grades([])["questions"] == 0


def test_page_questions_without_answers_are_not_gradable() -> None:
    asked = PageQuestion("1", "A.pdf", "Q?", frozenset({1}), "tune", "prose")
    pageset = PageSet("x", [{"file": "A.pdf"}], [asked])
    assert not from_pages(pageset)[0].gold.gradable
