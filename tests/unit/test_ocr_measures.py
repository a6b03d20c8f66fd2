"""The measures OCR is judged by (bench/ocr.py, tests/integration/test_ocr.py)."""

from __future__ import annotations

import pytest

from ingest.ocr import recovered, word_error_rate, words


def test_words_are_lower_case_word_tokens() -> None:
    assert words("Missing values: NA, NaN!") == ["missing", "values", "na", "nan"]


@pytest.mark.parametrize(
    ("recognised", "wer"),
    [
        ("the cat sat", 0.0),
        ("the bat sat", 1 / 3),  # one substitution
        ("the cat", 1 / 3),  # one deletion
        ("the big cat sat", 1 / 3),  # one insertion
        ("", 1.0),
        ("sat cat the", 2 / 3),  # order counts
    ],
)
def test_word_error_rate_is_the_edit_distance_over_the_reference(
    recognised: str, wer: float
) -> None:
    assert word_error_rate(words("The cat sat"), words(recognised)) == pytest.approx(wer)


def test_recovered_counts_each_word_as_often_as_the_reference_has_it() -> None:
    reference = words("a a b c")
    assert recovered(reference, words("a b b x")) == pytest.approx(2 / 4)
    assert recovered(reference, words("c b a a")) == 1.0  # order does not count here
