"""The optional reranker (``+rerank``): a local sentence-transformers CrossEncoder."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.embedding.models import resolve_device
from rag.errors import ConfigError, ModelError


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a local sentence-transformers CrossEncoder."""

    def __init__(self, location: str, *, device: str = "auto", batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if not Path(location).expanduser().is_dir():
            raise ConfigError(
                f"RAG_RERANK_MODEL is {location!r}, which is not a directory. Set it to a "
                "local sentence-transformers CrossEncoder folder (nothing is downloaded), "
                "or unset it and drop '+rerank' from the retrieval mode."
            )
        self.name = location
        self.batch_size = batch_size
        self._lock = threading.Lock()
        try:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(
                str(Path(location).expanduser()),
                device=resolve_device(device),
                local_files_only=True,
            )
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"Could not load the reranker {location!r} ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). RAG_RERANK_MODEL must be "
                "a sentence-transformers CrossEncoder directory."
            ) from exc

    def score(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        with self._lock:  # one instance per process (load_reranker), maybe many threads
            scores = self._model.predict(
                [(query, p) for p in passages],
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [float(s) for s in np.asarray(scores, dtype=np.float64).reshape(-1)]


@lru_cache(maxsize=2)
def load_reranker(location: str, device: str = "auto") -> CrossEncoderReranker:
    """One reranker per (path, device) per process."""
    return CrossEncoderReranker(location, device=device)
