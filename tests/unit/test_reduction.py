"""The PCA behind RAG_EMBED_DIM, on vectors with a known shape, and its index contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embedding.reduction import Projection, fit_pca
from rag.errors import ConfigError, IndexMismatchError
from rag.store.contract import Contract, check_contract


def planar(n: int = 200, dim: int = 10, seed: int = 1) -> np.ndarray:
    """Points on a tilted plane (two axes of variance) plus a little noise, shifted off 0."""
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.normal(size=(dim, dim)))[0][:, :2].T  # 2 orthonormal rows
    coords = rng.normal(size=(n, 2)) * np.array([5.0, 2.0])
    points = coords @ axes + 3.0 + rng.normal(scale=0.01, size=(n, dim))
    return points.astype(np.float32)


def test_two_axes_keep_nearly_all_the_variance_and_the_plane() -> None:
    vectors = planar()
    projection = fit_pca(vectors, 2)
    assert (projection.dim, projection.source_dim, projection.samples) == (2, 10, 200)
    assert projection.variance_kept > 0.999
    one = fit_pca(vectors, 1)
    # the first axis carries 25 / (25 + 4) of the variance of the plane
    assert one.variance_kept == pytest.approx(25 / 29, abs=0.05)
    np.testing.assert_allclose(projection.mean, vectors.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(
        projection.components @ projection.components.T, np.eye(2), atol=1e-5
    )
    # cosine between centred points survives a projection that keeps their plane
    reduced = projection.apply(vectors[:5])
    centred = vectors[:5] - vectors.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    np.testing.assert_allclose(reduced @ reduced.T, centred @ centred.T, atol=1e-2)
    np.testing.assert_allclose(np.linalg.norm(reduced, axis=1), 1.0, atol=1e-6)
    assert projection.apply(vectors[0]).shape == (2,)
    assert projection.apply(np.zeros((0, 10), dtype=np.float32)).shape == (0, 2)


def test_fit_is_deterministic_and_survives_a_round_trip(tmp_path: Path) -> None:
    vectors = planar()
    a, b = fit_pca(vectors, 3), fit_pca(vectors.copy(), 3)
    assert a.id == b.id and len(a.id) == 16
    assert fit_pca(planar(seed=2), 3).id != a.id
    path = tmp_path / "p" / "docs.npz"
    a.save(path)
    loaded = Projection.load(path)
    assert loaded.id == a.id
    assert (loaded.variance_kept, loaded.samples) == (pytest.approx(a.variance_kept), 200)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_sampling_caps_the_fit() -> None:
    projection = fit_pca(planar(n=300), 2, max_samples=100)
    assert projection.samples == 100 and projection.variance_kept > 0.999


def test_bad_sizes_and_files_say_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not below the model's 10 dimensions.*Unset"):
        fit_pca(planar(), 10)
    with pytest.raises(ConfigError, match=r"at least 16 chunks, but this ingestion has 10"):
        fit_pca(planar(n=10), 8)
    broken = tmp_path / "docs.npz"
    broken.write_bytes(b"not a numpy file")
    with pytest.raises(IndexMismatchError, match=r"cannot be read.*--rebuild"):
        Projection.load(broken)


def contract(**changes: object) -> Contract:
    base: dict[str, object] = {
        "embedding_model": "all-MiniLM-L6-v2",
        "query_prefix": "",
        "document_prefix": "",
        "chunk_size": 200,
        "chunk_overlap": 30,
        "dimension": 384,
    }
    base.update(changes)
    return Contract(**base)  # type: ignore[arg-type]


def test_contract_refuses_mixed_reductions_and_projections() -> None:
    reduced = contract(dimension=128, reduction="pca", projection="aaaa")
    with pytest.raises(IndexMismatchError, match=r"PCA-reduced to 128 dims.*RAG_EMBED_DIM=128"):
        check_contract(reduced, contract(), collection="docs", writing=False)
    with pytest.raises(IndexMismatchError, match=r"full 384 dims.*RAG_EMBED_DIM unset"):
        check_contract(contract(), reduced, collection="docs", writing=False)
    refit = contract(dimension=128, reduction="pca", projection="bbbb")
    with pytest.raises(IndexMismatchError, match=r"PCA aaaa.*holds bbbb.*--rebuild"):
        check_contract(reduced, refit, collection="docs", writing=False)
    # not fitted yet on this side ("" projection): nothing to compare
    check_contract(reduced, contract(dimension=128, reduction="pca"), collection="d", writing=True)
    with pytest.raises(
        IndexMismatchError, match=r"built with local embeddings.*PROVIDER is openai"
    ):
        check_contract(contract(), contract(provider="openai"), collection="docs", writing=False)


def test_old_contracts_read_as_local_and_unreduced() -> None:
    old = '{"embedding_model": "m", "query_prefix": "", "document_prefix": "", '
    old += '"chunk_size": 200, "chunk_overlap": 30, "dimension": 384, "schema_version": 2}'
    parsed = Contract.from_json(old)
    assert (parsed.provider, parsed.reduction, parsed.projection) == ("local", "", "")
