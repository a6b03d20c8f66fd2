"""Chroma wrapper: one collection, batched upsert/delete, query -> list[Hit].

Only this module imports chromadb; everything else sees ``Hit``s. What the vectors mean
(the index contract) is ``rag.store.contract``'s business; this module only keeps its text in the
collection's metadata.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.types import Hit

log = logging.getLogger(__name__)

# Chroma's defaults (ef 100) miss a few true neighbours at k=100 on a 5k-document corpus
# (SciFact recall@100 0.922 instead of the exact 0.925); a wider beam costs ~1 ms a query.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200}


class Store:
    """One Chroma collection under ``path`` (or on a Chroma server at ``url``)."""

    def __init__(self, *, path: Path | None, collection: str, url: str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.name = collection
        self.location = url or str(path)
        settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if url:
                from urllib.parse import urlparse

                parsed = urlparse(url)
                self._client: Any = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or 8000,
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
            else:
                assert path is not None
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as exc:  # chromadb raises many types; all mean "cannot open"
            raise StoreError(
                f"Cannot open the Chroma store at {self.location} ({exc}). "
                "Check RAG_STORE_DIR / RAG_CHROMA_URL and that the location is reachable."
            ) from exc
        self._collection: Any = None

    # -- the collection and its contract ------------------------------------------------

    def _existing(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self._client.get_collection(self.name, embedding_function=None)
            except Exception:  # NotFoundError / ValueError across chroma versions
                return None
        return self._collection

    def exists(self) -> bool:
        return self._existing() is not None

    def metadata(self) -> dict[str, Any]:
        """The collection's own metadata (where ``rag.store.index`` keeps the contract)."""
        col = self._existing()
        return dict(col.metadata or {}) if col is not None else {}

    def create(self, metadata: Mapping[str, str]) -> None:
        """Create the collection (cosine HNSW) with ``metadata``, if it does not exist."""
        self._collection = self._client.get_or_create_collection(
            self.name,
            configuration={"hnsw": HNSW},
            metadata=dict(metadata),
            embedding_function=None,
        )

    def set_metadata(self, key: str, value: str) -> None:
        col = self._existing()
        if col is not None:
            metadata = dict(col.metadata or {})
            metadata[key] = value
            col.modify(metadata=metadata)

    def collections(self) -> dict[str, dict[str, Any]]:
        """Every collection in this database (or on this server): name -> its metadata."""
        try:
            found = self._client.list_collections()
        except Exception as exc:  # chromadb raises many types; all mean "cannot list"
            raise StoreError(
                f"Listing the collections at {self.location} failed ({exc}). Check that "
                "the store is reachable (RAG_STORE_DIR / RAG_CHROMA_URL)."
            ) from exc
        return {str(c.name): dict(c.metadata or {}) for c in found}

    def drop(self) -> None:
        """Delete the whole collection (``--rebuild``)."""
        if self._existing() is not None:
            self._client.delete_collection(self.name)
        self._collection = None

    # -- reads and writes ----------------------------------------------------------------

    def count(self) -> int:
        col = self._existing()
        return int(col.count()) if col is not None else 0

    @property
    def max_batch(self) -> int:
        try:
            return max(int(self._client.get_max_batch_size()), 1)
        except Exception:  # older servers do not report it
            return 1000

    def upsert(
        self,
        *,
        ids: Sequence[str],
        vectors: np.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, str | int | float | bool]],
    ) -> None:
        col = self._require()
        step = self.max_batch
        for i in range(0, len(ids), step):
            col.upsert(
                ids=list(ids[i : i + step]),
                embeddings=vectors[i : i + step],
                documents=list(texts[i : i + step]),
                metadatas=[dict(m) for m in metadatas[i : i + step]],
            )

    def delete(self, ids: Iterable[str]) -> None:
        col = self._existing()
        batch = list(ids)
        if col is None or not batch:
            return
        step = self.max_batch
        for i in range(0, len(batch), step):
            col.delete(ids=batch[i : i + step])

    def ids_for_source(self, source: str) -> set[str]:
        col = self._existing()
        if col is None:
            return set()
        return set(col.get(where={"source": source}, include=[])["ids"])

    def ids_by_source(self, sources: Sequence[str]) -> dict[str, set[str]]:
        """The stored chunk ids of each of ``sources``, in one query per few hundred."""
        col = self._existing()
        found: dict[str, set[str]] = {s: set() for s in sources}
        if col is None:
            return found
        unique = list(found)
        for i in range(0, len(unique), 500):
            part = unique[i : i + 500]
            where = {"source": part[0]} if len(part) == 1 else {"source": {"$in": part}}
            result = col.get(where=where, include=["metadatas"])
            for chunk_id, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
                found.setdefault(str((meta or {}).get("source", "")), set()).add(chunk_id)
        return found

    def query(
        self, vector: np.ndarray, *, k: int, where: Mapping[str, Any] | None = None
    ) -> list[Hit]:
        col = self._existing()
        if col is None or k <= 0:
            return []
        try:
            # no count() first: Chroma returns fewer hits when it holds fewer, and the
            # extra round trip is a fifth of a search at 100k chunks
            result = col.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=k,
                where=dict(where) if where else None,
                include=["documents", "metadatas", "distances"],
            )
        except Exception as exc:
            raise StoreError(f"Search in collection '{self.name}' failed ({exc}).") from exc
        hits = []
        for chunk_id, text, meta, dist in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        ):
            cosine = 1.0 - float(dist)
            hits.append(hit_from(chunk_id, text, meta, score=cosine, similarity=cosine))
        return hits

    def documents(self, *, batch: int = 5000) -> Iterator[tuple[list[str], list[str], list[str]]]:
        """Every (ids, texts, header paths) of the collection, a page at a time (for the
        BM25 index)."""
        col = self._existing()
        for offset in range(0, self.count() if col is not None else 0, batch):
            page = col.get(include=["documents", "metadatas"], limit=batch, offset=offset)
            yield (
                list(page["ids"]),
                [t or "" for t in page["documents"]],
                [str((m or {}).get("header_path", "")) for m in page["metadatas"]],
            )

    def vectors(self, *, batch: int = 2000) -> Iterator[tuple[list[Hit], np.ndarray]]:
        """Every chunk with its stored vector, a page at a time (topics, duplicates)."""
        col = self._existing()
        total = self.count() if col is not None else 0
        for offset in range(0, total, batch):
            page = col.get(
                include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset
            )
            hits = [
                hit_from(i, text, meta, score=0.0)
                for i, text, meta in zip(
                    page["ids"], page["documents"], page["metadatas"], strict=True
                )
            ]
            yield hits, np.asarray(page["embeddings"], dtype=np.float32)

    def ids(self, *, batch: int = 10000) -> Iterator[str]:
        """Every chunk id of the collection, a page at a time."""
        col = self._existing()
        for offset in range(0, self.count() if col is not None else 0, batch):
            yield from col.get(include=[], limit=batch, offset=offset)["ids"]

    def ids_with_label(self, label: str) -> set[str]:
        col = self._existing()
        if col is None:
            return set()
        return set(col.get(where={"label": label}, include=[])["ids"])

    def labels(self) -> list[str]:
        """The distinct ``label`` values written by ``rag classify``, sorted."""
        col = self._existing()
        if col is None:
            return []
        metas = col.get(where={"label": {"$ne": ""}}, include=["metadatas"])["metadatas"] or []
        return sorted({str(m["label"]) for m in metas if m and m.get("label")})

    def set_labels(self, labels: Mapping[str, str]) -> None:
        """Write a ``label`` into the metadata of each chunk id in ``labels``."""
        col = self._require()
        ids = list(labels)
        step = self.max_batch
        for i in range(0, len(ids), step):
            part = ids[i : i + step]
            current = col.get(ids=part, include=["metadatas"])
            col.update(
                ids=list(current["ids"]),
                metadatas=[
                    {**(meta or {}), "label": labels[chunk_id]}
                    for chunk_id, meta in zip(current["ids"], current["metadatas"], strict=True)
                ],
            )

    def all_vectors(self) -> tuple[list[Hit], np.ndarray]:
        """Every chunk and its vector in one array (n x dimension; 0 x 0 when empty)."""
        hits: list[Hit] = []
        parts: list[np.ndarray] = []
        for page_hits, page_vectors in self.vectors():
            hits.extend(page_hits)
            parts.append(page_vectors)
        if not parts:
            return [], np.zeros((0, 0), dtype=np.float32)
        return hits, np.concatenate(parts)

    def nearest(self, vectors: np.ndarray, *, k: int) -> list[list[Hit]]:
        """The ``k`` stored neighbours of each row of ``vectors`` (one query call)."""
        col = self._existing()
        if col is None or k <= 0 or len(vectors) == 0 or not self.count():
            return [[] for _ in range(len(vectors))]
        try:
            result = col.query(
                query_embeddings=np.asarray(vectors, dtype=np.float32),
                n_results=k,
                include=["metadatas", "distances"],
            )
        except Exception as exc:
            raise StoreError(f"Search in collection '{self.name}' failed ({exc}).") from exc
        return [
            [
                hit_from(i, None, meta, score=1.0 - float(d), similarity=1.0 - float(d))
                for i, meta, d in zip(ids, metas, dists, strict=True)
            ]
            for ids, metas, dists in zip(
                result["ids"], result["metadatas"], result["distances"], strict=True
            )
        ]

    def get(self, ids: Sequence[str], *, vectors: bool = True) -> tuple[list[Hit], np.ndarray]:
        """Hits (score 0) and their stored vectors, in the order of ``ids``; unknown ids drop.

        While another process writes to the same embedded store, vectors it has just added
        cannot be read here yet (Chroma raises); the hits then come without vectors (an
        empty array) and the caller recomputes what it needs.
        """
        col = self._existing()
        empty = np.zeros((0, 0), dtype=np.float32)
        if col is None or not ids:
            return [], empty
        include = (
            ["documents", "metadatas", "embeddings"] if vectors else ["documents", "metadatas"]
        )
        try:
            got = col.get(ids=list(ids), include=include)
        except Exception as exc:  # chromadb.errors.InternalError: "Error finding id"
            if not vectors:
                raise StoreError(f"Reading collection '{self.name}' failed ({exc}).") from exc
            log.info("vectors not readable during a concurrent write (%s); reading texts", exc)
            return self.get(ids, vectors=False)
        embeddings = got["embeddings"] if vectors else [None] * len(got["ids"])
        rows = {
            i: (text, meta, vec)
            for i, text, meta, vec in zip(
                got["ids"], got["documents"], got["metadatas"], embeddings, strict=True
            )
        }
        found = [i for i in ids if i in rows]
        hits = [hit_from(i, rows[i][0], rows[i][1], score=0.0) for i in found]
        if not vectors:
            return hits, empty
        return hits, np.asarray([rows[i][2] for i in found], dtype=np.float32)

    def around(
        self, source: str, page: int, *, start: int, end: int, limit: int = 200
    ) -> list[Hit]:
        """The chunks of ``source``'s page ``page`` that start at offsets ``start`` to
        ``end`` (a passage's neighbours, to show it in its surrounding text), by offset."""
        col = self._existing()
        if col is None:
            return []
        where = {
            "$and": [
                {"source": source},
                {"page": page},
                {"start_index": {"$gte": start}},
                {"start_index": {"$lte": end}},
            ]
        }
        try:
            got = col.get(where=where, include=["documents", "metadatas"], limit=limit)
        except Exception as exc:  # chromadb raises many types; all mean "cannot read"
            raise StoreError(f"Reading collection '{self.name}' failed ({exc}).") from exc
        hits = [
            hit_from(i, text, meta, score=0.0)
            for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(hits, key=lambda h: h.start_index)

    def sources(self) -> list[str]:
        col = self._existing()
        if col is None:
            return []
        metas = col.get(include=["metadatas"])["metadatas"] or []
        return sorted({str(m.get("source", "")) for m in metas})

    def companion(self, suffix: str) -> Records:
        """A collection of keyed records beside this one (``NAME.suffix``): where a Chroma
        server keeps what every host must share about this collection (``rag.store.shared``)."""
        return Records(self._client, f"{self.name}.{suffix}", location=self.location)

    def _require(self) -> Any:
        col = self._existing()
        if col is None:
            raise StoreError(f"Collection '{self.name}' is not open for writing.")
        return col


def hit_from(
    chunk_id: str,
    text: str | None,
    meta: Mapping[str, Any] | None,
    *,
    score: float,
    similarity: float | None = None,
) -> Hit:
    meta = meta or {}
    return Hit(
        chunk_id=chunk_id,
        text=text or "",
        source=str(meta.get("source", "")),
        page=int(meta.get("page", 0)),
        score=score,
        start_index=int(meta.get("start_index", 0)),
        header_path=str(meta.get("header_path", "")),
        similarity=similarity,
        locator=str(meta.get("locator", "")),
        ocr=bool(meta.get("ocr", False)),
    )


# A record has no meaning as a vector, but a Chroma collection stores one per entry: every
# record carries this same one-dimensional placeholder.
_PLACEHOLDER = [1.0]
Scalar = str | int | float | bool


class Records:
    """A companion collection of small keyed records: an id, flat metadata and a text each.

    Chroma has no transactions and no compare-and-swap: each call below is one atomic
    write or read of the records it names, and nothing more; ``rag.store.lease`` builds its
    mutual exclusion on top of that (write, wait, read back).
    """

    def __init__(self, client: Any, name: str, *, location: str) -> None:
        self._client = client
        self.name = name
        self.location = location
        self._collection: Any = None

    def _col(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self._client.get_or_create_collection(
                    self.name, metadata={"rag_records": 1}, embedding_function=None
                )
            except Exception as exc:  # chromadb raises many types; all mean "cannot open"
                raise StoreError(
                    f"Cannot open the records collection '{self.name}' at {self.location} "
                    f"({exc}). Check that the Chroma server at RAG_CHROMA_URL is reachable."
                ) from exc
        return self._collection

    def get(self, ids: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
        """The records of ``ids`` that exist: id -> (metadata, text)."""
        if not ids:
            return {}
        got = self._call("read", lambda col: col.get(ids=list(ids), include=_INCLUDE))
        return _rows(got)

    def where(
        self, where: Mapping[str, Any], *, texts: bool = True, batch: int = 5000
    ) -> dict[str, tuple[dict[str, Any], str]]:
        """Every record whose metadata matches ``where``, read a page at a time."""
        include = _INCLUDE if texts else ["metadatas"]
        found: dict[str, tuple[dict[str, Any], str]] = {}
        offset = 0
        while True:
            page = self._call(
                "read",
                lambda col, o=offset: col.get(
                    where=dict(where), include=include, limit=batch, offset=o
                ),
            )
            found.update(_rows(page))
            if len(page["ids"]) < batch:
                return found
            offset += batch

    def put(self, records: Mapping[str, tuple[Mapping[str, Scalar], str]]) -> None:
        """Write (insert or replace) ``records``: id -> (metadata, text)."""
        ids = list(records)
        step = 1000
        for i in range(0, len(ids), step):
            part = ids[i : i + step]
            self._call(
                "write",
                lambda col, part=part: col.upsert(
                    ids=part,
                    embeddings=[_PLACEHOLDER] * len(part),
                    metadatas=[dict(records[r][0]) for r in part],
                    documents=[records[r][1] for r in part],
                ),
            )

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 1000):
            part = list(ids[i : i + 1000])
            self._call("write", lambda col, part=part: col.delete(ids=part))

    def delete_where(self, where: Mapping[str, Any]) -> None:
        self._call("write", lambda col: col.delete(where=dict(where)))

    def metadata(self) -> dict[str, Any]:
        return dict(self._col().metadata or {})

    def set_metadata(self, key: str, value: str | int) -> None:
        col = self._col()
        metadata = dict(col.metadata or {})
        metadata[key] = value
        self._call("write", lambda c: c.modify(metadata=metadata))

    def drop(self) -> None:
        """Delete the whole companion collection (tests and housekeeping)."""
        try:
            self._client.delete_collection(self.name)
        except Exception:  # already gone
            log.debug("records collection %s was not there to drop", self.name)
        self._collection = None

    def _call(self, what: str, do: Any) -> Any:
        try:
            return do(self._col())
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; all mean this call failed
            raise StoreError(
                f"Could not {what} the records collection '{self.name}' at {self.location} "
                f"({exc}). Check that the Chroma server at RAG_CHROMA_URL is reachable, then "
                "run again."
            ) from exc


_INCLUDE = ["metadatas", "documents"]


def _rows(got: Mapping[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    metas = got.get("metadatas") or [None] * len(got["ids"])
    texts = got.get("documents") or [None] * len(got["ids"])
    return {
        str(i): (dict(m or {}), str(t or ""))
        for i, m, t in zip(got["ids"], metas, texts, strict=True)
    }
