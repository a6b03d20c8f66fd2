"""Feedback becomes evaluation data: real answers on R-intro.pdf, rated through the core
API, exported by the real `rag feedback --export` and scored by `rag eval --feedback`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answers.answer import Answerer
from rag.config import Settings
from rag.conversations.feedback import give_feedback
from rag.conversations.history import Conversations
from rag.embedding.types import Embedder
from rag.types import Answer
from tests.conftest import retriever_for, run_cli

pytestmark = pytest.mark.integration

QUESTIONS = [
    "How are missing values represented in R?",
    "How do I read a data frame from a file?",
    "What does the function lm fit?",
    "Who won the football World Cup in 2018?",
]


def ask(answerer: Answerer, question: str) -> Answer:
    stream = answerer.ask(question)
    for _ in stream:
        pass
    return stream.answer


def test_feedback_is_exported_and_scored(
    rintro_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    store_dir = rintro_settings.store.store_dir
    done = run_cli(["-m", "rag", "feedback"], store_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: No feedback on collection 'docs' in {store_dir} yet: rate answers in the "
        "app (thumbs up or down), then run this again."
    )

    answerer = Answerer(
        retriever=retriever_for(rintro_settings, embedder),
        llm=None,
        settings=rintro_settings.answers,
    )
    store = Conversations.for_store(rintro_settings.store)
    conversation, _ = store.start(QUESTIONS[0])
    answers, message_ids = [], []
    for n, question in enumerate(QUESTIONS):
        if n:
            store.ask(conversation.id, question)
        answers.append(ask(answerer, question))
        message_ids.append(store.answer(conversation.id, answers[-1]).id)
    # the first two are answered and the last abstains; whether the third is answered depends
    # on RAG_ABSTAIN_THRESHOLD and does not matter: it is rated down with a passage chosen
    cited = [bool(a.citations) for a in answers]
    assert (cited[0], cited[1], cited[3]) == (True, True, False)
    give_feedback(store, message_id=message_ids[0], rating="up", note="exactly right")
    give_feedback(store, message_id=message_ids[1], rating="up")
    third = answers[2].hits[2].chunk_id  # not the cited one: the user found it better
    give_feedback(store, message_id=message_ids[2], rating="down", useful=[third])
    give_feedback(store, message_id=message_ids[3], rating="down", note="not in the manual")

    out = tmp_path / "feedback.json"
    done = run_cli(["-m", "rag", "feedback", "--export", str(out)], store_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "4 feedback on collection 'docs': 2 up, 2 down, 3 with passages judged useful"
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [q["question"] for q in data["questions"]] == QUESTIONS
    assert [q["rating"] for q in data["questions"]] == ["up", "up", "down", "down"]
    assert [q["note"] for q in data["questions"]] == ["exactly right", "", "", "not in the manual"]
    useful = [[p["chunk_id"] for p in q["useful"]] for q in data["questions"]]
    cited = [dict.fromkeys(c.chunk_id for c in a.citations) for a in answers]
    assert useful[:2] == [[h.chunk_id for h in a.hits if h.chunk_id in c] for a, c in
                          zip(answers[:2], cited[:2], strict=True)]  # fmt: skip
    assert useful[2:] == [[third], []]
    first = data["questions"][0]["useful"][0]
    assert first["source"].endswith("R-intro.pdf") and first["page"] == 17
    assert first["text"] == next(h.text for h in answers[0].hits if h.chunk_id == useful[0][0])
    assert len(data["questions"][0]["retrieved"]) == len(answers[0].hits)

    done = run_cli(["-m", "rag", "eval", "--feedback", str(out), "--json"], store_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["questions"], result["unjudged"], result["collection"]) == (3, 1, "docs")
    mode = rintro_settings.retrieval.retrieval_mode
    # where the useful passages ranked when the app answered (the same mode; eval asks for
    # 10 passages): Q1's and Q2's best cited passage (an extractive answer quotes the top
    # passages, so it is the first since issue 24), Q3's chosen one third
    ranks = [
        1 + min(i for i, h in enumerate(a.hits) if h.chunk_id in u)
        for a, u in zip(answers, useful[:3], strict=False)
    ]
    assert ranks[2] == 3 and all(r <= 3 for r in ranks)
    assert result["modes"][mode]["all"] == {
        "questions": 3,
        "hit@1": round(sum(r == 1 for r in ranks) / 3, 5),
        "hit@5": 1.0,
        "hit@10": 1.0,
        "mrr@10": round(sum(1 / r for r in ranks) / 3, 5),
    }


def test_bad_feedback_files_get_one_line(rintro_settings: Settings, tmp_path: Path) -> None:
    store_dir = rintro_settings.store.store_dir
    missing = tmp_path / "nope.json"
    done = run_cli(["-m", "rag", "eval", "--feedback", str(missing)], store_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {missing} does not exist; write it with `rag feedback --export FILE`."
    )
    beir = tmp_path / "beir.json"
    beir.write_text('{"questions": []}', encoding="utf-8")
    done = run_cli(["-m", "rag", "eval", "--feedback", str(beir)], store_dir)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "is not a feedback question set" in done.stderr
    nowhere = tmp_path / "no" / "f.json"
    done = run_cli(["-m", "rag", "feedback", "--export", str(nowhere)], store_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: Cannot write {nowhere}: folder {nowhere.parent} does not exist."
    )
