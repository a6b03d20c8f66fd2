"""Quotable units: prose sentences, code lines, definitions and table rows kept apart."""

from rag.answers.sentence_units import (
    Unit,
    line_kind,
    sentences,
    units_of,
    without_reference_marks,
    word_count,
)


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
    # the heading is no quote; it is the section of the units under it
    assert units_of(text) == [
        Unit("Install it with pip first.", "prose", "Setup"),
        Unit("pip install rag-chat", "code", "Setup"),
        Unit("Then run it from the shell.", "prose", "Setup"),
    ]


def test_a_code_comment_is_no_quote_on_its_own() -> None:
    text = "> hist(eruptions)\n## make the bins smaller\n> hist(eruptions, seq(1.6, 5.2, 0.2))"
    assert units_of(text) == [
        Unit("> hist(eruptions)", "code"),
        Unit("> hist(eruptions, seq(1.6, 5.2, 0.2))", "code"),
    ]


def test_a_statements_row_with_a_long_label_is_a_row() -> None:
    text = (
        "Net Cash Provided by Operating Activities 11,616 10,613 9,649\n"
        "Accounts payable and other current liabilities 1,762 766 735\n"
        "Short-term investments — 266,206\n"
        "Revenue grew in 2019 and 2020 across the segments we report.\n"
    )
    assert [u.kind for u in units_of(text)] == ["row", "row", "row", "prose"]
    # a paragraph is longer than any row, whatever it ends with
    assert line_kind("word " * 40 + "12 13") == "prose"


def test_an_amount_that_opens_a_line_is_not_a_shell_prompt() -> None:
    assert line_kind("$4.2 billion, as well as purchases of short-term investments") == "prose"
    assert line_kind("$ make install") == "code"
    assert line_kind("$ (1,234) (2,345) (3,456)") == "row"


def test_a_table_of_words_is_one_item_per_line() -> None:
    # gmpl.pdf's table of operators: no code marks, no figures, lines far shorter than the
    # prose around them; read as prose they became one "sentence" starting in lower case
    text = (
        "In MathProg there exist the following arithmetic operators, which may be used in\n"
        "numeric expressions:\n"
        "x div y quotient of exact division\n"
        "x mod y remainder of exact division\n"
        "3.1.10 Hierarchy of operations\n"
        "If the expression includes more than one arithmetic operator, all operators are\n"
        "performed from left to right according to the hierarchy of operations."
    )
    assert units_of(text) == [
        Unit(
            "In MathProg there exist the following arithmetic operators, which may be used in "
            "numeric expressions:",
            "prose",
        ),
        Unit("x div y quotient of exact division", "item"),
        Unit("x mod y remainder of exact division", "item"),
        Unit(
            "3.1.10 Hierarchy of operations If the expression includes more than one arithmetic "
            "operator, all operators are performed from left to right according to the "
            "hierarchy of operations.",
            "prose",
        ),
    ]


def test_narrow_columns_and_a_paragraphs_short_last_line_stay_prose() -> None:
    # a two-column page: every line is short, so none is short for this passage
    narrow = (
        "The incidence of childhood pneumonia\n"
        "fell by a quarter between 2000 and\n"
        "2010 in low and middle income\n"
        "countries while deaths fell by half\n"
        "over the same decade and region.\n"
        "Vaccines explain part of the fall."
    )
    assert [u.kind for u in units_of(narrow)] == ["prose", "prose"]
    # one short line alone (a paragraph's end without a full stop) is no list
    wide = (
        "The function summary() prints the coefficients of a fitted model and their standard\n"
        "errors and tests\n"
        "Use anova() to compare two nested models fitted to the same data, as shown below."
    )
    assert [u.kind for u in units_of(wide)] == ["prose"]


def test_a_figures_title_and_axis_labels_are_no_list() -> None:
    # R-intro.pdf's histogram: short lines without punctuation, but one worded line among
    # them; and "result.)" ends a sentence
    text = (
        "methods of bandwidth choice are available, and in this example bw = SJ gives a good\n"
        "result.)\n"
        "Histogram of eruptions\n"
        "eruptions\n"
        "Relative Frequency\n"
        "We can plot the empirical cumulative distribution function by using the function ecdf."
    )
    assert "item" not in [u.kind for u in units_of(text)]


