"""The extractive answer as it was before issue 24 (commit cc476de), kept for the bench
only: ``bench/answers.py --extractors before,after`` measures it beside today's in the same
run, on the same indexes and retrieval.

Before: sentences cut at full stops over flattened paragraphs (a code line glued to the
explanation after it), scored by MiniLM cosine alone, shown in reading order; the answer
abstains when no passage's cosine reaches ``CUT`` (the threshold then shipped), and only
passages reaching it are quoted.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from rag.answers.answer import ABSTAIN, NO_LLM_NOTICE, Answerer, _similarity
from rag.embedding.types import Embedder, Vectors
from rag.types import Citation, Hit

CUT = 0.415  # RAG_ABSTAIN_THRESHOLD's default before issue 24 (bench/results/abstain.json then)
MAX_PASSAGES = 3
MAX_SENTENCES = 3
MIN_WORDS = 4
MAX_CHARS = 320
SPREAD = 0.15
DUPLICATE = 0.92

_LEADERS = re.compile(r"\.{4,}|(?:\. ){3,}")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass(frozen=True)
class Sentence:
    text: str
    n: int
    position: int
    score: float = 0.0


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        if flat:
            sentences.extend(s.strip() for s in _BOUNDARY.split(flat) if s.strip())
    if sentences and sentences[0][:1].islower():
        sentences = sentences[1:]
    if sentences and sentences[-1][-1:] not in ".!?:)":
        sentences = sentences[:-1]
    return [_clip(s) for s in sentences if len(s.split()) >= MIN_WORDS and not _LEADERS.search(s)]


def select(
    sentences: Sequence[Sentence], scores: Sequence[float], vectors: Vectors
) -> list[Sentence]:
    order = sorted(range(len(sentences)), key=lambda i: -scores[i])
    chosen: list[int] = []
    for i in order:
        if len(chosen) == MAX_SENTENCES or scores[i] < scores[order[0]] - SPREAD:
            break
        if any(float(vectors[i] @ vectors[j]) >= DUPLICATE for j in chosen):
            continue
        chosen.append(i)
    picked = [
        Sentence(sentences[i].text, sentences[i].n, sentences[i].position, scores[i])
        for i in chosen
    ]
    return sorted(picked, key=lambda s: (s.n, s.position))


def extract(
    query: str, numbered: Sequence[tuple[int, Hit]], *, embedder: Embedder
) -> list[Sentence]:
    found = [
        Sentence(s, n, i)
        for n, hit in numbered[:MAX_PASSAGES]
        for i, s in enumerate(split_sentences(hit.text))
    ]
    if not found:
        return []
    vectors = embedder.embed_documents([s.text for s in found])
    query_vector = embedder.embed_query(query)
    scores = [float(x) for x in np.asarray(vectors @ query_vector, dtype=np.float64)]
    return select(found, scores, vectors)


def render(sentences: Sequence[Sentence]) -> list[str]:
    parts = []
    for i, s in enumerate(sentences):
        body, end = (s.text[:-1], s.text[-1]) if s.text[-1:] in ".!?" else (s.text, ".")
        parts.append(("" if i == 0 else " ") + f"{body.rstrip(':;, ')} [{s.n}]{end}")
    return parts


def _clip(sentence: str) -> str:
    if len(sentence) <= MAX_CHARS:
        return sentence
    cut = sentence[:MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def _legacy_extractive(
    self: Answerer, query: str, hits: list[Hit], metadata: dict[str, object]
) -> Generator[str, None, tuple[list[Citation], list[Hit]]]:
    """``Answerer._extractive`` as it was."""
    metadata["notice"] = NO_LLM_NOTICE
    relevant = [(n, h) for n, h in enumerate(hits, start=1) if _similarity(h) >= CUT]
    best = max((_similarity(h) for h in hits), default=None)
    metadata["best_score"] = round(best, 4) if best is not None else None
    sentences = extract(query, relevant, embedder=self.embedder) if relevant else []
    if not sentences:
        yield ABSTAIN
        return [], hits
    yield from render(sentences)
    quoted: dict[int, list[str]] = {}
    for s in sentences:
        quoted.setdefault(s.n, []).append(s.text.removesuffix(" …"))
    return [Citation(n, hits[n - 1], tuple(q)) for n, q in quoted.items()], hits


@contextmanager
def legacy_extractor() -> Iterator[None]:
    """Within it, every ``Answerer`` answers without an LLM as before issue 24."""
    today = Answerer._extractive
    Answerer._extractive = _legacy_extractive  # type: ignore[method-assign]
    try:
        yield
    finally:
        Answerer._extractive = today  # type: ignore[method-assign]
