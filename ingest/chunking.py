"""Pages -> Chunks, sized in the embedding model's tokens so none is truncated."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.document import Page
from ingest.outline import section_at
from rag.errors import ConfigError
from rag.types import Chunk

HEADER = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
FENCE = re.compile(r"^[ \t]*(```|~~~)")
MARKDOWN_SEPARATORS = ["\n\n", "\n", ". ", " ", ""]
TEXT_SEPARATORS = ["\n\n", "\n", ". ", " ", ""]


class TokenCounter(Protocol):
    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class Section:
    start: int
    text: str
    header_path: str


def markdown_sections(text: str) -> list[Section]:
    """Split Markdown at its headers (outside code fences), keeping each header path."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    starts: list[tuple[int, str]] = [(0, "")]
    offset = 0
    in_fence = False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := HEADER.match(line.rstrip("\r\n"))):
            level, title = len(m.group(1)), m.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            starts.append((offset, " > ".join(t for _, t in stack)))
        offset += len(line)
    starts.append((len(text), ""))
    for (start, path), (end, _) in pairwise(starts):
        if text[start:end].strip():
            sections.append(Section(start, text[start:end], path))
    return sections


class Chunker:
    """Splits pages with langchain-text-splitters, measuring length in model tokens."""

    def __init__(
        self,
        counter: TokenCounter,
        *,
        chunk_size: int,
        chunk_overlap: int,
        document_prefix: str = "",
    ) -> None:
        # the prefix and the special tokens share the model's window with the chunk
        room = counter.max_tokens - counter.count_tokens(document_prefix)
        if room < 16:
            raise ConfigError(
                f"The embedding model reads at most {counter.max_tokens} tokens, too few "
                "for chunks after its document prefix. Choose another RAG_EMBED_MODEL."
            )
        self.limit = min(chunk_size, room)
        self.overlap = min(chunk_overlap, self.limit // 2)
        self.counter = counter
        self.prefix = document_prefix

    def _splitter(self, separators: list[str]) -> RecursiveCharacterTextSplitter:
        return RecursiveCharacterTextSplitter(
            chunk_size=self.limit,
            chunk_overlap=self.overlap,
            length_function=lambda t: len(self.counter.token_offsets(t)),
            separators=separators,
            keep_separator="end",
            add_start_index=True,
            strip_whitespace=True,
        )

    def split(self, pages: Iterable[Page], *, source: str, markdown: bool = False) -> list[Chunk]:
        splitter = self._splitter(MARKDOWN_SEPARATORS if markdown else TEXT_SEPARATORS)
        chunks: list[Chunk] = []
        for page in pages:
            sections = markdown_sections(page.text) if markdown else [Section(0, page.text, "")]
            for section in sections:
                for doc in splitter.create_documents([section.text]):
                    start = section.start + int(doc.metadata["start_index"])
                    for text, offset in self._fit(doc.page_content, start, page.text):
                        chunks.append(
                            Chunk(
                                text=text,
                                source=source,
                                page=page.number,
                                start_index=offset,
                                header_path=section.header_path
                                or section_at(page.sections, offset),
                                chunk_index=len(chunks),
                            )
                        )
        return chunks

    def _fits(self, text: str) -> bool:
        return (
            len(self.counter.token_offsets(text)) <= self.limit
            and self.counter.count_tokens(self.prefix + text) <= self.counter.max_tokens
        )

    def _fit(self, text: str, start: int, page_text: str) -> list[tuple[str, int]]:
        """Cut a chunk that is still too long at token boundaries. Rare: the token count
        of joined pieces is not always the sum of the pieces' counts."""
        if page_text[start : start + len(text)] != text:
            start = max(page_text.find(text), 0)
        pieces: list[tuple[str, int]] = []
        while text.strip():
            if self._fits(text):
                pieces.append((text, start))
                break
            offsets = self.counter.token_offsets(text)
            n = min(self.limit, len(offsets))
            cut = offsets[n - 1][1]
            while n > 1 and not self._fits(text[:cut]):
                n = max(n * 3 // 4, 1)
                cut = offsets[n - 1][1]
            cut = max(cut, 1)
            head = text[:cut].rstrip()
            if head.strip():
                pieces.append((head, start))
            rest = text[cut:]
            lead = len(rest) - len(rest.lstrip())
            text, start = rest.lstrip(), start + cut + lead
        return pieces
