"""Feedback that becomes evaluation data.

A thumbs up or down on an answer, an optional note, and which of the retrieved passages
were useful (by default the cited ones for a thumbs up, none for a thumbs down). Each is
stored, in the conversations file (``rag.conversations.history``), with the question, the query
it was searched with (a follow-up's standalone form), the retrieved passages and the
answer, copied at the time: deleting the conversation keeps the feedback.

``question_set`` writes the feedback of a collection as questions with the passages judged
useful; ``load_question_set`` reads such a file back and ``useful_rank`` judges a ranking
against it: a passage is a hit when it is a useful one, by chunk id or, so that the set
survives re-chunking, by lying on the same page of the same source and overlapping the
useful passage's characters there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.conversations.answer_json import dump_answer, load_answer
from rag.conversations.history import Conversations
from rag.errors import ConfigError, StoreError
from rag.evaluation.longeval import first_rank, half_of, overlaps
from rag.types import Answer, Hit

RATINGS = ("up", "down")
FORMAT = "rag-feedback-questions"
VERSION = 1


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the question set keeps it."""

    chunk_id: str
    source: str
    page: int
    start_index: int
    text: str

    @classmethod
    def of(cls, hit: Hit) -> Passage:
        return cls(hit.chunk_id, hit.source, hit.page, hit.start_index, hit.text)

    @property
    def span(self) -> tuple[int, int]:
        return self.start_index, self.start_index + len(self.text)


@dataclass(frozen=True)
class Feedback:
    id: int
    message_id: int  # the answer's message in its conversation
    conversation_id: str
    collection: str
    rating: str  # "up" or "down"
    note: str
    useful: tuple[str, ...]  # chunk ids of the answer's passages judged useful
    question: str  # as the user asked it
    query: str  # what was searched: the standalone form of a follow-up
    answer: Answer
    created_at: float
    updated_at: float

    def useful_passages(self) -> list[Passage]:
        wanted = set(self.useful)
        return [Passage.of(h) for h in self.answer.hits if h.chunk_id in wanted]


def default_useful(answer: Answer, rating: str) -> tuple[str, ...]:
    """The passages preselected as useful: the cited ones for "up", none for "down"."""
    return tuple(dict.fromkeys(c.chunk_id for c in answer.citations)) if rating == "up" else ()


def give_feedback(
    store: Conversations,
    *,
    message_id: int,
    rating: str,
    note: str = "",
    useful: Sequence[str] | None = None,
) -> Feedback:
    """Record (or change) the feedback on the answer ``message_id``; ``useful`` None takes
    ``default_useful``."""
    if rating not in RATINGS:
        raise ConfigError(f"Feedback is rated {' or '.join(RATINGS)}, got {rating!r}.")
    question, answer, conversation_id = _answered(store, message_id)
    chosen = default_useful(answer, rating) if useful is None else tuple(dict.fromkeys(useful))
    retrieved = {h.chunk_id for h in answer.hits}
    unknown = [c for c in chosen if c not in retrieved]
    if unknown:
        raise ConfigError(
            f"Passages {', '.join(unknown)} were not retrieved for this answer; mark only "
            "its own passages as useful."
        )
    query = str(answer.metadata.get("condensed_query") or question)
    now = store.clock()
    with store.write() as db:
        db.execute(
            "INSERT INTO feedback (message_id, conversation_id, collection, rating, note,"
            " useful, question, query, answer, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (message_id) DO UPDATE SET rating = excluded.rating,"
            " note = excluded.note, useful = excluded.useful, updated_at = excluded.updated_at",
            (
                message_id,
                conversation_id,
                store.collection,
                rating,
                note.strip(),
                json.dumps(list(chosen)),
                question,
                query,
                dump_answer(answer),
                now,
                now,
            ),
        )
    found = feedback_for(store, message_id)
    assert found is not None
    return found


def feedback_for(store: Conversations, message_id: int) -> Feedback | None:
    rows = _select(store, "WHERE message_id = ? AND collection = ?", (message_id, store.collection))
    return rows[0] if rows else None


def feedback_in(store: Conversations, conversation_id: str) -> dict[int, Feedback]:
    """The feedback on a conversation's answers, by answer message id."""
    rows = _select(
        store, "WHERE conversation_id = ? AND collection = ?", (conversation_id, store.collection)
    )
    return {fb.message_id: fb for fb in rows}


def withdraw_feedback(store: Conversations, message_id: int) -> None:
    """Forget the feedback on an answer (the user unselected the thumb)."""
    with store.write() as db:
        db.execute(
            "DELETE FROM feedback WHERE message_id = ? AND collection = ?",
            (message_id, store.collection),
        )


def all_feedback(store: Conversations) -> list[Feedback]:
    """The collection's feedback, oldest first."""
    return _select(store, "WHERE collection = ? ORDER BY id", (store.collection,))


