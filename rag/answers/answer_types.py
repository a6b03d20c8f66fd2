"""What kind of answer a question asks for, and whether a candidate quote holds one.

A question that asks "how many", "what percentage" or "what is the size of", or that says in
what unit or to what precision to answer ("in USD millions", "round to two decimal places"),
is answered by a sentence with a figure in it; "when" or "what year" by one with a date. The
embedding's cosine cannot tell the sentence that gives the incubation period's days from the
one that only names the incubation period: this signal can. Pure: strings in, a kind or 0/1 out.
English questions only; any other question asks for no particular kind.

A how-to question over a manual ("How do I run a file of R commands?") is answered by the
command, function or statement to use; the sentences around it share more of the question's
words ("If you just want to run a file foo.R of R commands, ...") and the line that answers,
``> source("commands.R")``, shares none. ``asks_command`` and ``names_command`` tell them.
"""

from __future__ import annotations

import re
from typing import Literal

Expected = Literal["number", "date", ""]

# the nouns that name a quantity: "what is the <noun> of", "what <noun>", "the <noun> of"
QUANTITY_NOUNS = (
    "size|length|diameter|width|height|weight|mass|volume|area|dose|dosage|rate|ratio"
    "|percentage|percent|proportion|fraction|share|number|amount|count|frequency|duration"
    "|period|age|temperature|concentration|mortality|incidence|prevalence|cost|price"
    "|revenue|income|margin|value|total|average|mean|median|sum|difference|growth|range"
    "|speed|distance|capacity|population|expenditure|expenditures|spending|sales|debt"
)
_NUMBER = re.compile(
    r"\bhow (many|much|long|large|big|old|far|often|high|fast|small|tall|heavy|wide)\b"
    rf"|\b(what|which)\s+((is|was|are|were)\s+)?(the\s+)?([\w'’-]+\s+){{0,2}}({QUANTITY_NOUNS})\b"
    rf"|^\s*(the\s+)?({QUANTITY_NOUNS})\s+of\b",
    re.IGNORECASE,
)
# a question that says in what unit or to what precision to answer asks for a figure:
# "(in USD millions)", "Answer in units of percents", "Round your answer to two decimal places"
_UNIT_ASKED = re.compile(
    r"\bin\s+(?:usd|us\$|\$|dollars|units\s+of)(?!\w)"
    r"|\bround(?:ed)?\b[^.?!]*\b(?:decimal|significant)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^\W*when\b|\b(what|which|in what)\s+(year|month|date|day|decade|century)\b"
    r"|\bsince when\b",
    re.IGNORECASE,
)
_HOW_TO = re.compile(
    r"^\W*how\s+(?:do|can|could|should|would|may|might)\s+(?:i|we|you|one)\b|^\W*how\s+to\b"
    r"|\b(?:which|what)\s+(?:function|command|statement|operator|option|keyword|method"
    r"|suffix|attribute|directive|macro)s?\b",
    re.IGNORECASE,
)
# a call "source(", a namespace "base::t", a suffix ".dual", a prompt "> hist(x)": code named
_COMMAND = re.compile(r"[A-Za-z_.][\w.]*\(|\w::\w|(?:^|\s)\.[a-z]\w*\b|^[>$]\s?\S")
# a citation marker ("[12]", "[3, 4]", "(5)") is not a figure of the text
_MARKERS = re.compile(r"\[\s*\d+(\s*[,–-]\s*\d+)*\s*\]|\(\s*\d{1,3}\s*\)")
_FIGURE = re.compile(r"\d")
# the months' names and abbreviations, lower case (also what tells a date from a table row's
# cells in rag.answers.sentence_units)
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
)  # fmt: skip
_MONTHS = "|".join(MONTHS)
_WHEN = re.compile(
    rf"\b(1[5-9]\d\d|20\d\d)s?\b|\b({_MONTHS})\.?\s+\d|\b\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\b",
    re.IGNORECASE,
)


def expected_kind(question: str) -> Expected:
    """``date`` for a question that asks when, ``number`` for one that asks how many or
    how much of something, else ``""`` (nothing in particular)."""
    if _DATE.search(question):
        return "date"
    if _NUMBER.search(question) or _UNIT_ASKED.search(question):
        return "number"
    return ""


def holds(text: str, kind: Expected) -> float:
    """1 when ``text`` holds an answer of ``kind`` (a figure; a year or a month and day),
    citation markers aside; 0 otherwise, and always 0 for no kind."""
    if not kind:
        return 0.0
    plain = _MARKERS.sub(" ", text)
    found = _WHEN.search(plain) if kind == "date" else _FIGURE.search(plain)
    return 1.0 if found else 0.0


def asks_command(question: str) -> bool:
    """Whether ``question`` asks how to do something, or which function or command does it."""
    return bool(_HOW_TO.search(question))


def names_command(text: str, unit_kind: str) -> float:
    """1 when a unit other than a code line names something to type: a call, a namespace, a
    suffix or a prompt inside its text ("The ordered() function creates ..."); 0 otherwise.
    Code lines are what the ``code`` signal scores, by whether they name what is asked."""
    return 1.0 if unit_kind != "code" and _COMMAND.search(text) else 0.0
