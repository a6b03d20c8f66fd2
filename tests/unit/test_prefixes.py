import pytest

from rag.embedding.models import BGE_INSTRUCTION, registry_prefixes, resolve_prefixes
from rag.embedding.types import Prefixes


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("intfloat/e5-small-v2", Prefixes("query: ", "passage: ")),
        ("/models/multilingual-e5-base", Prefixes("query: ", "passage: ")),
        ("BAAI/bge-small-en-v1.5", Prefixes(BGE_INSTRUCTION, "")),
        ("mixedbread-ai/mxbai-embed-large-v1", Prefixes(BGE_INSTRUCTION, "")),
        ("Snowflake/snowflake-arctic-embed-m", Prefixes(BGE_INSTRUCTION, "")),
        ("nomic-ai/nomic-embed-text-v1.5", Prefixes("search_query: ", "search_document: ")),
        ("thenlper/gte-small", Prefixes()),
        ("all-MiniLM-L6-v2", Prefixes()),
        ("sentence-transformers/all-mpnet-base-v2", Prefixes()),
        ("/models/some-unknown-model", Prefixes()),
        ("/models/three-e5s-nope", Prefixes()),  # "e5" only as a name part
    ],
)
def test_registry(model: str, expected: Prefixes) -> None:
    assert registry_prefixes(model) == expected


def test_settings_override_registry_even_with_empty_string() -> None:
    assert resolve_prefixes("e5-small-v2", query_prefix="", document_prefix=None) == Prefixes(
        "", "passage: "
    )
    assert resolve_prefixes("gte-small", query_prefix="q: ", document_prefix="d: ") == Prefixes(
        "q: ", "d: "
    )
