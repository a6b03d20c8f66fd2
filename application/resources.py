"""What is expensive to make and safe to share, made once per process: the embedding model,
the store connections and the LLM.

The app's browser sessions and reruns, the API's requests and the MCP tools all take them
from here (``shared()``), so a process loads the model once however many collections and
sessions use it. Each is keyed by its frozen settings group: the model by
``EmbeddingSettings``, a connection by ``StoreSettings`` (``RAG_CHROMA_URL`` and the
collection included), the LLM by ``AnswerSettings``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from rag.config import AnswerSettings, EmbeddingSettings, StoreSettings
from rag.embedding.serialized import Serialized
from rag.embedding.types import Embedder
from rag.store.chroma import Store
from rag.store.index import connect, load_model

if TYPE_CHECKING:  # the LLM client loads only when an LLM is made
    from rag.answers.llm import LLM

log = logging.getLogger(__name__)

ModelLoader = Callable[[EmbeddingSettings], Embedder]
# wraps a model's first load: the app shows a spinner, the servers show nothing
Loading = Callable[[], AbstractContextManager[object]]


class Resources:
    """The process's models, connections and LLMs; every method is thread-safe."""

    def __init__(self, load: ModelLoader = load_model) -> None:
        self._load = load
        self._readers: dict[EmbeddingSettings, Embedder] = {}
        self._writers: dict[EmbeddingSettings, Embedder] = {}
        self._stores: dict[StoreSettings, Store] = {}
        self._llms: dict[AnswerSettings, LLM | None] = {}
        # one lock per kind: connecting to a store need not wait for a model to load
        self._model_lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._llm_lock = threading.Lock()

    def reader(self, embedding: EmbeddingSettings, *, loading: Loading = nullcontext) -> Embedder:
        """The model questions, searches (and the app's uploads) embed with. A local model is
        shared by threads behind a lock (``Serialized``): a rerun may start while the run it
        interrupted is still inside it, and OpenVINO and fast tokenizers fail when two
        threads use them at once."""
        with self._model_lock:
            if embedding not in self._readers:
                with loading():
                    model = self._load(embedding)
                local = embedding.embed_provider == "local"
                self._readers[embedding] = Serialized(model) if local else model
            return self._readers[embedding]

    def writer(self, embedding: EmbeddingSettings) -> Embedder:
        """A second instance of the model for the API's uploads, so that a long ingestion
        does not queue every question behind it (the writer lock lets one ingestion use it
        at a time, so it needs no lock of its own)."""
        with self._model_lock:
            if embedding not in self._writers:
                self._writers[embedding] = self._load(embedding)
            return self._writers[embedding]

    def store(self, store: StoreSettings) -> Store:
        """One connection per collection (and store location)."""
        with self._store_lock:
            if store not in self._stores:
                self._stores[store] = connect(store)
            return self._stores[store]

    def llm(self, answers: AnswerSettings) -> LLM | None:
        """The configured LLM, None for extractive answers; made once, since with
        ``RAG_LLM=local`` making it starts a server. A failure is not kept: the next call
        tries again (the app shows the error and the user fixes the setting)."""
        from rag.answers.llm import make_llm  # see TYPE_CHECKING above

        with self._llm_lock:
            if answers not in self._llms:
                self._llms[answers] = make_llm(answers)
            return self._llms[answers]


_SHARED: Resources | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> Resources:
    """The process's one ``Resources``: the app's sessions, the servers and the commands."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Resources()
        return _SHARED
