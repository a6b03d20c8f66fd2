"""Quotable units: prose sentences, code lines, definitions and table rows kept apart."""

from rag.answers.sentence_units import Unit, line_kind, units_of


def test_a_code_line_and_the_explanation_after_it_are_two_units() -> None:
    text = (
        "Output can be sent to a file with the command\n"
        '> sink("record.lis")\n'
        "which will divert all subsequent output from the console to an external file.\n"
        "The command sink() restores it to the console once again."
    )
    assert units_of(text) == [
        Unit("Output can be sent to a file with the command", "prose"),
        Unit('> sink("record.lis")', "code"),
        Unit(
            "which will divert all subsequent output from the console to an external file.",
            "prose",
        ),
        Unit("The command sink() restores it to the console once again.", "prose"),
    ]


def test_definition_items_are_one_unit_each_with_their_wrapped_meaning() -> None:
    text = (
        "round(x) rounding x to nearest integer\n"
        "round(x, n) rounding x to n fractional decimal digits, away from\n"
        "zero on ties\n"
        "hist(x)\n"
        "Produces a histogram of the numeric vector x."
    )
    assert units_of(text) == [
        Unit("round(x) rounding x to nearest integer", "item"),
        Unit(
            "round(x, n) rounding x to n fractional decimal digits, away from zero on ties", "item"
        ),
        Unit("hist(x)", "code"),
        Unit("Produces a histogram of the numeric vector x.", "prose"),
    ]


def test_table_rows_stay_rows() -> None:
    text = (
        "Revenue by segment is shown below.\n"
        "Water 1,234 2,345 3,456\n"
        "Net income (400) 200 300\n"
        "| name | value |\n"
        "The table is in millions."
    )
    kinds = [(u.kind, u.text) for u in units_of(text)]
    assert kinds == [
        ("prose", "Revenue by segment is shown below."),
        ("row", "Water 1,234 2,345 3,456"),
        ("row", "Net income (400) 200 300"),
        ("row", "| name | value |"),
        ("prose", "The table is in millions."),
    ]


def test_statements_of_a_modelling_language_are_code() -> None:
    assert line_kind("var make{p in prd}, integer, >= commit[p], <= market[p];") == "code"
    assert line_kind("subject to balance{i in raw, t in 1..T}:") == "code"
    assert line_kind("specifies a value assigned to the parameter or its members;") == "prose"
    assert line_kind("The function seq() makes ranges of numbers.") == "prose"


def test_markdown_fences_and_headings() -> None:
    text = (
        "# Setup\n\nInstall it with pip first.\n\n```\npip install rag-chat\n```\n"
        "Then run it from the shell."
    )
    assert units_of(text) == [
        Unit("Install it with pip first.", "prose"),
        Unit("pip install rag-chat", "code"),
        Unit("Then run it from the shell.", "prose"),
    ]


def test_a_code_comment_is_no_quote_on_its_own() -> None:
    text = "> hist(eruptions)\n## make the bins smaller\n> hist(eruptions, seq(1.6, 5.2, 0.2))"
    assert units_of(text) == [
        Unit("> hist(eruptions)", "code"),
        Unit("> hist(eruptions, seq(1.6, 5.2, 0.2))", "code"),
    ]
