"""SIGKILL a process that is writing a conversation, again and again, at random moments
(most of them while an answer is being written): each time, the file is intact, every
question asked is there, and every answer is either there whole (its text and all its
passages) or not at all; the next run answers the question left waiting."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.conversations.history import Conversations
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

KILLS = 12  # kills at the least
MID_ANSWER = KILLS // 3  # of which this many must land mid-answer
MAX_KILLS = 5 * KILLS
SEED = 20260412
HITS = 200  # passages per answer: ~500 KB of JSON, so a write takes a while to land in
PASSAGE = 2_000

# Continues the one conversation in the file (the app's behaviour on reopening it): a
# question left unanswered is answered first; then ask, answer, ask, answer ... forever.
WORKER = f"""
import sys
from pathlib import Path
from rag.conversations.history import Conversations
from rag.types import Answer, Hit

def answer(n):
    hits = tuple(
        Hit(chunk_id=f"{{n}}-{{i}}", text=str(i % 10) * {PASSAGE}, source="/d/R-intro.pdf",
            page=i + 1, score=1.0)
        for i in range({HITS})
    )
    return Answer(text=f"answer {{n}}", mode="extractive", hits=hits)

store = Conversations(Path(sys.argv[1]), collection="docs")
found = store.list()
if found:
    cid = found[0].id
    messages = store.load(cid).messages
    n = sum(m.role == "user" for m in messages)
    if messages[-1].role == "user":
        store.answer(cid, answer(n - 1))
else:
    cid, n = None, 0
while True:
    if cid is None:
        cid = store.start(f"question {{n}}")[0].id
    else:
        store.ask(cid, f"question {{n}}")
    print("asked", n, flush=True)
    store.answer(cid, answer(n))
    n += 1
"""


def check(path: Path) -> tuple[int, bool]:
    """(questions stored, whether the last one waits for its answer), after checking that
    the file is intact and holds no partial answer."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Conversations(path, collection="docs")
    conversations = store.list()
    assert len(conversations) == 1
    loaded = store.load(conversations[0].id)
    assert loaded is not None
    messages = loaded.messages
    questions = [m for m in messages if m.role == "user"]
    assert [m.text for m in questions] == [f"question {n}" for n in range(len(questions))]
    for n, (asked, answered) in enumerate(zip(messages[::2], messages[1::2], strict=False)):
        assert asked.role == "user" and answered.role == "assistant"
        assert answered.answer is not None and answered.answer.text == f"answer {n}"
        assert len(answered.answer.hits) == HITS
        assert all(len(h.text) == PASSAGE for h in answered.answer.hits)
    waiting = messages[-1].role == "user"
    assert len(messages) == 2 * len(questions) - waiting  # at most the last answer is lost
    return len(questions), waiting


def test_killed_mid_answer_loses_at_most_that_answer(tmp_path: Path) -> None:
    """Kills land at random moments, some mid-answer. How long an answer takes to write
    depends on the machine, so the window after "asked" in which a kill falls shrinks each
    time a kill came too late, and the kills go on (up to MAX_KILLS) until MID_ANSWER of
    them landed mid-answer: the test asserts on what happened, not on a machine's speed."""
    rng = random.Random(SEED)
    path = tmp_path / "conversations.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mid_answer = kills = asked_total = 0
    window = 0.05  # seconds after "asked" in which the kill falls
    while kills < MAX_KILLS and (kills < KILLS or mid_answer < MID_ANSWER):
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert worker.stdout is not None
        for _ in range(rng.randint(1, 4)):  # let a few answers land
            assert worker.stdout.readline().startswith("asked"), "the worker stopped"
        time.sleep(rng.uniform(0, window))  # then kill while the next answer is written
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        worker.stdout.close()
        kills += 1
        assert worker.returncode == -signal.SIGKILL
        asked, waiting = check(path)
        assert asked > asked_total  # each run went on from where the last one was killed
        asked_total = asked
        mid_answer += waiting
        if not waiting:
            window /= 2  # this machine writes an answer faster than the window
    # the kills did land mid-answer (not only between answers): say so if they stop doing
    assert mid_answer >= MID_ANSWER, (mid_answer, kills)
