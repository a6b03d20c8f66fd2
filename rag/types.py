"""Frozen values that flow between the modules."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, sized to fit the embedding model."""

    text: str
    source: str
    page: int  # 1-based for PDFs; 0 for files without pages
    start_index: int  # character offset of ``text`` inside its page (or file)
    header_path: str = ""  # "Title > Section" for Markdown, "" elsewhere
    chunk_index: int = 0  # position of the chunk inside its file


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its similarity score (cosine, higher is better)."""

    chunk_id: str
    text: str
    source: str
    page: int
    score: float
    start_index: int = 0
    header_path: str = ""


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` used in an answer, mapped to the hit it refers to."""

    n: int
    source: str
    page: int
    chunk_id: str


@dataclass(frozen=True)
class Answer:
    """A composed answer with its provenance and timings."""

    text: str
    mode: str  # "llm" or "extractive"
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
