"""Several hosts on one Chroma server (issue 29): one real `chroma run`, and two
RAG_STORE_DIR folders standing for two hosts (each with its own BM25 copy and file lock,
as two machines would have). The manifest and the writer lease live on the server."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.errors import StoreBusyError
from rag.store.chroma import Store
from rag.store.index import connect, open_index
from rag.store.lease import Lease, holding
from rag.store.shared import SharedManifest, companion
from tests.conftest import DATA, MODEL_CACHE, ROOT, make_settings, retriever_for, run_ingest

pytestmark = pytest.mark.integration

LEASE = 3.0  # seconds: a short lease, so that a dead holder is taken over quickly


def host(tmp_path: Path, name: str, url: str, collection: str) -> Settings:
    return make_settings(
        tmp_path / name, chroma_url=url, collection=collection, lease_seconds=LEASE
    )


@pytest.fixture
def collection() -> str:
    return f"h{uuid.uuid4().hex[:12]}"


@pytest.fixture
def hosts(chroma_server: str, tmp_path: Path, collection: str) -> tuple[Settings, Settings]:
    return host(tmp_path, "host-a", chroma_server, collection), host(
        tmp_path, "host-b", chroma_server, collection
    )


def write_docs(folder: Path, names: list[str], *, words: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        body = " ".join(f"{name} fact {n} about {name} topics." for n in range(words))
        (folder / f"{name}.md").write_text(f"# {name.title()}\n\n{body}\n", encoding="utf-8")
    return folder


def stats(settings: Settings) -> dict[str, object]:
    """``python -m rag stats --json`` as that host runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "rag", "stats", "--json"],
        capture_output=True,
        text=True,
        env=host_env(settings),
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    return {key: shown[key] for key in ("documents", "chunks", "collection", "server")}


def host_env(settings: Settings) -> dict[str, str]:
    where = settings.store
    assert where.chroma_url is not None
    return {
        **os.environ,
        "RAG_STORE_DIR": str(where.store_dir),
        "RAG_CHROMA_URL": where.chroma_url,
        "RAG_COLLECTION": where.collection,
        "RAG_LEASE_SECONDS": str(settings.ingest.lease_seconds),
        "RAG_CACHE_DIR": str(MODEL_CACHE),
        "RAG_DEVICE": "cpu",
    }


def state(settings: Settings) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """The chunk ids the collection holds, and its manifest's chunk ids per file."""
    store = connect(settings.store)
    with open_index(settings, writing=False) as index:
        records = {r.source: r.chunk_ids for r in index.manifest.records()}
    return set(store.ids()), records


