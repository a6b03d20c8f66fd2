"""What kind of answer a question asks for, and whether a quote holds one."""

from __future__ import annotations

import pytest

from rag.answers.answer_types import expected_kind, holds


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people have persistent hepatitis C virus?", "number"),
        ("How much is the reduction in childhood pneumonia deaths?", "number"),
        ("What percentage of newborns were infected from their mother?", "number"),
        ("What is the size of bovine coronavirus?", "number"),
        ("What was the prevalence rate in Shandong in 2010?", "number"),
        ("What is the FY2021 capital expenditure for PepsiCo?", "number"),
        ("What was PepsiCo's net revenue in 2022?", "number"),  # a possessive names no noun
        # a question that says in what unit or to what precision to answer asks for a figure
        (
            "What is Netflix's year end FY2017 total current liabilities (in USD millions)?",
            "number",
        ),
        (
            "What is the FY2019 - FY2020 total revenue growth rate? Answer in units of percents.",
            "number",
        ),
        (
            "What is Kraft Heinz's FY2019 inventory turnover ratio? Round your answer to two "
            "decimal places.",
            "number",
        ),
        ("Did the risk decrease? Answer in one sentence.", ""),
        ("When was HBoV1 first identified?", "date"),
        ("In what year did the outbreak start?", "date"),
        ("How do I make a histogram of my data?", ""),
        ("What does the buffer area include?", ""),
        ("What is the name of the disease caused by SARS-CoV-2?", ""),
        ("Do antivirals help when taken late?", ""),  # "when" inside: not asking when
        ("Wie viele Menschen sind infiziert?", ""),
    ],
)
def test_the_kind_a_question_asks_for(question: str, kind: str) -> None:
    assert expected_kind(question) == kind


def test_a_figure_is_a_number_but_a_citation_marker_is_not() -> None:
    assert holds("The genome is 31 kb long.", "number") == 1.0
    assert holds("Two surface proteins are known.", "number") == 0.0
    assert holds("As shown before [12], and in (3), it spreads.", "number") == 0.0
    assert holds("Cases rose [4] to 1,200.", "number") == 1.0


def test_a_date_is_a_year_or_a_day_of_a_month() -> None:
    assert holds("The WHO was notified on 31 December.", "date") == 1.0
    assert holds("Italy went into lockdown on March 9.", "date") == 1.0
    assert holds("It was first identified in 2005.", "date") == 1.0
    assert holds("It peaks 10 days after onset.", "date") == 0.0
    assert holds("The May meeting decided it.", "date") == 0.0


def test_no_kind_holds_nothing() -> None:
    assert holds("31 kb in 2005", "") == 0.0
