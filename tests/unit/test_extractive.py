"""Extractive answers: units scored, chosen best first, rendered with their section and
cited with their quotes, exactly."""

import numpy as np

from rag.answers.extractive import (
    Extract,
    Sentence,
    candidates,
    cite,
    evidence,
    in_reading_runs,
    is_title,
    render,
    scored,
    select,
    signals,
    split_sentences,
    with_companions,
    with_followers,
)
from rag.answers.quote_scores import QuoteWeights, Signals, names_asked, sentence_bm25
from rag.types import Citation, Hit


def test_split_drops_cut_fragments_and_table_of_contents() -> None:
    text = (
        "of the previous sentence. R has many vectors.\nThey hold values of one type.\n\n"
        "2.3 Generating sequences ........ 8\n\nThe function seq() makes ranges! And it is"
    )
    assert split_sentences(text) == [
        "R has many vectors.",
        "They hold values of one type.",
        "The function seq() makes ranges!",
    ]


def test_split_sentences_exact() -> None:
    assert split_sentences("First one is here. Second one is here? Third one, also here.") == [
        "First one is here.",
        "Second one is here?",
        "Third one, also here.",
    ]


def test_select_best_first_without_duplicates() -> None:
    sentences = [
        Sentence("late in passage one", 1, 5),
        Sentence("early in passage two", 2, 0),
        Sentence("copy of early in two", 2, 1),
        Sentence("early in passage one", 1, 0),
        Sentence("weak one", 3, 0),
    ]
    vectors = np.eye(5, dtype=np.float32)
    vectors[2] = vectors[1]  # a duplicate of sentence 1
    scores = [0.70, 0.80, 0.79, 0.66, 0.40]
    picked = select(sentences, scores, vectors)
    # the best answer opens the answer, whatever its place in the passages
    assert [(s.n, s.position) for s in picked] == [(2, 0), (1, 5), (1, 0)]
    assert [s.score for s in picked] == [0.80, 0.70, 0.66]


def test_the_sentence_naming_what_is_asked_outranks_a_closer_cosine() -> None:
    """The histogram case of issue 24: the qqplot sentence has the better cosine, the hist
    line and its explanation name what the question asks."""
    found = [
        Sentence("The third form plots the quantiles of x against those of y.", 1, 0),
        Sentence("hist(x)", 1, 1, kind="code"),
        Sentence("Produces a histogram of the numeric vector x.", 1, 2),
    ]
    question_terms = ["histogram", "data"]
    units = [["third", "form", "plot"], ["hist", "x"], ["produc", "histogram", "vector", "x"]]
    lexical = sentence_bm25(question_terms, units)
    sig = [
        Signals(cosine=0.40, lexical=lexical[0], code=0.0, heading=0.0, rank=1.0),
        Signals(
            cosine=0.20,
            lexical=lexical[1],
            code=names_asked("hist(x)", ["histogram"]),
            heading=0.0,
            rank=1.0,
        ),
        Signals(cosine=0.35, lexical=lexical[2], code=0.0, heading=0.0, rank=1.0),
    ]
    weights = QuoteWeights(lexical=0.5, code=0.1, heading=0.0, rank=0.0, near=0.6)
    scores = scored(found, sig, weights)
    picked = select(found, scores, np.eye(3, dtype=np.float32), spread=1.0)
    # the qqplot sentence, best by cosine alone, comes last
    assert [s.position for s in picked] == [1, 2, 0]


def test_the_sentence_with_the_figure_answers_a_how_many_question() -> None:
    """COVID-QA's kind: both sentences name the subject, one gives the number asked for."""
    question = "What is the size of the bovine coronavirus genome?"
    found = [
        Sentence("The bovine coronavirus genome was sequenced in France [4].", 1, 0),
        Sentence("Its genome is 31 kb long.", 1, 1),
    ]
    cosines = [0.62, 0.55]
    sig = signals(question, found, cosines, {1: ""})
    assert [s.expected for s in sig] == [0.0, 1.0]  # "[4]" is a citation, not a figure
    picked = select(found, scored(found, sig, QuoteWeights()), np.eye(2, dtype=np.float32))
    assert picked[0].text == "Its genome is 31 kb long."
    # without the signal the closer cosine would open the answer
    plain = scored(found, sig, QuoteWeights(expected=0.0, lexical=0.0))
    assert select(found, plain, np.eye(2, dtype=np.float32))[0].position == 0


