"""Property: with the real tokenizer, no chunk exceeds the model window, and every chunk's
start_index points back into its page."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunker
from ingest.document import Page
from rag.embedding.models import SentenceTransformerEmbedder

pytestmark = pytest.mark.integration

words = st.one_of(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
    ),
    st.sampled_from(
        [
            "the",
            "R",
            "data.frame",
            "<-",
            "\n",
            "\n\n",
            "# Title\n",
            "ünïcödé",
            "supercalifragilisticexpialidocious" * 3,
            "1234567890" * 8,
            "。",
            "🙂",
        ]
    ),
)
documents = st.lists(words, min_size=1, max_size=400).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents, size=st.integers(16, 300), markdown=st.booleans())
def test_chunks_fit_and_point_back(
    embedder: SentenceTransformerEmbedder, text: str, size: int, markdown: bool
) -> None:
    chunker = Chunker(embedder, chunk_size=size, chunk_overlap=size // 5)
    chunks = chunker.split([Page(1, text)], source="p.md", markdown=markdown)
    for chunk in chunks:
        assert embedder.count_tokens(chunk.text) <= embedder.max_tokens
        assert len(embedder.token_offsets(chunk.text)) <= chunker.limit
        assert text[chunk.start_index : chunk.start_index + len(chunk.text)] == chunk.text
        assert chunk.text.strip()
    if text.strip() and any(embedder.token_offsets(text)):
        assert chunks, "text with tokens must give at least one chunk"
