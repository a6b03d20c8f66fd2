"""Label each document from a TOML file of labels: zero-shot by similarity to the labels'
descriptions, or few-shot (logistic regression on the embeddings) when examples are given.

The labels file::

    [labels.baking]
    description = "Recipes and techniques for baking bread"
    examples = ["Knead the dough until smooth", "Bake the loaf until brown"]

    [labels.astronomy]
    description = "Stars, planets and galaxies"

A document is the mean of its chunks' (unit) vectors. With no example anywhere, each
document gets the label whose description is most similar (cosine). With examples, a
logistic regression is trained on every example and every description (each a point of its
label) and gives each document its most probable label.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.analytics.topics import normalize
from rag.embedding.types import Embedder
from rag.errors import ConfigError
from rag.types import Hit


@dataclass(frozen=True)
class Label:
    name: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Assignment:
    source: str
    label: str
    score: float  # cosine (zero-shot) or probability (few-shot)

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "label": self.label, "score": round(self.score, 6)}


def load_labels(path: Path) -> list[Label]:
    """Parse the labels file; ConfigError with the fix when it is unusable."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read the labels file {path} ({exc}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The labels file {path} is not valid TOML ({exc}).") from exc
    table = data.get("labels", data)
    labels = []
    for name, spec in table.items():
        if not isinstance(spec, dict):
            raise ConfigError(
                f"Label {name!r} in {path} is not a table; write [labels.{name}] with "
                'description = "..." and/or examples = ["...", ...].'
            )
        description = str(spec.get("description", "")).strip()
        raw_examples = spec.get("examples", [])
        if not isinstance(raw_examples, list):
            raise ConfigError(f"Label {name!r} in {path}: examples must be a list of strings.")
        examples = tuple(str(e).strip() for e in raw_examples if str(e).strip())
        if not description and not examples:
            raise ConfigError(
                f"Label {name!r} in {path} has neither a description nor examples; give it "
                "at least one of them."
            )
        labels.append(Label(name=str(name), description=description, examples=examples))
    if len(labels) < 2:
        raise ConfigError(
            f"The labels file {path} defines {len(labels)} label(s); classification needs "
            "at least 2 (e.g. [labels.a] and [labels.b])."
        )
    return labels


def document_vectors(hits: Sequence[Hit], vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each source once (sorted) and the unit mean of its chunks' unit vectors."""
    sources = sorted({h.source for h in hits})
    index = {s: i for i, s in enumerate(sources)}
    rows = np.array([index[h.source] for h in hits], dtype=np.int64)
    sums = np.zeros((len(sources), vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, rows, normalize(vectors))
    return sources, normalize(sums)


def classify(
    labels: Sequence[Label], sources: Sequence[str], doc_vectors: np.ndarray, *, embedder: Embedder
) -> tuple[list[Assignment], str]:
    """Each source's label and score, and the method used ("zero-shot" or "few-shot")."""
    names = [label.name for label in labels]
    if not any(label.examples for label in labels):
        described = normalize(embedder.embed_documents([label.description for label in labels]))
        sims = doc_vectors @ described.T
        best = sims.argmax(axis=1)
        return [
            Assignment(s, names[b], float(sims[i, b]))
            for i, (s, b) in enumerate(zip(sources, best, strict=True))
        ], "zero-shot"
    from sklearn.linear_model import LogisticRegression

    texts = [t for label in labels for t in (*label.examples, label.description) if t]
    targets = [label.name for label in labels for t in (*label.examples, label.description) if t]
    model = LogisticRegression(max_iter=1000)
    model.fit(normalize(embedder.embed_documents(texts)), targets)
    probabilities = model.predict_proba(doc_vectors)
    classes = [str(c) for c in model.classes_]
    return [
        Assignment(s, classes[int(p.argmax())], float(p.max()))
        for s, p in zip(sources, probabilities, strict=True)
    ], "few-shot"
