"""Dimension reduction for local models: a PCA fitted on the collection's own chunks.

With ``RAG_EMBED_DIM`` set and a local model, every vector (documents and queries alike)
goes through the same projection: centre on the corpus mean, project on the top principal
axes, normalise again, so cosine similarity keeps its meaning. The projection is fitted once,
on the first ingestion of a collection (all of its chunks, up to ``FIT_SAMPLES``), saved
beside the store and named in the index contract by its hash, so queries can never be
projected differently from the stored vectors. ``--rebuild`` fits it again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rag.embedding.types import Embedder, Identity, Prefixes
from rag.errors import ConfigError, IndexMismatchError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

FIT_SAMPLES = 20_000  # chunks the PCA is fitted on at most (a random sample beyond that)
MIN_SAMPLES_PER_DIM = 2  # fewer chunks than 2 x dims gives a noisy, degenerate fit


@dataclass(frozen=True)
class Projection:
    """``(x - mean) @ components.T``, then unit length."""

    mean: Vectors  # (source_dim,)
    components: Vectors  # (dim, source_dim), rows orthonormal
    variance_kept: float  # share of the corpus variance the components explain
    samples: int  # chunks it was fitted on

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    @property
    def source_dim(self) -> int:
        return int(self.components.shape[1])

    @property
    def id(self) -> str:
        """A short hash of the numbers: what the index contract records."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.mean, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.components, dtype=np.float32).tobytes())
        return h.hexdigest()[:16]

    def apply(self, vectors: Vectors) -> Vectors:
        if vectors.ndim == 1:
            one: Vectors = self.apply(vectors[None, :])[0]
            return one
        if len(vectors) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        projected = (vectors.astype(np.float32) - self.mean) @ self.components.T
        norms = np.linalg.norm(projected, axis=1, keepdims=True)
        # a vector exactly at the corpus mean has no direction left; keep it at zero
        out: Vectors = (projected / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return out

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pca-", suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as f:
                np.savez(
                    f,
                    mean=self.mean,
                    components=self.components,
                    variance_kept=np.float64(self.variance_kept),
                    samples=np.int64(self.samples),
                )
            Path(tmp).replace(path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> Projection:
        try:
            with np.load(path) as data:
                return cls(
                    mean=np.asarray(data["mean"], dtype=np.float32),
                    components=np.asarray(data["components"], dtype=np.float32),
                    variance_kept=float(data["variance_kept"]),
                    samples=int(data["samples"]),
                )
        except (OSError, ValueError, KeyError) as exc:
            raise IndexMismatchError(
                f"The PCA projection {path} cannot be read ({exc.__class__.__name__}). "
                "Re-ingest with --rebuild to fit it again."
            ) from exc


def fit_pca(vectors: Vectors, dim: int, *, max_samples: int = FIT_SAMPLES) -> Projection:
    """The top-``dim`` principal axes of ``vectors`` (deterministic: seeded sample, fixed signs)."""
    n, source_dim = vectors.shape
    if dim >= source_dim:
        raise ConfigError(
            f"RAG_EMBED_DIM={dim} is not below the model's {source_dim} dimensions: a PCA "
            "can only reduce. Unset RAG_EMBED_DIM, or choose fewer dimensions."
        )
    needed = MIN_SAMPLES_PER_DIM * dim
    if n < needed:
        raise ConfigError(
            f"RAG_EMBED_DIM={dim} needs a PCA fitted on at least {needed} chunks, but this "
            f"ingestion has {n}. Ingest more documents in the first run, choose at most "
            f"{max(2, n // MIN_SAMPLES_PER_DIM)} dimensions, or unset RAG_EMBED_DIM."
        )
    sample = vectors.astype(np.float64)
    if n > max_samples:
        rows = np.random.default_rng(0).choice(n, size=max_samples, replace=False)
        sample = sample[np.sort(rows)]
    mean = sample.mean(axis=0)
    _, singular, axes = np.linalg.svd(sample - mean, full_matrices=False)
    components = axes[:dim]
    # an axis and its negation are the same axis: pick the sign that makes runs comparable
    flip = np.sign(components[np.arange(dim), np.abs(components).argmax(axis=1)])
    components = components * flip[:, None]
    energy = singular**2
    kept = float(energy[:dim].sum() / energy.sum()) if energy.sum() > 0 else 1.0
    return Projection(
        mean=mean.astype(np.float32),
        components=components.astype(np.float32),
        variance_kept=kept,
        samples=len(sample),
    )


def needs_fit(embedder: Embedder) -> bool:
    """Whether ``embedder``'s next documents fit its PCA (so they should be the corpus)."""
    return isinstance(embedder, ReducedEmbedder) and not embedder.fitted


class ReducedEmbedder:
    """A local embedder whose vectors pass through the collection's PCA.

    Until a projection exists, the first ``embed_documents`` call fits it on the vectors
    it embeds (the ingest pipeline hands it the whole first run at once) and saves it.
    """

    def __init__(self, base: Embedder, *, dim: int, path: Path) -> None:
        if dim >= base.dimension:
            raise ConfigError(
                f"RAG_EMBED_DIM={dim} is not below {base.name}'s {base.dimension} "
                "dimensions: a PCA can only reduce. Unset RAG_EMBED_DIM, or choose fewer."
            )
        self.base = base
        self.name: str = base.name
        self.prefixes: Prefixes = base.prefixes
        self.path = path
        self._dim = dim
        self.projection: Projection | None = None
        self._stamp: tuple[int, int] | None = None
        self._load()

    def _load(self) -> None:
        """Follow the file: another process (the CLI) may have fitted, refitted or removed
        it (``--rebuild``) since this one last looked."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self.projection, self._stamp = None, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self.projection is not None and stamp == self._stamp:
            return
        projection = Projection.load(self.path)
        if (projection.dim, projection.source_dim) != (self._dim, self.base.dimension):
            raise IndexMismatchError(
                f"The PCA projection {self.path} maps {projection.source_dim} to "
                f"{projection.dim} dims, but {self.name} with RAG_EMBED_DIM={self._dim} "
                f"needs {self.base.dimension} to {self._dim}. Re-ingest with --rebuild, or "
                f"set RAG_EMBED_DIM={projection.dim}."
            )
        self.projection, self._stamp = projection, stamp

    @property
    def fitted(self) -> bool:
        self._load()
        return self.projection is not None

    @property
    def projection_id(self) -> str:
        return self.projection.id if self.fitted and self.projection else ""

    @property
    def identity(self) -> Identity:
        return replace(
            self.base.identity,
            dimension=self._dim,
            reduction="pca",
            projection=self.projection_id,
        )

    @property
    def dimension(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self.base.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.base.count_tokens(text)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.base.token_offsets(text)

    def embed_documents(self, texts: list[str]) -> Vectors:
        full = self.base.embed_documents(texts)
        if not self.fitted:
            if not texts:
                return np.zeros((0, self._dim), dtype=np.float32)
            self.fit(full)
        assert self.projection is not None
        return self.projection.apply(full)

    def embed_query(self, text: str) -> Vectors:
        if not self.fitted:
            raise IndexMismatchError(
                f"RAG_EMBED_DIM={self._dim} but no PCA projection has been fitted for this "
                f"collection yet (expected at {self.path}). Ingest documents first, or "
                "re-ingest with --rebuild if the file was deleted."
            )
        assert self.projection is not None
        return self.projection.apply(self.base.embed_query(text))

    def fit(self, vectors: Vectors) -> Projection:
        projection = fit_pca(vectors, self._dim)
        projection.save(self.path)
        self.projection = None
        self._load()
        log.info(
            "fitted PCA %d -> %d dims on %d chunks (%.1f%% of the variance kept)",
            projection.source_dim,
            projection.dim,
            projection.samples,
            100 * projection.variance_kept,
        )
        return projection