def test_both_hosts_see_one_manifest_and_skip_what_the_other_ingested(
    hosts: tuple[Settings, Settings], embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    a, b = hosts
    docs = write_docs(tmp_path / "docs", ["glaciers", "orchards"])
    (docs / "bicycles.md").write_text("# Bicycles\n\nBicycles have gears and chains.\n")
    first = run_ingest(a, embedder, [docs, DATA / "how-it-works.md"])
    assert (len(first.added), first.errors) == (4, [])

    # `rag stats` is the same on both hosts: documents from the shared manifest
    seen_a, seen_b = stats(a), stats(b)
    assert seen_a == seen_b
    assert seen_a["documents"] == 4 and seen_a["chunks"] == first.chunks_written
    assert not a.store.manifest_path.exists() and not b.store.manifest_path.exists()

    # host B's BM25 copy is built from the server; the sentence only A wrote is found
    b_search = retriever_for(b, embedder)
    hits = b_search.retrieve("gears and chains", k=1, mode="bm25")
    assert hits and hits[0].source.endswith("bicycles.md")

    # host B re-ingesting the same folder writes nothing: the manifest says it is done
    again = run_ingest(b, embedder, [docs, DATA / "how-it-works.md"])
    assert (len(again.unchanged), again.chunks_written, again.chunks_deleted) == (4, 0, 0)

    # B changes a file; A's next search (same retriever object as before) sees the change:
    # the shared generation changed, so A rebuilds its BM25 copy
    a_search = retriever_for(a, embedder)
    assert not a_search.retrieve("unicycles", k=1, mode="bm25")
    (docs / "bicycles.md").write_text("# Bicycles\n\nBicycles are now only unicycles.\n")
    changed = run_ingest(b, embedder, [docs])
    assert [Path(s).name for s in changed.updated] == ["bicycles.md"]
    hits = a_search.retrieve("unicycles", k=1, mode="bm25")
    assert hits and "unicycles" in hits[0].text
    assert stats(a) == stats(b)


def test_a_search_does_not_rebuild_bm25_while_the_shared_index_is_unchanged(
    hosts: tuple[Settings, Settings], embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    a, b = hosts
    run_ingest(a, embedder, [write_docs(tmp_path / "docs", ["rivers"])])
    search = retriever_for(b, embedder)
    search.retrieve("rivers", k=1, mode="bm25")
    pointer = b.store.bm25_dir / "CURRENT"
    built = pointer.stat().st_mtime_ns
    for _ in range(3):
        assert search.retrieve("rivers fact", k=1, mode="bm25")
    assert pointer.stat().st_mtime_ns == built  # read the marker, rebuilt nothing


def test_two_hosts_ingesting_at_once_lose_and_duplicate_nothing(
    chroma_server: str, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    name = f"h{uuid.uuid4().hex[:12]}"
    a, b = (host(tmp_path, n, chroma_server, name) for n in ("host-a", "host-b"))
    only_a = write_docs(tmp_path / "only-a", ["alpha", "beta", "gamma"], words=200)
    both = write_docs(tmp_path / "both", ["delta", "epsilon"], words=200)
    only_b = write_docs(tmp_path / "only-b", ["zeta", "eta", "theta"], words=200)

    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "ingest", *map(str, folders), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=host_env(settings),
            cwd=ROOT,
        )
        for settings, folders in ((a, [only_a, both]), (b, [both, only_b]))
    ]
    reports = []
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        reports.append(json.loads(out))
    # one of them waited for the other's lease, then found `both` already done
    assert sorted(r["unchanged"] for r in reports) == [0, 2]
    assert sum(r["added"] for r in reports) == 8

    clean = host(tmp_path, "clean", chroma_server, f"c{uuid.uuid4().hex[:12]}")
    report = run_ingest(clean, embedder, [only_a, both, only_b])
    assert report.errors == []
    ids, records = state(a)
    clean_ids, clean_records = state(clean)
    assert ids == clean_ids and len(ids) == report.chunks_written  # none lost, none twice
    assert records == clean_records
    assert connect(a.store).count() == len(clean_ids)


# Holds host A's writer lease the way a writer does (Index.writer), leaves what a writer
# killed between its chunks and their manifest records leaves (two chunks of a file that
# no record lists), then waits to be killed.
HOLDER = """
import numpy as np
from rag.config import Settings
from rag.store.index import open_index

settings = Settings.from_env()
with open_index(settings, writing=True) as index, index.writer() as session:
    session.changing()
    index.store.upsert(
        ids=["half-1", "half-2"],
        vectors=np.ones((2, 384), dtype=np.float32),
        texts=["half of a file", "written when its host died"],
        metadatas=[{"source": "/host-a/half.md", "page": 0}] * 2,
    )
    print("held", flush=True)
    import time
    time.sleep(600)
"""


def test_a_holder_killed_mid_write_is_taken_over_and_its_half_write_repaired(
    hosts: tuple[Settings, Settings], embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    a, b = hosts
    docs = write_docs(tmp_path / "docs", ["meadows", "harbours"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdout=subprocess.PIPE,
        text=True,
        env=host_env(a),
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # while it lives (and renews), another host is refused with the holder's name
        time.sleep(LEASE * 1.5)  # past the first lease period: it was renewed
        impatient = replace(b, ingest=replace(b.ingest, lock_timeout=0))
        with (
            open_index(impatient, writing=True, model=embedder) as index,
            pytest.raises(StoreBusyError) as busy,
        ):
            Ingestor(index).run([docs])
        message = str(busy.value)
        assert f"pid {holder.pid}) holds the writer lease" in message and " UTC " in message
        assert "raise RAG_LOCK_TIMEOUT" in message and "RAG_LEASE_SECONDS" in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    records = companion(connect(b.store))
    lease = Lease(records, seconds=LEASE, what="test")
    dead = lease.holder()
    assert dead is not None and dead.pid == holder.pid  # a killed holder cannot release it
    assert {"half-1", "half-2"} <= set(connect(b.store).ids())

    waited: list[str] = []
    started = time.monotonic()
    with open_index(b, writing=True, model=embedder) as index:
        report = Ingestor(index).run([docs], on_wait=waited.append)
    assert report.errors == [] and len(report.added) == 2
    # it waited for the dead holder's lease to run out, then took it over
    assert waited and f"pid {holder.pid}" in waited[0]
    assert time.monotonic() - started < 60
    assert lease.holder() is None  # released at the end of B's run

    # the half-written chunks are gone although B never ingested their file: the store
    # holds exactly what the manifest lists, as a clean ingest of B's folder
    ids, manifest = state(b)
    assert not {"half-1", "half-2"} & ids
    assert ids == {i for chunk_ids in manifest.values() for i in chunk_ids}
    assert list(manifest) == sorted(str(p.absolute()) for p in docs.iterdir())
    marker = SharedManifest(records, collection=b.store.collection).generation()
    assert marker is not None and not marker.writing


def test_racing_claims_leave_one_holder_at_a_time(chroma_server: str, collection: str) -> None:
    """Four writers (threads, each a client of its own) race for the lease at the same
    instant, three times over: the holding periods never overlap."""
    records_of = [
        companion(Store(path=None, collection=collection, url=chroma_server)) for _ in range(4)
    ]
    held: list[tuple[float, float, int]] = []
    start = threading.Barrier(len(records_of))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            lease = Lease(records_of[n], seconds=LEASE, what="race")
            for _ in range(3):
                start.wait(timeout=120)
                with holding(lease, timeout=120):
                    began = time.monotonic()
                    time.sleep(0.3)
                    held.append((began, time.monotonic(), n))
        except BaseException as exc:
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(records_of))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert errors == []
    assert len(held) == 12
    spans = sorted(held)
    for (_, ended, who), (began, _, other) in itertools.pairwise(spans):
        assert began >= ended, f"writers {who} and {other} held the lease at once"


def test_an_ingest_killed_mid_run_on_one_host_is_finished_by_the_other(
    hosts: tuple[Settings, Settings], embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """A real `python -m ingest` on host A, SIGKILLed once some of its chunks are on the
    server; host B, ingesting the same folder, takes over the lease once it runs out and
    ends with every file recorded with exactly its chunks."""
    a, b = hosts
    names = [f"part{n:02d}" for n in range(40)]
    docs = write_docs(tmp_path / "docs", names, words=150)
    killed = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(docs), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=host_env(a),
        cwd=ROOT,
    )
    store = connect(b.store)
    try:
        deadline = time.monotonic() + 300
        while store.count() == 0 and killed.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            store = connect(b.store)  # the collection appears once A writes
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    assert killed.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
    assert store.count() > 0

    with open_index(b, writing=True, model=embedder) as index:
        report = Ingestor(index).run([docs])
    assert report.errors == []
    ids, records = state(b)
    assert sorted(Path(s).stem for s in records) == names
    listed = [i for chunk_ids in records.values() for i in chunk_ids]
    assert len(listed) == len(set(listed)) == len(ids) and set(listed) == ids
