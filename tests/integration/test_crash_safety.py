"""SIGKILL the ingest process at 20 points spread over a run; after a re-run the store is
exactly what a clean ingest gives: no duplicates, no file marked done without its chunks,
no orphans."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.files import file_sha256
from rag.config import Settings
from rag.store.index import connect
from tests.conftest import ROOT, IngestFn, make_settings, manifest_of

pytestmark = pytest.mark.integration

KILL_POINTS = 20
SEED = 20261127

# A fork server: it pays for the imports and the model load once, then forks one child per
# ingestion; the test SIGKILLs that child (a real process doing real writes) mid-run.
WORKER = """
import os, sys
from pathlib import Path
from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.store.index import load_model, open_index
settings = Settings.from_env()
embedder = load_model(settings.embedding)
print("ready", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        with open_index(settings, writing=True, model=embedder) as index:
            Ingestor(index).run([Path(line.strip())], prune=True)
        os._exit(0)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
"""


def make_corpus(root: Path, rng: random.Random, *, files: int = 24) -> Path:
    docs = root / "docs"
    docs.mkdir()
    topics = ["rivers", "volcanoes", "orchids", "compilers", "violins", "glaciers"]
    for i in range(files):
        topic = topics[i % len(topics)]
        lines = [f"# Notes {i} on {topic}"]
        lines += [
            f"Paragraph {j} of note {i} discusses {topic} and item {rng.randint(0, 10**6)}."
            for j in range(rng.randint(8, 24))
        ]
        (docs / f"note{i:02d}.md").write_text("\n\n".join(lines))
    return docs


def snapshot(
    settings: Settings,
) -> tuple[dict[str, tuple[str, str, int, int]], dict[str, tuple[str, ...]]]:
    store = connect(settings.store)
    col = store._existing()
    chunks: dict[str, tuple[str, str, int, int]] = {}
    if col is not None:
        got = col.get(include=["documents", "metadatas"])
        for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            chunks[cid] = (doc, meta["source"], meta["page"], meta["start_index"])
    manifest = manifest_of(settings)
    files = {r.source: r.chunk_ids for r in manifest.records()}
    manifest.close()
    return chunks, files


def check_invariants(settings: Settings) -> None:
    """A file marked done at its current content has all its chunks. (A row for content
    that has since changed may point at chunks the killed run already replaced: the next
    run sees the new hash and redoes that file.)"""
    chunks, _ = snapshot(settings)
    manifest = manifest_of(settings)
    for record in manifest.records():
        path = Path(record.source)
        if path.exists() and file_sha256(path)[0] == record.sha256:
            missing = set(record.chunk_ids) - set(chunks)
            assert not missing, f"{record.source} is marked done but chunks are missing"
    manifest.close()


def edit(docs: Path, rng: random.Random, point: int) -> None:
    """Give every run real work: edit a third of the files, sometimes add or delete one."""
    files = sorted(docs.glob("*.md"))
    for victim in rng.sample(files, k=max(1, len(files) // 3)):
        victim.write_text(victim.read_text() + f"\n\nEdited before run {point}: {rng.random()}.")
    if point % 7 == 3:
        rng.choice(files).unlink()
    if point % 5 == 1:
        (docs / f"late{point}.md").write_text(f"# Late {point}\nA file that arrived mid-way.")


def test_sigkill_at_twenty_points_then_rerun_equals_clean_ingest(
    tmp_path: Path, ingest: IngestFn, settings: Settings
) -> None:
    rng = random.Random(SEED)
    docs = make_corpus(tmp_path, rng, files=12)
    crashed = make_settings(tmp_path / "crashed")
    # torch: OpenVINO's and ONNX Runtime's thread pools do not survive the fork server's fork
    env = {
        **os.environ,
        "RAG_STORE_DIR": str(crashed.store.store_dir),
        "RAG_DEVICE": "cpu",
        "RAG_EMBED_BACKEND": "torch",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin and server.stdout and server.stdout.readline().strip() == "ready"

    def start() -> int:
        server.stdin.write(f"{docs}\n")  # type: ignore[union-attr]
        server.stdin.flush()  # type: ignore[union-attr]
        return int(server.stdout.readline())  # type: ignore[union-attr]

    def finished() -> int:
        return int(server.stdout.readline())  # type: ignore[union-attr]

    try:
        # an uninterrupted edit-and-ingest measures how long a run takes on this machine
        start()
        assert finished() == 0
        edit(docs, rng, 0)
        began = time.monotonic()
        start()
        assert finished() == 0
        typical = time.monotonic() - began

        kills = 0
        for point in range(1, KILL_POINTS + 1):
            edit(docs, rng, point)
            child = start()
            time.sleep(rng.uniform(0, typical))
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
            status = finished()
            kills += os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            check_invariants(crashed)
    finally:
        server.kill()
        server.wait()

    print(f"{kills} of {KILL_POINTS} ingest runs were SIGKILLed mid-way")
    assert kills >= KILL_POINTS * 3 // 4, f"only {kills} of {KILL_POINTS} runs were killed mid-way"
    final = subprocess.run(
        [sys.executable, "-m", "ingest", str(docs), "--prune", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert final.returncode == 0, final.stderr

    ingest([docs])  # the clean reference, in the `settings` store
    assert snapshot(crashed) == snapshot(settings)
    assert connect(crashed.store).count() == connect(settings.store).count()
