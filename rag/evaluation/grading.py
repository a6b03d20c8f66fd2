"""Whether an answer states its gold, and whether a passage it cites does: the grades of
``rag eval --answers``. Pure: an ``Answer`` and a gold in, a ``Grade`` out.

A gold is one of:

- ``TextGold``: text a correct answer contains, every ``' ... '``-separated part of it.
  Compared after normalising case, whitespace, Unicode forms, curly quotes and dashes, and
  (unless ``punctuation`` is kept, as for the manuals' answers where "--check" and "las=1"
  are the point) reading punctuation and symbols as spaces, SQuAD-style (so Markdown's
  backticks do not hide "`--rebuild`"); a part must sit on word
  boundaries, so "37" is not stated by "1937";
- ``NamesGold``: names a correct answer mentions, any one of them, each matched as a whole
  token and case-sensitively: ``rm`` is not in "form", ``hist`` not in "histogram" or
  "hist.default", but ``hist`` is in "hist(x)" and at the end of a sentence;
- ``FigureGold``: a figure compared as a number at its printed precision
  (``rag.answers.figures``); the cited passages' declared units ("(In millions)"), in
  their text or their heading path (a statement page's title: "Consolidated Balance
  Sheets · (in thousands ...)"), count for the bare numbers the answer quotes from them;
- ``NotGradable``: an answer written as prose by a person (a judgement, an explanation) that
  no rule can find in another text; counted, and left out of the stated and supported rates.

An answer's ``[n]`` markers are dropped before it is graded, so a gold that spans two quoted
sentences is still found; a text gold's own (a paper's reference marks, "[7]") are dropped
too, as are the passage's when support is graded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from rag.answers.figures import Figure, states, units_in
from rag.answers.prompt import ABSTAIN
from rag.answers.sentence_units import REFERENCE_MARK
from rag.types import Answer, Hit

PART_SEPARATOR = " ... "
_QUOTES_DASHES = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "—": "-", "–": "-", "−": "-", "‐": "-", "‑": "-"}
)
_WORD = re.compile(r"\w")
# characters that continue an identifier: "read.table", "is_na", "x2"
_BEFORE_NAME = r"(?<![A-Za-z0-9_.])"
_AFTER_NAME = r"(?![A-Za-z0-9_]|\.[A-Za-z0-9_])"  # "rm." ends a sentence, "rm.x" is another name


class Gold(Protocol):
    """What a correct answer states."""

    @property
    def gradable(self) -> bool: ...

    def stated_in(self, text: str, *, context: str = "") -> bool:
        """Whether ``text`` states it; ``context`` is text around it (the passages cited)."""
        ...

    def as_dict(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class TextGold:
    parts: tuple[str, ...]
    punctuation: bool = False  # keep punctuation when comparing (code, options)

    @classmethod
    def of(cls, text: str, *, punctuation: bool = False) -> TextGold:
        return cls(tuple(p for p in text.split(PART_SEPARATOR) if p.strip()), punctuation)

    @property
    def gradable(self) -> bool:
        return bool(self.parts) and all(normalise(p, self.punctuation) for p in self.parts)

    def stated_in(self, text: str, *, context: str = "") -> bool:
        # a paper's own reference marks ("onset [7] , consistent") are dropped on both
        # sides: the answer's are dropped with its citations, so a gold keeping them could
        # never be stated by a quote of its very sentence
        haystack = normalise(REFERENCE_MARK.sub(" ", text), self.punctuation)
        return all(
            contains(haystack, normalise(REFERENCE_MARK.sub(" ", p), self.punctuation))
            for p in self.parts
        )

    def as_dict(self) -> dict[str, object]:
        return {"answer": PART_SEPARATOR.join(self.parts)}


@dataclass(frozen=True)
class NamesGold:
    names: tuple[str, ...]

    @property
    def gradable(self) -> bool:
        return any(n.strip() for n in self.names)

    def stated_in(self, text: str, *, context: str = "") -> bool:
        flat = " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES_DASHES).split())
        return any(names(flat, n.strip()) for n in self.names if n.strip())

    def as_dict(self) -> dict[str, object]:
        return {"must_name": list(self.names)}


@dataclass(frozen=True)
class FigureGold:
    figure: Figure
    unit: Decimal  # what the gold is counted in when it has no scale word (its question's)
    text: str  # as written

    gradable = True

    def stated_in(self, text: str, *, context: str = "") -> bool:
        return states(self.figure, text, unit=self.unit, context=units_in(context))

    def as_dict(self) -> dict[str, object]:
        return {"answer": self.text, "unit": str(self.unit)}


@dataclass(frozen=True)
class NotGradable:
    text: str

    gradable = False

    def stated_in(self, text: str, *, context: str = "") -> bool:
        return False

    def as_dict(self) -> dict[str, object]:
        return {"answer": self.text, "gradable": False}


@dataclass(frozen=True)
class Grade:
    """One answer judged against its gold."""

    answered: bool  # not an abstention (nor empty)
    stated: bool | None  # the gold is in the answer's text; None when it is not gradable
    supported: bool | None  # the gold is in a passage the answer cites
    chars: int  # the answer's length as shown, its [n] markers included
    words: int
    citations: int


def grade(answer: Answer, gold: Gold) -> Grade:
    """``answer`` judged against ``gold``; an abstention states and cites nothing."""
    text = answer.text
    abstained = bool(answer.metadata.get("abstained", text.startswith(ABSTAIN)))
    answered = bool(text.strip()) and not abstained
    stated = supported = None
    if gold.gradable:
        passages = cited_passages(answer)
        context = "\n".join(_around(h) for h in passages)
        stated = answered and gold.stated_in(REFERENCE_MARK.sub(" ", text), context=context)
        supported = answered and any(gold.stated_in(h.text, context=_around(h)) for h in passages)
    return Grade(
        answered=answered,
        stated=stated,
        supported=supported,
        chars=len(text),
        words=len(text.split()),
        citations=len(answer.citations),
    )


def cited_passages(answer: Answer) -> list[Hit]:
    """The hits an answer's citations point at, in citation order."""
    cited: dict[str, Hit] = {}
    for c in answer.citations:
        cited.setdefault(c.chunk_id, c.hit)
    return list(cited.values())


