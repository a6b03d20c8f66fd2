"""The title lines of a page whose PDF has no outline: what every chunk of the page is about.

A financial statement's page opens with its name, the company, the period, the units and
the row of column years ("Consolidated Statement of Cash Flows | PepsiCo, Inc. and
Subsidiaries | Fiscal years ended ... | (in millions) | 2021 2020 2019"); the chunk that
holds "Capital spending (4,625) (4,240) (4,232)" further down carries none of it. Without an
outline there is no heading path to put before a chunk (``rag.store.passages``), so the page's
own title lines stand in for it.

Title lines are the short lines at the top of a page, before the first line of body: a
long line, a sentence, a row of figures, a list item, or a line that starts in lower case
(a paragraph continued from the page before), or the first line of a paragraph (the
next line continues it in lower case). A column header row of years is kept and ends the title.
A title too long for a chunk's context loses whole lines, never the ones that say how to read
the page's figures (its units line, its column years) nor its first: PepsiCo's cash flow
statement was titled "... · Fiscal years ended December 25, 2021, December 26, 2020 and
December 28, 2019 · (in mil…", and no row of it said what its numbers were.
A title that the PDF sets one word per line ("SQUARE, | INC. | CONSOLIDATED | BALANCE |
SHEETS", a letter-spaced heading) is one line again, not five titles of a word each.
Running headers and footers, lines that open a large share of the document's pages ("Table
of Contents", the company's name on every page), and bare page numbers are skipped: they
say nothing about one page. Pure: page texts in, one title per page out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from rag.answers.figures import units_in

MAX_LINES = 5  # title lines kept per page
MAX_CHARS = 160  # rag.store.passages keeps a context of at most this many characters
MAX_LINE_CHARS = 100  # a longer line is body text
MAX_UNITS_CHARS = 60  # a units line: "(In thousands, except share and per share data)"
SENTENCE_WORDS = 9  # a line of this many words that ends a sentence is body text
RUNNING_SHARE = 0.1  # a line opening this share of the pages (and 3 or more) is running
TOP_LINES = 3  # the lines of each page looked at for running headers
SEPARATOR = " · "

# an amount in a table row: "7,679", "(4,625)", "$1.5", "13%"; a bare year is not one
_FIGURE = re.compile(r"\(?-?\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?\)?")
_BARE_YEAR = re.compile(r"(19|20)\d\d")
_BULLETS = "•▪◦●‣-–—*"  # a list item is body text
_SENTENCE_END = re.compile(r"[a-z)][.?!] [A-Z]")
_YEAR = re.compile(r"^(?:FY\s?)?(?:19|20)\d\d[A-Za-z]?$|^Q[1-4]$")
_PAGE_NUMBER = re.compile(r"^(page\s+)?[-–—\s]*\d{1,4}[-–—\s]*(of\s+\d+)?$", re.IGNORECASE)


def page_titles(texts: Sequence[str]) -> list[str]:
    """The title of each page of a document (``""`` for a page that opens with body text),
    its lines joined by ``SEPARATOR``."""
    running = running_lines(texts)
    return [title_of(text, running) for text in texts]


def running_lines(texts: Sequence[str]) -> frozenset[str]:
    """Lines among the first ``TOP_LINES`` of a page that open many of the pages."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({_key(line) for line in _lines(text)[:TOP_LINES]})
    least = max(3, RUNNING_SHARE * len(texts))
    return frozenset(line for line, n in counts.items() if line and n >= least)


def title_of(text: str, running: frozenset[str] = frozenset()) -> str:
    """The title lines at the top of one page's ``text``."""
    kept: list[str] = []
    lines = _lines(text)
    titled = False  # something follows the title lines: they are its title
    one_word = False  # the last title line kept is a word alone, or words that were
    for at, line in enumerate(lines):
        if _key(line) in running or _PAGE_NUMBER.match(line):
            continue
        if is_column_years(line):
            if kept:
                kept.append(line)
            titled = at + 1 < len(lines)
            break
        after = lines[at + 1] if at + 1 < len(lines) else ""
        # a line the next one continues in lower case opens a wrapped paragraph
        if is_body(line) or after[:1].islower():
            titled = True
            break
        if one_word and len(line.split()) == 1:
            kept[-1] = f"{kept[-1]} {line}"  # a title set one word per line: one line
            continue
        one_word = len(line.split()) == 1
        kept.append(line)
        if len(kept) == MAX_LINES:
            titled = at + 1 < len(lines)
            break
    if not titled:
        return ""  # a page of short lines only: its one chunk holds them all
    return fitted(kept)


def fitted(lines: Sequence[str]) -> str:
    """``lines`` joined, within ``MAX_CHARS``: when they do not fit, the first line and
    those that say how to read the page's figures (``reads_figures``) stay, and the others
    are added back in order while they fit; cut at the end only if that is still too long."""
    title = SEPARATOR.join(lines)
    if len(title) <= MAX_CHARS:
        return title
    kept = {0} | {i for i, line in enumerate(lines) if reads_figures(line)}
    for i in range(len(lines)):
        more = sorted({*kept, i})
        if len(SEPARATOR.join(lines[j] for j in more)) <= MAX_CHARS:
            kept.add(i)
    title = SEPARATOR.join(lines[i] for i in sorted(kept))
    if len(title) > MAX_CHARS:
        title = title[: MAX_CHARS - 1].rstrip() + "…"
    return title


def reads_figures(line: str) -> bool:
    """A line a reader needs to read a table's numbers: its column years ("2021 2020
    2019", "As of December 31, 2017 2016") or a short line declaring its units ("(in
    millions)")."""
    tokens = line.replace("$", " ").split()
    if len(tokens) >= 2 and all(_YEAR.match(t) for t in tokens[-2:]):
        return True
    return len(line) <= MAX_UNITS_CHARS and bool(units_in(line))


def is_column_years(line: str) -> bool:
    """A header row of periods: "2021 2020 2019", "FY2022 FY2021", "Q1 Q2 Q3 Q4"."""
    tokens = line.replace("$", " ").split()
    return len(tokens) >= 2 and all(_YEAR.match(t) for t in tokens)


def is_body(line: str) -> bool:
    """A line that is no title: too long, a sentence, a row of figures, or the lower-case
    continuation of a paragraph."""
    words = line.split()
    if len(line) > MAX_LINE_CHARS or not words:
        return True
    if line[0].islower() or line[0] in _BULLETS:
        return True
    ends = line.endswith((".", "?", "!", ";", ",")) or _SENTENCE_END.search(line)
    if ends and len(words) >= SENTENCE_WORDS:
        return True
    figures = sum(1 for w in words if _FIGURE.fullmatch(w) and not _BARE_YEAR.fullmatch(w))
    return figures >= 2


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _key(line: str) -> str:
    # a running header may carry the page's own number: "Annual Report 2021 | 63"
    return re.sub(r"\d+", "#", line.lower()).strip()
