"""Query -> hits. Dense retrieval through the query path of the embedder."""

from __future__ import annotations

import logging

from rag.components import index_contract
from rag.config import Settings
from rag.embeddings import Embedder
from rag.store import Store
from rag.types import Hit

log = logging.getLogger(__name__)

MODES = ("dense",)


class Retriever:
    def __init__(self, *, embedder: Embedder, store: Store, settings: Settings) -> None:
        self.embedder = embedder
        self.store = store
        self.top_k = settings.top_k
        # refuse to search vectors made by another model before embedding anything
        store.open(index_contract(settings, dimension=embedder.dimension), writing=False)

    def retrieve(self, query: str, *, k: int | None = None) -> list[Hit]:
        query = query.strip()
        if not query:
            return []
        vector = self.embedder.embed_query(query)
        return self.store.query(vector, k=k or self.top_k)