def test_a_line_that_finishes_the_sentence_before_it_is_prose_not_code() -> None:
    text = (
        "Adds points or connected lines to the current plot. plot()'s type= argument\n"
        'can also be passed to these functions (and defaults to "p" for points() and\n'
        '"l" for lines().)\n'
        "text(x, y, labels, ...)\n"
        "They may be executed at any time in an R session with the command\n"
        '> source("commands.R")'
    )
    assert [(u.kind, u.text) for u in units_of(text)] == [
        (
            "prose",
            "Adds points or connected lines to the current plot. plot()'s type= argument can "
            'also be passed to these functions (and defaults to "p" for points() and "l" for '
            "lines().)",
        ),
        ("code", "text(x, y, labels, ...)"),
        ("prose", "They may be executed at any time in an R session with the command"),
        ("code", '> source("commands.R")'),
    ]


# a chunk cut by size holds the end of one section and the start of the next (R-intro p.12)
NEXT_SECTION = (
    "The command\n> sink()\nrestores it to the console once again.\n"
    "1.11 Data permanency and removing objects\n"
    "The entities that R creates and manipulates are known as objects.\n"
    "To remove objects the function rm is available:\n"
    "> rm(x, y, z, ink, junk, temp, foo, bar)"
)


def test_a_numbered_heading_inside_a_passage_starts_the_section_of_the_units_after_it() -> None:
    assert units_of(NEXT_SECTION) == [
        Unit("> sink()", "code"),
        Unit("restores it to the console once again.", "prose"),
        Unit(
            "The entities that R creates and manipulates are known as objects.",
            "prose",
            "Data permanency and removing objects",
        ),
        Unit(
            "To remove objects the function rm is available:",
            "prose",
            "Data permanency and removing objects",
        ),
        Unit(
            "> rm(x, y, z, ink, junk, temp, foo, bar)",
            "code",
            "Data permanency and removing objects",
        ),
    ]
    assert line_kind("1.11 Data permanency and removing objects") == "heading"
    assert line_kind("3.1.10 Hierarchy of operations") == "heading"
    # a figure row, a sentence and an amount are no headings
    assert line_kind("1.5 2.0 2.5 3.0 3.5 4.0") == "row"
    assert line_kind("2.5 Million people were tested in the first week of the study.") == "prose"


def test_a_section_number_that_continues_a_wrapped_sentence_is_prose() -> None:
    text = (
        "The order in which operators apply is given in Section\n"
        "3.1 Hierarchy of operations\n"
        "and may be changed with parentheses."
    )
    assert units_of(text) == [
        Unit(
            "The order in which operators apply is given in Section 3.1 Hierarchy of "
            "operations and may be changed with parentheses.",
            "prose",
        )
    ]


def test_what_ends_before_a_heading_was_not_cut_by_the_chunk() -> None:
    # a table read as prose, then the next section's heading that the chunk's end cut short:
    # the table ends without a full stop, but the heading after it shows it is whole
    text = (
        "Country % of total population infected (mean [95% credible interval])\n"
        "Austria 1.1% [0.36%-3.1%]\nBelgium 3.7% [1.3%-9.7%]\n\n2.2 Reproduction"
    )
    (unit,) = units_of(text)
    assert unit.text.endswith("Belgium 3.7% [1.3%-9.7%]")
    # without the heading, the same last unit could be a sentence the chunk's end cut
    assert units_of(text.removesuffix("\n\n2.2 Reproduction")) == []


def test_sentences_end_before_a_capital_of_any_script_and_at_a_chinese_full_stop() -> None:
    assert sentences("Der Import ist fertig. Über die Konsole geht es weiter.") == [
        "Der Import ist fertig.",
        "Über die Konsole geht es weiter.",
    ]
    assert sentences("Москва — столица России. Это крупнейший город страны.") == [
        "Москва — столица России.",
        "Это крупнейший город страны.",
    ]
    assert sentences("東京は日本の首都です。人口は約千四百万人です。") == [
        "東京は日本の首都です。",
        "人口は約千四百万人です。",
    ]
    said = ["«Oui.» Il est 5 h.", "«Non!» dit-il."]
    assert sentences("«Oui.» Il est 5 h. «Non!» dit-il.") == said
    # a lower-case word after an abbreviation goes on with the sentence
    abbreviated = ["See e.g. the manual.", "It is short."]
    assert sentences("See e.g. the manual. It is short.") == abbreviated


