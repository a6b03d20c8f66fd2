"""Grading answers (rag.evaluation.grading): text golds normalised, names as whole tokens,
figures as numbers through the cited passages' units, abstentions, citation support,
lengths."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answers.figures import parse_figure
from rag.answers.prompt import ABSTAIN
from rag.evaluation.grading import (
    FigureGold,
    NamesGold,
    NotGradable,
    TextGold,
    cited_passages,
    contains,
    grade,
    names,
    normalise,
)
from rag.types import Answer, Citation, Hit


def hit(n: int, text: str) -> Hit:
    return Hit(chunk_id=f"c{n}", text=text, source="doc.pdf", page=n, score=1.0)


def answer(text: str, hits: list[Hit], cited: list[int]) -> Answer:
    citations = tuple(Citation(n=n, hit=hits[n - 1]) for n in cited)
    return Answer(text=text, mode="extractive", citations=citations, hits=tuple(hits),
                  metadata={"abstained": text.startswith(ABSTAIN)})  # fmt: skip


def test_normalising_case_whitespace_quotes_dashes_and_punctuation() -> None:
    assert normalise("  The “Krebs”\u00a0cycle — NADH.  ") == "the krebs cycle nadh"
    assert normalise("The “Krebs” cycle — NADH.", punctuation=True) == 'the "krebs" cycle - nadh.'
    assert normalise("recog\ufffe nised") == "recognised"  # a PDF hyphen break
    assert normalise("Re-ingest with `--rebuild` (+$5)") == "re ingest with rebuild 5"  # symbols


def test_containment_is_on_word_boundaries() -> None:
    assert contains("aged 37 years", "37")
    assert not contains("in 1937", "37")
    assert not contains("forms", "form")
    assert contains("use --check here", "--check")  # the needle's own ends decide
    assert not contains("anything", "")


def test_text_gold_parts_must_all_be_stated() -> None:
    gold = TextGold.of("defaults to 10000 ... maximum value accepted is 100000", punctuation=True)
    text = "It defaults to 10000 [1]. The maximum value accepted is 100000 [1]."
    assert gold.stated_in(text.replace("[1]", ""))
    assert not gold.stated_in("It defaults to 10000.")
    squad = TextGold.of("stripes that confuse biting flies")
    assert squad.stated_in("Zebras have Stripes, that confuse biting-flies!")
    assert not TextGold.of("--check", punctuation=True).stated_in("use the check statement")
    assert TextGold.of("--check").stated_in("use the check statement")  # SQuAD-style: lenient


@pytest.mark.parametrize(
    ("text", "name", "found"),
    [
        ("Use rm(x, y) to remove them.", "rm", True),
        ("Remove them with rm.", "rm", True),  # a full stop ends the name
        ("Fill in the form.", "rm", False),
        ("A histogram is drawn by hist(x).", "hist", True),
        ("A histogram is drawn.", "hist", False),
        ("see hist.default", "hist", False),  # another name
        ("x.hist(1)", "hist", False),
        ("Use read.table() to read it.", "read.table", True),
        ("Use read.tables", "read.table", False),
        ("Use base::rm(x)", "rm", True),
        ("Use RM(x)", "rm", False),  # names are case-sensitive
        ("A %*% B", "%*%", True),
        ("glpsol --check --model m", "--check", True),
        ("s.t. r: x + y <= 1;", "s.t.", True),
        ("Write it as subject to", "subject to", True),
    ],
)
def test_names_are_whole_tokens(text: str, name: str, found: bool) -> None:
    assert names(text, name) is found


def test_a_names_gold_takes_any_of_its_alternatives() -> None:
    gold = NamesGold(("ls", "objects"))
    assert gold.stated_in("The command objects() lists them [1].")
    assert not gold.stated_in("The command lsfit() fits them.")
    assert NamesGold(("rm",)).stated_in("use\nrm(x)")  # line breaks are spaces


def test_an_answer_states_and_is_supported() -> None:
    hits = [hit(1, "To remove objects the function rm is available."), hit(2, "Nothing here.")]
    got = grade(answer("To remove objects the function rm is available [1].", hits, [1]),
                NamesGold(("rm",)))  # fmt: skip
    assert (got.answered, got.stated, got.supported, got.citations) == (True, True, True, 1)
    assert (got.chars, got.words) == (51, 9)  # "[1]." is a word as shown


def test_stated_without_support_and_supported_without_stating() -> None:
    hits = [hit(1, "The function rm removes objects."), hit(2, "Objects live in the workspace.")]
    # states rm but cites only the passage without it
    got = grade(answer("Use rm [2].", hits, [2]), NamesGold(("rm",)))
    assert (got.stated, got.supported) == (True, False)
    # cites the passage naming rm, but its own text does not
    got = grade(answer("Objects can be removed [1].", hits, [1]), NamesGold(("rm",)))
    assert (got.stated, got.supported) == (False, True)
    assert cited_passages(answer("x [2][1]", hits, [2, 1])) == [hits[1], hits[0]]


def test_a_citation_marker_does_not_split_a_gold() -> None:
    got = grade(
        answer("It is 42 [1]. Days [1].", [hit(1, "42. Days")], [1]), TextGold.of("42 days")
    )
    assert got.stated


def test_a_gold_with_its_papers_reference_marks_is_stated_by_a_quote_of_its_sentence() -> None:
    """COVID-QA's spans keep the paper's reference marks; a quote keeps them too, and the
    answer's markers, its own citations, are dropped before grading: so are the gold's."""
    sentence = "infectivity peaked at around 10 days after illness onset [7] , consistent with it"
    gold = TextGold.of("10 days after illness onset [7] , consistent")
    got = grade(answer(f"SARS-CoV {sentence} [1].", [hit(1, sentence)], [1]), gold)
    assert (got.stated, got.supported) == (True, True)
    # the words themselves are still needed
    got = grade(answer("10 days after onset [1].", [hit(1, "10 days after onset")], [1]), gold)
    assert (got.stated, got.supported) == (False, False)
    # the extractive answer leaves the marks out of its quotes, lists and ranges too
    gold = TextGold.of("a protein of at least 40 mg/L [21, 22] . It was [3–5] absent")
    said = "a protein of at least 40 mg/L. It was absent [1]."
    assert grade(answer(said, [hit(1, said)], [1]), gold).stated


def test_an_abstention_states_nothing_and_is_not_answered() -> None:
    hits = [hit(1, "rm removes objects")]
    got = grade(answer(ABSTAIN, hits, []), NamesGold(("this",)))
    assert (got.answered, got.stated, got.supported, got.citations) == (False, False, False, 0)
    empty = grade(answer("", hits, []), NamesGold(("rm",)))
    assert not empty.answered


def test_prose_golds_are_not_graded() -> None:
    got = grade(answer("Yes, it decreased [1].", [hit(1, "It decreased.")], [1]),
                NotGradable("Yes. It decreased."))  # fmt: skip
    assert (got.answered, got.stated, got.supported) == (True, None, None)


def test_a_figure_quoted_from_a_table_in_millions() -> None:
    figure = parse_figure("$0.40")
    assert figure is not None
    gold = FigureGold(figure, Decimal(10) ** 9, "$0.40")  # "How much (in USD billions) ..."
    table = hit(1, "CONSOLIDATED STATEMENTS OF CASH FLOWS (In millions) Dividends paid (400) (389)")
    # the answer quotes the row; the unit is in the cited passage only
    got = grade(answer("Dividends paid 400 [1].", [table], [1]), gold)
    assert (got.stated, got.supported) == (True, True)  # printed (400): a payment
    other = hit(2, "(In millions) Dividends paid to shareholders 340")
    got = grade(answer("Dividends paid 400 [1].", [table, other], [2]), gold)
    assert (got.stated, got.supported) == (True, False)  # the cited passage says 340
    # the same bare 400 with no unit anywhere is 400 billion
    got = grade(answer("Dividends paid 400 [1].", [hit(3, "Dividends paid 400")], [1]), gold)
    assert (got.stated, got.supported) == (False, False)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_normalising_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert normalise(normalise(text, punctuation=True), punctuation=True) == normalise(
        text, punctuation=True
    )


@given(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.sampled_from(" (,;:"))
def test_a_name_is_found_alone_and_not_inside_a_longer_one(name: str, before: str) -> None:
    assert names(f"call{before}{name}(x) now", name)
    assert names(f"ends with {name}.", name)
    assert not names(f"call {name}x(1)", name)
    assert not names(f"call x{name}(1)", name)


def test_the_units_a_cited_passages_heading_path_declares_count_for_its_figures() -> None:
    figure = parse_figure("$5466.00")
    assert figure is not None
    gold = FigureGold(figure, Decimal(10) ** 6, "$5466.00")  # "... (in USD millions)?"
    title = "CONSOLIDATED BALANCE SHEETS · (in thousands, except share and per share data)"
    row = "Total current liabilities 5,466,312 4,586,657"
    titled = Hit(chunk_id="c1", text=row, source="doc.pdf", page=45, score=1.0,
                 header_path=title)  # fmt: skip
    got = grade(answer(f"{row} [1].", [titled], [1]), gold)
    assert (got.stated, got.supported) == (True, True)
    # without the page's title nothing says the row is in thousands: 5,466,312 millions
    got = grade(answer(f"{row} [1].", [hit(1, row)], [1]), gold)
    assert (got.stated, got.supported) == (False, False)
