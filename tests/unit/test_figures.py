"""Figures read as numbers (rag.answers.figures): signs, separators, percents, scales, declared
units, and matching at the gold's printed precision. Exact cases, then properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answers.figures import (
    Figure,
    declared_unit,
    figures_in,
    matches,
    parse_figure,
    states,
    units_in,
)

THOUSAND, MILLION, BILLION = Decimal(10) ** 3, Decimal(10) ** 6, Decimal(10) ** 9


def gold(text: str) -> Figure:
    figure = parse_figure(text)
    assert figure is not None, text
    return figure


@pytest.mark.parametrize(
    ("text", "value", "decimals", "percent", "scale"),
    [
        ("$0.40", "0.40", 2, False, None),
        ("$1,577.00", "1577.00", 2, False, None),
        ("1.73", "1.73", 2, False, None),
        ("101.5%", "101.5", 1, True, None),
        ("24.26 percent", "24.26", 2, True, None),
        ("-$1561M", "-1561", 0, False, MILLION),
        ("$4.6B", "4.6", 1, False, BILLION),
        ("5K", "5", 0, False, THOUSAND),
        ("$3.2 bn", "3.2", 1, False, BILLION),
        ("$400 million", "400", 0, False, MILLION),
        ("2 Billions", "2", 0, False, BILLION),
        ("(473)", "-473", 0, False, None),
        ("$(1,234.5)", "-1234.5", 1, False, None),
        ("(12.5)%", "-12.5", 1, True, None),
        ("−0.66", "-0.66", 2, False, None),
        ("$-7", "-7", 0, False, None),
        ("negative $1,561 million", "-1561", 0, False, MILLION),
        ("USD 8,400,000,000.", "8400000000", 0, False, None),
        (".5", ".5", 1, False, None),
    ],
)
def test_a_gold_figure_is_read_with_its_sign_decimals_percent_and_scale(
    text: str, value: str, decimals: int, percent: bool, scale: Decimal | None
) -> None:
    figure = gold(text)
    assert (figure.value, figure.decimals, figure.percent, figure.scale) == (
        Decimal(value), decimals, percent, scale,
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "$400,000,000 increase.",  # words after the figure
        "Yes. It decreased.",
        "2019-2020",  # two figures
        "about 3",
        "FY2020",  # digits glued to letters are not a figure
        "",
    ],
)
def test_text_that_is_not_one_figure_is_not_a_gold_figure(text: str) -> None:
    assert parse_figure(text) is None


def test_figures_in_prose_keep_their_order_and_ranges_are_not_negative() -> None:
    found = figures_in(
        "In FY2022 (2019-2020 restated) revenue grew 7% to $3,725 million; Q2 was (12)"
    )
    assert [(f.value, f.percent, f.scale) for f in found] == [
        (Decimal(2019), False, None),
        (Decimal(2020), False, None),
        (Decimal(7), True, None),
        (Decimal(3725), False, MILLION),
        (Decimal(-12), False, None),
    ]


def test_an_open_parenthesis_without_its_close_is_not_a_negative() -> None:
    assert figures_in("(see note 5 below)")[0].value == 5


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("(In millions, except per share data)", {MILLION}),
        ("How much (in USD billions) did it pay?", {BILLION}),
        ("Answer in USD millions.", {MILLION}),
        ("Dollars in thousands", {THOUSAND}),
        ("USD millions", {MILLION}),
        ("$ in millions", {MILLION}),
        ("The ratio rose.", set()),
    ],
)
def test_declared_units(text: str, units: set[Decimal]) -> None:
    assert units_in(text) == units


def test_the_issue_example_a_billion_gold_stated_in_millions() -> None:
    g = gold("$0.40")  # "How much (in USD billions) ..."
    assert states(g, "Dividends paid (In millions) 400", unit=BILLION)
    assert states(g, "they paid $400 million in dividends", unit=BILLION)
    assert states(g, "about 0.4 billion", unit=BILLION)
    # at the gold's precision, its trailing zero being format: 0.4 billion is 350 up to (not
    # including) 450 million; American Water Works' statement says (389) for this gold
    assert states(g, "Dividends paid (In millions) (389) (353) (319)", unit=BILLION)
    assert states(g, "$350 million", unit=BILLION)
    assert states(g, "$449.99 million", unit=BILLION)
    assert not states(g, "$450 million", unit=BILLION)
    assert not states(g, "$349.9 million", unit=BILLION)
    # a bare 400 with no unit declared anywhere is read in the gold's unit: 400 billion
    assert not states(g, "Dividends paid 400", unit=BILLION)
    # ...unless the passages the answer cites declare one
    assert states(g, "Dividends paid 400", unit=BILLION, context={MILLION})


def test_an_amount_in_the_questions_unit_and_a_table_in_thousands() -> None:
    g = gold("$1832.00")  # "... Answer in USD millions."
    assert states(g, "operating income was 1,832", unit=MILLION)
    assert states(g, "(in thousands) operating income 1,832,000", unit=MILLION)
    assert states(g, "operating income was 1,831.9", unit=MILLION)  # ".00" is format
    assert not states(g, "operating income was 1,831.4", unit=MILLION)
    assert not states(g, "$1.8 billion", unit=MILLION)  # 1,800 at the gold's precision


@pytest.mark.parametrize(
    ("gold_text", "unit", "row"),
    [  # FinanceBench's golds and the rows of the statements they come from
        ("$4.60", BILLION, "(in millions) Capital spending (4,625) (4,240) (4,232)"),
        ("$5466.00", MILLION, "(in thousands) Total current liabilities 5,466,312 4,586,657"),
        ("$303.00", MILLION, "(In thousands, except share data) Accounts payable $ 302,578"),
        ("$382.00", MILLION, "(In thousands) Net cash provided by operating activities 381,603"),
    ],
)
def test_a_golds_trailing_zeros_are_format_not_precision(
    gold_text: str, unit: Decimal, row: str
) -> None:
    assert states(gold(gold_text), row, unit=unit)


def test_significant_decimals_drop_trailing_zeros_only_after_the_point() -> None:
    assert [gold(t).significant for t in ("$4.60", "303.00", "300", "1.73", "0.0", "1.50%")] == [
        1, 0, 0, 2, 0, 1,
    ]  # fmt: skip


def test_percents_match_percents_and_bare_table_cells_only() -> None:
    g = gold("101.5%")
    assert states(g, "revenue grew 101.5 percent")
    assert states(g, "Growth % 101.5")  # a column headed % prints no sign
    assert not states(g, "$101.5")
    assert not states(g, "101.5 million")
    assert states(g, "101.54%") and not states(g, "101.56%")  # 101.6 at the gold's precision
    ratio = gold("1.73")
    assert states(ratio, "a working capital ratio of 1.73")
    assert not states(ratio, "up 1.73%")


def test_signs_are_read_but_magnitudes_compared() -> None:
    # statements print payments as negatives that questions ask for as amounts paid
    assert states(gold("$0.40"), "Dividends paid (In millions) (400)", unit=BILLION)
    g = gold("-$473 million")
    assert states(g, "Corporate net revenue (473) (in millions)")
    assert states(g, "net revenue was negative $473 million")
    assert states(g, "net revenue 473 in millions")
    assert not states(g, "net revenue (474) in millions")


def test_a_gold_with_its_own_scale_word_is_counted_in_it() -> None:
    g = gold("$400 million")  # to a question "in USD billions"
    assert states(g, "paid $0.4 billion", unit=BILLION)
    assert states(g, "paid 0.4", unit=BILLION)  # a bare number in the question's unit
    assert states(g, "Dividends (in thousands) 400,000", unit=BILLION)
    assert states(g, "paid 400", unit=BILLION)  # ...and in the gold's own
    assert not states(g, "paid 4", unit=BILLION)
    assert states(gold("$8,400,000,000"), "may borrow up to $8.4 billion")


# -- properties ---------------------------------------------------------------------------

decimals_ = st.integers(min_value=0, max_value=4)
magnitudes = st.integers(min_value=0, max_value=10**12)


def printed(units: int, decimals: int, *, commas: bool) -> str:
    """``units`` / 10**decimals as printed with ``decimals`` decimals."""
    text = f"{Decimal(units).scaleb(-decimals):.{decimals}f}"
    if commas:
        whole, _, frac = text.partition(".")
        text = f"{int(whole):,}" + (f".{frac}" if frac else "")
    return text


@given(magnitudes, decimals_, st.booleans(), st.booleans(), st.booleans())
def test_printing_then_reading_a_figure_gives_it_back(
    units: int, decimals: int, commas: bool, dollar: bool, negative: bool
) -> None:
    text = printed(units, decimals, commas=commas)
    if dollar:
        text = "$" + text
    if negative:
        text = f"({text})"
    figure = gold(text)
    want = Decimal(units).scaleb(-decimals)
    assert figure.value == (-want if negative else want)
    assert figure.decimals == decimals
    assert figures_in(f"the total was {text} for the year") == [figure]


@given(magnitudes, decimals_, st.sampled_from([THOUSAND, MILLION, BILLION]))
def test_the_same_amount_in_another_unit_matches(units: int, decimals: int, scale: Decimal) -> None:
    g = gold(printed(units, decimals, commas=True))
    amount = g.value * scale  # the gold is counted in `scale`
    in_thousands = f"{amount / THOUSAND:f} thousand"
    assert states(g, in_thousands, unit=scale)
    assert states(g, f"{amount:f}", unit=scale, context={Decimal(1)})


@given(magnitudes, decimals_)
def test_the_precision_window_is_half_a_last_digit_each_side(units: int, decimals: int) -> None:
    g = gold(printed(units, decimals, commas=False))
    half = Decimal(5).scaleb(-g.significant - 1)  # its last digit that is not a trailing zero
    tiny = Decimal(1).scaleb(-decimals - 3)

    def stated(value: Decimal) -> bool:
        return matches(g, Figure(value, decimals + 3), unit=Decimal(1), context=())

    assert stated(g.value)
    assert stated(g.value + half - tiny)
    assert not stated(g.value + half)
    if g.value > 0:  # below zero the window's low side belongs to -0.00
        assert stated(g.value - half)
        assert not stated(g.value - half - tiny)


def test_the_unit_a_question_asks_for_is_its_first_declared_one() -> None:
    assert declared_unit("How much (in USD billions) did it pay, in millions?") == BILLION
    assert declared_unit("What is the FY2018 ratio?") is None
