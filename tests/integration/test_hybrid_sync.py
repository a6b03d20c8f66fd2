"""The BM25 index stays in step with the store: incremental == fresh, reloads only on change."""

import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.retrieval.bm25 import Bm25Cache, Bm25Index, sync
from rag.retrieval.retriever import Retriever
from rag.store.index import connect, open_index
from rag.store.passages import CONTEXT
from tests.conftest import make_settings, run_ingest

pytestmark = pytest.mark.integration

QUERIES = [
    "apples and orchards",
    "bicycle gears",
    "glaciers and ice ages",
    "volcanoes erupting lava",
    "unicycles",
]


def write_docs(docs: Path) -> None:
    docs.mkdir()
    (docs / "alpha.md").write_text("# Alpha\nAlpha talks about apples and orchards.\n")
    (docs / "beta.txt").write_text("Beta is about bicycles, gears and chains. " * 20)
    (docs / "gamma.md").write_text("# Gamma\nGamma covers glaciers and ice ages.\n")


def results(settings: Settings, embedder: SentenceTransformerEmbedder, mode: str) -> list:
    retriever = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    return [
        [(h.chunk_id, h.source, round(h.score, 6)) for h in retriever.retrieve(q, k=5, mode=mode)]
        for q in QUERIES
    ]


def test_incremental_reingest_and_prune_equal_a_fresh_ingest(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    docs = tmp_path / "docs"
    write_docs(docs)
    incremental = make_settings(tmp_path / "incremental")
    run_ingest(incremental, embedder, [docs])
    stale = results(incremental, embedder, "bm25")
    # update one file, add one, delete one, then re-ingest with --prune
    (docs / "beta.txt").write_text("Beta now only mentions unicycles.")
    (docs / "delta.txt").write_text("Delta is about volcanoes erupting lava.")
    (docs / "gamma.md").unlink()
    report = run_ingest(incremental, embedder, [docs], prune=True)
    assert (len(report.updated), len(report.added), len(report.removed)) == (1, 1, 1)

    fresh = make_settings(tmp_path / "fresh")
    run_ingest(fresh, embedder, [docs])
    for mode in ("hybrid", "bm25", "hybrid+mmr"):
        assert results(incremental, embedder, mode) == results(fresh, embedder, mode)
    after = results(incremental, embedder, "bm25")
    assert after != stale
    # BM25 finds the new file and nothing of the deleted or replaced text
    assert [Path(s).name for _, s, _ in after[3]] == ["delta.txt"]
    assert [Path(s).name for _, s, _ in after[4]] == ["beta.txt"]
    assert after[1] == [] and after[2] == []
    hybrid = results(incremental, embedder, "hybrid")
    assert Path(hybrid[3][0][1]).name == "delta.txt"
    assert not any(Path(s).name == "gamma.md" for q in hybrid for _, s, _ in q)


def test_the_index_is_loaded_once_and_again_only_after_a_change(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    docs = tmp_path / "docs"
    write_docs(docs)
    settings = make_settings(tmp_path / "store")
    run_ingest(settings, embedder, [docs])
    store = connect(settings.store)
    cache = Bm25Cache(
        settings.store.bm25_dir, store, store_dir=settings.store.store_dir, context=CONTEXT
    )
    first = cache.get()
    assert cache.get() is first  # no reload, no rebuild while nothing changed
    unchanged = run_ingest(settings, embedder, [docs])
    assert unchanged.unchanged and cache.get() is first  # a no-op run publishes nothing
    (docs / "alpha.md").write_text("# Alpha\nAlpha now talks about pears.\n")
    run_ingest(settings, embedder, [docs])
    second = cache.get()
    assert second is not first and len(second.ids) == store.count()
    assert [Path(h).name for h in _sources(settings, second.search("pears", k=3))] == ["alpha.md"]
    # only one published version is kept on disk
    assert len([p for p in settings.store.bm25_dir.glob("v*") if p.is_dir()]) == 1


def test_a_missing_or_stale_index_is_rebuilt_from_the_store(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    docs = tmp_path / "docs"
    write_docs(docs)
    settings = make_settings(tmp_path / "store")
    run_ingest(settings, embedder, [docs])
    shutil.rmtree(settings.store.bm25_dir)  # e.g. a store from before BM25 existed
    store = connect(settings.store)
    index = Bm25Cache(
        settings.store.bm25_dir, store, store_dir=settings.store.store_dir, context=CONTEXT
    ).get()
    assert sorted(index.ids) == sorted(i for ids, _, _ in store.documents() for i in ids)
    assert Bm25Index.load(settings.store.bm25_dir, context=CONTEXT) is not None
    # an index built with another context is not this collection's: it is rebuilt
    assert Bm25Index.load(settings.store.bm25_dir, context="") is None
    # sync with nothing changed keeps the published version
    before = (settings.store.bm25_dir / "CURRENT").read_text()
    sync(store, settings.store.bm25_dir, changed=False, context=CONTEXT)
    assert (settings.store.bm25_dir / "CURRENT").read_text() == before


def _sources(settings: Settings, ranked: list[tuple[str, float]]) -> list[str]:
    hits, _ = connect(settings.store).get([doc for doc, _ in ranked])
    return [h.source for h in hits]
