"""A table row read as the answer to a question that asks for a figure: its label, the
header its table gives it (the column years and the units), and how well its label names
what the question asks for. Pure: strings in, strings and numbers out.

A financial statement answers "What is the FY2021 capital expenditure (in USD billions)?"
with one row, "Capital spending (4,625) (4,240) (4,232)", whose numbers mean nothing without
the row of column years above it ("2021 2020 2019") and the units line ("(in millions)").
Both sit at the top of the page: in the chunk's text when the row is near the top, else in
the page's title lines that the chunk carries as its heading path (``ingest.pagetitle``).
The embedding's cosine scores a row of figures low against a long question, and BM25 over
the answer's candidates weighs one shared word of a twenty-word question little; the row's
label is short, and when the question names it ("total current liabilities"), that is the
row asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answers.figures import units_in
from rag.retrieval.bm25 import tokenize

# a cell of a statement's row: "7,679", "(4,625)", "$(1.5)", "13%", "—", a lone "$"
_CELL = re.compile(r"^[($€£]*[-−]?[$€£]?\d[\d,]*(?:\.\d+)?\)?%?\)?$|^[$€£%—–-]$")
_YEAR = re.compile(r"^(?:FY\s?)?((?:19|20)\d\d)[A-Za-z]?,?$")
_ASKED_YEAR = re.compile(r"\b(?:FY\s?|fiscal\s+(?:year\s+)?)?((?:19|20)\d\d)\b", re.IGNORECASE)
MAX_UNITS_CHARS = 60  # a longer line that declares units is a sentence, not a units line


@dataclass(frozen=True)
class TableHeader:
    """What a row's numbers are: the years of its columns, in order, and the line that
    declares its units ("(in millions)"); empty when the table does not say."""

    years: tuple[str, ...] = ()
    units: str = ""

    def __bool__(self) -> bool:
        return bool(self.years or self.units)

    def shown(self, heading: str = "") -> str:
        """What a reader needs beside ``heading`` to read the row: the units and the column
        years that the heading does not already show."""
        parts = [self.units] if self.units and self.units not in heading else []
        years = " ".join(self.years)
        if years and years not in heading:
            parts.append(years)
        return " · ".join(parts)


def split_row(text: str) -> tuple[str, list[str]]:
    """A row's label (its words before its first cell) and its cells (figures and dashes),
    a lone currency mark joined to the figure after it."""
    tokens = text.split()
    first = next((i for i, t in enumerate(tokens) if _CELL.match(t)), len(tokens))
    cells: list[str] = []
    for token in tokens[first:]:
        if not _CELL.match(token):
            break  # another row glued to this one ("— Proceeds from ...")
        if cells and cells[-1] in "$€£":
            cells[-1] += token
        else:
            cells.append(token)
    return " ".join(tokens[:first]).rstrip(":"), [c for c in cells if c not in "$€£"]


def column_years(line: str) -> tuple[str, ...]:
    """The years a table's header line gives its columns, in order: the run of two or more
    years that ends the line ("2021 2020 2019", "As of December 31, 2017 2016",
    "(Amounts in millions) 2018 2017 2016", "FY2022 FY2021"); none for a line that only
    mentions years ("Fiscal years ended December 25, 2021, December 26, 2020 and ...")."""
    years: list[str] = []
    for token in reversed(line.replace("$", " ").split()):
        match = _YEAR.match(token)
        if match is None:
            break
        years.append(match.group(1))
    return tuple(reversed(years)) if len(years) >= 2 else ()


def units_line(line: str) -> str:
    """``line`` when it is short and declares what a table's numbers are counted in
    ("(in thousands, except share data)"), else ``""``."""
    line = " ".join(line.split())
    if len(line) > MAX_UNITS_CHARS or not units_in(line):
        return ""
    return line


def header_of(lines: Sequence[str]) -> TableHeader:
    """The header of a table from the lines above its row, nearest last: the last column
    years and the last units line among them."""
    years: tuple[str, ...] = ()
    units = ""
    for line in lines:
        # a title line may hold both: "(In millions, except per share amounts) 2020 2019"
        years = column_years(line) or years
        own = units_line(re.sub(r"(?:\s+(?:FY\s?)?(?:19|20)\d\d)+\s*$", "", line))
        units = own or units
    return TableHeader(years, units)


def headers_by_row(text: str, heading_path: str, rows: Sequence[str]) -> dict[str, TableHeader]:
    """The header of each row of ``rows`` (as ``rag.answers.sentence_units`` flattened it) found in
    a passage's ``text``: from the lines above it, what they do not say taken from the
    passage's heading path (its page's title lines, ``" · "``-separated, or its sections)."""
    above = header_of(re.split(r" · | > ", heading_path))
    out: dict[str, TableHeader] = {}
    wanted = set(rows)
    seen: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line in wanted and line not in out:
            own = header_of(seen)
            out[line] = TableHeader(own.years or above.years, own.units or above.units)
        seen.append(line)
    return out


def label_share(question_terms: Sequence[str], label: str) -> float:
    """The share of a row label's terms (stemmed as BM25 stems them) that the question has:
    1 for "Total current liabilities" asked as "total current liabilities", 0.5 for
    "Capital spending" asked as "capital expenditure". A label of one term counts half: a
    lone "Total" or "Other" row names nothing the question asks for in particular."""
    terms = set(tokenize(label))
    if not terms:
        return 0.0
    share = len(terms & set(question_terms)) / len(terms)
    return share / 2 if len(terms) == 1 else share


def asked_years(question: str) -> tuple[str, ...]:
    """The years a question asks about ("FY2021", "fiscal 2020", "2019"), in order."""
    return tuple(dict.fromkeys(m.group(1) for m in _ASKED_YEAR.finditer(question)))