def test_sentence_bm25_reads_zero_to_one() -> None:
    scores = sentence_bm25(["hist", "data"], [["hist", "data"], ["hist"], ["plot"]])
    assert scores[2] == 0.0 and scores[0] > scores[1] > 0.0
    assert sentence_bm25([], [["a"]]) == [0.0]


def test_names_asked_by_name_or_its_start() -> None:
    assert names_asked("> hist(eruptions)", ["histogram"]) == 1.0
    assert names_asked("seq(1, 10)", ["sequence"]) == 1.0
    assert names_asked("lm(y ~ x)", ["function", "lm", "fit"]) == 1.0
    assert names_asked("rm(x, y)", ["rmse"]) == 0.0  # two letters name only themselves
    assert names_asked("plot(x)", ["histogram"]) == 0.0


def test_companions_bring_the_code_an_explanation_is_about() -> None:
    found = [
        Sentence('> sink("record.lis")', 1, 0, kind="code"),
        Sentence("will divert all subsequent output to an external file.", 1, 1),
        Sentence("> sink()", 1, 2, kind="code"),
        Sentence("Unrelated prose in another passage.", 2, 0),
    ]
    chosen = [replace_score(found[1], 0.9), replace_score(found[3], 0.5)]
    assert [s.text for s in with_companions(chosen, found, after=True)] == [
        '> sink("record.lis")',
        "will divert all subsequent output to an external file.",
        "> sink()",
        "Unrelated prose in another passage.",
    ]
    assert [s.text for s in with_companions(chosen, found)] == [
        '> sink("record.lis")',
        "will divert all subsequent output to an external file.",
        "Unrelated prose in another passage.",
    ]


def test_a_programs_output_brings_the_command_before_it() -> None:
    # "F test to compare two variances" is what "> var.test(A, B)" prints: quoted alone it
    # names no command; an entry of a list of words brings no other entry
    found = [
        Sentence("> var.test(A, B)", 1, 0, kind="code"),
        Sentence("F test to compare two variances", 1, 1, kind="item"),
        Sentence("x div y quotient of exact division", 2, 0, kind="item"),
        Sentence("x mod y remainder of exact division", 2, 1, kind="item"),
    ]
    chosen = [replace_score(found[1], 0.9), replace_score(found[3], 0.5)]
    assert [s.text for s in with_companions(chosen, found)] == [
        "> var.test(A, B)",
        "F test to compare two variances",
        "x mod y remainder of exact division",
    ]


def test_a_quote_that_stops_at_a_code_line_brings_that_line() -> None:
    # "... with the command" goes on in the line after it; a finished sentence does not
    found = [
        Sentence("they may be executed at any time in an R session with the command", 1, 0),
        Sentence('> source("commands.R")', 1, 1, kind="code"),
        Sentence("R has a function hist to plot histograms.", 2, 0),
        Sentence("> hist(eruptions)", 2, 1, kind="code"),
    ]
    chosen = [replace_score(found[0], 0.9), replace_score(found[2], 0.5)]
    assert [s.text for s in with_companions(chosen, found)] == [
        "they may be executed at any time in an R session with the command",
        '> source("commands.R")',
        "R has a function hist to plot histograms.",
    ]


