"""An extractive answer on a financial statement (issues 24 and 25): the row the question
asks for is quoted first, under its statement's name, units and column years, so that the
figure of the year asked is stated. Real PDF, real bundled model, real Chroma in tmp."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rag.answers.answer import ABSTAIN, Answerer
from rag.answers.figures import parse_figure
from rag.embedding.models import SentenceTransformerEmbedder
from rag.evaluation.grading import FigureGold, grade
from tests.conftest import make_settings, retriever_for, run_ingest
from tests.pdfgen import make_placed_pdf

pytestmark = pytest.mark.integration

# a title longer than a chunk's context: the period line gives way, units and years stay
TITLE = [
    "Consolidated Statement of Cash Flows",
    "Example Beverages, Inc. and Subsidiaries",
    "Fiscal years ended December 25, 2021, December 26, 2020 and December 28, 2019",
    "(in millions)",
    "2021 2020 2019",
]
OPERATING = [
    "Operating Activities",
    "Net income $ 7,679 $ 7,175 $ 7,353",
    "Depreciation and amortization 2,710 2,548 2,432",
    "Share-based compensation expense 301 264 237",
    "Restructuring and impairment charges 247 289 370",
    "Cash payments for restructuring charges (256) (255) (350)",
    "Pension and retiree medical plan expenses 123 408 519",
    "Pension and retiree medical plan contributions (785) (562) (716)",
    "Deferred income taxes and other tax charges and credits 298 361 453",
    "Accounts and notes receivable (651) (420) (650)",
    "Inventories (582) (516) (190)",
    "Prepaid expenses and other current assets 159 26 (87)",
    "Accounts payable and other current liabilities 1,762 766 735",
    "Income taxes payable 30 (159) (287)",
    "Other, net 375 164 (196)",
    "Net Cash Provided by Operating Activities 11,616 10,613 9,649",
]
INVESTING = [
    "Investing Activities",
    "Capital spending (4,625) (4,240) (4,232)",
    "Sales of property, plant and equipment 166 55 170",
    "Acquisitions, net of cash acquired, and investments in affiliates (61) (6,372) (2,717)",
    "Divestitures and sales of investments in affiliates 169 6 253",
    "Other investing, net 5 40 (8)",
    "Net Cash Used for Investing Activities (3,269) (11,619) (6,437)",
]
PROSE = [
    "Our Liquidity and Capital Resources",
    "Investing activities in 2021 used net cash for acquisitions and for the plants we build.",
    "We regularly review our plans with respect to net capital spending, including in light",
    "of the ongoing uncertainty caused by the pandemic, and believe that we have sufficient",
    "liquidity to meet our net capital spending needs.",
]
QUESTION = (
    "What is the FY2021 capital expenditure amount (in USD billions) for Example Beverages? "
    "Respond to the question by assuming the perspective of an investment analyst who can "
    "only use the details shown within the statement of cash flows."
)
ROW = "Capital spending (4,625) (4,240) (4,232)"


def statement_pdf(tmp_path: Path) -> Path:
    """Page 1 prose about capital spending; page 2 the cash flow statement, long enough
    that the capital spending row sits in a chunk without the page's title lines."""
    prose = [(72, 740 - 14 * i, text) for i, text in enumerate(PROSE)]
    lines = [*TITLE, *OPERATING, *INVESTING]
    sheet = [(72, 770 - 14 * i, text) for i, text in enumerate(lines)]
    return make_placed_pdf(tmp_path / "annual-report.pdf", [prose, sheet])


def test_the_asked_row_is_quoted_first_with_its_units_and_years(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path / "store")
    report = run_ingest(settings, embedder, [statement_pdf(tmp_path)])
    assert report.errors == [] and report.chunks_written >= 3
    retriever = retriever_for(settings, embedder)
    answerer = Answerer(retriever=retriever, llm=None, settings=settings.answers)
    answer = answerer.ask(QUESTION).answer
    assert answer.text != ABSTAIN
    first = answer.text.split("\n\n")[0]
    # the row, after the statement's name, its units and its column years (the title's
    # period line gave way to them)
    assert first.startswith(
        "*Consolidated Statement of Cash Flows · Example Beverages, Inc. and Subsidiaries · "
        "(in millions) · 2021 2020 2019:* " + ROW + " ["
    ), answer.text
    row_hit = next(h for h in answer.hits if ROW in h.text)
    assert "(in millions)" not in row_hit.text  # from the page's title, not the chunk
    n = answer.hits.index(row_hit) + 1
    (cited,) = [c for c in answer.citations if c.n == n]
    assert ROW in cited.quotes  # verbatim, for the page view to mark
    # graded as rag eval --answers grades it: 4,625 million is FinanceBench's "$4.60" billion
    figure = parse_figure("$4.60")
    assert figure is not None
    got = grade(answer, FigureGold(figure, Decimal(10) ** 9, "$4.60"))
    assert (got.stated, got.supported) == (True, True)
