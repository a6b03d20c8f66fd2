"""Store versions: an older collection is migrated in place, a newer one is refused."""

import json
import sqlite3
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder, expected_identity
from rag.errors import IndexMismatchError, StoreError
from rag.retrieval.retriever import Retriever
from rag.store.contract import SCHEMA_VERSION, Contract
from rag.store.index import CONTRACT_KEY, connect, open_index, read_contract
from tests.conftest import IngestFn, manifest_of

pytestmark = pytest.mark.integration


def set_schema(settings: Settings, version: int) -> None:
    col = connect(settings.store)._existing()
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
    for path in settings.store.bm25_dir.parent.glob("*"):
        import shutil

        shutil.rmtree(path)
    hits = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    ).retrieve("silent night hunters", k=1)
    assert hits and hits[0].source.endswith("a.md")
    assert read_contract(connect(settings.store)).schema_version == 1  # reads change nothing
    (tmp_path / "docs" / "b.md").write_text("# Bats\nBats use echolocation.\n")
    ingest([tmp_path / "docs"])
    assert read_contract(connect(settings.store)).schema_version == SCHEMA_VERSION
    assert connect(settings.store).count() == 2


def test_newer_store_is_refused_with_what_to_do(
    tmp_path: Path, ingest: IngestFn, settings: Settings
) -> None:
    ingest([docs(tmp_path)])
    set_schema(settings, SCHEMA_VERSION + 1)
    with pytest.raises(IndexMismatchError, match="written by a newer version of this app"):
        open_index(settings, writing=False)

    db = sqlite3.connect(settings.store.manifest_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="Upgrade the app, or use another RAG_STORE_DIR"):
        manifest_of(settings)


def test_an_empty_collection_takes_the_new_settings_when_written(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    # a first ingest that failed before writing a chunk left an empty collection behind
    open_index(settings.replace(embed_model="other-model", embed_dim=64), writing=True)
    with pytest.raises(IndexMismatchError, match="was built with other-model"):
        open_index(settings, writing=False)
    index = open_index(settings, writing=True, model=embedder)
    index.embedder  # noqa: B018 - the loaded model settles the dimension
    wanted = Contract.of(expected_identity(settings.embedding), settings.ingest)
    assert read_contract(connect(settings.store)) == Contract.of(embedder.identity, settings.ingest)
    assert wanted.dimension == 0 and wanted.embedding_model == "all-MiniLM-L6-v2"
