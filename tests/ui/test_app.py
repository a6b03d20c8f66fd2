"""AppTest (streamlit.testing) of app.py against real stores and the real model."""

import json
import logging
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from rag.config import Settings
from rag.store.index import connect
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.integration

APP = str(ROOT / "app.py")
TIMEOUT = 120


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_DEVICE", "cpu")


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [t.value for t in at.text] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def ingest_button(at: AppTest) -> Any:
    return next(b for b in at.sidebar.button if b.label == "Ingest")


def test_first_run_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "empty"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "No documents indexed yet" in at.info[0].value
    assert "python -m ingest data/" in at.info[0].value
    assert len(at.chat_input) == 0
    assert "**0** documents · **0** chunks" in [m.value for m in at.sidebar.markdown]


def test_question_answered_with_sources_extractive(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value("How are missing values represented in R?").run()
    assert not at.exception and not at.error
    body = texts(at)
    assert re.search(r"\\\[\d+\\\]", body)  # the answer cites its sources
    expander = at.expander[0]
    assert expander.label.startswith("Sources (")
    sources = "\n".join(m.value for m in expander.markdown)
    assert "R-intro.pdf" in sources and "page 17" in sources
    assert any("NA" in t.value for t in expander.text)
    assert any(
        "badge[" in m.value and "extractive — no LLM configured" in m.value for m in at.markdown
    )


def test_upload_is_ingested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    uploader = at.sidebar.file_uploader[0]
    uploader.set_value(
        [
            (
                "../../notes on lighthouses.md",
                b"# Lighthouses\nFresnel lenses focus light.\n",
                "text/markdown",
            ),
            ("fake.pdf", b"this is not a pdf", "application/pdf"),
        ]
    )
    ingest_button(at).click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("fake.pdf: not a PDF" in e for e in errors)
    store = connect(Settings.default(tmp_path / "store").store)
    assert store.count() == 1
    # each collection keeps its uploads in its own folder
    assert store.sources() == [
        str(tmp_path / "store" / "uploads" / "docs" / "notes_on_lighthouses.md")
    ]
    status = at.sidebar.status[0]
    assert status.label == "Ingested 1 of 2 file(s), 1 chunks written"
    assert status.icon == ":material/error:"  # one file failed, so the status says so


def test_llm_error_is_shown_cleanly(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("RAG_LLM_MODEL", "some-model")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value("How are missing values represented in R?").run()
    assert not at.exception
    shown = [e.value for e in at.error]
    assert any(f"127.0.0.1:{port}" in e for e in shown), shown
    assert all("Traceback" not in e for e in shown)


def test_second_session_reuses_the_model(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import streamlit as st

    st.cache_resource.clear()
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    caplog.set_level(logging.INFO, logger="rag.embedding.models")
    for _ in range(2):  # two browser sessions
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        at.chat_input[0].set_value("How do I attach a data frame?").run()
        assert not at.exception and at.expander
    loads = [r for r in caplog.records if r.getMessage().startswith("loading embedding model")]
    assert len(loads) == 1


def test_index_contract_mismatch_is_an_error_with_the_fix(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    # prefixes the collection was not built with: nothing the app can open it with
    monkeypatch.setenv("RAG_QUERY_PREFIX", "query: ")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "was built with query prefix ''" in at.error[0].value
    assert "Re-ingest with --rebuild" in at.error[0].value


def test_a_collection_of_a_bundled_model_opens_with_it_whatever_the_settings_name(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RAG_COLLECTION built with MiniLM, RAG_EMBED_MODEL since set to another model: the app
    opens it with the model its contract records (application.models), not the refusal."""
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    monkeypatch.setenv("RAG_EMBED_MODEL", str(tmp_path / "bge-small-en-v1.5"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Embedding model: all-MiniLM-L6-v2") for c in at.sidebar.caption)
    at.chat_input[0].set_value("How are missing values represented in R?").run()
    assert not at.exception and not at.error
    assert "R-intro.pdf" in "\n".join(m.value for m in at.expander[0].markdown)


def test_app_answers_from_a_chroma_server(
    chroma_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RAG_CHROMA_URL set: what the CLI ingested into the server is answered in the app, and
    no embedded store appears on disk (the app used to open one silently)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouses.md").write_text(
        "# Lighthouses\nA Fresnel lens focuses the lamp of a lighthouse into a beam that "
        "sailors can see thirty kilometres away.\n"
    )
    store_dir = tmp_path / "store"
    env = {"RAG_CHROMA_URL": chroma_server, "RAG_COLLECTION": "app-server-test"}
    done = run_cli(["-m", "ingest", str(docs), "--json"], store_dir, **env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chunks_written"] == 1

    monkeypatch.setenv("RAG_STORE_DIR", str(store_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert "**1** documents · **1** chunks" in [m.value for m in at.sidebar.markdown]
    at.chat_input[0].set_value("What does a Fresnel lens do in a lighthouse?").run()
    assert not at.exception and not at.error
    sources = "\n".join(m.value for m in at.expander[0].markdown)
    assert "lighthouses.md" in sources
    assert "Fresnel" in texts(at)
    assert not (store_dir / "chroma").exists()  # the server holds the vectors, not the disk
    assert len(connect(Settings.from_env().store).sources()) == 1


def test_the_sidebar_hint_names_settings_that_work(tmp_path: Path) -> None:
    """What the extractive badge tells the user to set is accepted and turns the LLM on."""
    import re

    app_source = (ROOT / "app.py").read_text()
    hint = re.search(r"LLM_HINT = \((.*?)\)\n", app_source, re.S)
    assert hint is not None
    named = set(re.findall(r"\b(RAG_[A-Z_]+|OPENAI_[A-Z_]+)\b", hint.group(1)))
    assert named == {"RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "OPENAI_API_KEY"}
    server = Settings.from_env(
        {
            "RAG_STORE_DIR": str(tmp_path),
            "RAG_LLM_BASE_URL": "http://127.0.0.1:11434/v1",
            "RAG_LLM_MODEL": "llama3.2",
        }
    )
    assert server.answers.llm_enabled
    assert Settings.from_env(
        {"RAG_STORE_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-x"}
    ).answers.llm_enabled


def test_closest_passages_open_beside_the_chat_too(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value("Who won the football World Cup in 2018?").run()
    assert not at.exception
    closest = at.expander[0]
    assert closest.label.startswith("Closest passages (")
    labels = [b.label for b in closest.button]
    assert len(labels) == 3 and all(label.startswith("Open page ") for label in labels), labels
    at.run()  # a rerun draws the answer from the history: its buttons keep their keys
    assert not at.exception
    assert [b.key for b in at.expander[0].button] == [b.key for b in closest.button]