def _around(hit: Hit) -> str:
    """A passage with its heading path: what declares the units of its bare numbers. A table
    row's chunk rarely holds its page's "(in millions)"; the page's title, which the
    passage was indexed under and the answer shows, does."""
    return f"{hit.header_path}\n{hit.text}" if hit.header_path else hit.text


def normalise(text: str, punctuation: bool = False) -> str:
    """Lower case, one space between words, Unicode compatibility forms, ASCII quotes and
    dashes, PDF hyphenation marks dropped; without ``punctuation``, punctuation and symbols
    read as spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\ufffe\u00ad]\s*", "", text).translate(_QUOTES_DASHES)
    if not punctuation:
        # symbols too: the backticks of Markdown code, $, +, =, as SQuAD's ASCII punctuation
        text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return " ".join(text.split()).lower()


def contains(haystack: str, needle: str) -> bool:
    """Whether ``needle`` is in ``haystack`` with no word character glued to either end of
    it (where that end is a word character itself)."""
    if not needle:
        return False
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before_ok = start == 0 or not (_WORD.match(haystack[start - 1]) and _WORD.match(needle[0]))
        after_ok = end == len(haystack) or not (
            _WORD.match(haystack[end]) and _WORD.match(needle[-1])
        )
        if before_ok and after_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def names(text: str, name: str) -> bool:
    """Whether ``text`` mentions ``name`` as a whole token (see the module docstring)."""
    before = _BEFORE_NAME if re.match(r"[A-Za-z0-9_]", name) else ""
    after = _AFTER_NAME if re.search(r"[A-Za-z0-9_]$", name) else ""
    return re.search(before + re.escape(name) + after, text) is not None
