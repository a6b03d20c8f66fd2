"""Frozen values that flow between the modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, sized to fit the embedding model."""

    text: str
    source: str
    page: int  # 1-based for PDFs; 0 for files without pages
    start_index: int  # character offset of ``text`` inside its page (or file)
    header_path: str = ""  # "Title > Section" for Markdown, "" elsewhere
    chunk_index: int = 0  # position of the chunk inside its file
    locator: str = ""  # "slide 3", "Sheet1 rows 2-40", "Intro > Revenue"; "" for PDF pages
    ocr: bool = False  # the text was recognised from an image


def describe_place(page: int, locator: str, ocr: bool = False, *, short: bool = False) -> str:
    """Where a passage is, for people: its locator ("slide 3", "Sheet1 rows 2-40",
    "Intro > Revenue"), else "page N" ("p.N" when ``short``), with "OCR" when its text was
    recognised from an image; "" for a file without pages."""
    where = locator or ((f"p.{page}" if short else f"page {page}") if page else "")
    if ocr:
        where = f"{where}, OCR" if where else "OCR"
    return where


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its similarity score (cosine, higher is better)."""

    chunk_id: str
    text: str
    source: str
    page: int
    score: float  # the retrieval mode's ranking score (cosine, BM25, RRF or cross-encoder)
    start_index: int = 0
    header_path: str = ""
    similarity: float | None = None  # cosine to the query, comparable across modes
    locator: str = ""
    ocr: bool = False

    def place(self, *, short: bool = False) -> str:
        return describe_place(self.page, self.locator, self.ocr, short=short)

    def snippet(self, width: int) -> str:
        """The passage on one line, at most ``width`` characters (cut with an ellipsis)."""
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1] + "…"


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` used in an answer: the hit it refers to and, in an extractive answer, the
    units quoted from that hit, in the answer's order (each as the passage has it, a long
    one clipped at a word; empty for an LLM's answer). The page view marks them inside the
    passage, so they are kept with the citation rather than read back from the text."""

    n: int
    hit: Hit
    quotes: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return self.hit.source

    @property
    def page(self) -> int:
        return self.hit.page

    @property
    def chunk_id(self) -> str:
        return self.hit.chunk_id

    def place(self, *, short: bool = False) -> str:
        return self.hit.place(short=short)


@dataclass(frozen=True)
class Turn:
    """One message of a chat: what the user asked or what the assistant answered."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Answer:
    """A composed answer with its provenance and timings."""

    text: str
    mode: str  # "llm" or "extractive"
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    # retrieval_ms, first_token_ms, total_ms (and condense_ms after a follow-up)
    timings: dict[str, float] = field(default_factory=dict)
    # notice: one line for the user (e.g. no LLM configured); dropped: chunk ids left out
    # by the context budget; removed_citations: [n] that pointed at no passage;
    # condensed_query: the standalone query a follow-up was searched with; abstained
    metadata: dict[str, object] = field(default_factory=dict)