def test_the_best_quote_brings_the_sentence_that_finishes_it() -> None:
    # the gold "a 25% decrease ..., from 0.29 ... to 0.22" spans the best quote and the one
    # after it; read as one paragraph, in order, cited once
    found = [
        Sentence("Recent data suggest a 25% decrease in the incidence of pneumonia.", 1, 0),
        Sentence("It fell from 0.29 episodes per child year in 2000 to 0.22 in 2015.", 1, 1),
        Sentence("Another study from elsewhere.", 2, 0),
    ]
    chosen = [replace_score(found[0], 0.9), replace_score(found[2], 0.5)]
    out = with_followers(chosen, found, follow=1)
    assert [s.text for s in out] == [found[0].text, found[2].text, found[1].text]
    assert "".join(render(in_reading_runs(out))) == (
        "Recent data suggest a 25% decrease in the incidence of pneumonia. It fell from 0.29"
        " episodes per child year in 2000 to 0.22 in 2015 [1].\n\nAnother study from"
        " elsewhere [2]."
    )
    assert with_followers(chosen, found, follow=0) == chosen


def test_a_follower_stays_in_the_best_quotes_section_and_in_prose() -> None:
    found = [
        Sentence("Use rm to remove objects.", 1, 0, heading="Removing objects"),
        Sentence("Vectors are the simplest structure.", 1, 1, heading="Vectors"),
        Sentence("R has a function hist to plot histograms.", 2, 0),
        Sentence("> hist(eruptions)", 2, 1, kind="code"),
        Sentence("> plot(x)", 3, 0, kind="code"),
        Sentence("Plots x.", 3, 1),
    ]
    for best in (found[0], found[2], found[4]):
        chosen = [replace_score(best, 0.9)]
        assert with_followers(chosen, found, follow=2) == chosen
    # a sentence quoted already is not quoted twice, and nothing after it joins
    two = [
        Sentence("First.", 1, 0), Sentence("Second.", 1, 1), Sentence("Third.", 1, 2),
    ]  # fmt: skip
    chosen = [replace_score(two[0], 0.9), replace_score(two[1], 0.5)]
    assert with_followers(chosen, two, follow=2) == chosen


def replace_score(s: Sentence, score: float) -> Sentence:
    return Sentence(s.text, s.n, s.position, score, s.kind, s.heading)


def test_a_quote_leaves_out_its_sources_reference_marks() -> None:
    # "[2] [2]" read as two citations of passage 2, "[3] [4]" as citations of passages the
    # sentence does not come from
    quotes = [
        Sentence("Shared by Chinese authorities from clustered cases [2] .", 1, 0),
        Sentence("> x[1] <- 2", 1, 1, kind="code"),
    ]
    assert "".join(render(quotes)) == (
        "Shared by Chinese authorities from clustered cases [1].\n\n> x[1] <- 2 [1]."
    )


def test_render_puts_the_citation_before_the_final_punctuation() -> None:
    parts = render([Sentence("NA marks missing values.", 1, 0), Sentence("Use seq()", 2, 0)])
    assert parts == ["NA marks missing values [1].", "\n\nUse seq() [2]."]


def test_render_cites_a_japanese_sentence_before_its_full_stop() -> None:
    assert render([Sentence("東京は日本の首都です。", 1, 0)]) == ["東京は日本の首都です [1]。"]


def test_render_shows_each_quotes_section_once() -> None:
    parts = render(
        [
            Sentence("hist(x)", 1, 3, kind="code", heading="Display graphics"),
            Sentence("Produces a histogram.", 1, 4, heading="Display graphics"),
            Sentence("A stem-and-leaf plot is like a histogram.", 2, 0, heading="Examining *data*"),
        ]
    )
    assert "".join(parts) == (
        "*Display graphics:* hist(x) [1].\n\nProduces a histogram [1].\n\n"
        "*Examining data:* A stem-and-leaf plot is like a histogram [2]."
    )


