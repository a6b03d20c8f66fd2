"""The pure logic of the long-document yardsticks: answers located, passages judged,
metrics, the split, and the question files read with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.evaluation.longeval import (
    SpanJudge,
    first_rank,
    half_of,
    hit_metrics,
    locate_answer,
    overlaps,
    page_rank,
    place_in,
    select_half,
    summarize,
)
from rag.evaluation.longsets import load_page_questions, load_squad
from rag.types import Hit

PAPER = "Cats sleep a lot. Dogs bark. Cats sleep a lot, said the vet. The end."


def hit(text: str, start: int, source: str = "p1", page: int = 0) -> Hit:
    return Hit(chunk_id=f"{source}:{start}", text=text, source=source, page=page, score=1.0,
               start_index=start)  # fmt: skip


def test_answer_at_its_offset() -> None:
    assert locate_answer(PAPER, "Dogs bark.", hint=18) == (18, 28)


def test_answer_with_an_off_offset_is_found_by_its_text() -> None:
    assert locate_answer(PAPER, "Dogs bark.", hint=15) == (18, 28)
    assert locate_answer(PAPER, "Dogs bark.", hint=0) == (18, 28)


def test_repeated_answer_takes_the_occurrence_nearest_the_offset() -> None:
    assert locate_answer(PAPER, "Cats sleep a lot", hint=0) == (0, 16)
    assert locate_answer(PAPER, "Cats sleep a lot", hint=27) == (29, 45)  # 2 off, still nearer
    assert locate_answer(PAPER, "Cats sleep a lot", hint=14) == (0, 16)  # 14 vs 15 away


def test_surrounding_whitespace_is_not_part_of_the_span() -> None:
    # COVID-QA answers often end in a space; the hint points at the untrimmed text
    assert locate_answer(PAPER, " Dogs bark. ", hint=17) == (18, 28)
    assert locate_answer(PAPER, "Dogs bark. ", hint=18) == (18, 28)


def test_missing_or_empty_answer_is_none() -> None:
    assert locate_answer(PAPER, "Birds sing.", hint=0) is None
    assert locate_answer(PAPER, "  ", hint=0) is None


def test_overlap_needs_one_shared_character() -> None:
    assert overlaps((0, 10), (9, 20))
    assert overlaps((5, 6), (0, 100))
    assert not overlaps((0, 10), (10, 20))  # touching ends share nothing
    assert not overlaps((10, 20), (0, 10))


def test_place_in_trusts_a_right_offset_and_finds_a_wrong_one() -> None:
    assert place_in(PAPER, "Dogs bark.", 18) == 18
    assert place_in(PAPER, "Dogs bark.", 3) == 18
    assert place_in(PAPER, "Fish swim.", 3) is None


def test_first_rank_and_metrics() -> None:
    assert first_rank([False, False, True, True]) == 3
    assert first_rank([False]) is None
    ranks = [1, 3, None, 7, 12]  # 12 is beyond the deepest cut-off: a miss
    got = hit_metrics(ranks)
    assert got == {
        "questions": 5,
        "hit@1": 0.2,
        "hit@5": 0.4,
        "hit@10": 0.6,
        "mrr@10": round((1 + 1 / 3 + 1 / 7) / 5, 5),
    }
    assert hit_metrics([], name="page") == {
        "questions": 0, "page@1": 0.0, "page@5": 0.0, "page@10": 0.0, "mrr@10": 0.0
    }  # fmt: skip


def test_span_judge_wants_the_right_paper_and_an_overlap() -> None:
    papers = {"p1": PAPER, "p2": PAPER}
    judge = SpanJudge(papers, paper_of=lambda s: s)
    span = (18, 28)  # "Dogs bark."
    hits = [
        hit("Dogs bark.", 18, source="p2"),  # right text, wrong paper
        hit("Cats sleep a lot.", 0),  # right paper, elsewhere
        hit("lot. Dogs", 13),  # overlaps the start
        hit("Dogs bark.", 18),
    ]
    assert judge.rank("p1", span, hits) == 3
    assert (judge.checked, judge.misplaced) == (2, 0)  # judging stops at the hit
    # a wrong stored offset is noticed, and the passage found again by its text
    assert judge.rank("p1", span, [hit("Dogs bark.", 2)]) == 1
    assert judge.misplaced == 1


def test_page_rank_counts_any_listed_page() -> None:
    hits = [hit("a", 0, page=3), hit("b", 0, page=9), hit("c", 0, page=4)]
    assert page_rank({4, 9}, hits) == 2
    assert page_rank({1}, hits) is None


def test_split_is_stable_and_roughly_even() -> None:
    # literal values: a change of hash or rule would move papers between halves
    assert [half_of(str(n)) for n in range(6)] == [
        "tune", "report", "tune", "report", "report", "report"
    ]  # fmt: skip
    halves = [half_of(f"paper-{n}") for n in range(1000)]
    assert 450 < halves.count("tune") < 550
    assert select_half("all") == ("tune", "report")
    assert select_half("report") == ("report",)
    with pytest.raises(ConfigError, match="--half is tune, report or all"):
        select_half("test")


def test_summary_by_half_and_kind() -> None:
    rows = [("tune", "prose", 1), ("tune", "table", None), ("report", "prose", 2)]
    got = summarize(rows, name="page")
    assert got["all"]["questions"] == 3
    assert got["all"]["page@1"] == round(1 / 3, 5)
    assert got["tune"]["page@1"] == 0.5
    assert got["tune"]["kinds"]["table"]["page@10"] == 0.0
    assert got["report"]["mrr@10"] == 0.5
    assert "kinds" not in summarize([("tune", "", 1)])["tune"]


def squad(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_squad_locates_answers_and_splits_by_paper(tmp_path: Path) -> None:
    qas = [
        {"id": 1, "question": "Who?", "answers": [{"text": "Dogs bark. ", "answer_start": 16}]},
        {"id": 2, "question": "Birds?", "answers": [{"text": "Birds sing.", "answer_start": 0}]},
    ]
    paper = {"context": PAPER, "document_id": 0, "qas": qas}
    path = squad(tmp_path, {"data": [{"paragraphs": [paper]}]})
    spans = load_squad(path)
    assert spans.name == "qa"
    assert spans.papers == {"0": PAPER}
    [q] = spans.questions
    assert (q.id, q.paper, q.span, q.half) == ("1", "0", (18, 28), "tune")
    assert (spans.unlocated, spans.moved) == (1, 1)


def test_load_squad_refuses_other_files_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a SQuAD-format file") as err:
        load_squad(squad(tmp_path, {"documents": []}))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="does not exist"):
        load_squad(tmp_path / "nope.json")


def pages_file(tmp_path: Path, question: dict[str, object]) -> Path:
    data = {
        "documents": [{"file": "a.pdf", "origin": "x", "license": "MIT", "sha256": "", "pages": 3}],
        "questions": [question],
    }
    path = tmp_path / "pages.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


GOOD = {"id": "a-1", "file": "a.pdf", "question": "Q?", "pages": [2, 3], "half": "tune",
        "kind": "table"}  # fmt: skip


def test_load_page_questions(tmp_path: Path) -> None:
    pageset = load_page_questions(pages_file(tmp_path, GOOD))
    [q] = pageset.questions
    assert (q.id, q.file, q.pages, q.half, q.kind) == ("a-1", "a.pdf", {2, 3}, "tune", "table")
    assert pageset.files() == ["a.pdf"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"file": "b.pdf"}, "not in documents"),
        ({"pages": [0]}, "1-based pages"),
        ({"pages": []}, "1-based pages"),
        ({"half": "test"}, "half must be one of"),
        ({"kind": "figure"}, "kind one of"),
    ],
)
def test_bad_page_questions_are_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_page_questions(pages_file(tmp_path, {**GOOD, **change}))
