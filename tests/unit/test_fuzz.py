"""Fuzzing the loaders and the chunker: thousands of hostile inputs, no unhandled exception.

Counts (recorded in RELIABILITY.md): decode 3,000 examples, PDF bytes 1,500, mutated real
PDFs 1,500, chunker 2,000.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunker
from ingest.document import Page, decode_text
from ingest.loaders import load
from rag.errors import IngestError

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "data" / "gmpl.pdf"
SEED_PDF = SAMPLE_PDF.read_bytes()[:4000]


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


class WordCounter:
    @property
    def max_tokens(self) -> int:
        return 64

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]

    def count_tokens(self, text: str) -> int:
        return len(self.token_offsets(text)) + 2


@fuzz(3000)
@given(st.binary(max_size=2000))
def test_decode_never_fails_and_gives_clean_text(data: bytes) -> None:
    text = decode_text(data)
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogates


def _load_bytes(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        doc = load(path)
    except IngestError as exc:
        assert exc.reason and "\n" not in exc.reason
    else:
        assert all(p.text.strip() for p in doc.pages)


@fuzz(1500)
@given(data=st.binary(max_size=3000), name=st.sampled_from(["f.pdf", "f.md", "f.txt"]))
def test_random_bytes_load_or_fail_cleanly(
    tmp_path_factory: object, data: bytes, name: str
) -> None:
    tmp = tmp_path_factory.mktemp("fz")  # type: ignore[attr-defined]
    _load_bytes(tmp, name, b"%PDF-1.4\n" + data if name.endswith(".pdf") else data)


@fuzz(1500)
@given(
    st.lists(
        st.tuples(st.integers(0, len(SEED_PDF) - 1), st.integers(0, 255)), min_size=1, max_size=30
    ),
    st.integers(50, len(SEED_PDF)),
)
def test_mutated_real_pdfs_load_or_fail_cleanly(
    tmp_path_factory: object, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(SAMPLE_PDF.read_bytes())
    for offset, value in flips:
        data[offset] = value
    tmp = tmp_path_factory.mktemp("pdf")  # type: ignore[attr-defined]
    _load_bytes(tmp, "m.pdf", bytes(data[: cut * 50]))


@fuzz(2000)
@given(text=st.text(max_size=1500), size=st.integers(8, 60), markdown=st.booleans())
def test_chunker_never_fails_and_offsets_point_back(text: str, size: int, markdown: bool) -> None:
    chunker = Chunker(WordCounter(), chunk_size=size, chunk_overlap=size // 4)
    for chunk in chunker.split([Page(1, text)], source="x", markdown=markdown):
        assert text[chunk.start_index : chunk.start_index + len(chunk.text)] == chunk.text
        assert len(WordCounter().token_offsets(chunk.text)) <= chunker.limit
