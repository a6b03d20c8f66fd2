"""The values that flow between modules (rag.types): how a passage is shown in short."""

from rag.types import Hit


def test_a_snippet_is_the_passage_on_one_line_cut_to_its_width() -> None:
    hit = Hit(chunk_id="c1", text="  One\nline,\t then  more.", source="a.md", page=0, score=1.0)
    assert hit.snippet(40) == "One line, then more."
    assert hit.snippet(20) == "One line, then more."  # exactly the width: not cut
    assert hit.snippet(10) == "One line,…"
