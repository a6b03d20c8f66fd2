"""A collection per model: which model a collection is opened and created with
(``application.models``, pure), and the sidebar's caption of it (``ui.collections.describe``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from application.models import for_contract, offered, with_model
from rag.config import BUNDLED_MODEL, MULTILINGUAL_MODEL, Settings
from rag.embedding.models import expected_identity
from rag.errors import IndexMismatchError
from rag.store.contract import Contract, check_contract
from ui.collections import describe

BOTH = (BUNDLED_MODEL, MULTILINGUAL_MODEL)
STORE = Path("/tmp/store")


def settings(**changes: object) -> Settings:
    return Settings.default(STORE, **changes)


def contract_of(built: Settings, **changes: object) -> Contract:
    """The contract a collection created with ``built`` records (before its first write)."""
    return replace(Contract.of(expected_identity(built.embedding), built.ingest), **changes)


E5 = contract_of(settings(embed_model=MULTILINGUAL_MODEL), dimension=384)
MINILM = contract_of(settings(), dimension=384)


def test_a_collection_without_a_contract_or_of_the_settings_model_keeps_the_settings() -> None:
    base = settings(collection="notes")
    assert for_contract(base, None, available=BOTH) is base
    assert for_contract(base, MINILM, available=BOTH) is base


def test_an_e5_collection_is_opened_with_e5_and_its_prefixes() -> None:
    base = settings(collection="german")
    chosen = for_contract(base, E5, available=BOTH)
    assert chosen.embedding.embed_model == MULTILINGUAL_MODEL
    identity = expected_identity(chosen.embedding)
    assert (identity.query_prefix, identity.document_prefix) == ("query: ", "passage: ")
    assert chosen.store == base.store  # the same collection, only its model changed
    assert chosen.retrieval == base.retrieval and chosen.ingest == base.ingest
    # and the contract the index checks on open is the collection's own
    wanted = Contract.of(expected_identity(chosen.embedding), chosen.ingest)
    check_contract(E5, wanted, collection="german", writing=True)


def test_a_minilm_collection_is_opened_with_minilm_under_e5_settings() -> None:
    base = settings(embed_model=MULTILINGUAL_MODEL)
    chosen = for_contract(base, MINILM, available=BOTH)
    assert chosen.embedding.embed_model == BUNDLED_MODEL
    assert expected_identity(chosen.embedding).query_prefix == ""


def test_e5_without_the_multilingual_extra_keeps_the_refusal_with_its_fix() -> None:
    base = settings()
    assert for_contract(base, E5, available=(BUNDLED_MODEL,)) is base
    wanted = Contract.of(expected_identity(base.embedding), base.ingest)
    with pytest.raises(IndexMismatchError, match="set RAG_EMBED_MODEL back to multilingual"):
        check_contract(E5, wanted, collection="german", writing=False)


@pytest.mark.parametrize(
    "contract",
    [
        replace(MINILM, embedding_model="bge-small-en-v1.5"),  # not bundled
        replace(E5, provider="openai"),  # a server's model of that name
        replace(E5, query_prefix="frage: "),  # built with RAG_QUERY_PREFIX
        replace(E5, reduction="pca", dimension=0),  # a PCA of unknown size
    ],
    ids=["not-bundled", "openai", "own-prefix", "pca-unsized"],
)
def test_anything_else_keeps_the_settings(contract: Contract) -> None:
    base = settings()
    assert for_contract(base, contract, available=BOTH) is base


def test_the_pca_is_the_contracts_not_the_settings() -> None:
    reduced = for_contract(settings(), replace(E5, reduction="pca", dimension=128), available=BOTH)
    assert reduced.embedding.embed_dim == 128 and reduced.embedding.reduces_locally
    full = for_contract(settings(embed_dim=64), E5, available=BOTH)
    assert full.embedding.embed_dim is None


def test_device_and_backend_set_for_minilm_do_not_stop_e5() -> None:
    base = settings(device="cuda", embed_backend="onnx")
    chosen = for_contract(base, E5, available=BOTH)
    assert (chosen.embedding.device, chosen.embedding.embed_backend) == ("auto", "auto")
    on_cpu = for_contract(settings(device="cpu", embed_backend="onnx"), E5, available=BOTH)
    assert on_cpu.embedding.device == "cpu"


def test_new_collection_offers_the_settings_model_first() -> None:
    assert offered(settings(), BOTH) == [BUNDLED_MODEL, MULTILINGUAL_MODEL]
    assert offered(settings(), (BUNDLED_MODEL,)) == [BUNDLED_MODEL]
    assert offered(settings(embed_model=MULTILINGUAL_MODEL), BOTH) == [
        MULTILINGUAL_MODEL,
        BUNDLED_MODEL,
    ]
    assert offered(settings(embed_model="/models/gte-small"), BOTH) == [
        "/models/gte-small",
        *BOTH,
    ]


@pytest.mark.parametrize(
    "base",
    [
        settings(),
        settings(embed_model=MULTILINGUAL_MODEL),
        settings(query_prefix="q: ", document_prefix="d: "),
        settings(embed_dim=64),
        settings(device="cuda", embed_backend="openvino"),
        settings(embed_provider="openai", embed_model="text-embedding-3-small", embed_api_key="k"),
    ],
    ids=["minilm", "e5", "own-prefixes", "pca", "cuda", "openai"],
)
@pytest.mark.parametrize("model", BOTH)
def test_a_new_collection_is_opened_with_the_model_it_was_created_with(
    base: Settings, model: str
) -> None:
    created = with_model(base, model).replace(collection="made")
    assert created.embedding.embed_model == model
    contract = contract_of(created)
    opened = for_contract(base.replace(collection="made"), contract, available=BOTH)
    assert opened.embedding == created.embedding
    check_contract(
        contract,
        Contract.of(expected_identity(opened.embedding), opened.ingest),
        collection="made",
        writing=True,
    )


def test_the_settings_own_model_is_created_with_the_settings() -> None:
    base = settings(query_prefix="q: ")
    assert with_model(base, BUNDLED_MODEL) is base
    other = with_model(base, MULTILINGUAL_MODEL)
    assert (other.embedding.query_prefix, other.embedding.document_prefix) == (None, None)
    served = settings(embed_provider="openai", embed_model="m", embed_api_key="k", embed_dim=256)
    local = with_model(served, BUNDLED_MODEL).embedding
    assert (local.embed_provider, local.embed_dim) == ("local", None)


def test_the_caption_shows_the_model_its_prefixes_and_precision() -> None:
    e5 = expected_identity(settings(embed_model=MULTILINGUAL_MODEL).embedding)
    assert describe(E5, expected=e5, precision="q4") == (
        "Embedding model: multilingual-e5-small · 384 dims · q4 on this CPU · "
        "prefixes: questions 'query: ', passages 'passage: '"
    )
    minilm = expected_identity(settings().embedding)
    assert describe(MINILM, expected=e5, precision="f32") == (
        "Embedding model: all-MiniLM-L6-v2 · 384 dims · f32 on this CPU · no prefixes"
    )
    # before the first ingest: what the settings promise
    assert describe(None, expected=minilm) == "Embedding model: all-MiniLM-L6-v2 · no prefixes"
    assert describe(None, expected=e5, precision="q4").endswith(
        "q4 on this CPU · prefixes: questions 'query: ', passages 'passage: '"
    )
    hostile = replace(MINILM, query_prefix="<img src=x>[a](http://h) ")
    caption = describe(hostile, expected=minilm)  # shown as text: no image, link or HTML
    assert "questions '\\<img src=x\\>\\[a\\](`http://h`) '" in caption
