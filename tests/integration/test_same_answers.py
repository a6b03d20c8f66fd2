"""Every edge gives the same answer: the application layer (``Service``), the command line
(``rag ask --json``, ``rag search --json``), the API (chat completions, ``/v1/search``,
served by uvicorn and asked with the official ``openai`` client) and the app (its chat,
driven by Streamlit's AppTest), on a fixed question set over one real store: Chroma in a
tmp folder, the bundled model, extractive answers. Each edge loads the model as it does in
use (``load_model`` from the same settings), so the vectors, and so the hits, are equal."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from api.app import create_app
from application.service import Service
from application.wire import answer_json, hit_json
from cli import main as rag_main
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from tests.conftest import DATA, ROOT, free_port, make_settings, run_ingest

pytestmark = pytest.mark.integration

DOCS = ["about-this-app.md", "configuration.md", "how-it-works.md"]
QUESTIONS = [
    "What is RAG_CHUNK_SIZE measured in?",
    "Where is the vector index stored?",
    "What happens to the chunks of deleted files when I re-run the ingestion?",
    "What is the boiling point of tungsten?",  # not in the documents: it abstains
]
QUERIES = ["how are chunks measured", "which language model servers can write answers"]
APP = str(ROOT / "app.py")


def same(answer: dict[str, Any]) -> dict[str, Any]:
    """What must agree: the text, the mode and the citations (timings never do)."""
    return {key: answer[key] for key in ("answer", "mode", "citations")}


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("same")
    docs = root / "docs"
    docs.mkdir()
    for name in DOCS:
        shutil.copy(DATA / name, docs / name)
    settings = make_settings(root / "store", llm="none")
    run_ingest(settings, embedder, sorted(docs.iterdir()))
    env = {"RAG_STORE_DIR": str(settings.store.store_dir), "RAG_DEVICE": "cpu", "RAG_LLM": "none"}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("RAG_API_KEYS", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        yield Settings.from_env()


@pytest.fixture(scope="module")
def api_url(store: Settings) -> Iterator[str]:
    """``create_app`` as ``rag serve`` builds it, served by uvicorn on a local port."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(store), host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300  # the lifespan loads the model before serving
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API server did not start"
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def cli_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    assert rag_main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_api_the_cli_and_the_application_answer_alike(
    store: Settings, api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    service = Service(store)
    client = openai.OpenAI(base_url=f"{api_url}/v1", api_key="none", max_retries=0)
    abstained = 0
    for question in QUESTIONS:
        want = same(answer_json(service.ask(question).answer))
        assert same(cli_json(["ask", question], capsys)) == want, question
        reply = client.chat.completions.create(
            model=store.store.collection, messages=[{"role": "user", "content": question}]
        )
        extra = (reply.model_extra or {})["rag"]
        got = {"answer": reply.choices[0].message.content, **extra}
        assert same(got) == want, question
        assert want["mode"] == "extractive"
        abstained += not want["citations"]
    assert 0 < abstained < len(QUESTIONS)  # the set holds answers and an abstention


def test_the_api_the_cli_and_the_application_search_alike(
    store: Settings, api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    service = Service(store)
    with httpx.Client(base_url=api_url, timeout=120) as http:
        for query in QUERIES:
            for k, mode in ((None, None), (3, "bm25"), (4, "dense+mmr")):
                want = [hit_json(h) for h in service.search(query, k=k, mode=mode)]
                flags = [*(["-k", str(k)] if k else []), *(["--mode", mode] if mode else [])]
                assert cli_json(["search", query, *flags], capsys) == want, (query, k, mode)
                body = {"query": query, "k": k, "mode": mode}
                got = http.post("/v1/search", json=body).json()["hits"]
                assert got == want, (query, k, mode)
                assert want


def test_the_app_answers_as_the_application(store: Settings) -> None:
    """The chat, as a user types each question in a new session, with the sidebar's
    top-k and mode left at the settings'."""
    service = Service(store)
    for question in QUESTIONS:
        at = AppTest.from_file(APP, default_timeout=180).run()
        at.chat_input[0].set_value(question).run()
        assert not at.exception
        answer = at.session_state["history"][-1]["answer"]
        assert same(answer_json(answer)) == same(answer_json(service.ask(question).answer))


def test_the_app_takes_the_sidebar_choices_as_the_api_takes_k_and_mode(store: Settings) -> None:
    """The sidebar's top-k and mode reach the answer as a request's k and mode do."""
    service = Service(store)
    question = QUESTIONS[0]
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.sidebar.slider[0].set_value(2)
    next(s for s in at.sidebar.selectbox if s.label == "Retrieval mode").set_value("bm25")
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    answer = at.session_state["history"][-1]["answer"]
    want = service.ask(question, k=2, mode="bm25").answer
    assert same(answer_json(answer)) == same(answer_json(want))
    assert answer.hits and len(answer.hits) <= 2
