"""Topic map: k-means over the chunk embeddings, clusters named by their distinctive terms,
and a 2-D PCA picture coloured by cluster.

k is chosen by silhouette over a small range unless the caller fixes it. Each cluster's
terms are ranked by class-based TF-IDF (the cluster's text as one document against the
other clusters'), so a term common to the whole corpus does not name any one cluster.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np

from rag.errors import TopicError
from rag.types import Hit

log = logging.getLogger(__name__)

K_MAX = 12
SILHOUETTE_SAMPLE = 2000  # silhouette is O(n^2); score a sample of this many chunks
_TOKEN = r"(?u)\b[^\W\d_][^\W\d_]{2,}\b"  # words of 3+ letters, no digits


@dataclass(frozen=True)
class Cluster:
    label: str
    size: int
    top_terms: list[str]
    sources: list[str]  # most chunks first

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "size": self.size,
            "top_terms": self.top_terms,
            "sources": self.sources,
        }


@dataclass(frozen=True)
class TopicMap:
    clusters: list[Cluster]
    assignments: np.ndarray  # cluster index of each chunk
    coords: np.ndarray  # (n, 2) PCA coordinates
    silhouette: float | None  # of the chosen k (None when k was given and n is tiny)


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def kmeans(vectors: np.ndarray, *, k: int, seed: int = 0) -> np.ndarray:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=4, random_state=seed)
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def silhouette(vectors: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> float:
    from sklearn.metrics import silhouette_score

    sample = min(len(vectors), SILHOUETTE_SAMPLE)
    return float(
        silhouette_score(vectors, labels, metric="cosine", sample_size=sample, random_state=seed)
    )


def choose_k(vectors: np.ndarray, *, k_max: int = K_MAX, seed: int = 0) -> tuple[int, float]:
    """The k in 2..min(k_max, n-1) with the best silhouette, and that silhouette."""
    best: tuple[int, float] | None = None
    for k in range(2, min(k_max, len(vectors) - 1) + 1):
        labels = kmeans(vectors, k=k, seed=seed)
        if len(set(labels.tolist())) < 2:
            continue
        score = silhouette(vectors, labels, seed=seed)
        log.info("k=%d silhouette=%.4f", k, score)
        if best is None or score > best[1]:
            best = (k, score)
    if best is None:
        raise TopicError(
            f"Cannot choose a number of topics for {len(vectors)} chunks (they may all be "
            "identical). Ingest more documents, or pass --k."
        )
    return best


def distinctive_terms(texts: list[str], labels: np.ndarray, *, k: int, n: int) -> list[list[str]]:
    """Each cluster's ``n`` terms with the highest class-based TF-IDF."""
    from sklearn.feature_extraction.text import CountVectorizer

    docs = [" ".join(t for t, c in zip(texts, labels, strict=True) if c == i) for i in range(k)]
    vectorizer = CountVectorizer(stop_words="english", token_pattern=_TOKEN, lowercase=True)
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # no word in any chunk (e.g. only numbers)
        return [[] for _ in range(k)]
    vocab = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    average_words = counts.sum() / k
    idf = np.log(1.0 + average_words / np.maximum(counts.sum(axis=0), 1.0))
    weights = tf * idf
    terms = []
    for row, present in zip(weights, counts > 0, strict=True):
        order = [j for j in np.argsort(-row, kind="stable") if present[j]][:n]
        terms.append([str(vocab[j]) for j in order])
    return terms


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    if len(vectors) < 2:
        return np.zeros((len(vectors), 2), dtype=np.float32)
    coords = PCA(n_components=2, random_state=0).fit_transform(vectors)
    return np.asarray(coords, dtype=np.float32)


def build_topic_map(
    hits: list[Hit], vectors: np.ndarray, *, k: int | None = None, terms: int = 5, seed: int = 0
) -> TopicMap:
    """Cluster ``hits`` (with their ``vectors``) into ``k`` topics, or the best k found."""
    n = len(hits)
    if n < 3:
        raise TopicError(
            f"The collection holds {n} chunk(s); a topic map needs at least 3. "
            "Ingest documents first: python -m ingest data/"
        )
    if k is not None and not 1 <= k <= n:
        raise TopicError(f"--k is {k}, but it must be between 1 and the {n} chunks stored.")
    unit = normalize(vectors)
    score: float | None = None
    if k is None:
        k, score = choose_k(unit, seed=seed)
    labels = kmeans(unit, k=k, seed=seed)
    if score is None and 2 <= k < n and len(set(labels.tolist())) > 1:
        score = silhouette(unit, labels, seed=seed)
    top = distinctive_terms([h.text for h in hits], labels, k=k, n=terms)
    clusters = []
    for i in range(k):
        members = [h for h, c in zip(hits, labels, strict=True) if c == i]
        counts = Counter(h.source for h in members)
        sources = sorted(counts, key=lambda s: (-counts[s], s))
        label = " / ".join(top[i][:3]) or f"topic {i + 1}"
        clusters.append(Cluster(label=label, size=len(members), top_terms=top[i], sources=sources))
    # biggest cluster first; renumber the assignments to match
    order = sorted(range(k), key=lambda i: (-clusters[i].size, clusters[i].label))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return TopicMap(
        clusters=[clusters[i] for i in order],
        assignments=rank[labels],
        coords=pca_2d(unit),
        silhouette=score,
    )
