"""RAG_EMBED_PROVIDER=openai against a real OpenAI-compatible server: llama.cpp serving the
bundled SmolLM2's mean-pooled embeddings (576 dims). Ingest through the CLI, search through
the Retriever, and the errors a user meets: a server that ignores RAG_EMBED_DIM, a store
built by the other provider, a server that is not there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answers.local_server import LocalServer
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.embedding.remote import OpenAIEmbedder
from rag.errors import IndexMismatchError
from rag.retrieval.retriever import Retriever
from rag.store.index import connect, load_model, open_index, read_contract
from tests.conftest import free_port, make_settings, manifest_of, run_cli, run_ingest

pytestmark = pytest.mark.integration

KEY = "sk-test-FAKE-0123456789abcdef"
SMOLLM2_DIMS = 576

CORPUS = {
    "bread.md": "# Baking bread\n\nMix flour, water, salt and yeast into a dough. Knead the "
    "dough for ten minutes until it is smooth, let it rise for an hour, shape the loaf and "
    "bake it in a hot oven until the crust is brown.",
    "sourdough.md": "# Sourdough\n\nA sourdough starter is flour and water fermented by wild "
    "yeast. Feed the starter every day. Mix it into the bread dough, let the dough proof "
    "overnight, then bake the loaf in a preheated oven.",
    "planets.md": "# The planets\n\nEight planets orbit the Sun. Jupiter is the largest "
    "planet, a gas giant with dozens of moons; Saturn has bright rings of ice; Mars is a "
    "cold desert planet with two small moons.",
    "telescopes.md": "# Watching the sky\n\nA small telescope shows the moons of Jupiter, "
    "the rings of Saturn and the craters of our Moon. Astronomers measure the orbits of "
    "planets and the distances to stars.",
}
BAKING = {"bread.md", "sourdough.md"}
ASTRONOMY = {"planets.md", "telescopes.md"}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def openai_env(server: LocalServer, store: Path, **extra: str) -> dict[str, str]:
    """The variables a user sets to embed with a server (and no LLM)."""
    return {
        "RAG_STORE_DIR": str(store),
        "RAG_DEVICE": "cpu",
        "RAG_LLM": "none",
        "RAG_EMBED_PROVIDER": "openai",
        "RAG_EMBED_BASE_URL": server.base_url,
        "RAG_EMBED_MODEL": server.model,
        "RAG_EMBED_API_KEY": "",
        "OPENAI_API_KEY": "",  # the caller's own must not reach the test server
        "OPENAI_BASE_URL": "",
        **extra,
    }


def ingest_cli(docs: Path, env: dict[str, str]) -> tuple[int, dict[str, object], str]:
    done = run_cli(["-m", "ingest", str(docs), "--json"], Path(env["RAG_STORE_DIR"]), **env)
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report, done.stderr


@pytest.fixture(scope="module")
def ingested(
    llama_embed_server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Path, dict[str, object]]]:
    """The corpus ingested once through `python -m ingest` with the openai provider."""
    root = tmp_path_factory.mktemp("openai-embed")
    docs = write_corpus(root / "docs")
    env = openai_env(llama_embed_server, root / "store")
    code, report, stderr = ingest_cli(docs, env)
    assert code == 0, stderr
    yield Settings.from_env(env), docs, report


def test_ingest_records_the_provider_and_the_servers_dimension(
    ingested: tuple[Settings, Path, dict[str, object]],
) -> None:
    settings, _, report = ingested
    assert (report["added"], report["failed"], report["chunks_written"]) == (4, 0, 4)
    store = connect(settings.store)
    contract = read_contract(store)
    assert contract is not None
    assert (contract.provider, contract.embedding_model, contract.dimension) == (
        "openai",
        "smollm2-embed",
        SMOLLM2_DIMS,
    )
    assert (contract.reduction, contract.query_prefix, contract.document_prefix) == ("", "", "")
    assert store.count() == 4
    manifest = manifest_of(settings)
    try:
        assert sorted(Path(r.source).name for r in manifest.records()) == sorted(CORPUS)
    finally:
        manifest.close()


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How long should bread dough rise before it goes in the oven?", BAKING),
        ("Which planet has rings and moons?", ASTRONOMY),
    ],
)
def test_dense_search_through_the_server_finds_the_topic(
    ingested: tuple[Settings, Path, dict[str, object]], question: str, topic: set[str]
) -> None:
    settings, _, _ = ingested
    embedder = load_model(settings.embedding)
    assert isinstance(embedder, OpenAIEmbedder) and embedder.dimension == SMOLLM2_DIMS
    retriever = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    hits = retriever.retrieve(question, k=4, mode="dense")
    assert len(hits) == 4
    # SmolLM2 is a chat model, a weak embedder: the claim is the top hit's topic only
    assert Path(hits[0].source).name in topic, [(Path(h.source).name, h.score) for h in hits]


def test_reingest_adds_nothing(
    ingested: tuple[Settings, Path, dict[str, object]], llama_embed_server: LocalServer
) -> None:
    settings, docs, _ = ingested
    code, report, stderr = ingest_cli(
        docs, openai_env(llama_embed_server, settings.store.store_dir)
    )
    assert code == 0, stderr
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 4)
    assert report["chunks_written"] == 0
    assert connect(settings.store).count() == 4


def test_a_dimension_the_server_ignores_is_refused_and_nothing_is_stored(
    llama_embed_server: LocalServer, tmp_path: Path
) -> None:
    docs = write_corpus(tmp_path / "docs")
    env = openai_env(llama_embed_server, tmp_path / "store", RAG_EMBED_DIM="64")
    code, report, stderr = ingest_cli(docs, env)
    assert code == 2 and report == {}
    assert stderr.strip().splitlines() == [
        f"error: RAG_EMBED_DIM asks for 64 dims but the embedding server at "
        f"{llama_embed_server.base_url} returned 576 for model 'smollm2-embed': it ignores "
        "the `dimensions` parameter. Unset RAG_EMBED_DIM (only OpenAI's text-embedding-3 "
        "models take `dimensions`)."
    ]
    settings = Settings.from_env(env)
    assert connect(settings.store).count() == 0
    manifest = manifest_of(settings)
    try:
        assert list(manifest.records()) == []
    finally:
        manifest.close()
    # the fix the message gives works on the same store
    del env["RAG_EMBED_DIM"]
    code, report, stderr = ingest_cli(docs, env)
    assert code == 0, stderr
    assert report["chunks_written"] == 4
    contract = read_contract(connect(settings.store))
    assert contract is not None and contract.dimension == SMOLLM2_DIMS


def test_a_local_store_refuses_the_openai_provider_and_keeps_its_chunks(
    llama_embed_server: LocalServer, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    docs = write_corpus(tmp_path / "docs")
    local = make_settings(tmp_path / "store")
    assert run_ingest(local, embedder, [docs]).chunks_written == 4
    before = sorted(connect(local.store).ids_for_source(str((docs / "bread.md").absolute())))
    remote = Settings.from_env(openai_env(llama_embed_server, tmp_path / "store"))
    expected = (
        "Collection 'docs' was built with local embeddings (all-MiniLM-L6-v2) but "
        "RAG_EMBED_PROVIDER is openai. Re-ingest with --rebuild, or set RAG_EMBED_PROVIDER "
        "back to local."
    )
    with pytest.raises(IndexMismatchError) as info:
        run_ingest(remote, load_model(remote.embedding), [docs])  # type: ignore[arg-type]
    assert str(info.value) == expected
    with pytest.raises(IndexMismatchError) as info:
        Retriever(
            index=open_index(remote, writing=False, model=load_model(remote.embedding)),
            settings=remote.retrieval,
        )
    assert str(info.value) == expected
    store = connect(local.store)
    assert store.count() == 4
    assert sorted(store.ids_for_source(str((docs / "bread.md").absolute()))) == before
    contract = read_contract(store)
    assert contract is not None and (contract.provider, contract.dimension) == ("local", 384)


def test_an_unreachable_server_names_the_url_and_never_the_key(tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    env = {
        "RAG_STORE_DIR": str(tmp_path / "store"),
        "RAG_LLM": "none",
        "RAG_EMBED_PROVIDER": "openai",
        "RAG_EMBED_BASE_URL": url,
        "RAG_EMBED_MODEL": "nomic-embed-text",
        "RAG_EMBED_API_KEY": KEY,
        "OPENAI_BASE_URL": "",
        "RAG_LLM_RETRIES": "0",
    }
    done = run_cli(["-m", "ingest", str(docs)], tmp_path / "store", **env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: Cannot reach the embedding server at {url} (1 attempt, model "
        "'nomic-embed-text'). Is it running? Start it (e.g. `ollama serve`), or fix "
        "RAG_EMBED_BASE_URL; unset RAG_EMBED_PROVIDER to embed with the bundled local model."
    ]
    assert KEY not in done.stderr + done.stdout
    search = run_cli(["-m", "rag", "search", "bread"], tmp_path / "store", **env)
    assert search.returncode != 0 and "Traceback" not in search.stderr
    assert f"Cannot reach the embedding server at {url}" in search.stderr
    assert KEY not in search.stderr + search.stdout
