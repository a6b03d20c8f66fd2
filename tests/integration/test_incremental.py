"""Re-ingest is a no-op, changes replace exactly a file's chunks, prune and dry-run."""

import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import connect
from tests.conftest import IngestFn, manifest_of

pytestmark = pytest.mark.integration


def corpus(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text(
        "# Alpha\nAlpha talks about apples and orchards.\n## Pruning\nPrune in winter.\n"
    )
    (docs / "beta.txt").write_text("Beta is about bicycles, gears and chains. " * 20)
    (docs / "gamma.md").write_text("# Gamma\nGamma covers glaciers and ice ages.\n")
    return docs


def ids_by_source(settings: Settings) -> dict[str, set[str]]:
    store = connect(settings.store)
    return {s: store.ids_for_source(s) for s in store.sources()}


def test_second_run_is_a_no_op(settings: Settings, ingest: IngestFn, tmp_path: Path) -> None:
    docs = corpus(tmp_path)
    first = ingest([docs])
    assert (len(first.added), first.errors) == (3, [])
    before = ids_by_source(settings)
    count = connect(settings.store).count()
    assert count == first.chunks_written > 3

    second = ingest([docs])
    assert (len(second.added), len(second.updated), len(second.unchanged)) == (0, 0, 3)
    assert second.chunks_written == 0
    assert connect(settings.store).count() == count
    assert ids_by_source(settings) == before


def test_a_file_reached_through_a_link_is_one_document(
    settings: Settings, ingest: IngestFn, tmp_path: Path
) -> None:
    docs = corpus(tmp_path)
    linked = tmp_path / "linked"
    linked.symlink_to(docs, target_is_directory=True)
    first = ingest([docs])
    before = ids_by_source(settings)
    count = connect(settings.store).count()

    # through the link, the same files: unchanged, under the names they were stored under
    again = ingest([linked])
    assert (len(again.added), len(again.updated)) == (0, 0)
    assert sorted(again.unchanged) == sorted(first.added)
    assert connect(settings.store).count() == count and ids_by_source(settings) == before

    # a change seen through the link updates the stored document, not a second one
    (linked / "beta.txt").write_text("Beta now only mentions unicycles.")
    changed = ingest([linked])
    beta = str((docs / "beta.txt").absolute())
    assert (changed.added, changed.updated) == ([], [beta])
    assert set(ids_by_source(settings)) == set(before)

    # both in one run, into a new store: each file once
    fresh = ingest([docs, linked], rebuild=True)
    assert sorted(fresh.added) == sorted(first.added)
    assert set(ids_by_source(settings)) == set(before)


def test_changing_a_file_replaces_exactly_its_chunks(
    settings: Settings, ingest: IngestFn, tmp_path: Path
) -> None:
    docs = corpus(tmp_path)
    ingest([docs])
    before = ids_by_source(settings)
    beta = str((docs / "beta.txt").absolute())

    (docs / "beta.txt").write_text("Beta now only mentions unicycles.")
    report = ingest([docs])
    assert report.updated == [beta] and len(report.unchanged) == 2
    after = ids_by_source(settings)
    assert len(after[beta]) == 1 and after[beta].isdisjoint(before[beta])
    assert {k: v for k, v in after.items() if k != beta} == {
        k: v for k, v in before.items() if k != beta
    }
    texts = connect(settings.store)._existing().get(ids=list(after[beta]))["documents"]
    assert texts == ["Beta now only mentions unicycles."]


def test_prune_removes_deleted_files_only_with_flag(
    settings: Settings, ingest: IngestFn, tmp_path: Path
) -> None:
    docs = corpus(tmp_path)
    ingest([docs])
    gamma = str((docs / "gamma.md").absolute())
    (docs / "gamma.md").unlink()

    kept = ingest([docs])
    assert kept.removed == [] and gamma in ids_by_source(settings)

    pruned = ingest([docs], prune=True)
    assert pruned.removed == [gamma] and pruned.chunks_deleted >= 1
    assert gamma not in ids_by_source(settings)
    manifest = manifest_of(settings)
    assert manifest.get(gamma) is None and manifest.count() == 2
    manifest.close()


def test_dry_run_changes_nothing(settings: Settings, ingest: IngestFn, tmp_path: Path) -> None:
    docs = corpus(tmp_path)
    plan = ingest([docs], dry_run=True)
    assert len(plan.added) == 3 and plan.chunks_written == 0
    assert connect(settings.store).count() == 0

    ingest([docs])
    before = ids_by_source(settings)
    (docs / "alpha.md").write_text("# Alpha\nchanged\n")
    (docs / "delta.txt").write_text("new file about deltas")
    (docs / "gamma.md").unlink()
    plan = ingest([docs], dry_run=True, prune=True)
    assert [Path(p).name for p in plan.added] == ["delta.txt"]
    assert [Path(p).name for p in plan.updated] == ["alpha.md"]
    assert [Path(p).name for p in plan.removed] == ["gamma.md"]
    assert ids_by_source(settings) == before


def test_rebuild_starts_fresh(settings: Settings, ingest: IngestFn, tmp_path: Path) -> None:
    docs = corpus(tmp_path)
    first = ingest([docs])
    again = ingest([docs], rebuild=True)
    assert len(again.added) == 3 and again.chunks_written == first.chunks_written
    assert connect(settings.store).count() == first.chunks_written


def test_bad_files_do_not_stop_the_run(
    settings: Settings, ingest: IngestFn, tmp_path: Path
) -> None:
    docs = tmp_path / "mixed"
    docs.mkdir()
    (docs / "random.pdf").write_bytes(bytes(range(256)) * 40)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "latin1.txt").write_bytes("Über die Größe der Bäume im Frühling.".encode("latin-1"))
    (docs / "notes.odt").write_bytes(b"PK")
    shutil.copy(Path(__file__).resolve().parents[2] / "data" / "about-this-app.md", docs)
    report = ingest([docs])
    failed = {Path(e.path).name: e.reason for e in report.errors}
    assert failed == {
        "random.pdf": "not a PDF (no %PDF- header); is the extension wrong?",
        "empty.txt": "empty file; nothing to index",
    }
    assert sorted(Path(p).name for p in report.added) == ["about-this-app.md", "latin1.txt"]
    assert [Path(p).name for p in report.skipped] == ["notes.odt"]
    store = connect(settings.store)
    latin = store.ids_for_source(str((docs / "latin1.txt").absolute()))
    assert store._existing().get(ids=list(latin))["documents"] == [
        "Über die Größe der Bäume im Frühling."
    ]


