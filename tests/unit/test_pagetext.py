"""The page text as ingestion normalised it, mapped back to PDFium's, and a passage found
in it: at its stored offset, by its text, or by its words."""

from hypothesis import given
from hypothesis import strategies as st

from ingest.document import clean
from ingest.pagetext import Span, find_passage, normalised
from ingest.pdf import pdfium_text

# PDFium's marks and line ends, NUL, a lone surrogate and a character outside the BMP
RAW = st.text(
    alphabet=st.sampled_from(
        ["a", "b", " ", "\n", "\r", "\ufffe", "\x02", "\x00", "é", "\ud800", "\U0001f600"]
    ),
    max_size=60,
)


@given(RAW)
def test_normalised_is_the_ingested_text_and_points_back_into_the_raw(raw: str) -> None:
    text, where = normalised(raw)
    assert text == clean(pdfium_text(raw))
    assert len(where) == len(text) + 1 and where[-1] == len(raw)
    assert where == sorted(where) and len(set(where)) == len(where)
    for char, index in zip(text, where, strict=False):
        original = raw[index]
        assert original == char or (original == "\r" and char == "\n") or char == "?"


def test_normalised_exact() -> None:
    raw = "ab\ufffe\r\ncd\x02e\rf"
    text, where = normalised(raw)
    assert text == "ab\ncde\nf"
    assert where == [0, 1, 3, 5, 6, 8, 9, 10, 11]


PAGE = "Chapter 2\nIn general any operation\non an NA becomes an NA. In general too."


def test_the_stored_offset_is_trusted_when_the_passage_is_there() -> None:
    start = PAGE.index("In general any")
    assert find_passage(PAGE, start=start, passage="In general any operation") == Span(
        start, start + 24, "offset"
    )


def test_a_wrong_offset_falls_back_to_the_nearest_occurrence() -> None:
    first, second = PAGE.index("In general"), PAGE.rindex("In general")
    assert find_passage(PAGE, start=0, passage="In general") == Span(first, first + 10, "text")
    assert find_passage(PAGE, start=70, passage="In general") == Span(second, second + 10, "text")


def test_other_spacing_and_glued_words_are_found_by_their_words() -> None:
    start = PAGE.index("any operation")
    assert find_passage(PAGE, start=0, passage="any  operation on an NA") == Span(
        start, start + len("any operation\non an NA"), "words"
    )
    # a line break where the stored text had none ("op-\neration" joined differently)
    glued = "Chapter 2\nIn general any oper ation\non"
    assert find_passage(glued, start=0, passage="any operation on") == Span(
        glued.index("any"), len(glued), "words"
    )


def test_a_passage_not_on_the_page_is_none() -> None:
    assert find_passage(PAGE, start=0, passage="missing values are NA") is None
    assert find_passage(PAGE, start=0, passage="   ") is None