def test_a_sentence_written_without_spaces_counts_its_words_by_characters() -> None:
    assert word_count("東京は日本の首都です。") == 5
    assert word_count("The R command hist plots") == 5
    # the last sentence of a passage that ends in 。 was whole, not cut by the chunk's end
    assert [u.text for u in units_of("東京は日本の首都です。人口は約千四百万人です。")] == [
        "東京は日本の首都です。",
        "人口は約千四百万人です。",
    ]


def test_a_books_running_head_and_a_line_of_symbols_are_no_part_of_a_sentence() -> None:
    # R-intro p.40: the page's running head and a drawn frame's corners ran into the quote
    text = (
        "Chapter 7: Reading data from files 34\n☛ ✟\n"
        "Input file form without row labels is read with the function read.table().\n"
        "Chapter 4: Ordered and unordered factors 18\n"
        "4.2 The function tapply() and ragged arrays\n"
        "To continue the previous example, suppose we have the incomes of the same tax\n"
        "accountants in another vector."
    )
    assert [(u.text, u.section) for u in units_of(text)] == [
        ("Input file form without row labels is read with the function read.table().", ""),
        (
            "To continue the previous example, suppose we have the incomes of the same tax "
            "accountants in another vector.",
            "The function tapply() and ragged arrays",
        ),
    ]
    assert line_kind("34 Chapter 7: Reading data from files") == "furniture"
    assert line_kind("Appendix A: A sample session 80") == "furniture"
    # a chapter named in a sentence, a brace closing a block: no furniture
    assert line_kind("See Chapter 7: it explains the 34 options.") == "prose"
    assert line_kind("}") == "code"


def test_a_chapters_heading_and_a_page_number_alone_start_a_section() -> None:
    # R-intro p.14: "8", then the chapter's and the section's headings, then its text; all
    # four were one "sentence" under the previous chapter's last section
    text = (
        "8\n2 Simple manipulations; numbers and vectors\n2.1 Vectors and assignment\n"
        "R operates on named data structures.\n"
    )
    assert units_of(text) == [
        Unit("R operates on named data structures.", "prose", "Vectors and assignment")
    ]
    assert line_kind("2 Simple manipulations; numbers and vectors") == "heading"
    # a numbered reference is no heading, and a year a sentence runs into stays in it
    assert line_kind("22. Kendal AP, Noble GR, Skehel JJ. Antigenic similarity") != "heading"
    # a numbered list of short lines holds no chapters: nothing after it is under "Cup …"
    recipe = "2 Eggs beaten well\n1 Cup of white flour\nBeat the eggs into the flour slowly.\n"
    assert {u.section for u in units_of(recipe)} == {""}
    wrapped = "The outbreak began in the spring of\n2020\nand spread within weeks to Europe."
    assert [u.text for u in units_of(wrapped)] == [" ".join(wrapped.split())]


def test_a_sources_reference_marks_leave_its_text_and_indexing_stays() -> None:
    marked = {
        "isolated from some clustered cases [2] .": "isolated from some clustered cases.",
        "in the WHO European Region [3] [4] [5] .": "in the WHO European Region.",
        "onset [7] , consistent": "onset, consistent",
        "at least 40 mg/L [21, 22] .": "at least 40 mg/L.",
        "as before.[3–5] Then": "as before. Then",
    }
    for text, plain in marked.items():
        assert without_reference_marks(text) == plain
    for code in ("x[1] and f(x)[2]", "Lst[[1]] is its first part", "[1] 1.6000 2.1585"):
        assert without_reference_marks(code) == code


