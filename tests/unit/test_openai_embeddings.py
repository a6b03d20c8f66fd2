"""RAG_EMBED_PROVIDER=openai: the settings, the requests OpenAIEmbedder shapes (through the
SDK, against an httpx2 mock transport: the openai client's own HTTP library), what it
makes of odd replies, its error messages, and its token estimate. The real server is in
tests/integration/test_openai_embeddings.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import httpx2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.config import BUNDLED_MODEL, Settings
from rag.embedding.models import expected_identity
from rag.embedding.remote import OpenAIEmbedder
from rag.errors import ConfigError, EmbeddingError, EmbeddingUnavailableError
from rag.store.contract import Contract
from rag.store.index import load_model

KEY = "sk-test-FAKE-0123456789abcdef"
URL = "http://embed.test/v1"

Handler = Callable[[dict[str, object]], httpx2.Response]


class FakeServer:
    """Records each request's JSON body and answers with ``handler(body)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.bodies: list[dict[str, object]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/v1/embeddings"
        body = json.loads(request.content)
        self.bodies.append(body)
        return self.handler(body)

    def embedder(self, model: str = "some-model", **kwargs: object) -> OpenAIEmbedder:
        client = httpx2.Client(transport=httpx2.MockTransport(self))
        options: dict[str, object] = {"base_url": URL, "retries": 0, **kwargs}
        return OpenAIEmbedder(model, http_client=client, **options)


def reply(rows: list[object], *, order: list[int] | None = None) -> httpx2.Response:
    order = list(range(len(rows))) if order is None else order
    data = [{"object": "embedding", "index": i, "embedding": rows[i]} for i in order]
    return httpx2.Response(
        200,
        json={
            "object": "list",
            "data": data,
            "model": "m",
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        },
    )


def by_number(body: dict[str, object]) -> httpx2.Response:
    """Text "t<n> ..." gets the vector [n, 1, 0]; rows come back in reverse order."""
    texts = body["input"]
    assert isinstance(texts, list)
    rows: list[object] = [[float(t.split()[0][1:]), 1.0, 0.0] for t in texts]
    return reply(rows, order=list(reversed(range(len(rows)))))


def expected_rows(numbers: range) -> np.ndarray:
    raw = np.array([[n, 1.0, 0.0] for n in numbers], dtype=np.float64)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


# -- settings ------------------------------------------------------------------------------