def test_quotes_next_to_one_another_read_in_their_passages_order_as_one_paragraph() -> None:
    best_first = [
        Sentence("It was 37% at day 14.", 1, 5),
        Sentence("R has a function hist.", 2, 0),
        Sentence("Of the 120 patients, 44 had a fever.", 1, 4),
        Sentence("Fever fell after day 20.", 1, 6),
    ]
    runs = in_reading_runs(best_first)
    assert [(s.n, s.position) for s in runs] == [(1, 4), (1, 5), (1, 6), (2, 0)]
    assert "".join(render(runs)) == (
        "Of the 120 patients, 44 had a fever. It was 37% at day 14. Fever fell after day 20 [1]."
        "\n\nR has a function hist [2]."
    )


def test_a_code_line_next_to_its_prose_keeps_a_paragraph_and_a_citation_of_its_own() -> None:
    runs = in_reading_runs(
        [Sentence("Produces a histogram.", 1, 4), Sentence("hist(x)", 1, 3, kind="code")]
    )
    assert "".join(render(runs)) == "hist(x) [1].\n\nProduces a histogram [1]."


def test_each_citation_holds_its_passage_and_the_units_quoted_from_it() -> None:
    hits = [
        Hit(chunk_id=f"c{n}", text=f"passage {n}", source="doc.pdf", page=n, score=1.0)
        for n in (1, 2, 3)
    ]
    sentences = [
        Sentence("First one is here.", 3, 0, heading="Intro"),
        Sentence("A long one, clipped …", 1, 4, heading="Methods"),
        Sentence("> hist(x)", 3, 2, kind="code", heading="Intro"),
    ]
    # one per passage, in the order of its first quote; its quotes in the answer's order,
    # as the passage has them (with their end mark, without a clip's ellipsis)
    assert cite(sentences, hits) == [
        Citation(3, hits[2], ("First one is here.", "> hist(x)")),
        Citation(1, hits[0], ("A long one, clipped",)),
    ]
    assert cite([], hits) == []


def test_evidence_adds_the_share_of_terms_to_the_cosine() -> None:
    assert evidence(0.3, 0.5, 0.2) == 0.3 + 0.1
    assert Extract().evidence() == -1.0  # no quotes, no evidence
    assert Extract([Sentence("x y z w", 1, 0)], cosine=0.4, terms=1.0).evidence(0.0) == 0.4


CASH_FLOWS = "Consolidated Statement of Cash Flows · PepsiCo, Inc. · (in millions) · 2021 2020 2019"
INVESTING = """Investing Activities
Capital spending (4,625) (4,240) (4,232)
Sales of property, plant and equipment 166 55 170
Net Cash Used for Investing Activities (3,269) (11,619) (6,437)
"""
CAPEX = (
    "What is the FY2021 capital expenditure amount (in USD billions) for PepsiCo? Respond as "
    "an investment analyst who can only use the details shown within the statement of cash "
    "flows."
)


def statement_hit(n: int, text: str, title: str = CASH_FLOWS) -> Hit:
    return Hit(chunk_id=f"c{n}", text=text, source="10k.pdf", page=63, score=1.0,
               header_path=title)  # fmt: skip


def test_a_figure_question_scores_the_row_its_asking_sentence_names() -> None:
    found = candidates([(1, statement_hit(1, INVESTING))])
    assert [s.kind for s in found] == ["row", "row", "row"]
    sig = signals(CAPEX, found, [0.4, 0.4, 0.4], {1: CASH_FLOWS})
    # "capital" of "Capital spending" is asked; "cash", "use" and "investment" of the net
    # cash row are only in the instructions after the question mark
    assert [s.label for s in sig] == [0.5, 0.0, 0.0]
    assert [s.year for s in sig] == [1.0, 1.0, 1.0]  # every row has the column 2021
    weights = QuoteWeights(label=0.3)
    picked = select(found, scored(found, sig, weights), np.eye(3, dtype=np.float32))
    assert picked[0].text == "Capital spending (4,625) (4,240) (4,232)"
    # a question that asks for no figure gets no row signals
    other = signals("Who signs the statement of cash flows?", found, [0.4] * 3, {1: CASH_FLOWS})
    assert [(s.label, s.year) for s in other] == [(0.0, 0.0)] * 3


