"""The chunker with a whitespace tokenizer: exact, hand-checkable expectations."""

import re

from ingest.chunking import Chunker, markdown_sections
from ingest.document import Page


class WordCounter:
    """One token per whitespace-separated word; two special tokens, like BERT."""

    def __init__(self, max_tokens: int = 512) -> None:
        self._max = max_tokens

    @property
    def max_tokens(self) -> int:
        return self._max

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]

    def count_tokens(self, text: str) -> int:
        return len(self.token_offsets(text)) + 2


def test_markdown_sections_keep_header_paths_and_offsets() -> None:
    text = "intro\n# A\nalpha\n## B\nbeta\n```\n# not a header\n```\n# C\ngamma\n"
    sections = markdown_sections(text)
    assert [(s.start, s.header_path) for s in sections] == [
        (0, ""),
        (6, "A"),
        (16, "A > B"),
        (49, "C"),
    ]
    for s in sections:
        assert text[s.start : s.start + len(s.text)] == s.text
    assert "# not a header" in sections[2].text


def test_text_split_exact() -> None:
    chunker = Chunker(WordCounter(), chunk_size=4, chunk_overlap=1)
    text = "one two three four five six seven"
    chunks = chunker.split([Page(3, text)], source="s.txt")
    assert [(c.text, c.start_index, c.page) for c in chunks] == [
        ("one two three four", 0, 3),
        ("four five six seven", 14, 3),
    ]


def test_markdown_split_carries_header_path() -> None:
    chunker = Chunker(WordCounter(), chunk_size=50, chunk_overlap=0)
    text = "# Guide\nHello there.\n## Install\nRun make.\n"
    chunks = chunker.split([Page(0, text)], source="g.md", markdown=True)
    assert [(c.text, c.header_path, c.start_index) for c in chunks] == [
        ("# Guide\nHello there.", "Guide", 0),
        ("## Install\nRun make.", "Guide > Install", 21),
    ]


def test_model_window_caps_chunk_size_and_prefix_counts() -> None:
    # a 10-token window minus 2 specials minus a 2-word prefix leaves 6 tokens of text
    chunker = Chunker(
        WordCounter(max_tokens=26), chunk_size=100, chunk_overlap=0, document_prefix="passage: x"
    )
    assert chunker.limit == 26 - 4
    words = " ".join(f"w{i}" for i in range(100))
    chunks = chunker.split([Page(0, words)], source="w.txt")
    assert all(len(c.text.split()) <= 22 for c in chunks)
    assert " ".join(c.text for c in chunks) == words


def test_fit_cuts_an_unsplittable_overlong_chunk_at_token_boundaries() -> None:
    chunker = Chunker(WordCounter(max_tokens=20), chunk_size=5, chunk_overlap=0)
    pieces = chunker._fit("a b c d e f g h i j k l", 10, "x" * 10 + "a b c d e f g h i j k l")
    assert pieces == [("a b c d e", 10), ("f g h i j", 20), ("k l", 30)]
