"""One writer at a time, readers always: the app keeps answering while the CLI ingests
into the same store, and a second writer gets a clear message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.answers.answer import Answerer
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index
from tests.conftest import DATA, ROOT, IngestFn, run_cli

pytestmark = pytest.mark.integration


def test_answers_keep_working_while_the_cli_ingests(
    tmp_path: Path, ingest: IngestFn, settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(DATA / "about-this-app.md", first)
    ingest([first])
    second = tmp_path / "second"
    second.mkdir()
    for name in ("gmpl.pdf", "how-it-works.md"):
        shutil.copy(DATA / name, second)

    env = {
        **os.environ,
        "RAG_STORE_DIR": str(settings.store.store_dir),
        "RAG_DEVICE": "cpu",
        "RAG_LOCK_TIMEOUT": "0",
    }
    writer = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(second)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until the writer holds the lock, then try a second writer: it must fail cleanly
    lock = settings.store.store_dir / "writer.lock"
    deadline = time.monotonic() + 120
    while not (lock.is_file() and lock.read_text().strip() == str(writer.pid)):
        assert writer.poll() is None, "the writer ended before it was seen holding the lock"
        assert time.monotonic() < deadline, "the writer never took the lock"
        time.sleep(0.1)
    rival = run_cli(["-m", "ingest", str(first)], settings.store.store_dir, RAG_LOCK_TIMEOUT="0")
    # the writer has 74 pages to embed, the rival only starts Python: it met the lock
    assert writer.poll() is None, "the writer finished before the rival tried: nothing tested"
    assert rival.returncode == 2, rival.stderr
    assert f"Another ingestion (pid {writer.pid}) is writing to" in rival.stderr
    assert "Traceback" not in rival.stderr
    answers = 0
    while writer.poll() is None:
        retriever = Retriever(
            index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
        )
        answer = (
            Answerer(retriever=retriever, llm=None, settings=settings.answers)
            .ask("What does this app do with my documents?")
            .answer
        )
        assert answer.hits and answer.citations, answer
        answers += 1
    _out, err = writer.communicate()
    assert writer.returncode == 0, err
    assert answers >= 3, f"only {answers} answers while the writer ran"

    final = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    hits = final.retrieve("How is the objective statement written in MathProg?", k=3)
    assert any(h.source.endswith("gmpl.pdf") for h in hits)