def test_openai_provider_defaults_and_fallbacks() -> None:
    s = Settings.from_env({"RAG_EMBED_PROVIDER": "OpenAI", "OPENAI_API_KEY": KEY})
    assert (s.embedding.embed_provider, s.embedding.embed_model, s.embedding.embed_base_url) == (
        "openai",
        "text-embedding-3-small",
        None,
    )
    assert s.embedding.embed_api_key == KEY and s.embedding.embed_dim is None
    assert KEY not in repr(s)
    s = Settings.from_env(
        {
            "RAG_EMBED_PROVIDER": "openai",
            "OPENAI_BASE_URL": "http://ignored:1/v1",
            "RAG_LLM": "none",  # OPENAI_BASE_URL alone would also configure the LLM
            "RAG_EMBED_BASE_URL": "http://localhost:11434/v1",
            "OPENAI_API_KEY": "sk-ignored",
            "RAG_EMBED_API_KEY": KEY,
            "RAG_EMBED_MODEL": "nomic-embed-text",
            "RAG_EMBED_DIM": "256",
        }
    )
    assert (s.embedding.embed_base_url, s.embedding.embed_api_key) == (
        "http://localhost:11434/v1",
        KEY,
    )
    assert (s.embedding.embed_model, s.embedding.embed_dim) == ("nomic-embed-text", 256)
    s = Settings.from_env(
        {"RAG_EMBED_PROVIDER": "openai", "OPENAI_BASE_URL": "http://h:8/v1", "RAG_LLM": "none"}
    )
    assert (s.embedding.embed_base_url, s.embedding.embed_api_key) == ("http://h:8/v1", None)
    local = Settings.from_env({})
    assert (
        local.embedding.embed_provider,
        local.embedding.embed_model,
        local.embedding.embed_dim,
    ) == (
        "local",
        BUNDLED_MODEL,
        None,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"RAG_EMBED_PROVIDER": "cohere"},
            "RAG_EMBED_PROVIDER is 'cohere'; use one of local, openai: `local`: a "
            "sentence-transformers model",
        ),
        (
            {"RAG_EMBED_PROVIDER": "openai"},
            "RAG_EMBED_PROVIDER=openai but neither RAG_EMBED_BASE_URL (or OPENAI_BASE_URL) "
            "nor OPENAI_API_KEY is set. Set OPENAI_API_KEY for OpenAI, or the server's URL",
        ),
        (
            {
                "RAG_EMBED_PROVIDER": "openai",
                "RAG_EMBED_BASE_URL": "localhost:11434",
                "RAG_EMBED_API_KEY": KEY,
            },
            "RAG_EMBED_BASE_URL 'localhost:11434' is not an http(s) URL",
        ),
        ({"RAG_EMBED_DIM": "1"}, "RAG_EMBED_DIM must be at least 2, got 1"),
        ({"RAG_EMBED_DIM": "small"}, "RAG_EMBED_DIM must be a whole number, got 'small'"),
    ],
)
def test_bad_embedder_settings_say_what_and_how(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert message in str(info.value)
    assert KEY not in str(info.value)


def test_make_embedder_builds_the_openai_one_without_a_request(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "RAG_STORE_DIR": str(tmp_path),
            "RAG_EMBED_PROVIDER": "openai",
            "OPENAI_API_KEY": KEY,
            "RAG_EMBED_DIM": "512",
            "RAG_LLM_TIMEOUT": "7",
            "RAG_LLM_RETRIES": "1",
        }
    )
    embedder = load_model(s.embedding)
    assert isinstance(embedder, OpenAIEmbedder)
    assert (embedder.name, embedder.base_url, embedder.dimension) == (
        "text-embedding-3-small",
        "https://api.openai.com/v1",
        512,
    )
    assert (embedder.timeout, embedder.retries, embedder.max_tokens) == (7.0, 1, 8191)
    assert KEY not in repr(embedder)
    contract = Contract.of(embedder.identity, s.ingest)
    assert (contract.provider, contract.dimension, contract.reduction) == ("openai", 512, "")
    # the settings promise the same before any request
    assert expected_identity(s.embedding) == embedder.identity


# -- requests ------------------------------------------------------------------------------


def test_dimensions_is_sent_exactly_when_set() -> None:
    server = FakeServer(lambda body: reply([[1.0] * 8 for _ in body["input"]]))
    server.embedder(dimensions=8).embed_documents(["a", "b"])
    server.embedder().embed_documents(["c"])
    assert server.bodies[0]["dimensions"] == 8
    assert (server.bodies[0]["model"], server.bodies[0]["input"]) == ("some-model", ["a", "b"])
    assert "dimensions" not in server.bodies[1] and server.bodies[1]["input"] == ["c"]


def test_batches_of_256_keep_the_input_order() -> None:
    server = FakeServer(by_number)
    vectors = server.embedder(dimensions=3).embed_documents([f"t{n}" for n in range(600)])
    assert [len(b["input"]) for b in server.bodies] == [256, 256, 88]
    assert server.bodies[1]["input"][0] == "t256"
    assert vectors.dtype == np.float32 and vectors.shape == (600, 3)
    np.testing.assert_allclose(vectors, expected_rows(range(600)), rtol=1e-6)


def test_long_texts_are_batched_by_estimated_tokens() -> None:
    server = FakeServer(by_number)
    # "t<n>" is 2 pieces, the padding 10,000 more, with the 2 specials 10,004 tokens a text
    texts = [f"t{n} " + "abcdef " * 10_000 for n in range(25)]
    server.embedder(dimensions=3).embed_documents([t.split()[0] for t in texts])
    assert [len(b["input"]) for b in server.bodies] == [25]
    server.bodies.clear()
    vectors = server.embedder(dimensions=3).embed_documents(texts)
    assert [len(b["input"]) for b in server.bodies] == [9, 9, 7]  # 100k estimated tokens each
    np.testing.assert_allclose(vectors, expected_rows(range(25)), rtol=1e-6)


