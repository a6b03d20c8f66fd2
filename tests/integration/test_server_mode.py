"""RAG_CHROMA_URL: ingest and search against a real `chroma run` server."""

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.errors import StoreError
from rag.retrieval.retriever import Retriever
from rag.store.chroma import Store
from rag.store.index import connect, open_index
from tests.conftest import R_INTRO, free_port, make_settings, run_cli, run_ingest

pytestmark = pytest.mark.integration


@pytest.fixture
def server_settings(chroma_server: str, tmp_path: Path) -> Settings:
    # one server for the session: each test gets a collection of its own
    name = f"t{uuid.uuid4().hex}"
    return make_settings(tmp_path / "store", chroma_url=chroma_server, collection=name)


def test_open_store_uses_the_server(server_settings: Settings, chroma_server: str) -> None:
    store = connect(server_settings.store)
    assert store.location == chroma_server
    assert not (server_settings.store.store_dir / "chroma").exists()  # nothing embedded on disk
    assert store.max_batch >= 100


def test_ingest_search_and_reingest_against_the_server(
    server_settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "glaciers.md").write_text("# Glaciers\nGlaciers carve valleys during ice ages.\n")
    (docs / "bikes.txt").write_text("Bicycles have gears and chains. " * 30)
    first = run_ingest(server_settings, embedder, [docs, R_INTRO])
    assert (len(first.added), first.errors) == (3, [])
    assert connect(server_settings.store).count() == first.chunks_written > 100

    retriever = Retriever(
        index=open_index(server_settings, writing=False, model=embedder),
        settings=server_settings.retrieval,
    )
    hits = retriever.retrieve("How are missing values represented in R?", k=3)
    assert hits[0].source == str(R_INTRO.absolute()) and 17 in {h.page for h in hits}
    top = retriever.retrieve("what carves valleys?", k=1)[0]
    assert top.source.endswith("glaciers.md") and top.header_path == "Glaciers"

    again = run_ingest(server_settings, embedder, [docs, R_INTRO])
    assert (len(again.unchanged), again.chunks_written) == (3, 0)
    (docs / "bikes.txt").write_text("Bicycles are now only unicycles.")
    changed = run_ingest(server_settings, embedder, [docs, R_INTRO])
    bikes = str((docs / "bikes.txt").absolute())
    assert changed.updated == [bikes] and changed.chunks_deleted >= 1
    store = connect(server_settings.store)
    assert store._existing().get(ids=list(store.ids_for_source(bikes)))["documents"] == [
        "Bicycles are now only unicycles."
    ]
    # the manifest lives on the server (rag.store.shared), not under RAG_STORE_DIR
    assert not server_settings.store.manifest_path.exists()
    with open_index(server_settings, writing=False, model=embedder) as index:
        assert index.manifest.count() == 3


def test_cli_with_rag_chroma_url(chroma_server: str, tmp_path: Path) -> None:
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.md").write_text("# Orchards\nApples grow in orchards and are pruned in winter.\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(
            list(args),
            tmp_path / "store",
            RAG_CHROMA_URL=chroma_server,
            RAG_COLLECTION="cli-server",
        )

    ingested = run("-m", "ingest", str(docs), "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["added"] == 1
    found = run("-m", "rag", "search", "when are apple trees pruned?", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["source"].endswith("a.md") and "pruned in winter" in hits[0]["text"]


def test_unreachable_server_says_how_to_fix(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError) as info:
        Store(path=None, collection="docs", url=url).count()
    assert f"Cannot open the Chroma store at {url}" in str(info.value)
    assert "RAG_CHROMA_URL" in str(info.value)
