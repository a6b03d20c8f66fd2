"""One embedder shared by several threads, used by one at a time.

An OpenVINO infer request and a fast tokenizer fail when two threads use them at once
("Infer Request is busy", "Already borrowed"). The app's browser sessions share one cached
model, and Streamlit starts a rerun (a question sent mid-answer) while the interrupted run
may still be inside the model; the API's request threads share one too.
"""

from __future__ import annotations

import threading

from rag.embedding.types import Embedder, Identity, Prefixes, Vectors


class Serialized:
    """``model`` behind a lock: every call that runs the tokenizer or the network holds it."""

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name: str = model.name
        self.prefixes: Prefixes = model.prefixes
        self._lock = threading.Lock()

    @property
    def identity(self) -> Identity:
        return self.model.identity

    @property
    def dimension(self) -> int:
        return self.model.dimension

    @property
    def max_tokens(self) -> int:
        return self.model.max_tokens

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return self.model.count_tokens(text)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        with self._lock:
            return self.model.token_offsets(text)

    def embed_documents(self, texts: list[str]) -> Vectors:
        with self._lock:
            return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            return self.model.embed_query(text)
