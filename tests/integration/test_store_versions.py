"""Store versions: an older collection is migrated in place, a newer one is refused."""

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from rag.components import index_contract, open_manifest, open_store
from rag.config import Settings
from rag.embeddings import SentenceTransformerEmbedder
from rag.errors import IndexMismatchError, StoreError
from rag.retriever import Retriever
from rag.store import CONTRACT_KEY, SCHEMA_VERSION
from tests.conftest import IngestFn

pytestmark = pytest.mark.integration


def set_schema(settings: Settings, version: int) -> None:
    col = open_store(settings)._existing()
    contract = json.loads(col.metadata[CONTRACT_KEY])
    contract["schema_version"] = version
    col.modify(metadata={CONTRACT_KEY: json.dumps(contract)})


def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    (folder / "a.md").write_text("# Owls\nOwls hunt at night and fly silently.\n")
    return folder


def test_version_1_store_is_searchable_and_migrated_on_write(
    tmp_path: Path, ingest: IngestFn, settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    ingest([docs(tmp_path)])
    set_schema(settings, 1)
    # a version-1 store had no BM25 index: reading works, the index is built on first use
    for path in settings.bm25_dir.parent.glob("*"):
        import shutil

        shutil.rmtree(path)
    hits = Retriever(embedder=embedder, store=open_store(settings), settings=settings).retrieve(
        "silent night hunters", k=1
    )
    assert hits and hits[0].source.endswith("a.md")
    assert open_store(settings).contract().schema_version == 1  # reads change nothing
    (tmp_path / "docs" / "b.md").write_text("# Bats\nBats use echolocation.\n")
    ingest([tmp_path / "docs"])
    assert open_store(settings).contract().schema_version == SCHEMA_VERSION
    assert open_store(settings).count() == 2


def test_newer_store_is_refused_with_what_to_do(
    tmp_path: Path, ingest: IngestFn, settings: Settings
) -> None:
    ingest([docs(tmp_path)])
    set_schema(settings, SCHEMA_VERSION + 1)
    with pytest.raises(IndexMismatchError, match="written by a newer version of this app"):
        open_store(settings).open(index_contract(settings), writing=False)

    db = sqlite3.connect(settings.manifest_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="Upgrade the app, or use another RAG_STORE_DIR"):
        open_manifest(settings)


def test_an_empty_collection_takes_the_new_settings_when_written(settings: Settings) -> None:
    # a first ingest that failed before writing a chunk left an empty collection behind
    failed = replace(index_contract(settings), embedding_model="other-model", dimension=64)
    store = open_store(settings)
    store.open(failed, writing=True)
    with pytest.raises(IndexMismatchError, match="was built with other-model"):
        open_store(settings).open(index_contract(settings, dimension=384), writing=False)
    open_store(settings).open(index_contract(settings, dimension=384), writing=True)
    assert open_store(settings).contract() == index_contract(settings, dimension=384)
