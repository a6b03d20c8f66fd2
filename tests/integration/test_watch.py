"""``--watch``: the index follows a folder as files are added, edited, renamed and deleted,
including a burst of saves."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from ingest.report import Report
from ingest.watch import watch
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import open_index
from tests.conftest import make_settings, manifest_of

pytestmark = pytest.mark.integration


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the index did not follow the folder in time")
        time.sleep(0.2)


def test_index_follows_the_folder(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Alpha\nThe alpha document talks about apples.\n")
    settings = make_settings(tmp_path / "store")
    manifest = manifest_of(settings)

    def indexed() -> dict[str, str]:
        return {Path(r.source).name: r.sha256 for r in manifest.records()}

    reports: list[Report] = []
    stop = threading.Event()

    def run() -> None:  # as the CLI does: the index opened where it is used
        with open_index(settings, writing=True, model=embedder) as index:
            watch(Ingestor(index), [docs], on_report=reports.append, stop=stop, debounce_ms=300)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_for(lambda: set(indexed()) == {"a.md"})
        (docs / "b.txt").write_text("Bananas are yellow.")  # add
        wait_for(lambda: set(indexed()) == {"a.md", "b.txt"})
        for n in range(20):  # a burst of saves: the last one is what the index holds
            (docs / "a.md").write_text(f"# Alpha\nThe alpha document, version {n}.\n")
        final = hashlib.sha256(b"# Alpha\nThe alpha document, version 19.\n").hexdigest()
        wait_for(lambda: indexed().get("a.md") == final)
        (docs / "b.txt").rename(docs / "c.txt")  # rename
        wait_for(lambda: set(indexed()) == {"a.md", "c.txt"})
        (docs / "a.md").unlink()  # delete
        wait_for(lambda: set(indexed()) == {"c.txt"})
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert reports and all(not r.errors for r in reports)
    with open_index(settings, writing=False, model=embedder) as reader:
        stored = reader.store.ids_by_source([str(docs / n) for n in ("a.md", "b.txt", "c.txt")])
    assert {Path(source).name for source, ids in stored.items() if ids} == {"c.txt"}