def test_vectors_are_normalised_client_side() -> None:
    server = FakeServer(lambda _: reply([[3.0, 4.0], [0.0, -2.0]]))
    vectors = server.embedder().embed_documents(["x", "y"])
    np.testing.assert_allclose(vectors, [[0.6, 0.8], [0.0, -1.0]], rtol=1e-6)
    query = FakeServer(lambda _: reply([[3.0, 4.0]])).embedder().embed_query("x")
    assert query.shape == (2,) and query.dtype == np.float32
    np.testing.assert_allclose(query, [0.6, 0.8], rtol=1e-6)


def test_base64_replies_like_openai_sends_them_are_decoded() -> None:
    def handler(body: dict[str, object]) -> httpx2.Response:
        assert body["encoding_format"] == "base64"  # the SDK's default, decoded by the SDK
        packed = base64.b64encode(np.array([0.0, 5.0], dtype=np.float32).tobytes()).decode()
        return reply([packed])

    vector = FakeServer(handler).embedder().embed_query("x")
    np.testing.assert_allclose(vector, [0.0, 1.0])


def test_empty_input_sends_nothing() -> None:
    server = FakeServer(by_number)
    assert server.embedder(dimensions=64).embed_documents([]).shape == (0, 64)
    assert server.embedder("text-embedding-3-large").embed_documents([]).shape == (0, 3072)
    assert server.bodies == []


def test_dimension_is_requested_known_or_probed_once() -> None:
    server = FakeServer(lambda body: reply([[0.5] * 5 for _ in body["input"]]))
    assert server.embedder(dimensions=5).dimension == 5
    assert server.embedder("text-embedding-3-small").dimension == 1536
    assert server.embedder("text-embedding-ada-002").dimension == 1536
    assert server.bodies == []
    probed = server.embedder("nomic-embed-text")
    assert (probed.dimension, probed.dimension) == (5, 5)
    assert len(server.bodies) == 1
    assert probed.embed_documents([]).shape == (0, 5) and len(server.bodies) == 1


def test_prefixes_come_from_the_registry_and_can_be_overridden() -> None:
    server = FakeServer(lambda body: reply([[1.0, 0.0] for _ in body["input"]]))
    nomic = server.embedder("nomic-embed-text")
    nomic.embed_query("why")
    nomic.embed_documents(["because"])
    server.embedder("nomic-embed-text", query_prefix="", document_prefix="d: ").embed_query("q")
    assert [b["input"] for b in server.bodies] == [
        ["search_query: why"],
        ["search_document: because"],
        ["q"],
    ]


# -- replies that are not what was asked for -----------------------------------------------


def test_a_server_ignoring_dimensions_is_a_config_error() -> None:
    server = FakeServer(lambda _: reply([[0.1] * 576]))
    with pytest.raises(ConfigError) as info:
        server.embedder("smollm2", dimensions=64).embed_query("x")
    assert str(info.value) == (
        f"RAG_EMBED_DIM asks for 64 dims but the embedding server at {URL} returned 576 "
        "for model 'smollm2': it ignores the `dimensions` parameter. Unset RAG_EMBED_DIM "
        "(only OpenAI's text-embedding-3 models take `dimensions`)."
    )


def test_token_level_vectors_are_a_config_error() -> None:
    server = FakeServer(lambda _: reply([[[0.1] * 4, [0.2] * 4, [0.3] * 4]]))
    with pytest.raises(ConfigError) as info:
        server.embedder("smollm2").embed_query("x")
    message = str(info.value)
    assert "returned token-level vectors for model 'smollm2'" in message
    assert "`--kv_overrides llama.pooling_type=int:1`" in message and URL in message


def test_known_model_of_another_size_is_a_config_error() -> None:
    server = FakeServer(lambda _: reply([[0.1] * 768]))
    with pytest.raises(ConfigError, match="returned 768-dim vectors for model "):
        server.embedder("text-embedding-3-small").embed_query("x")