def test_rows_come_from_further_passages_than_prose_when_asked_for() -> None:
    prose = "The company spent more on plants this year than last year, mostly abroad."
    numbered = [(1, statement_hit(1, prose, "")), (2, statement_hit(2, prose + " Also."))]
    numbered += [(3, statement_hit(3, prose, "")), (4, statement_hit(4, INVESTING))]
    assert {s.n for s in candidates(numbered)} == {1, 2, 3}
    found = candidates(numbered, row_passages=4)
    assert [(s.n, s.kind) for s in found if s.n == 4] == [(4, "row")] * 3


def test_a_rows_quote_shows_the_units_and_column_years_its_heading_lacks() -> None:
    title = "Consolidated Statement of Cash Flows · PepsiCo, Inc. and Subsidiaries"
    text = "(in millions)\n2021 2020 2019\nCapital spending (4,625) (4,240) (4,232)\n"
    hit = statement_hit(4, text, title)
    (row,) = candidates([(4, hit)])
    assert (row.table, row.years) == ("(in millions) · 2021 2020 2019", ("2021", "2020", "2019"))
    assert "".join(render([row])) == (
        "*Consolidated Statement of Cash Flows · PepsiCo, Inc. and Subsidiaries · (in millions) "
        "· 2021 2020 2019:* Capital spending (4,625) (4,240) (4,232) [4]."
    )
    # the citation quotes the row as the page has it, for the page view to mark
    (citation,) = cite([row], [hit] * 4)
    assert citation.quotes == ("Capital spending (4,625) (4,240) (4,232)",)
    # years that do not fit the row's cells would name the wrong column: units only
    (five,) = candidates([(1, statement_hit(1, "2021 2020 2019\nTotal $ 28 $ 8 $ 9 $ 3 $ 6\n"))])
    assert (five.table, five.years) == ("", ())


def test_a_heading_that_ends_in_a_colon_is_shown_with_one() -> None:
    parts = render([Sentence("Cash 1,234 1,100", 1, 0, kind="row", heading="Current assets:")])
    assert parts == ["*Current assets:* Cash 1,234 1,100 [1]."]


def test_a_passages_title_lines_joined_into_a_sentence_are_no_quote() -> None:
    title = "Consolidated Statement of Cash Flows · PepsiCo, Inc. and Subsidiaries · (in millions)"
    top = (
        "Table of Contents\nConsolidated Statement of Cash Flows\nPepsiCo, Inc. and Subsidiaries\n"
    )
    assert is_title(
        "Table of Contents Consolidated Statement of Cash Flows PepsiCo, Inc. and", title
    )
    found = candidates([(1, statement_hit(1, top + INVESTING, title))])
    assert [s.kind for s in found] == ["row", "row", "row"]
    # a sentence stays, however many of the heading's words it has; so does other prose
    assert not is_title("The Consolidated Statement of Cash Flows of PepsiCo, Inc.", title)
    assert not is_title("Our capital spending grew in every region we report", title)
    assert not is_title("Table of Contents", "")