def test_files_embedded_together_are_stored_as_if_one_by_one(
    settings: Settings,
    ingest: IngestFn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder: SentenceTransformerEmbedder,
) -> None:
    """Chunks of many files share embedding calls; each file still gets exactly its own
    chunks, vectors and manifest row."""
    import numpy as np

    from ingest import pipeline

    monkeypatch.setattr(pipeline, "FLUSH_CHUNKS", 3)  # several flushes over 8 files
    docs = tmp_path / "many"
    docs.mkdir()
    for n in range(8):
        (docs / f"f{n}.txt").write_text(f"File {n} is about topic {n}. " * (1 + 40 * (n % 3)))
    report = ingest([docs])
    assert (len(report.added), report.errors) == (8, [])
    store = connect(settings.store)
    manifest = manifest_of(settings)
    total = 0
    for n in range(8):
        source = str((docs / f"f{n}.txt").absolute())
        ids = store.ids_for_source(source)
        record = manifest.get(source)
        assert record is not None and set(record.chunk_ids) == ids and ids
        got = store._existing().get(ids=sorted(ids), include=["documents", "embeddings"])
        assert all(f"File {n} is about topic {n}." in text for text in got["documents"])
        total += len(ids)
        # the vectors are those of the file's own texts, whatever they were batched with
        expected = embedder.embed_documents(list(got["documents"]))
        assert np.allclose(np.asarray(got["embeddings"]), expected, atol=1e-5)
    manifest.close()
    assert total == report.chunks_written == store.count()
