"""Feedback rows (rag.conversations.feedback) on a real SQLite file, the question set they
export to, reading such a file back, and judging a ranking against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.conversations.feedback import (
    Passage,
    all_feedback,
    default_useful,
    feedback_in,
    give_feedback,
    is_useful,
    load_question_set,
    question_set,
    useful_rank,
    withdraw_feedback,
)
from rag.conversations.history import Conversations
from rag.errors import ConfigError, StoreError
from rag.types import Answer, Hit
from tests.unit.test_conversations import Clock, answer_citing


@pytest.fixture
def store(tmp_path: Path) -> Conversations:
    return Conversations(tmp_path / "c.sqlite3", collection="docs", clock=Clock())


def answered(store: Conversations, answer: Answer, question: str = "what is NA?") -> int:
    conversation, _ = store.start(question)
    return store.answer(conversation.id, answer).id


def test_defaults_are_the_cited_passages_for_up_and_none_for_down() -> None:
    answer = answer_citing(3, 1, 3)
    assert default_useful(answer, "up") == ("c3", "c1")
    assert default_useful(answer, "down") == ()


def test_feedback_keeps_question_query_passages_and_answer(store: Conversations) -> None:
    answer = answer_citing(2)
    answer = Answer(answer.text, answer.mode, answer.citations, answer.hits, answer.timings,
                    {**answer.metadata, "condensed_query": "what is NA in R?"})  # fmt: skip
    message_id = answered(store, answer, question="and NA?")
    fb = give_feedback(store, message_id=message_id, rating="up", note=" clear ")
    assert (fb.rating, fb.note, fb.useful) == ("up", "clear", ("c2",))
    assert (fb.question, fb.query) == ("and NA?", "what is NA in R?")
    assert fb.answer == answer
    assert fb.useful_passages() == [Passage("c2", "/docs/R-intro.pdf", 17, 200, "passage 2 text")]
    # changed: one row per answer, the default passages of the new rating unless given
    fb = give_feedback(store, message_id=message_id, rating="down", note="wrong page")
    assert (fb.rating, fb.note, fb.useful) == ("down", "wrong page", ())
    fb = give_feedback(store, message_id=message_id, rating="down", useful=["c4", "c4", "c1"])
    assert fb.useful == ("c4", "c1")
    assert [f.id for f in all_feedback(store)] == [fb.id]


def test_bad_feedback_is_refused_with_the_reason(store: Conversations) -> None:
    message_id = answered(store, answer_citing(1))
    with pytest.raises(ConfigError, match="rated up or down, got 'meh'"):
        give_feedback(store, message_id=message_id, rating="meh")
    with pytest.raises(ConfigError, match="Passages c9 were not retrieved for this answer"):
        give_feedback(store, message_id=message_id, rating="up", useful=["c9"])
    with pytest.raises(StoreError, match="Message 999 is not an answer"):
        give_feedback(store, message_id=999, rating="up")
    other = Conversations(store.path, collection="papers")
    with pytest.raises(StoreError, match="not an answer in collection 'papers'"):
        give_feedback(other, message_id=message_id, rating="up")


def test_feedback_outlives_its_conversation_and_can_be_withdrawn(store: Conversations) -> None:
    kept = answered(store, answer_citing(1), question="kept")
    gone = answered(store, answer_citing(2), question="gone")
    give_feedback(store, message_id=kept, rating="up")
    give_feedback(store, message_id=gone, rating="down")
    conversation_id = all_feedback(store)[1].conversation_id
    assert list(feedback_in(store, conversation_id)) == [gone]
    store.delete(conversation_id)
    assert [f.question for f in all_feedback(store)] == ["kept", "gone"]
    withdraw_feedback(store, kept)
    assert [f.question for f in all_feedback(store)] == ["gone"]
    assert all_feedback(Conversations(store.path, collection="papers")) == []


def test_the_question_set_format(store: Conversations) -> None:
    message_id = answered(store, answer_citing(2, 1))
    give_feedback(store, message_id=message_id, rating="up", note="good")
    data = question_set(all_feedback(store), collection="docs")
    assert data["format"] == "rag-feedback-questions" and data["version"] == 1
    assert data["collection"] == "docs"
    [q] = data["questions"]
    assert q["question"] == q["asked"] == "what is NA?"
    assert (q["rating"], q["note"], q["cited"]) == ("up", "good", ["c2", "c1"])
    assert [p["chunk_id"] for p in q["useful"]] == ["c1", "c2"]  # in the answer's rank order
    assert q["useful"][0] == {
        "chunk_id": "c1",
        "source": "/docs/R-intro.pdf",
        "page": 17,
        "start_index": 100,
        "text": "passage 1 text",
    }
    assert [p["chunk_id"] for p in q["retrieved"]] == ["c1", "c2", "c3", "c4"]
    assert q["answer"] == "Claim 2 [2]. Claim 1 [1]."


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "fb.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_reading_a_question_set_back(store: Conversations, tmp_path: Path) -> None:
    up = answered(store, answer_citing(2))
    down = answered(store, answer_citing(1))
    give_feedback(store, message_id=up, rating="up")
    give_feedback(store, message_id=down, rating="down")
    loaded = load_question_set(write(tmp_path, question_set(all_feedback(store), collection="x")))
    assert (loaded.name, loaded.collection, loaded.unjudged) == ("fb", "x", 1)
    [q] = loaded.questions
    assert q.question == "what is NA?" and [p.chunk_id for p in q.useful] == ["c2"]
    assert q.half in ("tune", "report")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist; write it with `rag feedback --export FILE`"),
        ("{not json", "is not readable JSON"),
        ({"questions": []}, "is not a feedback question set"),
        ({"format": "rag-feedback-questions", "version": 7}, "version 7 of the feedback"),
        (
            {"format": "rag-feedback-questions", "version": 1, "questions": [{"useful": [{}]}]},
            "a malformed feedback question set",
        ),
        (
            {"format": "rag-feedback-questions", "version": 1, "collection": "d", "questions": []},
            "holds no question with a passage judged useful",
        ),
    ],
)
def test_bad_question_sets_get_one_line(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "missing.json" if content is None else write(tmp_path, content)
    with pytest.raises(ConfigError, match=message) as caught:
        load_question_set(path)
    assert "\n" not in str(caught.value)


def test_a_hit_is_the_useful_chunk_or_overlaps_it_on_its_page() -> None:
    useful = [Passage("old-7", "/d/R-intro.pdf", 17, 1000, "x" * 500)]  # chars 1000-1500
    same = Hit("old-7", "y", "/other.pdf", 3, 1.0)  # the chunk id decides
    rechunked = Hit("new-2", "z" * 300, "/d/R-intro.pdf", 17, 1.0, start_index=1400)
    touching = Hit("new-3", "z" * 300, "/d/R-intro.pdf", 17, 1.0, start_index=1500)
    other_page = Hit("new-4", "z" * 300, "/d/R-intro.pdf", 18, 1.0, start_index=1100)
    other_file = Hit("new-5", "z" * 300, "/d/R-data.pdf", 17, 1.0, start_index=1100)
    assert is_useful(useful, same) and is_useful(useful, rechunked)
    assert not any(is_useful(useful, h) for h in (touching, other_page, other_file))
    assert useful_rank(useful, [touching, other_page, rechunked, same]) == 3
    assert useful_rank(useful, [touching, other_file]) is None
