"""Conversations that last: the app's chats in one SQLite file under ``RAG_STORE_DIR``.

One file holds every collection's conversations; each belongs to the collection it was held in
(a ``collection`` column), and a ``Conversations`` object sees only its own collection's.
Answers are stored whole (``rag.conversations.answer_json``: text, citations, retrieved
passages, timings), so a reopened conversation shows its sources as it did live.

Writes are atomic and small: a question is committed when it is asked, an answer in one
transaction when it is complete. A process killed while answering therefore loses at most
that answer, and the question waits, unanswered, to be asked again. The file runs in WAL
mode; every call opens its own connection (with a busy timeout), so the app's sessions,
each on its own thread, and other processes can use it at once.

The ``feedback`` table (``rag.conversations.feedback``) lives in the same file.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.config import StoreSettings
from rag.conversations.answer_json import dump_answer, load_answer
from rag.errors import StoreError
from rag.types import Answer

SCHEMA_VERSION = 1
FILE_NAME = "conversations.sqlite3"
TITLE_CHARS = 80
BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_newest ON conversations (collection, updated_at);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    answer TEXT,
    error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_in_order ON messages (conversation_id, id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    note TEXT NOT NULL,
    useful TEXT NOT NULL,
    question TEXT NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Message:
    """One turn: a question, or an answer (``answer`` set) or a failure (``error`` set)."""

    id: int
    role: Literal["user", "assistant"]
    text: str
    answer: Answer | None = None
    error: str = ""
    created_at: float = 0.0


@dataclass(frozen=True)
class Conversation:
    id: str
    collection: str
    title: str
    created_at: float
    updated_at: float  # the last question or answer: the list is newest first by this
    messages: tuple[Message, ...] = ()  # filled by ``load``, empty in ``list``


def title_from(question: str) -> str:
    """A conversation's first title: the question's words on one line, cut short."""
    flat = " ".join(question.split()) or "Untitled"
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1] + "…"


class Conversations:
    """The conversations of one collection in the SQLite file at ``path``."""

    def __init__(
        self, path: Path, *, collection: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.collection = collection
        self.clock = clock
        self._create()

    @classmethod
    def for_store(cls, store: StoreSettings) -> Conversations:
        """The file under ``RAG_STORE_DIR``, seen from the settings' collection."""
        return cls(store.store_dir / FILE_NAME, collection=store.collection)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for one call (autocommit; ``write`` for transactions)."""
        try:
            db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        finally:
            db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is committed, or (on any error, or a crash) none."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- conversations ------------------------------------------------------------------

    def create(self, title: str = "") -> Conversation:
        """An empty conversation (the app creates one with its first question: ``start``)."""
        with self.write() as db:
            return self._new(db, title, now=self.clock())

    def start(self, question: str) -> tuple[Conversation, Message]:
        """A new conversation titled after ``question``, holding it: one transaction."""
        now = self.clock()
        with self.write() as db:
            conversation = self._new(db, question, now=now)
            return conversation, self._append(db, conversation.id, "user", question, now=now)

    def list(self, *, limit: int = 100) -> list[Conversation]:
        """This collection's conversations, the most recently active first (no messages)."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT id, collection, title, created_at, updated_at FROM conversations"
                " WHERE collection = ? ORDER BY updated_at DESC, created_at DESC, rowid DESC"
                " LIMIT ?",
                (self.collection, limit),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def load(self, conversation_id: str) -> Conversation | None:
        """The conversation with its messages in order; None when this collection has none
        with that id (deleted, or held in another collection)."""
        with self.connect() as db:
            row = db.execute(
                "SELECT id, collection, title, created_at, updated_at FROM conversations"
                " WHERE id = ? AND collection = ?",
                (conversation_id, self.collection),
            ).fetchone()
            if row is None:
                return None
            rows = db.execute(
                "SELECT id, role, text, answer, error, created_at FROM messages"
                " WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        messages = tuple(
            Message(mid, role, text, load_answer(answer) if answer else None, error, created)
            for mid, role, text, answer, error, created in rows
        )
        cid, collection, title, created, updated = row
        return Conversation(cid, collection, title, created, updated, messages)

    def rename(self, conversation_id: str, title: str) -> None:
        with self.write() as db:
            self._require(db, conversation_id)
            db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?",
                (title_from(title), conversation_id),
            )

    def delete(self, conversation_id: str) -> None:
        """The conversation and its messages (feedback given on it is kept: it is
        evaluation data, see ``rag.conversations.feedback``)."""
        with self.write() as db:
            self._require(db, conversation_id)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- messages -----------------------------------------------------------------------

    def ask(self, conversation_id: str, question: str) -> Message:
        """Record a question, committed before it is answered."""
        with self.write() as db:
            self._require(db, conversation_id)
            return self._append(db, conversation_id, "user", question, now=self.clock())

    def answer(self, conversation_id: str, answer: Answer) -> Message:
        """Record a complete answer with its sources, in one transaction."""
        with self.write() as db:
            self._require(db, conversation_id)
            return self._append(
                db, conversation_id, "assistant", answer.text, now=self.clock(), answer=answer
            )

    def fail(self, conversation_id: str, error: str) -> Message:
        """Record that answering failed, with the message the user saw."""
        with self.write() as db:
            self._require(db, conversation_id)
            return self._append(db, conversation_id, "assistant", "", now=self.clock(), error=error)

    # -- internals ----------------------------------------------------------------------

    def _new(self, db: sqlite3.Connection, title: str, *, now: float) -> Conversation:
        conversation = Conversation(uuid.uuid4().hex, self.collection, title_from(title), now, now)
        db.execute(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
            (conversation.id, self.collection, conversation.title, now, now),
        )
        return conversation

    def _append(
        self,
        db: sqlite3.Connection,
        conversation_id: str,
        role: Literal["user", "assistant"],
        text: str,
        *,
        now: float,
        answer: Answer | None = None,
        error: str = "",
    ) -> Message:
        raw = dump_answer(answer) if answer is not None else None
        cursor = db.execute(
            "INSERT INTO messages (conversation_id, role, text, answer, error, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (conversation_id, role, text, raw, error, now),
        )
        db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        assert cursor.lastrowid is not None
        return Message(cursor.lastrowid, role, text, answer, error, now)

    def _require(self, db: sqlite3.Connection, conversation_id: str) -> None:
        found = db.execute(
            "SELECT 1 FROM conversations WHERE id = ? AND collection = ?",
            (conversation_id, self.collection),
        ).fetchone()
        if found is None:
            raise StoreError(
                f"Conversation {conversation_id} is not in collection {self.collection!r} "
                "(it was deleted, perhaps in another tab); start a new conversation."
            )

    def _create(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(exc) from exc
        with self.connect() as db:
            db.execute("PRAGMA journal_mode = WAL")  # kept by the file: readers never wait
            db.executescript(SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"The conversations file {self.path} was written by a newer version of this "
                f"app (schema {row[0]}, this one reads {SCHEMA_VERSION}). Upgrade the app, or "
                "use another RAG_STORE_DIR."
            )

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(
            f"The conversations file {self.path} cannot be used ({exc}). Check that "
            "RAG_STORE_DIR is writable; if the file is corrupt, move it away (the app starts "
            "a new one)."
        )
