"""Collections in the app (AppTest of app.py on real stores and the real model): pick one,
create one, upload into the chosen one, and a collection built for another model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ingest.uploads import upload_folder
from rag.config import BUNDLED_MODEL, MULTILINGUAL_MODEL, Settings
from rag.cpu import this_cpu
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import connect, read_contract
from rag.store.manifest import Manifest
from tests.conftest import ROOT, copy_store, make_settings, run_ingest

pytestmark = pytest.mark.integration

APP = str(ROOT / "app.py")
TIMEOUT = 120
BEES = (
    "# Bienen im Winter\n"
    "Im Winter bilden die Honigbienen eine dichte Traube im Stock. Die Arbeiterinnen "
    "erzeugen Wärme, indem sie ihre Flugmuskeln zittern lassen.\n"
)
LIGHTHOUSES = (
    "# Lighthouses\n"
    "Fresnel lenses focus the light of a lighthouse into a beam seen 20 nautical miles out.\n"
)


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_DEVICE", "cpu")


@pytest.fixture(scope="module")
def two_collections(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceTransformerEmbedder,
    rintro_settings: Settings,
) -> Path:
    """A store with R-intro.pdf in 'docs' and a lighthouse note in 'lighthouses'."""
    root = tmp_path_factory.mktemp("collections")
    note = root / "lighthouses.md"
    note.write_text(LIGHTHOUSES, encoding="utf-8")
    store_dir = root / "store"
    copy_store(rintro_settings, store_dir)
    report = run_ingest(make_settings(store_dir, collection="lighthouses"), embedder, [note])
    assert report.errors == [] and report.chunks_written == 1
    return store_dir


def app(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RAG_STORE_DIR", str(store_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def picker(at: AppTest) -> Any:
    return at.sidebar.selectbox(key="collection")


def model_choice(at: AppTest) -> Any:
    return next(s for s in at.sidebar.selectbox if s.label == "Embedding model")


def create(at: AppTest, name: str, model: str | None = None) -> None:
    """Type ``name`` in the "New collection" form (and choose ``model``) and submit it (a
    form's values reach the app only with its submit)."""
    at.sidebar.text_input[0].set_value(name)
    if model is not None:
        model_choice(at).set_value(model)
    next(b for b in at.sidebar.button if b.label == "Create").click().run()


def sidebar_text(at: AppTest) -> str:
    parts = [m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption]
    return "\n".join(str(p) for p in parts)


def sources(at: AppTest) -> str:
    assert at.expander, "no sources shown"
    return "\n".join(m.value for m in at.expander[-1].markdown)


def test_switching_collection_answers_from_that_collection_only(
    two_collections: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app(two_collections, monkeypatch)
    assert picker(at).options == ["docs", "lighthouses"]
    assert picker(at).value == "docs"
    assert "all-MiniLM-L6-v2 · 384 dims" in sidebar_text(at)
    precision = "bf16" if this_cpu().native_bf16 else "f32"
    assert f"384 dims · {precision} on this CPU" in sidebar_text(at)
    at.chat_input[0].set_value("How far out is the beam of a lighthouse seen?").run()
    assert "lighthouses.md" not in sources(at)  # R-intro's collection knows no lighthouse

    picker(at).set_value("lighthouses").run()
    assert not at.exception and not at.error
    assert "**1** documents · **1** chunks" in sidebar_text(at)
    assert "Into collection **lighthouses**" in sidebar_text(at)
    assert len(at.chat_message) == 0  # the other collection's chat is not carried over
    at.chat_input[0].set_value("How far out is the beam of a lighthouse seen?").run()
    assert "lighthouses.md" in sources(at) and "R-intro.pdf" not in sources(at)
    at.chat_input[0].set_value("How are missing values represented in R?").run()
    assert "R-intro.pdf" not in "\n".join(str(m.value) for m in at.markdown)


def test_create_a_collection_and_upload_into_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir = tmp_path / "store"
    at = app(store_dir, monkeypatch)
    # the settings' model first (the default), then the other bundled one
    assert model_choice(at).options == [BUNDLED_MODEL, MULTILINGUAL_MODEL]
    assert model_choice(at).value == BUNDLED_MODEL
    create(at, "no")
    assert any("'no' is not a valid collection name" in e.value for e in at.sidebar.error)

    create(at, "harbours")
    assert not at.exception
    assert picker(at).value == "harbours" and picker(at).options == ["docs", "harbours"]
    assert "No documents indexed yet" in at.info[0].value

    at.sidebar.file_uploader[0].set_value([("lighthouses.md", LIGHTHOUSES.encode(), "text/md")])
    next(b for b in at.sidebar.button if b.label == "Ingest").click().run()
    assert not at.exception and not at.error
    harbours = connect(Settings.default(store_dir).replace(collection="harbours").store)
    assert harbours.sources() == [str(store_dir / "uploads" / "harbours" / "lighthouses.md")]
    assert connect(Settings.default(store_dir).store).count() == 0  # 'docs' untouched

    # another session (a reload) lists the new collection, starting on RAG_COLLECTION
    again = app(store_dir, monkeypatch)
    assert picker(again).options == ["docs", "harbours"] and picker(again).value == "docs"


def test_a_collection_created_with_e5_is_opened_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings that name MiniLM; a collection created with multilingual-e5-small is
    uploaded into, captioned and answered with e5, and 'docs' stays MiniLM's."""
    store_dir = tmp_path / "store"
    at = app(store_dir, monkeypatch)
    assert "all-MiniLM-L6-v2 · " in sidebar_text(at) and "· no prefixes" in sidebar_text(at)
    create(at, "mehrsprachig", MULTILINGUAL_MODEL)
    assert not at.exception and not at.error and picker(at).value == "mehrsprachig"
    caption = "prefixes: questions 'query: ', passages 'passage: '"
    assert f"Embedding model: {MULTILINGUAL_MODEL} · q4 on this CPU · {caption}" in sidebar_text(at)
    at.sidebar.file_uploader[0].set_value([("bienen.md", BEES.encode(), "text/md")])
    next(b for b in at.sidebar.button if b.label == "Ingest").click().run()
    assert not at.exception and not at.error
    assert f"{MULTILINGUAL_MODEL} · 384 dims · q4 on this CPU · {caption}" in sidebar_text(at)
    at.chat_input[0].set_value("Comment les abeilles gardent-elles la chaleur en hiver ?").run()
    assert not at.exception and "bienen.md" in sources(at)
    contract = read_contract(connect(Settings.default(store_dir, collection="mehrsprachig").store))
    assert contract is not None and contract.embedding_model == MULTILINGUAL_MODEL
    picker(at).set_value("docs").run()
    assert not at.exception and not at.error
    assert "Embedding model: all-MiniLM-L6-v2 · " in sidebar_text(at)


def test_a_collection_of_another_model_is_shown_with_its_fix(
    two_collections: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 'lighthouses' says it was built with another model: a copy, so the module's store
    # stays as it was
    store_dir = tmp_path / "store"
    shutil.copytree(two_collections, store_dir)
    other = connect(Settings.default(store_dir).replace(collection="lighthouses").store)
    contract = other.metadata()["rag_contract"]
    other.set_metadata("rag_contract", contract.replace("all-MiniLM-L6-v2", "bge-small-en-v1.5", 1))
    at = app(store_dir, monkeypatch)
    picker(at).set_value("lighthouses").run()
    assert not at.exception
    assert "was built with bge-small-en-v1.5" in at.error[0].value
    assert "--rebuild" in at.error[0].value
    assert any("cannot be opened" in w.value for w in at.sidebar.warning)
    picker(at).set_value("docs").run()  # and the app carries on with the others
    assert not at.exception and not at.error and len(at.chat_input) == 1


def test_an_upload_made_before_collections_had_folders_is_updated_in_place(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "store")
    shared = settings.store.store_dir / "uploads" / "report.pdf"
    manifest = Manifest(settings.store.manifest_path, collection="docs")
    own = settings.store.store_dir / "uploads" / "docs"
    assert upload_folder(settings.store, "report.pdf", manifest=manifest) == own
    manifest.put(source=str(shared.absolute()), sha256="x", size=1, chunk_ids=["a"])
    assert upload_folder(settings.store, "report.pdf", manifest=manifest) == shared.parent
    assert upload_folder(settings.store, "other.pdf", manifest=manifest) == own
    manifest.close()
