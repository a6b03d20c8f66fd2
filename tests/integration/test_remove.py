"""``Ingestor.remove``: forgetting a document is one write, under the writer lock: its
chunks, its manifest row and its BM25 postings go; the others and the file stay."""

from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.errors import StoreBusyError
from rag.store.index import connect, open_index
from rag.store.lock import writer_lock
from tests.conftest import IngestFn, manifest_of, retriever_for

pytestmark = pytest.mark.integration


def two_documents(root: Path) -> tuple[Path, Path]:
    keep = root / "orchards.md"
    keep.write_text("# Orchards\nApple orchards are pruned in winter.\n")
    gone = root / "glaciers.md"
    gone.write_text("# Glaciers\nGlaciers carve valleys during the ice ages.\n")
    return keep, gone


def test_remove_forgets_chunks_manifest_row_and_bm25_postings(
    settings: Settings,
    ingest: IngestFn,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> None:
    keep, gone = two_documents(tmp_path)
    ingest([keep, gone])
    store = connect(settings.store)
    kept_ids = store.ids_for_source(str(keep))
    assert store.ids_for_source(str(gone))

    with open_index(settings, writing=True, model=embedder) as index:
        report = Ingestor(index).remove([str(gone), str(tmp_path / "never.md")])

    assert report.removed == [str(gone)] and report.chunks_deleted >= 1
    assert [(e.path, e.reason) for e in report.errors] == [
        (str(tmp_path / "never.md"), "not in the index")
    ]
    store = connect(settings.store)
    assert store.ids_for_source(str(gone)) == set()
    assert store.ids_for_source(str(keep)) == kept_ids
    assert [r.source for r in manifest_of(settings).records()] == [str(keep)]
    hits = retriever_for(settings, embedder).retrieve("glaciers valleys", mode="bm25", k=5)
    assert {h.source for h in hits} <= {str(keep)}
    assert gone.is_file()  # the index forgets the document; the file is the user's


def test_remove_waits_for_the_writer_lock(
    settings: Settings, ingest: IngestFn, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    keep, gone = two_documents(tmp_path)
    ingest([keep, gone])
    busy = settings.replace(lock_timeout=0)
    with (
        writer_lock(settings.store.store_dir, timeout=0),
        open_index(busy, writing=True, model=embedder) as index,
        pytest.raises(StoreBusyError),
    ):
        Ingestor(index).remove([str(gone)])
    assert connect(settings.store).ids_for_source(str(gone))
