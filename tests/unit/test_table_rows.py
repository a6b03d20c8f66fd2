"""Table rows read for an extractive answer (rag.answers.table_rows): a row's label and cells, the
column years and units its table declares, and how well its label names what is asked."""

from __future__ import annotations

import pytest

from rag.answers.table_rows import (
    TableHeader,
    asked_years,
    column_years,
    header_of,
    headers_by_row,
    label_share,
    split_row,
    units_line,
)
from rag.retrieval.bm25 import tokenize


@pytest.mark.parametrize(
    ("row", "label", "cells"),
    [
        ("Capital spending (4,625) (4,240) (4,232)", "Capital spending",
         ["(4,625)", "(4,240)", "(4,232)"]),
        ("Net income $ 7,679 $ 7,175 $ 7,353", "Net income", ["$7,679", "$7,175", "$7,353"]),
        ("Short-term investments — 266,206", "Short-term investments", ["—", "266,206"]),
        ("Tax rate 21.0% 19.5%", "Tax rate", ["21.0%", "19.5%"]),
        ("Total current liabilities: 5,466,312 4,586,657", "Total current liabilities",
         ["5,466,312", "4,586,657"]),
        # two rows glued on one line by the PDF's text layer: the first row's cells only
        ("Purchase of other investments (51,277) (15,250) — Proceeds from sale — 33,016",
         "Purchase of other investments", ["(51,277)", "(15,250)", "—"]),
        ("No figures here", "No figures here", []),
    ],
)  # fmt: skip
def test_a_row_is_its_label_then_its_cells(row: str, label: str, cells: list[str]) -> None:
    assert split_row(row) == (label, cells)


@pytest.mark.parametrize(
    ("line", "years"),
    [
        ("2021 2020 2019", ("2021", "2020", "2019")),
        ("As of December 31, 2017 2016", ("2017", "2016")),
        ("(Amounts in millions) 2018 2017 2016", ("2018", "2017", "2016")),
        ("FY2022 FY2021", ("2022", "2021")),
        ("$ 2021 $ 2020", ("2021", "2020")),
        # a period line mentions years but is no header of columns
        ("Fiscal years ended December 25, 2021, December 26, 2020 and December 28, 2019", ()),
        ("Net income 2021", ()),
        ("Revenue 1,234 2,345", ()),
    ],
)
def test_the_column_years_end_a_header_line(line: str, years: tuple[str, ...]) -> None:
    assert column_years(line) == years


def test_a_units_line_is_short_and_declares_units() -> None:
    assert units_line("(in thousands, except share and per share data)") == (
        "(in thousands, except share and per share data)"
    )
    assert units_line("(In millions)") == "(In millions)"
    assert units_line("Consolidated Balance Sheets") == ""
    long = "The following table presents our revenue by segment, in millions of dollars, for the"
    assert units_line(long + " years ended") == ""


def test_a_tables_header_is_the_last_years_and_units_above_its_row() -> None:
    assert header_of(["Consolidated Balance Sheets", "(in millions)", "2021 2020"]) == (
        TableHeader(("2021", "2020"), "(in millions)")
    )
    # one line may hold both: Corning's "(In millions, except per share amounts) 2020 2019 2018"
    assert header_of(["(In millions, except per share amounts) 2020 2019 2018"]) == TableHeader(
        ("2020", "2019", "2018"), "(In millions, except per share amounts)"
    )
    assert header_of(["Operating Activities"]) == TableHeader()
    assert not TableHeader()


TEXT = """Investing Activities
Capital spending (4,625) (4,240) (4,232)
(in thousands)
2019 2018
Other row 5 6
"""


def test_a_rows_header_comes_from_its_passage_else_from_its_pages_title() -> None:
    title = "Consolidated Statement of Cash Flows · (in millions) · 2021 2020 2019"
    rows = ["Capital spending (4,625) (4,240) (4,232)", "Other row 5 6"]
    got = headers_by_row(TEXT, title, rows)
    # the first row has nothing above it in its chunk but its page's title
    assert got[rows[0]] == TableHeader(("2021", "2020", "2019"), "(in millions)")
    # the second is under a header of its own
    assert got[rows[1]] == TableHeader(("2019", "2018"), "(in thousands)")
    assert headers_by_row(TEXT, "", rows)[rows[0]] == TableHeader()


def test_a_header_shows_what_its_heading_does_not() -> None:
    header = TableHeader(("2021", "2020", "2019"), "(in millions)")
    assert header.shown("Consolidated Statement of Cash Flows") == "(in millions) · 2021 2020 2019"
    assert header.shown("Cash Flows · (in millions)") == "2021 2020 2019"
    assert header.shown("Cash Flows · (in millions) · 2021 2020 2019") == ""


def test_a_label_named_by_the_question_scores_its_share_of_terms() -> None:
    asked = tokenize("What is Netflix's year end FY2017 total current liabilities?")
    assert label_share(asked, "Total current liabilities") == 1.0
    assert label_share(asked, "Total current assets") == pytest.approx(2 / 3)
    assert label_share(asked, "Accounts payable") == 0.0
    # one term alone names nothing in particular: half of what it would score
    assert label_share(asked, "Total") == 0.5
    capex = tokenize("What is the FY2021 capital expenditure amount (in USD billions)?")
    assert label_share(capex, "Capital spending") == 0.5
    assert label_share(capex, "") == 0.0


def test_the_years_a_question_asks_about() -> None:
    assert asked_years("What is the FY2021 capital expenditure?") == ("2021",)
    assert asked_years("FY2019 - FY2021 3 year average, fiscal 2020 and 2019") == (
        "2019", "2021", "2020",
    )  # fmt: skip
    assert asked_years("How many patients?") == ()