# -- the question set -----------------------------------------------------------------------


def question_set(feedback: Sequence[Feedback], *, collection: str) -> dict[str, Any]:
    """The feedback as questions with the passages judged useful (JSON-ready)."""
    questions = []
    for fb in feedback:
        questions.append(
            {
                "id": f"feedback-{fb.id}",
                "question": fb.query,
                "asked": fb.question,
                "rating": fb.rating,
                "note": fb.note,
                "useful": [asdict(p) for p in fb.useful_passages()],
                "retrieved": [asdict(Passage.of(h)) for h in fb.answer.hits],
                "cited": [c.chunk_id for c in fb.answer.citations],
                "answer": fb.answer.text,
                "given_at": fb.updated_at,
            }
        )
    return {"format": FORMAT, "version": VERSION, "collection": collection, "questions": questions}


@dataclass(frozen=True)
class JudgedQuestion:
    id: str
    question: str
    useful: tuple[Passage, ...]
    # tune or report, by a stable hash of the question id (rag.evaluation.longeval.half_of)
    half: str


@dataclass(frozen=True)
class FeedbackSet:
    name: str
    collection: str
    questions: tuple[JudgedQuestion, ...]  # those with at least one useful passage
    unjudged: int  # feedback without a useful passage: not scored


def load_question_set(path: Path) -> FeedbackSet:
    """A file written by ``rag feedback --export``, with one-line errors for anything else."""
    hint = "rag feedback --export FILE"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; write it with `{hint}`.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not readable JSON ({exc}); write it with `{hint}`.") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a feedback question set; write one with `{hint}`.")
    if data.get("version") != VERSION:
        raise ConfigError(
            f"{path} is version {data.get('version')!r} of the feedback question set; this "
            f"app reads version {VERSION}. Export it again with `{hint}`."
        )
    judged, unjudged = [], 0
    try:
        for q in data["questions"]:
            useful = tuple(Passage(**p) for p in q["useful"])
            if not useful:
                unjudged += 1
                continue
            qid = str(q["id"])
            judged.append(JudgedQuestion(qid, str(q["question"]), useful, half_of(qid)))
        collection = str(data["collection"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: a malformed feedback question set ({type(exc).__name__}: {exc}); "
            f"export it again with `{hint}`."
        ) from exc
    if not judged:
        raise ConfigError(
            f"{path} holds no question with a passage judged useful ({unjudged} without): "
            "give a thumbs up in the app (or mark passages useful) and export again."
        )
    return FeedbackSet(path.stem, collection, tuple(judged), unjudged)


def is_useful(useful: Sequence[Passage], hit: Hit) -> bool:
    """Whether ``hit`` is one of the useful passages: the same chunk, or the same page of
    the same source with overlapping characters (a re-chunked index)."""
    span = (hit.start_index, hit.start_index + len(hit.text))
    return any(
        hit.chunk_id == p.chunk_id
        or (hit.source == p.source and hit.page == p.page and overlaps(span, p.span))
        for p in useful
    )


def useful_rank(useful: Sequence[Passage], hits: Sequence[Hit]) -> int | None:
    """The 1-based rank of the first useful passage among ``hits``, None if none is."""
    return first_rank(is_useful(useful, h) for h in hits)


# -- internals ------------------------------------------------------------------------------


def _answered(store: Conversations, message_id: int) -> tuple[str, Answer, str]:
    """The question, the answer and the conversation of the answer ``message_id``."""
    with store.connect() as db:
        row = db.execute(
            "SELECT m.conversation_id, m.answer FROM messages m JOIN conversations c"
            " ON c.id = m.conversation_id"
            " WHERE m.id = ? AND m.role = 'assistant' AND c.collection = ?",
            (message_id, store.collection),
        ).fetchone()
        if row is None or row[1] is None:
            raise StoreError(
                f"Message {message_id} is not an answer in collection {store.collection!r} "
                "(its conversation may have been deleted); ask again and rate the new answer."
            )
        asked = db.execute(
            "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' AND id < ?"
            " ORDER BY id DESC LIMIT 1",
            (row[0], message_id),
        ).fetchone()
    return (asked[0] if asked else ""), load_answer(row[1]), row[0]


def _select(store: Conversations, where: str, params: tuple[object, ...]) -> list[Feedback]:
    with store.connect() as db:
        rows = db.execute(
            "SELECT id, message_id, conversation_id, collection, rating, note, useful,"
            f" question, query, answer, created_at, updated_at FROM feedback {where}",
            params,
        ).fetchall()
    return [
        Feedback(
            id=r[0],
            message_id=r[1],
            conversation_id=r[2],
            collection=r[3],
            rating=r[4],
            note=r[5],
            useful=tuple(json.loads(r[6])),
            question=r[7],
            query=r[8],
            answer=load_answer(r[9]),
            created_at=r[10],
            updated_at=r[11],
        )
        for r in rows
    ]
