"""RAG_EMBED_DIM with the bundled model: a PCA fitted on the first ingestion of the
two-subject corpus, used for every later write and query, named in the index contract;
and the eval harness's quality/storage table on a toy BEIR folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder, expected_identity
from rag.embedding.reduction import Projection, ReducedEmbedder, fit_pca
from rag.errors import IndexMismatchError
from rag.retrieval.retriever import Retriever
from rag.store.contract import Contract
from rag.store.index import connect, open_index, read_contract
from tests.conftest import run_cli, run_ingest
from tests.integration.test_beyond import BREAD, STARS, cli, small_chunks, write_corpus
from tests.integration.test_eval import toy_beir

pytestmark = pytest.mark.integration

DIM = 4  # the corpus has 10 chunks; a PCA needs at least 2 per dimension


def reduced(settings: Settings, embedder: SentenceTransformerEmbedder) -> ReducedEmbedder:
    return ReducedEmbedder(embedder, dim=DIM, path=settings.store.projection_path)


@pytest.fixture
def store(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Settings:
    settings = small_chunks(tmp_path / "store").replace(embed_dim=DIM)
    paths = write_corpus(tmp_path / "docs", BREAD | {"stars-life.txt"})
    report = run_ingest(settings, embedder, paths)  # the index puts the PCA in front
    assert report.errors == [] and report.chunks_written == 8
    return settings


def test_first_ingest_fits_the_pca_and_everything_uses_it(
    store: Settings, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    projection = Projection.load(store.store.projection_path)
    assert (projection.dim, projection.source_dim, projection.samples) == (DIM, 384, 8)
    chunks = connect(store.store)
    contract = read_contract(chunks)
    assert contract is not None
    assert (contract.dimension, contract.reduction, contract.projection) == (
        DIM,
        "pca",
        projection.id,
    )
    hits, vectors = chunks.all_vectors()
    assert vectors.shape == (8, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the stored vectors are the full ones projected, not re-fitted per batch
    full = embedder.embed_documents([h.text for h in hits])
    np.testing.assert_allclose(vectors, projection.apply(full), atol=1e-5)

    # a later ingestion (one more file) keeps the projection: same id, same file
    more = write_corpus(tmp_path / "docs", {"stars-observing.txt"})
    report = run_ingest(store, embedder, more)
    assert report.chunks_written == 2
    assert Projection.load(store.store.projection_path).id == projection.id
    assert connect(store.store).count() == 10

    # queries go through the same projection: each subject finds its own files
    retriever = Retriever(
        index=open_index(store, writing=False, model=embedder), settings=store.retrieval
    )
    assert isinstance(retriever.embedder, ReducedEmbedder)
    for question, files in (
        ("how long should I knead the dough", BREAD),
        ("how do stars form from hydrogen gas", STARS),
    ):
        top = retriever.retrieve(question, k=2, mode="dense")
        assert {Path(h.source).name for h in top} <= files, question


def test_mismatches_are_refused_with_the_fix(
    store: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    # RAG_EMBED_DIM unset against a reduced collection
    with pytest.raises(
        IndexMismatchError, match=rf"PCA-reduced to {DIM} dims.*RAG_EMBED_DIM={DIM}"
    ):
        open_index(store.replace(embed_dim=None), writing=False, model=embedder)
    # another size: the stored projection file maps to 4, not 6
    with pytest.raises(IndexMismatchError, match=r"maps 384 to 4 dims.*RAG_EMBED_DIM=4"):
        ReducedEmbedder(embedder, dim=6, path=store.store.projection_path)
    # the projection file lost: queries say how to recover, nothing is written
    saved = store.store.projection_path.read_bytes()
    store.store.projection_path.unlink()
    retriever = Retriever(
        index=open_index(store, writing=False, model=embedder), settings=store.retrieval
    )
    with pytest.raises(IndexMismatchError, match=r"no PCA projection has been fitted.*--rebuild"):
        retriever.retrieve("knead", mode="dense")
    assert connect(store.store).count() == 8
    # another projection under the same name (a copy from elsewhere): the contract's
    # hash catches it before any query is embedded
    rng = np.random.default_rng(3)
    fit_pca(rng.normal(size=(20, 384)).astype(np.float32), DIM).save(store.store.projection_path)
    retriever = Retriever(
        index=open_index(store, writing=False, model=embedder), settings=store.retrieval
    )
    with pytest.raises(IndexMismatchError, match=r"reduced with PCA \w+ but the projection"):
        retriever.retrieve("knead", mode="dense")
    store.store.projection_path.write_bytes(saved)
    contract = read_contract(connect(store.store))
    assert contract is not None and reduced(store, embedder).projection_id == contract.projection


def test_cli_end_to_end_rebuild_refits_and_too_few_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = small_chunks(tmp_path / "store")
    docs = tmp_path / "docs"
    write_corpus(docs)
    env = {"RAG_EMBED_DIM": "200", "RAG_CHUNK_SIZE": "40", "RAG_CHUNK_OVERLAP": "0"}
    # 10 chunks cannot carry a 200-dim PCA: one line with the fix, nothing stored
    done = run_cli(["-m", "ingest", str(docs)], settings.store.store_dir, **env)
    assert done.returncode != 0
    assert "needs a PCA fitted on at least 400 chunks" in done.stderr
    assert "Traceback" not in done.stderr
    assert connect(settings.store).count() == 0
    assert not settings.store.projection_path.exists()

    env["RAG_EMBED_DIM"] = str(DIM)
    done = run_cli(["-m", "ingest", str(docs)], settings.store.store_dir, **env)
    assert done.returncode == 0, done.stderr
    first = Projection.load(settings.store.projection_path).id
    done = run_cli(["-m", "ingest", str(docs), "--rebuild"], settings.store.store_dir, **env)
    assert done.returncode == 0, done.stderr
    assert Projection.load(settings.store.projection_path).id == first  # same corpus, same PCA
    # search in-process through the CLI with the env: the reduced collection answers
    monkeypatch.setenv("RAG_EMBED_DIM", str(DIM))
    assert (
        cli(["search", "supernova explosions", "--mode", "dense", "--json"], settings, monkeypatch)
        == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert Path(hits[0]["source"]).name in STARS
    monkeypatch.delenv("RAG_EMBED_DIM")
    done = run_cli(
        ["-m", "rag", "search", "supernova"],
        settings.store.store_dir,
        **{"RAG_CHUNK_SIZE": "40", "RAG_CHUNK_OVERLAP": "0"},
    )
    assert done.returncode != 0 and f"RAG_EMBED_DIM={DIM}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_index_wraps_local_models_only_when_asked(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = Settings.default(tmp_path, device="cpu", embed_dim=DIM)
    wrapped = open_index(settings, writing=False, model=embedder).embedder
    assert isinstance(wrapped, ReducedEmbedder) and wrapped.dimension == DIM
    assert not wrapped.fitted and wrapped.projection_id == ""
    contract = Contract.of(expected_identity(settings.embedding), settings.ingest)
    assert (contract.dimension, contract.reduction) == (DIM, "pca")
    plain = open_index(settings.replace(embed_dim=None), writing=False, model=embedder)
    assert plain.embedder is embedder


def test_eval_prints_the_dimension_tradeoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main

    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    folder = toy_beir(tmp_path)
    assert main(["eval", "--beir", str(folder), "--dims", "2,384", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    rows = got["dimensions"]
    assert [r["dims"] for r in rows] == [384, 2]  # largest first: the baseline
    assert [r["bytes_per_vector"] for r in rows] == [1536, 8]
    assert all(r["disk_bytes_per_chunk"] > 0 for r in rows)
    kept = [r["variance_kept"] for r in rows]
    assert kept[0] == 1.0 and 1.0 > kept[1] > 0.3
    assert main(["eval", "--beir", str(folder), "--mode", "dense", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert rows[0]["dense"]["ndcg@10"] == plain["ndcg@10"]  # the baseline is the product's
    for row in rows:
        assert 0.0 <= row["dense"]["ndcg@10"] <= 1.0
    # the text table: one line per size, with the ratio to the full size
    assert main(["eval", "--beir", str(folder), "--dims", "384,2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:5] == ["dims", "bytes/vector", "disk/chunk", "variance", "nDCG@10"]
    first, second = out[2].split(), out[3].split()
    assert first[:2] == ["384", "1536"] and first[3] == "100.0%" and "(100.0%)" in out[2]
    assert second[:2] == ["2", "8"] and int(second[2]) > 0