def test_missing_or_ragged_rows_are_embedding_errors() -> None:
    short = FakeServer(lambda _: reply([[1.0, 0.0]]))
    with pytest.raises(EmbeddingError, match="returned 1 vectors for 2 inputs"):
        short.embedder().embed_documents(["a", "b"])
    ragged = FakeServer(lambda _: reply([[1.0, 0.0], [1.0]]))
    with pytest.raises(EmbeddingError, match=r"vectors of lengths \[1, 2\]"):
        ragged.embedder().embed_documents(["a", "b"])


# -- errors --------------------------------------------------------------------------------


def status(code: int, message: str) -> Handler:
    return lambda _: httpx2.Response(code, json={"error": {"message": message}})


@pytest.mark.parametrize(
    ("code", "kind", "expected"),
    [
        (
            401,
            EmbeddingError,
            f"The embedding server at {URL} refused the API key (HTTP 401: Incorrect API "
            "key provided: [redacted].). Set OPENAI_API_KEY (or RAG_EMBED_API_KEY) to a "
            "valid key for this server.",
        ),
        (404, EmbeddingError, "Set RAG_EMBED_MODEL to an embedding model it serves"),
        (400, EmbeddingError, "RAG_EMBED_DIM=64 is sent as `dimensions`"),
        (429, EmbeddingError, "is rate-limiting requests (HTTP 429 after 1 attempt"),
        (503, EmbeddingUnavailableError, "failed (HTTP 503 after 1 attempt, model 'm'"),
    ],
)
def test_sdk_errors_are_translated_without_the_key(
    code: int, kind: type[EmbeddingError], expected: str
) -> None:
    server = FakeServer(status(code, f"Incorrect API key provided: {KEY}."))
    embedder = server.embedder("m", api_key=KEY, dimensions=64)
    with pytest.raises(EmbeddingError) as info:
        embedder.embed_documents(["x"])
    assert type(info.value) is kind
    assert expected in str(info.value)
    assert KEY not in str(info.value) and "[redacted]" in str(info.value)
    assert KEY not in repr(embedder)
    assert server.bodies and len(server.bodies) == 1  # retries=0: one try


def test_the_key_goes_in_the_header_only() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["authorization"])
        return reply([[1.0]])

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    OpenAIEmbedder("m", base_url=URL, api_key=KEY, http_client=client).embed_query("x")
    OpenAIEmbedder("m", base_url=URL, http_client=client).embed_query("x")
    assert seen == [f"Bearer {KEY}", "Bearer not-needed"]


# -- the token estimate --------------------------------------------------------------------


def test_token_estimate_exact_pieces() -> None:
    embedder = OpenAIEmbedder("text-embedding-3-small", api_key=KEY)
    assert embedder.token_offsets("hello world") == [(0, 5), (6, 11)]
    assert embedder.count_tokens("hello world") == 4
    text = "Photosynthesis: 12345 units, ça va!"
    pieces = [text[a:b] for a, b in embedder.token_offsets(text)]
    assert pieces == [
        "Photos", "ynthes", "is", ":", "123", "45", "units", ",", "ç", "a", "va", "!",
    ]  # fmt: skip
    assert embedder.count_tokens("") == 2 and embedder.token_offsets("  \n") == []
    assert embedder.max_tokens == 8191
    assert OpenAIEmbedder("nomic-embed-text", base_url=URL).max_tokens == 512


def test_token_estimate_is_sane_for_english() -> None:
    text = (
        "The quick brown fox jumps over the lazy dog. Retrieval-augmented generation "
        "answers questions from your own documents, citing the pages it used."
    )
    words = len(text.split())
    pieces = len(OpenAIEmbedder("m", base_url=URL).token_offsets(text))
    # 9-10 letter words count two pieces each, punctuation one
    assert (words, pieces) == (22, 33)


@given(st.text(max_size=200))
def test_token_offsets_point_back_into_the_text(text: str) -> None:
    offsets = OpenAIEmbedder("m", base_url=URL).token_offsets(text)
    ends = [0, *(b for _, b in offsets)]
    for (a, b), previous_end in zip(offsets, ends, strict=False):
        assert previous_end <= a < b <= len(text)
        assert not text[a:b].isspace() and text[a:b].strip() == text[a:b]
    covered = {i for a, b in offsets for i in range(a, b)}
    assert covered == {i for i, c in enumerate(text) if not c.isspace()}