def test_a_first_line_that_goes_on_the_page_befores_sentence_is_no_entry() -> None:
    # R-intro p.38 starts with the end of p.37's sentence; read as a list entry it opened
    # the answer to "How do I remove objects from the workspace?"
    passage = (
        "where .GlobalEnv is the workspace.1\n"
        "After lentils is attached we have\n"
        "> search()\n"
        '[1] ".GlobalEnv" "lentils" "Autoloads" "package:base"\n'
        "> ls(2)\n"
        '[1] "u" "v" "w"\n'
        "and as we see ls (or objects) can be used to examine the contents of any position on the\n"
        "search path.\n"
        "Finally, we detach the data frame and confirm it has been removed from the search path."
    )
    texts = [u.text for u in units_of(passage)]
    assert "where .GlobalEnv is the workspace.1" not in texts and "> ls(2)" in texts
    # a table of words may open a passage in lower case: its first entry stays
    table = (
        "x div y quotient of exact division\n"
        "x mod y remainder of exact division\n"
        "x ** y exponentiation of x to the power of y\n"
        "If the expression includes more than one arithmetic operator, all operators are\n"
        "performed from left to right according to the hierarchy of operations."
    )
    assert units_of(table)[0] == Unit("x div y quotient of exact division", "item")


def test_a_line_that_opens_with_a_call_inside_a_sentence_goes_on_that_sentence() -> None:
    # R-intro p.15: "How do I sort a vector?" quoted "... (see order() or" and then
    # "sort.list() which produce a permutation ..." as a second entry
    passage = (
        "sort(x) returns a vector of the same size as x with the elements arranged in\n"
        "increasing order; however there are other sorting facilities (see order() or\n"
        "sort.list() which produce a permutation to do the sorting).\n"
        "Note that max and min select the largest and smallest values in their arguments."
    )
    first, second = units_of(passage)
    assert first.text.endswith("(see order() or sort.list() which produce a permutation to do "
                               "the sorting).")  # fmt: skip
    assert second.text.startswith("Note that max")
    # a definition list whose meanings end without a stop keeps one entry per line
    table = "sum(x) Sum of the elements of x\nprod(x) Product of the elements of x.\n"
    assert [u.text for u in units_of(table)] == [
        "sum(x) Sum of the elements of x",
        "prod(x) Product of the elements of x.",
    ]


def test_a_sentence_ends_where_a_bracket_closes_after_its_stop() -> None:
    text = "See the help facility for further details.) Warning: for() loops are rare."
    assert sentences(text) == [
        "See the help facility for further details.)",
        "Warning: for() loops are rare.",
    ]
    assert sentences('He said "stop." Then he left.') == ['He said "stop."', "Then he left."]


def test_quoted_values_typed_into_a_call_are_code_not_the_sentence_after_them() -> None:
    passage = (
        '"sa", "act", "nsw", "vic", "vic", "act")\n'
        "Notice that in the case of a character vector, “sorted” means sorted in alphabetical\n"
        "order."
    )
    units = units_of(passage)
    assert [u.kind for u in units] == ["prose"]  # the tail of a call is no line to type
    assert units[0].text.startswith("Notice that")
    assert line_kind('"qld", "vic", "nsw", "vic", "qld", "qld", "sa", "tas",') == "code"


def test_a_one_letter_command_is_quotable_and_an_operator_opens_no_sentence() -> None:
    passage = "4. To quit the R program the command is\n> q()\n"
    assert units_of(passage)[-1] == Unit("> q()", "code")
    cut = "<- 10 and compare the sequences 1:n-1 and 1:(n-1).\nThe construction 30:1 may be used."
    assert [u.text for u in units_of(cut)] == ["The construction 30:1 may be used."]
    for opens in ("`RAG_CHUNK_SIZE` (default 200) is in tokens.", ".dual dual value of it."):
        assert [u.text for u in units_of(opens)] == [opens]


def test_an_appendixs_lettered_section_starts_a_section() -> None:
    passage = (
        'table list IN "CSV" "list.csv": num <- [RECNO], ...\n'
        "C.1 CSV table driver\n"
        "The CSV table driver assumes that the data table is a plain text file."
    )
    assert units_of(passage)[-1] == Unit(
        "The CSV table driver assumes that the data table is a plain text file.",
        "prose",
        "CSV table driver",
    )


def test_a_wrapped_line_that_ends_on_a_date_is_prose_not_a_row() -> None:
    # Netflix's 2017 10-K: the line was read as a row and cut the sentence in two
    line = (
        "and International streaming segments, respectively, as compared to the year ended "
        "December 31, 2016 . International revenues as of the end of December 31, 2017"
    )
    assert line_kind(line) == "prose"
    assert line_kind("Net Cash Provided by Operating Activities 11,616 10,613 9,649") == "row"
