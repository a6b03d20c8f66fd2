"""The answer made without an LLM: the sentences of the top passages that best match the
question, scored with the embedding model, each with the ``[n]`` of its passage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embeddings import Embedder, Vectors
from rag.types import Hit

MAX_PASSAGES = 3  # sentences come from the best passages only
MAX_SENTENCES = 3
MIN_WORDS = 4
MAX_CHARS = 320
SPREAD = 0.15  # keep sentences within this cosine of the best one
DUPLICATE = 0.92  # two sentences this similar say the same thing (chunks overlap)

_LEADERS = re.compile(r"\.{4,}|(?:\. ){3,}")  # table-of-contents dot leaders
# a sentence ends at . ! or ? followed by space and a capital, digit, quote or bracket
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass(frozen=True)
class Sentence:
    text: str
    n: int  # the 1-based number of the hit it comes from
    position: int  # order inside that hit
    score: float = 0.0


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, whitespace flattened. A chunk cut in the middle of a
    sentence loses that fragment: a first one starting in lower case, a last one without
    final punctuation. Table-of-contents lines are not sentences."""
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


def candidates(numbered: Sequence[tuple[int, Hit]]) -> list[Sentence]:
    out: list[Sentence] = []
    for n, hit in numbered[:MAX_PASSAGES]:
        out.extend(Sentence(s, n, i) for i, s in enumerate(split_sentences(hit.text)))
    return out


def select(
    sentences: Sequence[Sentence], scores: Sequence[float], vectors: Vectors
) -> list[Sentence]:
    """The best-scoring sentences, near-duplicates removed, in reading order
    (by passage number, then position inside the passage)."""
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
    """The sentences an extractive answer is made of (empty when the hits have none), from
    ``numbered``: each hit with its [n] in the answer, its place among all the retrieved
    hits (a caller that leaves some out keeps the others' numbers, so that a citation names
    the passage its sentence comes from)."""
    found = candidates(numbered)
    if not found:
        return []
    vectors = embedder.embed_documents([s.text for s in found])
    query_vector = embedder.embed_query(query)
    scores = [float(x) for x in np.asarray(vectors @ query_vector, dtype=np.float64)]
    return select(found, scores, vectors)


def render(sentences: Sequence[Sentence]) -> list[str]:
    """The answer's deltas: one per sentence, each followed by its citation."""
    parts = []
    for i, s in enumerate(sentences):
        body, end = (s.text[:-1], s.text[-1]) if s.text[-1:] in ".!?" else (s.text, ".")
        parts.append(("" if i == 0 else " ") + f"{body.rstrip(':;, ')} [{s.n}]{end}")
    return parts


# a rendered sentence: its text, then " [n]" and its end mark (render's form)
_RENDERED = re.compile(r"(?:^| )(.+?) \[(\d+)\][.!?]")


def quotes_of(answer_text: str) -> dict[int, list[str]]:
    """The sentences an extractive answer quotes from each passage ``[n]``, as ``render``
    wrote them (without their end mark or a clipped sentence's ellipsis): what the page
    view marks inside the passage."""
    out: dict[int, list[str]] = {}
    for sentence, n in _RENDERED.findall(answer_text):
        out.setdefault(int(n), []).append(sentence.removesuffix(" …").strip())
    return out


def _clip(sentence: str) -> str:
    if len(sentence) <= MAX_CHARS:
        return sentence
    cut = sentence[:MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"
