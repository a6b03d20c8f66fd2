"""`python -m rag serve` as a user runs it, driven over HTTP with the official `openai`
client: the collections as models, chat completions (whole and streamed) with their
citations, embeddings equal to the vectors `rag ingest` stored, search, documents, keys,
limits and errors. One store and one server for the module; a few checks that need other
settings run the same app in this process on the already loaded model."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
import uvicorn

from api.app import create_app
from application.service import Service
from application.wire import answer_json, hit_json
from cli import main as rag_main
from rag.answers.answer import ABSTAIN, Answerer
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import connect, read_contract
from rag.store.passages import indexed_text
from rag.types import Turn
from tests.conftest import (
    DATA,
    ROOT,
    free_port,
    make_settings,
    manifest_of,
    retriever_for,
    run_ingest,
    served_in_thread,
    wait_for_http,
)

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789abcdef"
DOCS = ["about-this-app.md", "configuration.md", "how-it-works.md"]
QUESTION = "What is RAG_CHUNK_SIZE measured in?"
JSON = {"Content-Type": "application/json"}
ZEBRAS = "# Zebras\nZebras have black and white stripes that confuse biting flies.\n"


@dataclass(frozen=True)
class Served:
    url: str
    settings: Settings
    log: Path

    def client(self, key: str | None = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key or "none", max_retries=0)

    def http(self, key: str | None = KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_for_http(f"{url}/health", process, timeout=180, what="the API server")
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}:\n{log.read_text()}") from None


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("api")
    store, docs = root / "store", root / "docs"
    docs.mkdir()
    for name in DOCS:
        shutil.copy(DATA / name, docs / name)
    env = {
        "RAG_STORE_DIR": str(store),
        "RAG_DEVICE": "cpu",
        "RAG_EMBED_BACKEND": "torch",  # as the session's model: answers compare exactly
        "RAG_LLM": "none",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    server_env = {**os.environ, **env, "RAG_API_KEYS": KEY, "RAG_MAX_UPLOAD_MB": "1"}
    with log.open("wb") as out:  # it loads its model while the store is filled
        process = subprocess.Popen(
            [sys.executable, "-m", "rag", "serve", "--port", str(port)],
            cwd=ROOT,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert rag_main(["ingest", str(docs)]) == 0  # the CLI's vectors
    settings = make_settings(store, llm="none")
    chunks = connect(settings.store)
    labels = {cid: "settings" for cid in chunks.ids_for_source(str(docs / "configuration.md"))}
    for name in ("about-this-app.md", "how-it-works.md"):
        labels |= {cid: "guide" for cid in chunks.ids_for_source(str(docs / name))}
    chunks.set_labels(labels)
    (root / "zebras.md").write_text(ZEBRAS)  # a second collection
    run_ingest(settings.replace(collection="notes"), embedder, [root / "zebras.md"])
    try:
        wait_until_up(url, process, log)
        yield Served(url=url, settings=settings, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


EXPECTED: dict[tuple[str, str], dict[str, Any]] = {}


def expected(
    served: Served, embedder: SentenceTransformerEmbedder, question: str, **kwargs: Any
) -> dict[str, Any]:
    """What `rag ask --json` says (and the query a follow-up was searched with): the same
    pipeline in this process, on the same store."""
    key = (question, repr(kwargs))
    if key not in EXPECTED:
        retriever = retriever_for(served.settings, embedder)
        answerer = Answerer(retriever=retriever, llm=None, settings=served.settings.answers)
        answer = answerer.ask(question, **kwargs).answer
        EXPECTED[key] = answer_json(answer) | {
            "condensed_query": answer.metadata.get("condensed_query")
        }
    return EXPECTED[key]


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


# -- the OpenAI-compatible endpoints ---------------------------------------------------------


def test_models_are_the_collections(served: Served) -> None:
    client = served.client()
    assert [m.id for m in client.models.list()] == ["docs", "notes"]
    assert client.models.retrieve("notes").owned_by == "rag-chat"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("nope")
    assert error_of(missing.value)["code"] == "model_not_found"
    reply = client.chat.completions.create(
        model="notes", messages=[{"role": "user", "content": "What do zebra stripes do?"}]
    )
    assert "biting flies [1]" in (reply.choices[0].message.content or "")


def test_chat_completion_is_the_projects_answer_with_citations(
    served: Served, embedder: SentenceTransformerEmbedder
) -> None:
    reply = served.client().chat.completions.create(
        model="docs", messages=[{"role": "user", "content": QUESTION}]
    )
    want = expected(served, embedder, QUESTION)
    assert reply.object == "chat.completion" and reply.model == "docs"
    assert reply.choices[0].message.content == want["answer"]
    assert reply.choices[0].finish_reason == "stop"
    rag = (reply.model_extra or {})["rag"]
    assert rag["citations"] == want["citations"] != []
    assert rag["citations"][0]["source"].endswith("configuration.md")
    assert (rag["mode"], rag["abstained"], rag["collection"]) == ("extractive", False, "docs")


def test_streamed_chat_completion_gives_the_same_answer_then_its_citations(
    served: Served, embedder: SentenceTransformerEmbedder
) -> None:
    chunks = list(
        served.client().chat.completions.create(
            model="docs", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    want = expected(served, embedder, QUESTION)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == want["answer"] and len(chunks) >= 3
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["rag"]["citations"] == want["citations"]
    assert all(c.id == chunks[0].id for c in chunks)


def test_history_is_used_as_the_app_uses_it(
    served: Served, embedder: SentenceTransformerEmbedder
) -> None:
    first_question, followup = "How are PDFs loaded?", "And encrypted ones?"
    first = expected(served, embedder, first_question)
    history = [Turn("user", first_question), Turn("assistant", first["answer"])]
    reply = served.client().chat.completions.create(
        model="docs",
        messages=[
            {"role": "system", "content": "ignored: the server writes its own prompt"},
            {"role": "user", "content": first_question},
            {"role": "assistant", "content": first["answer"]},
            {"role": "user", "content": [{"type": "text", "text": followup}]},
        ],
    )
    rag = (reply.model_extra or {})["rag"]
    want = expected(served, embedder, followup, history=history)  # as the app asks it
    assert want["condensed_query"] and rag["condensed_query"] == want["condensed_query"]
    assert (reply.choices[0].message.content, rag["citations"]) == (
        want["answer"],
        want["citations"],
    )
    alone = expected(served, embedder, followup)  # the history made the difference
    assert alone["answer"] == ABSTAIN != want["answer"]


def test_label_filter_and_abstaining(served: Served) -> None:
    client = served.client()
    cited = {}
    for label in ("guide", "settings"):  # how-it-works.md answers; with "settings" it may not
        reply = client.chat.completions.create(
            model="docs",
            messages=[{"role": "user", "content": "How is text split into chunks?"}],
            extra_body={"label": label},
        )
        rag = (reply.model_extra or {})["rag"]
        assert rag["label"] == label
        cited[label] = {Path(c["source"]).name for c in rag["citations"]}
    assert cited == {"guide": {"how-it-works.md"}, "settings": {"configuration.md"}}
    with pytest.raises(openai.BadRequestError) as unknown:
        client.chat.completions.create(
            model="docs",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"label": "recipes"},
        )
    assert "No document has the label 'recipes'" in error_of(unknown.value)["message"]
    none = client.chat.completions.create(
        model="docs", messages=[{"role": "user", "content": "Who painted the Mona Lisa?"}]
    )
    assert none.choices[0].message.content == ABSTAIN
    assert (none.model_extra or {})["rag"]["abstained"] is True


def test_embeddings_equal_the_vectors_rag_ingest_stored(served: Served) -> None:
    store = connect(served.settings.store)
    hits, stored = store.all_vectors()
    hits, stored = hits[:6], stored[:6]
    contract = read_contract(store)
    assert contract is not None and any(h.header_path for h in hits)
    # what ingestion embedded for each passage: its text after its heading path
    texts = [indexed_text(h.text, h.header_path, context=contract.context) for h in hits]
    client = served.client()
    for encoding in (None, "float", "base64"):  # None: the SDK asks for base64 and decodes
        reply = client.embeddings.create(
            model="docs", input=texts, **({"encoding_format": encoding} if encoding else {})
        )
        vectors = np.asarray(
            [
                np.frombuffer(base64.b64decode(d.embedding), "<f4")
                if isinstance(d.embedding, str)
                else d.embedding
                for d in reply.data
            ],
            dtype=np.float32,
        )
        assert vectors.shape == stored.shape == (len(texts), 384)
        cosines = np.sum(vectors * stored, axis=1) / (
            np.linalg.norm(vectors, axis=1) * np.linalg.norm(stored, axis=1)
        )
        assert cosines.min() >= 0.9999, encoding
        assert reply.usage.prompt_tokens > len(texts)
    with pytest.raises(openai.BadRequestError) as wrong:
        client.embeddings.create(model="docs", input="x", dimensions=256)
    assert "384-dimensional" in error_of(wrong.value)["message"]


# -- search and documents ---------------------------------------------------------------------


def test_search_gives_the_hits_of_rag_search(
    served: Served, embedder: SentenceTransformerEmbedder
) -> None:
    query = "how are chunks measured"
    with served.http() as http:
        got = http.post("/v1/search", json={"query": query, "k": 3, "mode": "hybrid"}).json()
        bad = http.post("/v1/search", json={"query": query, "mode": "fuzzy"})
    hits = retriever_for(served.settings, embedder).retrieve(query, k=3, mode="hybrid")
    assert got == {"collection": "docs", "hits": [hit_json(h) for h in hits]}
    assert bad.status_code == 400 and "Retrieval mode 'fuzzy'" in bad.json()["error"]["message"]


def test_upload_list_ask_delete(served: Served, tmp_path: Path) -> None:
    with served.http() as http:
        upload = http.post("/v1/documents", files={"file": ("../../Zebras.md", ZEBRAS.encode())})
        assert upload.status_code == 201, upload.text
        doc = upload.json()["documents"][0]
        assert doc["name"] == "Zebras.md" and upload.json()["report"]["added"] == 1
        listed = http.get("/v1/documents").json()["documents"]
        assert doc["id"] in {d["id"] for d in listed}
        found = http.post("/v1/search", json={"query": "zebra stripes", "k": 1}).json()
        assert found["hits"][0]["source"] == doc["source"]

        gone = http.delete(f"/v1/documents/{doc['id']}")
        assert gone.status_code == 200 and gone.json()["chunks_deleted"] == 1
        assert doc["id"] not in {d["id"] for d in http.get("/v1/documents").json()["documents"]}
        found = http.post("/v1/search", json={"query": "zebra stripes", "k": 5}).json()
        assert doc["source"] not in {h["source"] for h in found["hits"]}
        again = http.delete(f"/v1/documents/{doc['id']}")
        assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("megabytes", "refusal"),
    [
        (1.5, "big.txt: 1.5 MB is over the upload limit of 1 MB"),  # the route's check
        (3.0, "over this server's limit of 2 MB"),  # the guard's, before reading the body
    ],
)
def test_an_oversized_upload_is_refused_and_nothing_is_stored(
    served: Served, megabytes: float, refusal: str
) -> None:
    uploads = served.settings.store.upload_dir
    before = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    documents = manifest_of(served.settings).count()
    data = b"Big text.\n" * int(megabytes * 100_000)
    with served.http() as http:
        reply = http.post("/v1/documents", files={"file": ("big.txt", data)})
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"]["code"] == "request_too_large"
    assert refusal in reply.json()["error"]["message"]
    after = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    assert after == before and manifest_of(served.settings).count() == documents


# -- keys, errors and the log -------------------------------------------------------------------


def test_a_missing_or_wrong_key_is_401_in_openais_format(served: Served) -> None:
    for key in (None, "wrong-key-0123456789abcdef"):
        with pytest.raises(openai.AuthenticationError) as refused:
            served.client(key=key).models.list()
        assert refused.value.status_code == 401
        assert error_of(refused.value)["code"] == "invalid_api_key"
    with served.http(key=None) as http:
        assert http.get("/health").status_code == 200
        assert http.get("/docs").status_code == 200  # the page and schema hold no data
        assert http.get("/openapi.json").json()["info"]["title"] == "rag-chat API"
        assert http.post("/v1/search", json={"query": "x"}).status_code == 401
        assert http.get("/v1/documents").status_code == 401


def test_bad_requests_are_openai_errors_never_tracebacks(served: Served) -> None:
    client = served.client()
    with pytest.raises(openai.BadRequestError) as last:
        client.chat.completions.create(
            model="docs", messages=[{"role": "assistant", "content": "Hi"}]
        )
    assert "last message must be the user's question" in error_of(last.value)["message"]
    with pytest.raises(openai.BadRequestError) as image:
        client.chat.completions.create(
            model="docs",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
        )
    assert "'image_url' is not supported" in error_of(image.value)["message"]
    with served.http() as http:
        replies = [
            http.post("/v1/chat/completions", json={"model": "docs"}),
            http.post("/v1/chat/completions", content=b"{not json", headers=JSON),
            http.get("/v1/nothing"),
            http.post("/v1/documents", files={"file": ("notes.exe", b"MZ")}),
        ]
    assert [r.status_code for r in replies] == [400, 400, 404, 400]
    for reply in replies:
        assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
        assert "Traceback" not in reply.text


def test_a_non_local_bind_without_keys_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path))
    monkeypatch.delenv("RAG_API_KEYS", raising=False)

    def serving(self: uvicorn.Server) -> None:
        raise AssertionError("the server started on 0.0.0.0 without keys")

    monkeypatch.setattr(uvicorn.Server, "run", serving)
    assert rag_main(["serve", "--host", "0.0.0.0"]) == 2  # at once: no model is loaded
    assert "Refusing to listen on 0.0.0.0 without API keys" in capsys.readouterr().err


def test_the_log_has_no_error_and_no_key(served: Served) -> None:
    log = served.log.read_text()
    assert "Application startup complete" in log and '"POST /v1/chat/completions' in log
    assert KEY not in log and "wrong-key" not in log
    assert "Traceback" not in log and "ERROR" not in log


# -- other settings, on the same app in this process ---------------------------------------------


@contextmanager
def in_process(settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    with served_in_thread(
        create_app(settings, service=Service(settings, model=lambda: embedder))
    ) as url:
        yield url


def test_rate_limit_and_browser_requests(
    served: Served, embedder: SentenceTransformerEmbedder
) -> None:
    settings = served.settings.replace(api_rate_limit=3)  # and no keys: localhost only
    with in_process(settings, embedder) as url, httpx.Client(base_url=url) as http:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        assert [m.id for m in client.models.list()] == ["docs", "notes"]
        assert http.get("/v1/models", headers={"Origin": url}).status_code == 200  # /docs
        assert http.get("/v1/models").status_code == 200  # the third of 3 a minute
        with pytest.raises(openai.RateLimitError) as limited:
            client.models.list()
        assert error_of(limited.value)["code"] == "rate_limit_exceeded"
        assert int(limited.value.response.headers["Retry-After"]) >= 1
        assert http.get("/health").status_code == 200  # never limited
        cross = http.get("/health", headers={"Origin": "https://evil.example"})
        rebound = http.get("/health", headers={"Host": "evil.example"})
    assert cross.status_code == rebound.status_code == 403
    assert cross.json()["error"]["code"] == "origin_not_allowed"
    assert rebound.json()["error"]["code"] == "host_not_allowed"
