"""Figures in text read as numbers, and whether a stated figure is a gold one.

``rag eval --answers`` compares figures (the SEC filings' "$0.40", "1.73", "101.5%") as
numbers, not as text: "$400 million", "400" under "(In millions)" and "0.4 billion" are the
same amount. Pure functions, no I/O.

**Reading a figure** (``figures_in``): a number with thousands separators dropped
(``1,577.00``), and what the text right around it says:

- negative: a minus sign (``-``, ``−``) not preceded by a letter or digit (so "2019-2020" is
  two figures, not a negative one), the word "negative" or "minus" before it, or
  parentheses around it as accountants print losses: ``(473)``, ``$(473)``, ``(12.5)%``;
- percent: ``%``, "percent" or "per cent" right after it;
- a currency mark before it (``$``, ``US$``, ``USD``, ``€``, ``£``): kept, not compared;
- a scale right after it: "thousand", "million", "billion", "trillion" (plural too), "mn",
  "bn", or a letter stuck to the digits (``1561M``, ``4.6B``, ``5K``, ``5MM``; a lone letter
  after a space is more often a unit of length or time).

Digits glued to letters before them (``FY2020``, ``Q1``) are not figures.

**Units** (``units_in``): what a table or a question says its bare numbers are counted in:
"in millions", "(In thousands, except per share data)", "in USD billions", "USD millions",
"$ in millions".

**Matching** (``matches``): a gold figure ``g`` printed with ``d`` significant decimals, in
unit ``U`` (its own scale word, else the unit its question asks for, else 1), is stated by a
figure ``s`` when ``|s|`` in units of ``U`` *rounds to* ``|g|`` at ``d`` decimals, half away
from zero (Python's ``ROUND_HALF_UP`` on ``Decimal``): gold ``1.73`` is stated by 1.725 up to,
not including, 1.735; gold ``1832.00`` (USD millions) by 1,832 in millions and by 1,831.9.

- Trailing zeros after the decimal point are format, not precision: FinanceBench prints
  every amount with two decimals, whatever it was rounded to. Its golds for the figures the
  statements print are "$0.40" (billions) for dividends paid of (389) million, "$4.60" for
  capital spending of (4,625) million, "$5466.00" (millions) for 5,466,312 thousand,
  "$303.00" for 302,578 thousand: read at two decimals none of them is the statement's own
  figure. So ``0.40`` is read as ``0.4``: any amount from 350 million up to, not including,
  450 million states it.

- The stated figure's unit is its own scale word when it has one; a bare number is tried in
  the gold's unit, in the unit the question asks for, and in every unit the surrounding
  text declares (the answer's, and its cited passages': a quoted table row whose header
  says "(In millions)").
- A percent gold is stated by a percent figure or a bare number (table columns headed "%"
  print no sign), never by an amount with a currency or a scale; a gold that is not a
  percent is never stated by a percent.
- Magnitudes are compared, not signs: a cash flow statement prints the dividends paid as
  ``(400)`` where the question asks how much was paid, and the annotators write
  "-$473 million" and "473 million" alike for the same loss.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

SCALES = {
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
}
# suffixes glued to the digits ("1561M", "4.6bn"); a lone "m" after a space is too often metres
_SUFFIXES = {
    "k": SCALES["thousand"],
    "m": SCALES["million"],
    "mm": SCALES["million"],
    "mn": SCALES["million"],
    "b": SCALES["billion"],
    "bn": SCALES["billion"],
}

_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?!\d)")
_BEFORE = re.compile(
    r"(?P<word>\b(?:negative|minus)\s+)?(?P<open>\(\s*)?(?P<sign1>(?<![\w)])[-−]\s?)?"
    r"(?P<currency>(?:US\$|USD|\$|€|£)\s?(?P<sign2>[-−])?)?(?P<open2>\(\s*)?$",
    re.IGNORECASE,
)
_AFTER = re.compile(
    r"^(?P<percent1>\s?(?:%|percent\b|per cent\b))?(?P<close>\s*\))?"
    r"(?P<percent2>\s?(?:%|percent\b|per cent\b))?"
    r"(?:(?P<suffix>mm|mn|bn|[kmb])(?![A-Za-z0-9])"
    r"|\s?(?P<scale>thousand|million|billion|trillion|mn|bn)s?\b)?",
    re.IGNORECASE,
)
_UNIT = re.compile(
    r"\bin\s+(?:(?:usd|us\$|\$|dollars)\s+)?(?P<in>thousands|millions|billions)\b"
    r"|(?:\busd|\bus\$|\$)\s*(?P<cur>thousands|millions|billions)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Figure:
    """A number as printed: signed, its decimals counted, with what its text says about it."""

    value: Decimal  # signed; its scale word not applied
    decimals: int  # digits after the decimal point as printed
    percent: bool = False
    currency: bool = False
    scale: Decimal | None = None  # from a scale word right after it; None when it says none

    @property
    def significant(self) -> int:
        """The decimals that carry precision: the printed ones less trailing zeros ("4.60"
        has one, "303.00" none; see the module's docstring)."""
        exponent = self.value.normalize().as_tuple().exponent
        assert isinstance(exponent, int)  # a figure is finite
        return min(self.decimals, max(0, -exponent))

    @property
    def bare(self) -> bool:
        """Nothing but a number: no percent, currency or scale."""
        return not (self.percent or self.currency or self.scale is not None)


def figures_in(text: str) -> list[Figure]:
    """Every figure in ``text``, in order."""
    out = []
    for match in _NUMBER.finditer(text):
        before = _BEFORE.search(text[max(0, match.start() - 24) : match.start()])
        after = _AFTER.match(text[match.end() : match.end() + 24])
        assert before is not None and after is not None  # every group is optional
        raw = match.group().replace(",", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            continue
        opened = bool(before.group("open") or before.group("open2"))
        negative = bool(before.group("word") or before.group("sign1") or before.group("sign2")) or (
            opened and bool(after.group("close"))
        )
        scale = None
        if after.group("suffix"):
            scale = _SUFFIXES[after.group("suffix").lower()]
        elif after.group("scale"):
            word = after.group("scale").lower()
            scale = _SUFFIXES.get(word) or SCALES[word]
        out.append(
            Figure(
                value=-value if negative else value,
                decimals=len(raw.split(".")[1]) if "." in raw else 0,
                percent=bool(after.group("percent1") or after.group("percent2")),
                currency=bool(before.group("currency")),
                scale=scale,
            )
        )
    return out


def parse_figure(text: str) -> Figure | None:
    """``text`` as one figure ("$0.40", "-$1561M", "101.5%", "1,577.00."), or None when it
    holds anything else (words, several numbers)."""
    stripped = text.strip().rstrip(".").strip()
    found = figures_in(stripped)
    if len(found) != 1:
        return None
    words = _NUMBER.sub(" ", stripped)
    words = re.sub(
        r"(?i)\b(?:negative|minus|percent|per cent|usd|us|thousands?|millions?|billions?"
        r"|trillions?|mm|mn|bn|[kmb])\b",
        " ",
        words,
    )
    if re.search(r"[A-Za-z0-9]", words):
        return None
    return found[0]


def units_in(text: str) -> set[Decimal]:
    """The units ``text`` declares its bare numbers are counted in ("(In millions)" ->
    10**6)."""
    units = set()
    for match in _UNIT.finditer(text):
        word = (match.group("in") or match.group("cur")).lower().rstrip("s")
        units.add(SCALES[word])
    return units


def declared_unit(text: str) -> Decimal | None:
    """The first unit ``text`` declares ("How much (in USD billions) ..." -> 10**9), or
    None."""
    match = _UNIT.search(text)
    if match is None:
        return None
    return SCALES[(match.group("in") or match.group("cur")).lower().rstrip("s")]


def matches(gold: Figure, stated: Figure, *, unit: Decimal, context: Collection[Decimal]) -> bool:
    """Whether ``stated`` states ``gold`` (see the module's docstring for the rule).

    ``unit``: what the gold is counted in when it has no scale word of its own (the unit its
    question asks for, else 1); ``context``: the units the text around ``stated`` declares.
    """
    if gold.percent:
        if not (stated.percent or stated.bare):
            return False
        return _rounds_to(stated.value, gold)
    if stated.percent:
        return False
    target = gold.scale or unit
    scales: Iterable[Decimal] = (
        (stated.scale,) if stated.scale is not None else {target, unit, *context}
    )
    return any(_rounds_to(stated.value * scale / target, gold) for scale in scales)


def states(
    gold: Figure, text: str, *, unit: Decimal = Decimal(1), context: Collection[Decimal] = ()
) -> bool:
    """Whether any figure in ``text`` states ``gold``; bare numbers are also tried in the
    units ``text`` itself declares, besides ``context``."""
    units = units_in(text) | set(context)
    return any(matches(gold, s, unit=unit, context=units) for s in figures_in(text))


def _rounds_to(value: Decimal, gold: Figure) -> bool:
    step = Decimal(1).scaleb(-gold.significant)
    try:
        return abs(value).quantize(step, rounding=ROUND_HALF_UP) == abs(gold.value)
    except InvalidOperation:  # too many digits for the context: not this figure
        return False