def test_a_statements_title_lines_and_running_header_are_no_quote() -> None:
    # "What was PepsiCo's net revenue in 2022?" was answered "PepsiCo, Inc. and
    # Subsidiaries", a title line read as a list entry; "Table of Contents" opens every page
    title = (
        "Consolidated Statement of Income · PepsiCo, Inc. and Subsidiaries · (in millions except"
        " per share amounts) · 2022 2021 2020"
    )
    income = (
        "Table of Contents\nConsolidated Statement of Income\nPepsiCo, Inc. and Subsidiaries\n"
        "Net Revenue $ 86,392 $ 79,474 $ 70,372\nCost of sales 40,576 37,075 31,797\n"
        "Selling, general and administrative expenses 34,459 31,237 28,453\n"
        "Gain associated with the Juice Transaction (3,321) — —\n"
        "Impairment and other charges 3,166 — —\n"
        "Other pension and retiree medical benefits income (132) (522) (117)\n"
        "Net interest expense and other 939 1,863 1,128\n"
    )
    other = "Table of Contents\nDisaggregation of Net Revenue\nLatAm 10 % 90 % 10 % 90 %\n"
    hits = [
        (1, Hit(chunk_id="a", text=income, source="10k.pdf", page=62, score=1.0,
                header_path=title)),
        (2, Hit(chunk_id="b", text=other, source="10k.pdf", page=71, score=0.9,
                header_path="Disaggregation of Net Revenue")),
    ]  # fmt: skip
    texts = [s.text for s in candidates(hits)]
    assert texts == [
        "Net Revenue $ 86,392 $ 79,474 $ 70,372",
        "Cost of sales 40,576 37,075 31,797",
        "Selling, general and administrative expenses 34,459 31,237 28,453",
        "Gain associated with the Juice Transaction (3,321) — —",
        "Impairment and other charges 3,166 — —",
        "Other pension and retiree medical benefits income (132) (522) (117)",
        "Net interest expense and other 939 1,863 1,128",
        "LatAm 10 % 90 % 10 % 90 %",
    ]
    # a line that opens one page only, or pages of two documents, stays
    alone = [hits[0], (2, Hit(chunk_id="c", text=other, source="other.pdf", page=71, score=0.9))]
    assert "Table of Contents" in [s.text for s in candidates(alone)]


def test_a_running_header_with_its_page_number_is_no_quote() -> None:
    # gnuplot's manual: "gnuplot 5.4 99" was quoted as a table row in the answer to "How
    # many lines does gnuplot keep in its history by default?"
    texts = {
        99: "gnuplot 5.4 99\nThe history size is 500 lines.",
        62: "62 gnuplot 5.4\nOther text.",
    }
    hits = [
        (n, Hit(chunk_id=f"c{page}", text=text, source="gnuplot.pdf", page=page, score=1.0))
        for n, (page, text) in enumerate(texts.items(), start=1)
    ]
    assert [s.text for s in candidates(hits)] == ["The history size is 500 lines."]


def test_a_quote_shows_the_section_it_sits_under_inside_its_passage() -> None:
    # the chunk starts in one section and the quote sits in the next; its heading path
    # names only the first
    text = (
        "restores it to the console once again.\n1.11 Data permanency and removing objects\n"
        "The collection of objects currently stored is called the workspace.\n"
        "To remove objects the function rm is available:\n> rm(x, y, z)"
    )
    hit = Hit(
        chunk_id="c1", text=text, source="R-intro.pdf", page=12, score=1.0,
        header_path="1 Introduction > Executing commands from or diverting output to a file",
    )  # fmt: skip
    found = candidates([(1, hit)])
    assert [(s.text[:17], s.heading) for s in found] == [
        ("The collection of", "Data permanency and removing objects"),
        ("To remove objects", "Data permanency and removing objects"),
        ("> rm(x, y, z)", "Data permanency and removing objects"),
    ]
    # neighbours in the passage across a heading are two paragraphs, each under its heading
    runs = [
        Sentence("It ends here.", 1, 0, heading="Executing commands"),
        Sentence("The workspace holds objects.", 1, 1, heading="Data permanency"),
    ]
    assert "".join(render(runs)) == (
        "*Executing commands:* It ends here [1].\n\n"
        "*Data permanency:* The workspace holds objects [1]."
    )


def test_a_code_comment_names_nothing() -> None:
    # "> rug(eruptions) # show the actual data points" opened the histogram answer for "data"
    asked = ["histogram", "data"]
    assert names_asked("> rug(eruptions) # show the actual data points", asked) == 0.0
    assert names_asked("> hist(eruptions) # the histogram", asked) == 1.0
    assert names_asked("x div y quotient of exact division", ["quotient"]) == 1.0
