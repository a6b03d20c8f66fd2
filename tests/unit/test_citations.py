"""The streaming citation filter: exact outputs for exact inputs, however the text is cut."""

import pytest

from rag.answers.citations import CitationFilter


def run(deltas: list[str], count: int) -> tuple[str, CitationFilter]:
    marks = CitationFilter(count)
    out = "".join(marks.feed(d) for d in deltas) + marks.flush()
    return out, marks


@pytest.mark.parametrize(
    ("text", "count", "expected", "used", "removed"),
    [
        (
            "R uses NA [1]. Seq makes ranges [2].",
            2,
            "R uses NA [1]. Seq makes ranges [2].",
            [1, 2],
            0,
        ),
        ("Claim [9]. Next [1].", 2, "Claim. Next [1].", [1], 1),
        ("Both [1, 3] say so.", 2, "Both [1] say so.", [1], 1),
        ("Both [1][2] and [2].", 2, "Both [1][2] and [2].", [1, 2], 0),
        ("Index with x[3] in R [1].", 1, "Index with x[3] in R [1].", [1], 0),
        ("  [7] Leading junk.  ", 2, "Leading junk.", [], 1),
        ("A list [a, b] stays.", 2, "A list [a, b] stays.", [], 0),
        ("Unclosed [1", 2, "Unclosed [1", [], 0),
        ("Zero [0] is not a passage.", 3, "Zero is not a passage.", [], 1),
        ("Trailing space [2]   ", 3, "Trailing space [2]", [2], 0),
    ],
)
def test_whole_text(text: str, count: int, expected: str, used: list[int], removed: int) -> None:
    out, marks = run([text], count)
    assert out == expected
    assert sorted(marks.used) == sorted(used) and marks.removed == removed


def test_markers_split_across_deltas_give_the_same_text() -> None:
    text = "First [1]. Second [4]. Third [2, 5][3]."
    whole, _ = run([text], 3)
    chars, marks = run(list(text), 3)
    assert whole == chars == "First [1]. Second. Third [2][3]."
    assert marks.used == [1, 2, 3] and marks.removed == 2


def test_used_keeps_first_citation_order() -> None:
    _, marks = run(["B [2]. A [1]. B again [2]."], 2)
    assert marks.used == [2, 1]
