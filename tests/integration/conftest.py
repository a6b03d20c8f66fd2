"""Session fixtures for the LLM tests: one real llama.cpp server with the bundled
SmolLM2-135M on a free port, started once and stopped at the end; and one more serving
its mean-pooled embeddings for the RAG_EMBED_PROVIDER=openai tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from rag.answers.local_server import INSTALL_HINT, LocalServer

SERVER_CONTEXT = 2048  # tokens; the budget tests fill it on purpose
EMBED_ALIAS = "smollm2-embed"


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LocalServer]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail(f"The LLM tests need the local extra. {INSTALL_HINT}")
    with LocalServer(context_tokens=SERVER_CONTEXT, threads=1) as server:
        yield server


@pytest.fixture(scope="session")
def llama_embed_server() -> Iterator[LocalServer]:
    """/v1/embeddings from SmolLM2 (576 dims; it ignores the `dimensions` parameter)."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail(f"The embedding server tests need the local extra. {INSTALL_HINT}")
    server = LocalServer(
        context_tokens=SERVER_CONTEXT, threads=1, alias=EMBED_ALIAS, embedding=True
    )
    with server:
        yield server
