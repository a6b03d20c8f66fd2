"""The words of a question that ask rather than name, and the sentence that asks."""

from __future__ import annotations

from rag.answers.question_words import asking_sentence, subject_terms


def test_the_asking_sentence_is_the_first_that_ends_in_a_question_mark() -> None:
    assert (
        asking_sentence(
            "What is the FY2021 capital expenditure amount (in USD billions) for PepsiCo? Respond "
            "to the question by assuming the perspective of an investment analyst who can only use "
            "the details shown within the statement of cash flows."
        )
        == "What is the FY2021 capital expenditure amount (in USD billions) for PepsiCo?"
    )
    assert (
        asking_sentence(
            "We want to calculate a financial metric. Here's the question: what is the FY2015 "
            "EBITDA % margin for Netflix? Calculate it from the cash flow statement."
        )
        == "Here's the question: what is the FY2015 EBITDA % margin for Netflix?"
    )
    # one sentence, or none that asks: the whole question
    assert asking_sentence("How do I make a histogram?") == "How do I make a histogram?"
    assert asking_sentence("Name the vector of 3.5 vs. 4.5 in Fig. 2") == (
        "Name the vector of 3.5 vs. 4.5 in Fig. 2"
    )


def test_subject_terms_leave_out_the_asking_words() -> None:
    assert subject_terms("How do I make a histogram?") == ["make", "histogram"]
