from pathlib import Path

import pytest

from rag.config import BUNDLED_MODEL, Settings
from rag.errors import ConfigError


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    assert s.store.store_dir == tmp_path / ".rag"
    assert s.store.chroma_dir == tmp_path / ".rag" / "chroma"
    assert (s.store.collection, s.embedding.embed_model, s.retrieval.top_k, s.embedding.device) == (
        "docs",
        BUNDLED_MODEL,
        5,
        "auto",
    )
    assert (s.ingest.chunk_size, s.ingest.chunk_overlap) == (200, 30)
    assert s.embedding.query_prefix is None and s.embedding.document_prefix is None


def test_every_variable_is_read(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "RAG_STORE_DIR": str(tmp_path / "x"),
            "RAG_COLLECTION": "my-docs",
            "RAG_EMBED_MODEL": "/models/e5-small-v2",
            "RAG_QUERY_PREFIX": "",
            "RAG_DOCUMENT_PREFIX": "doc: ",
            "RAG_CHUNK_SIZE": "120",
            "RAG_CHUNK_OVERLAP": "10",
            "RAG_TOP_K": "8",
            "RAG_DEVICE": "CPU",
        }
    )
    assert s.store.store_dir == tmp_path / "x"
    assert s.store.collection == "my-docs"
    assert s.embedding.embed_model == "/models/e5-small-v2"
    assert s.embedding.query_prefix == "" and s.embedding.document_prefix == "doc: "
    assert (s.ingest.chunk_size, s.ingest.chunk_overlap, s.retrieval.top_k, s.embedding.device) == (
        120,
        10,
        8,
        "cpu",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_TOP_K": "many"}, "RAG_TOP_K must be a whole number, got 'many'"),
        ({"RAG_TOP_K": "0"}, "RAG_TOP_K must be at least 1, got 0"),
        (
            {"RAG_CHUNK_SIZE": "100", "RAG_CHUNK_OVERLAP": "100"},
            "RAG_CHUNK_OVERLAP (100) must be smaller than RAG_CHUNK_SIZE (100)",
        ),
        ({"RAG_DEVICE": "tpu"}, "RAG_DEVICE is 'tpu'; use one of auto, cpu, cuda"),
        ({"RAG_COLLECTION": "a b"}, "RAG_COLLECTION 'a b' is not a valid name"),
    ],
)
def test_bad_values_say_what_and_how(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert message in str(info.value)


def test_performance_settings(tmp_path: Path) -> None:
    defaults = Settings.from_env({"RAG_STORE_DIR": str(tmp_path), "HOME": str(tmp_path / "h")})
    assert (defaults.embedding.embed_backend, defaults.store.chroma_url) == ("auto", None)
    assert defaults.embedding.cache_dir == tmp_path / "h" / ".cache" / "rag-chat" / "models"
    s = Settings.from_env(
        {
            "RAG_STORE_DIR": str(tmp_path),
            "RAG_EMBED_BACKEND": "OpenVINO",
            "RAG_CACHE_DIR": str(tmp_path / "c"),
            "RAG_CHROMA_URL": "http://127.0.0.1:8123",
        }
    )
    assert (s.embedding.embed_backend, s.embedding.cache_dir) == ("openvino", tmp_path / "c")
    assert s.store.chroma_url == "http://127.0.0.1:8123"
    assert Settings.default(tmp_path).embedding.cache_dir == tmp_path / "models"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_EMBED_BACKEND": "tensorrt"}, "RAG_EMBED_BACKEND is 'tensorrt'; use one of auto"),
        ({"RAG_CHROMA_URL": "localhost:8000"}, "RAG_CHROMA_URL is 'localhost:8000'; give"),
        ({"RAG_CHROMA_URL": "http://h:notaport"}, "http://host:port"),
    ],
)
def test_bad_performance_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert message in str(info.value)
