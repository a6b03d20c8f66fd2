"""A passage cut into the units an extractive answer quotes: prose sentences, code lines,
definition items and table rows, each kept apart from the others.

A PDF's text arrives line by line: prose wrapped over several lines, a line of code, a
definition ("round(x) rounding x to nearest integer"), a table row ("1.600 2.163 4.000").
Flattening all of it and cutting at full stops glued a line of code to the explanation
after it, and table rows to whatever followed them, so the sentence that names ``hist`` was
scored as one long sentence about something else. Here each line is classified first; only
prose lines are joined and then cut into sentences.

A definition list or a table of words has no marks of code and no figures: "x div y
quotient of exact division" under "x / y division", in a manual's table of operators. Its
lines read as prose were joined into one "sentence" that starts in lower case and was
dropped as a chunk's cut-off start, so the answer to "the whole-number quotient of a
division" could not be quoted. Lines in a run of short lines without end punctuation are
items, each its own unit (``listed``).

A chunk cut by size can hold the start of the next section: "... once again.", then
"1.11 Data permanency and removing objects", then that section's text. The chunk's heading
path names the section it starts in, so the quote about ``rm`` was shown under the heading
before it. A numbered heading line (or a Markdown one) starts a new ``section`` for the
units after it, and is not a unit itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from rag.answers.answer_types import MONTHS

Kind = Literal["prose", "code", "item", "row"]

MIN_WORDS = 4  # a shorter prose "sentence" is a caption, a page header or a fragment
MIN_ITEM_WORDS = 3
MAX_CHARS = 320
CLIPPED = " …"  # what ends a unit clipped to MAX_CHARS

# a paper's own reference mark: "[7]", "[21, 22]", "[3–5]"; an answer's [n] cite its
# passages, so a quote that kept them would cite passages it does not come from ("[0, 1]"
# is an interval)
REFERENCE_MARK = re.compile(r"\[[1-9]\d{0,2}(?:\s*[,–-]\s*\d{1,3})*\]")
# ...after a space, or right after punctuation ("before.[3]"): "x[1]", "f(x)[2]" and
# "Lst[[1]]" index, and a line's "[1] 1.60 2.16" starts R's printed vector; with the
# spaces before it, and after it when punctuation follows ("onset [7] , consistent")
_CITED = re.compile(
    r"(?:(?<=[^\w\[\])\s])|[ \t]+)"
    + REFERENCE_MARK.pattern
    + r"(?:[ \t]*"
    + REFERENCE_MARK.pattern
    + r")*(?:[ \t]*(?=[.,;:!?)]))?"
)
# words that go on a sentence rather than start an entry of a list
_GOES_ON = frozenset({
    "where", "which", "whose", "whom", "that", "and", "or", "but", "nor", "so", "then", "thus",
    "hence", "because", "since", "while", "whereas", "although", "though", "unless", "until",
    "as", "when", "if", "than", "with", "without", "of", "to", "in", "on", "at", "by", "for",
    "from", "into", "onto",
})  # fmt: skip
_ARTICLES = frozenset({"the", "a", "an"})
# what a sentence cannot open with: the rest of one ("<- 10 and compare ...", ", which"); a
# Markdown code span, a suffix (".dual dual value") or a sign can
_CONTINUES = ",;:)]}<=|"
_LEADERS = re.compile(r"\.{4,}|(?:\. ){3,}")  # table-of-contents dot leaders
# a sentence ends at . ! or ? and a space, before what starts one (``_starts_sentence``),
# also when a bracket or quote closes after the stop ("... for further details.) Warning:"),
# or at a Chinese or Japanese full stop, space or not ("東京は日本の首都です。人口は…")
_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][)\]\"'”’])\s+|(?<=[。！？])\s*")
_CJK_STOPS = "。！？"
SENTENCE_ENDS = ".!?" + _CJK_STOPS
_OPENERS = "\"'([“‘«¿¡"
# Chinese and Japanese are written without spaces: about two characters make a word
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CJK_CHARS_PER_WORD = 2
_CJK_MARKS = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]")  # 。、「」！？：
# an R or shell prompt: "> hist(x)", "$ make"; "$4.2 billion" and "$ 7,679" are amounts
_PROMPT = re.compile(r"^(?:[>+] ?\S|\$ ?[^\d\s(])")
_COMMENT = re.compile(r"^(?:#+ ?[a-z0-9]|//|/\*)")  # "## make the bins smaller"
_MD_HEADING = re.compile(r"^#{1,6} ")  # a Markdown heading: shown as the quote's section
_FENCE = re.compile(r"^(?:```|~~~)")
_CALL = re.compile(r"[A-Za-z_.][\w.]*\([^()]*(?:\([^()]*\)[^()]*)*\)")  # f(x, g(y))
_CODE_MARK = re.compile(r"<-|->|:=|==|!=|[{}]|;\s*$|^\w[\w.]*\s*=\s*\S|^\s*\w[\w.]*\[")
_LEADING_CALL = re.compile(r"^[A-Za-z_.][\w.]*\([^()]*(?:\([^()]*\)[^()]*)*\)\s+\S")
# a statement of a modelling or programming language: braces, or a line ending in ; or {
_STATEMENT = re.compile(r"\{[^{}]*\}|[;{]\s*$")
_INDEXED = re.compile(r"\w\{[^{}]*\}")  # "balance{i in raw}": a name indexed over a set
_PLAIN = re.compile(r"^[A-Za-z]+[,.;:]?$")
_LITERAL = re.compile(r"""^[(\[]*(?:"[^"]*"|'[^']*')[,;)\]]*$""")  # "qld", or 'tas')
PLAIN_SHARE = 0.6  # prose: most of a line's tokens are plain words
_BULLET = re.compile(r"^(?:[-*•·▪◦–]|\d{1,2}[.)])\s+\S")
_WORDS = re.compile(r"[A-Za-z]{2,}")
_LETTER = re.compile(r"[A-Za-z]")
_MONTHS = frozenset(MONTHS)
_NUMBER = re.compile(r"^[($€£-]*\d[\d,.]*%?\)?$|^[$€£%—–-]$")
# a statement's row with a long label ends in two or more cells: "Net Cash Provided by
# Operating Activities 11,616 10,613 9,649" is three figures in eight tokens, and was read
# as prose and glued to the rows around it; a longer line is a paragraph, not a row
MAX_ROW_CHARS = 160
# a line at most this share of the passage's full line width, without end punctuation, in a
# run of at least LIST_RUN such lines: an entry of a list or a table of words, not wrapped
# prose (whose lines fill the width, and whose last line ends a sentence)
SHORT_LINE = 0.6
LIST_RUN = 2
FULL_WIDTH_QUANTILE = 0.9  # the passage's full width: the length of its long lines
_CLOSERS = ")]\"'”’"  # "... a good result.)" ends a sentence
# "3.1.10 Hierarchy", and an appendix's "C.1 CSV table driver"
_SECTION = re.compile(r"^(?:\d+(?:\.\d+)+\.?|[A-Z]\.\d+(?:\.\d+)*\.?|Chapter \d+|Section \d+)\s")
# a numbered heading's line: "1.11 Data permanency and removing objects"; its number is not
# shown with it, as the heading path's titles carry none
_NUMBERED_HEADING = re.compile(r"^(?:\d+|[A-Z]\.\d+)(?:\.\d+)*\.?\s+(?=[A-Z])")
# a chapter's one number: "2 Simple manipulations; numbers and vectors"; not a numbered
# reference, "22. Kendal AP, Noble GR. Antigenic similarity", whose names hold , and .
_CHAPTER = re.compile(r"^\d{1,2}\s+[A-Z][^.,]*$")
MAX_HEADING_WORDS = 12
_ENDS_BLOCK = ".!?:;"
# a book's running head, the page number at one end: "Chapter 7: Reading data from files 34"
# (Texinfo, LaTeX); it ran into the sentence it stood above
_RUNNING_HEAD = re.compile(
    r"^(?:\d{1,4}\s+)?(?:Chapter|Appendix)\s+[\dA-Z]{1,3}[:.]\s+\S.{0,80}?(?<=\s)\d{1,4}$"
    r"|^\d{1,4}\s+(?:Chapter|Appendix)\s+[\dA-Z]{1,3}[:.]\s+\S.{0,80}$"
)
_PAGE_NUMBER = re.compile(r"^\d{1,4}$")  # a page's number on a line of its own
# a line of symbols alone, "☛ ✟" (a drawn frame's corners): no letter, digit or ASCII mark
_SYMBOLS_ONLY = re.compile(r"^[^\w!-/:-@\[-`{-~]+$")


@dataclass(frozen=True)
class Unit:
    text: str
    kind: Kind
    section: str = ""  # the heading above it inside the passage; "" where none is


def without_reference_marks(text: str) -> str:
    """``text`` without the reference marks its source put in it ("onset [7] , consistent"
    reads "onset, consistent")."""
    return _CITED.sub("", text)


def units_of(text: str) -> list[Unit]:
    """The quotable units of a passage, in reading order, whitespace flattened. A chunk cut
    in the middle of a sentence loses that fragment (a first one starting in lower case, a
    last one without final punctuation); table-of-contents lines and headings are not
    units."""
    lines = text.splitlines()
    units: list[Unit] = []
    prose: list[str] = []
    section = ""
    complete = 0  # the units before this index end before a heading, so none was cut

    def flush() -> None:
        if prose:
            flat = " ".join(" ".join(prose).split())
            units.extend(Unit(s, "prose", section) for s in sentences(flat))
            prose.clear()

    flat_lines = [" ".join(raw.split()) for raw in lines]
    kinds = continued(headed([line_kind(line) for line in flat_lines], flat_lines), flat_lines)
    in_list = listed(flat_lines, kinds)
    fenced = False
    for at, line in enumerate(flat_lines):
        if _FENCE.match(line):
            flush()
            fenced = not fenced
            continue
        kind = "code" if fenced and line else kinds[at]
        if kind == "furniture" and not fenced:
            continue  # no unit, and the sentence it interrupts goes on across it
        if kind == "heading" and not fenced:
            flush()
            complete = len(units)  # a new section: what came before it was not cut
            section = heading_title(line)
            continue
        if kind == "prose" and at in in_list and not fenced:
            kind = "item"
        if kind == "prose":
            if not prose and units and units[-1].kind == "item" and line[:1].islower():
                # a definition's meaning wrapped onto the next line stays with its term
                units[-1] = replace(units[-1], text=f"{units[-1].text} {line}")
            else:
                prose.append(line)
            continue
        flush()
        if kind == "bullet":  # a list item starts a new run of prose
            prose.append(line)
        elif kind in ("code", "item", "row"):
            units.append(Unit(line, kind, section))  # type: ignore[arg-type]
    flush()
    if units and _cut_start(units[0], next((line for line in flat_lines if line), "")):
        units, complete = units[1:], max(complete - 1, 0)  # the chunk began mid-sentence
    kept = units[:complete] + _without_cut_ends(units[complete:])
    return [_clip(u) for u in kept if _quotable(u)]


def sentences(text: str) -> list[str]:
    """``text`` (whitespace flattened) cut into sentences: at . ! or ? and a space before a
    capital of any script, a letter of a script without case, a digit, a quote or a bracket
    ("… fertig. Über …", "… России. Это …"; not "e.g. the"), and after 。！？."""
    out: list[str] = []
    start = 0
    for end in _END.finditer(text):
        after = text[end.end() : end.end() + 1]
        if after and (text[end.start() - 1] in _CJK_STOPS or _starts_sentence(after)):
            out.append(text[start : end.start()].strip())
            start = end.end()
    out.append(text[start:].strip())
    return [sentence for sentence in out if sentence]


def _starts_sentence(char: str) -> bool:
    return (
        char.isupper()
        or char.isdigit()
        or char in _OPENERS
        or (char.isalpha() and not char.islower())
    )


def word_count(text: str) -> int:
    """Words as a reader counts them: whitespace-separated, and Chinese or Japanese
    characters by ``CJK_CHARS_PER_WORD`` (a sentence of them has no spaces to count)."""
    cjk = len(_CJK.findall(text))
    rest = _CJK_MARKS.sub(" ", _CJK.sub(" ", text))
    return len(rest.split()) + cjk // CJK_CHARS_PER_WORD


def line_kind(line: str) -> str:
    """``prose``, ``code``, ``item`` (a definition: a term in code, then its meaning),
    ``row`` (a table row: mostly figures, or cells between bars), ``bullet`` (a list item's
    first line), ``comment`` (a code comment), ``heading``, ``furniture`` (a book's running
    head with its page number, a line of mere symbols) or ``blank``."""
    if not line:
        return "blank"
    if _MD_HEADING.match(line) and not _COMMENT.match(line):
        return "heading"
    if _COMMENT.match(line):
        return "comment"  # "## make the bins smaller": a note on the code, no answer alone
    if _RUNNING_HEAD.match(line) or _SYMBOLS_ONLY.match(line):
        return "furniture"
    if (
        _NUMBERED_HEADING.match(line)
        and (_SECTION.match(line) or _CHAPTER.match(line))
        and len(line.split()) <= MAX_HEADING_WORDS
        and line.rstrip(_CLOSERS)[-1:] not in _ENDS_BLOCK + ","
        and not _is_row(line)
    ):
        return "heading"
    if _PROMPT.match(line) or _is_literals(line):
        return "code"
    if _is_row(line):
        return "row"
    if _BULLET.match(line):
        return "bullet"
    if _CALL.search(line) or _CODE_MARK.search(line):
        rest = _CALL.sub(" ", line)
        words = len(_WORDS.findall(rest))
        if _LEADING_CALL.match(line) and words >= MIN_ITEM_WORDS:
            return "item"
        if words <= 2 or (words <= 4 and not line.endswith(".")):
            return "code"
        if _INDEXED.search(line) or (_STATEMENT.search(line) and _plain_share(line) < PLAIN_SHARE):
            return "code"  # "var x{i in I}, integer, >= 0;": a statement, however wordy
    return "prose"


def heading_title(line: str) -> str:
    """The title a heading line shows: without its Markdown marks or section number."""
    return _NUMBERED_HEADING.sub("", line.lstrip("#").strip()).strip()


def headed(kinds: list[str], lines: list[str]) -> list[str]:
    """``kinds`` with a numbered "heading" that continues the prose line before it read as
    prose: a wrapped sentence "... as described in Section" can leave "3.1 Hierarchy of
    operations" at the start of the next line. Markdown headings stand alone. A number
    alone on a line that no sentence runs into is the page's number: furniture."""
    out = list(kinds)
    for at in range(len(lines)):
        before = lines[at - 1].rstrip(_CLOSERS) if at else ""
        runs_on = at > 0 and out[at - 1] == "prose" and before[-1:] not in _ENDS_BLOCK
        # "2 Eggs" above "1 Cup flour": a numbered list, not chapters
        listed = _CHAPTER.match(lines[at]) and any(
            _CHAPTER.match(other) for other in lines[max(at - 1, 0) : at + 2] if other != lines[at]
        )
        if out[at] == "heading" and not _MD_HEADING.match(lines[at]) and (runs_on or listed):
            out[at] = "prose"
        elif out[at] == "prose" and _PAGE_NUMBER.match(lines[at]) and not runs_on:
            out[at] = "furniture"
    return out


def continued(kinds: list[str], lines: list[str]) -> list[str]:
    """``kinds`` with a "code" line that finishes the prose sentence before it read as prose:
    after "... (and defaults to "p" for points() and", the line ``"l" for lines().)`` is the
    rest of that sentence, not a line to type. A line that finishes a sentence ends in . ! or
    ?; a command after "... with the command" does not, and stays code. A line that opens
    with a call reads as a definition ("sort(x) returns a vector ..."), but not after a line
    that stops on a word no sentence ends with, or inside a bracket: "(see order() or" then
    ``sort.list() which produce a permutation to do the sorting).`` is one sentence."""
    out = list(kinds)
    for at in range(1, len(lines)):
        before, line = lines[at - 1], lines[at]
        if (
            out[at] in ("code", "item")
            and out[at - 1] in ("prose", "item")
            and before[-1:].isalpha()
            and line.rstrip(_CLOSERS)[-1:] in ".!?"
            and not _PROMPT.match(line)
            and ((out[at] == "code" and out[at - 1] == "prose") or _goes_on(before))
        ):
            out[at] = "prose"
    return out


def _goes_on(line: str) -> bool:
    """Whether ``line`` stops where its sentence cannot end: on a word that goes on a
    sentence ("... or"), or inside a bracket it opened."""
    last = line.rsplit(maxsplit=1)[-1].lower() if line.strip() else ""
    return last in _GOES_ON or last in _ARTICLES or line.count("(") > line.count(")")


def listed(lines: list[str], kinds: list[str]) -> set[int]:
    """The places of the prose lines that are entries of a list or a table of words: runs of
    short lines (``SHORT_LINE`` of the passage's full width) that end without punctuation and
    are not numbered headings, with at least ``LIST_RUN`` of them worded as an item.
    ``kinds`` are the lines' ``line_kind``."""
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return set()
    full = widths[int(FULL_WIDTH_QUANTILE * (len(widths) - 1))]
    short = [
        bool(line)
        and len(line) <= SHORT_LINE * full
        and line.rstrip(_CLOSERS)[-1:] not in ".!?:;,"
        and not _SECTION.match(line)
        and kind == "prose"
        for line, kind in zip(lines, kinds, strict=True)
    ]
    out: set[int] = set()
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and short[end]:
            end += 1
        # a list has entries: a figure's title and axis labels ("Histogram of eruptions",
        # "eruptions", "Relative Frequency") are short lines too, with one worded line
        entries = sum(word_count(line) >= MIN_ITEM_WORDS for line in lines[start:end])
        if entries >= LIST_RUN:
            out.update(range(start, end))
        start = max(end, start + 1)
    return out


def _is_literals(line: str) -> bool:
    """A line of quoted values in a call, ``"qld", "vic", "nsw", "vic",``: data typed into
    code, which read as prose ran into the sentence after it."""
    tokens = line.split()
    literals = sum(bool(_LITERAL.match(t)) for t in tokens)
    return len(tokens) >= 3 and literals / len(tokens) >= PLAIN_SHARE


def _plain_share(line: str) -> float:
    tokens = line.split()
    return sum(bool(_PLAIN.match(t)) for t in tokens) / len(tokens) if tokens else 0.0


def _is_row(line: str) -> bool:
    if "|" in line and "||" not in line:  # cells between bars (Markdown tables, stem plots)
        return True
    tokens = line.split()
    figures = sum(bool(_NUMBER.match(t)) for t in tokens)
    if len(tokens) >= 3 and figures >= 2 and figures / len(tokens) >= 0.4:
        return True
    return (
        len(tokens) >= 3
        and len(line) <= MAX_ROW_CHARS
        and tokens[0][:1].isalpha()
        and all(_NUMBER.match(t) for t in tokens[-2:])
        and tokens[-3].lower().rstrip(".") not in _MONTHS  # "... as of December 31, 2017"
    )


def _cut_start(unit: Unit, first_line: str) -> bool:
    """Whether ``unit``, a passage's first, is the rest of a sentence the chunk's start cut:
    prose that starts in lower case, or the passage's first line read as a list entry that
    opens with a word that goes on a sentence ("where .GlobalEnv is the workspace.", after
    the search path the page before shows; not "x div y quotient of exact division")."""
    if unit.kind == "prose" and unit.text[:1] in _CONTINUES:
        return True  # "<- 10 and compare the sequences 1:n-1 and 1:(n-1).", after "Put n"
    if not unit.text[:1].islower():
        return False
    if unit.kind == "prose":
        return True
    first = unit.text.split(maxsplit=1)[0].rstrip(",;:")
    return unit.kind == "item" and unit.text.startswith(first_line) and first in _GOES_ON


def _without_cut_ends(units: list[Unit]) -> list[Unit]:
    """``units`` without a last one the chunk's end cut: a sentence without its end, a call
    without its closing bracket."""
    if units and units[-1].kind == "prose" and units[-1].text[-1:] not in SENTENCE_ENDS + ":)":
        units = units[:-1]
    if units and units[-1].kind == "code" and units[-1].text.count("(") > units[-1].text.count(")"):
        units = units[:-1]  # a call cut by the chunk boundary
    return units


def _quotable(unit: Unit) -> bool:
    if _LEADERS.search(unit.text):
        return False
    words = word_count(unit.text)
    if unit.kind == "prose":
        return words >= MIN_WORDS
    if unit.kind == "item":
        return words >= MIN_ITEM_WORDS
    if unit.kind == "row":
        return words >= 2
    # code names something ("> q()" too), and is no tail of a call begun on a line before:
    # ``"sa", "act", "vic")`` alone says nothing to type
    return bool(_LETTER.search(unit.text)) and unit.text.count(")") <= unit.text.count("(")


def _clip(unit: Unit) -> Unit:
    if len(unit.text) <= MAX_CHARS:
        return unit
    cut = unit.text[:MAX_CHARS].rsplit(" ", 1)[0]
    return replace(unit, text=cut.rstrip(",;:") + CLIPPED)
