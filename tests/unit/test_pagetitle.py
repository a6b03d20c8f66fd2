"""A page's title lines, for PDFs without an outline: what stays, what is body, what runs."""

from __future__ import annotations

from ingest.pagetitle import (
    MAX_CHARS,
    SEPARATOR,
    fitted,
    is_column_years,
    page_titles,
    reads_figures,
    title_of,
)

STATEMENT = """Table of Contents
Consolidated Statement of Cash Flows
PepsiCo, Inc. and Subsidiaries
Fiscal years ended December 25, 2021, December 26, 2020 and December 28, 2019
(in millions)
2021 2020 2019
Operating Activities
Net income $ 7,679 $ 7,175 $ 7,353
Capital spending (4,625) (4,240) (4,232)
"""

PROSE = """Table of Contents
Beverage unit volume grew 13%, primarily reflecting double-digit growth in China, partially offset
by a low-single-digit decline in Vietnam.
"""

BODY = "The figures below are for the full year, in millions of dollars, as audited."
CONTINUED = """Table of Contents
food businesses in Asia Pacific, Australia and New Zealand, and China region.
Frito-Lay North America
"""


def test_a_statement_page_is_titled_by_its_name_company_period_units_and_years() -> None:
    titles = page_titles([STATEMENT, PROSE, CONTINUED, PROSE])
    # the five lines do not fit a chunk's context: the period's dates give way, not the
    # units and column years that say what "(4,625)" is
    assert titles[0] == (
        "Consolidated Statement of Cash Flows · PepsiCo, Inc. and Subsidiaries · "
        "(in millions) · 2021 2020 2019"
    )
    assert titles[1:] == ["", "", ""]
    # the running header that opens every page is no page's title
    assert "Table of Contents" not in titles[0]


def test_body_text_ends_the_title() -> None:
    running = frozenset({"table of contents"})
    assert title_of(PROSE, running) == ""  # a long sentence first: no title
    assert title_of(CONTINUED, running) == ""  # a paragraph continued from the page before
    assert title_of("Notes\n• The Firm's capital was $206 billion\n", running) == "Notes"


def test_the_column_years_row_is_kept_and_ends_the_title() -> None:
    page = "Consolidated Balance Sheets\n(in millions)\n2021 2020\nAssets\nCash 1,234 1,100\n"
    assert title_of(page) == SEPARATOR.join(
        ["Consolidated Balance Sheets", "(in millions)", "2021 2020"]
    )
    assert is_column_years("FY2022 FY2021") and is_column_years("Q1 Q2 Q3 Q4")
    assert not is_column_years("Net income 2021")


def test_a_row_of_figures_and_a_page_number_are_not_titles() -> None:
    assert title_of("63\nCapital spending (4,625) (4,240) (4,232)\n") == ""
    page = "Page 12 of 40\nSelected Financial Data\nRevenue 1,200 1,100\n"
    assert title_of(page) == "Selected Financial Data"


def test_a_page_of_short_lines_only_has_no_title() -> None:
    # a cover page or a one-line page: nothing follows that the lines would be the title of
    assert title_of("Annual Report\nFiscal 2021\n") == ""
    assert title_of("Hello world") == ""


def test_a_title_is_cut_to_what_a_chunk_context_keeps() -> None:
    lines = [f"Heading number {i} of a long statement title, much longer" for i in range(6)]
    title = title_of("\n".join(lines))
    assert title == SEPARATOR.join(lines[:2])  # the third would not fit
    lines = ["A" * 90, "B" * 90, "C" * 90]
    assert fitted(lines) == "A" * 90  # whole lines dropped before anything is cut
    assert fitted(["A" * 200]) == "A" * (MAX_CHARS - 1) + "…"


def test_a_long_title_keeps_its_first_line_its_units_and_its_column_years() -> None:
    lines = [
        "American Water Works Company, Inc. and Subsidiary Companies",
        "Consolidated Statements of Cash Flows",
        "(In millions)",
        "For the Years Ended December 31, and a period line long enough not to fit here",
        "2020 2019 2018",
    ]
    assert fitted(lines) == SEPARATOR.join([*lines[:3], lines[4]])
    assert reads_figures("As of December 31, 2017 2016")
    assert reads_figures("(In thousands, except share and per share data)")
    assert not reads_figures("Fiscal years ended December 25, 2021, December 26, 2020 and 2019.")
    assert not reads_figures("The table below shows our revenue in millions for the year ended")


def test_lines_that_open_many_pages_are_running_headers() -> None:
    names = ["Revenue", "Costs", "Leases", "Debt", "Equity", "Taxes", "Pensions", "Segments"]
    pages = [
        f"ACME Corp Annual Report {n}\n{name} overview\n{name}: {BODY}"
        for n, name in enumerate(names)
    ]
    # "ACME Corp Annual Report <page>" opens every page (its number aside): never a title
    assert page_titles(pages) == [f"{name} overview" for name in names]


def test_a_title_set_one_word_per_line_is_one_line_again() -> None:
    # Block's 2016 10-K: a letter-spaced heading comes out of the PDF a word per line, and
    # was titled "SQUARE, · INC. · CONSOLIDATED · BALANCE · SHEETS", its units cut off
    page = (
        "SQUARE,\nINC.\nCONSOLIDATED\nBALANCE\nSHEETS\n"
        "(In thousands, except share and per share data)\n2016 2015\n"
        "Cash and cash equivalents $ 821,394 $ 461,329\n"
    )
    assert title_of(page) == (
        "SQUARE, INC. CONSOLIDATED BALANCE SHEETS · "
        "(In thousands, except share and per share data) · 2016 2015"
    )
    # words alone between longer lines stay lines of their own
    assert title_of("Notes\nConsolidated Balance Sheets\nAssets\n2016 2015\nCash 1 2\n") == (
        "Notes · Consolidated Balance Sheets · Assets · 2016 2015"
    )
