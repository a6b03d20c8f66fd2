"""Where a stored passage is in its page's text as PDFium reads it.

A chunk's ``start_index`` is an offset into the page text *after* our normalisation
(``ingest.pdf.pdfium_text`` then ``ingest.document.clean``): PDFium's U+FFFE marks of
removed hyphens and its U+0002 dropped, CR LF and CR turned into LF, NUL bytes dropped.
``normalised`` redoes that while remembering, for every character it keeps, where it was in
PDFium's text, so an offset in our text maps back to PDFium's (and from there to its
character boxes). ``find_passage`` trusts the offset only when the passage is really
there, else looks for the passage on the page (the file may have changed, or an old
chunker cut it elsewhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKS = frozenset("\ufffe\x02")  # dropped by pdfium_text, before it joins CR LF
_SPACE = re.compile(r"\s+")


def normalised(raw: str) -> tuple[str, list[int]]:
    """``clean(pdfium_text(raw))`` and, for each of its characters, its index in ``raw``
    (plus one last entry: ``len(raw)``, the end). The steps run in the same order as
    there: marks out, then line ends, then NUL bytes and lone surrogates."""
    kept = [(i, c) for i, c in enumerate(raw) if c not in _MARKS]
    chars: list[str] = []
    where: list[int] = []
    n = 0
    while n < len(kept):
        i, c = kept[n]
        n += 1
        if c == "\r":
            c = "\n"
            if n < len(kept) and kept[n][1] == "\n":
                n += 1
        if c == "\x00":
            continue
        chars.append("?" if "\ud800" <= c <= "\udfff" else c)
        where.append(i)
    where.append(len(raw))
    return "".join(chars), where


@dataclass(frozen=True)
class Span:
    """Where a passage is in the normalised page text, and how it was found."""

    start: int
    end: int
    how: str  # "offset" (its stored offset), "text" (searched), "words" (spacing ignored)


def find_passage(page_text: str, *, start: int, passage: str) -> Span | None:
    """The passage in ``page_text``: at ``start`` when it is there, else its occurrence
    nearest to ``start``, else the same words with any spacing between them; None when the
    page does not hold it."""
    passage = passage.strip()
    if not passage:
        return None
    if start >= 0 and page_text[start : start + len(passage)] == passage:
        return Span(start, start + len(passage), "offset")
    found = _nearest(
        [m.start() for m in re.finditer(re.escape(passage), page_text)], start, len(passage)
    )
    if found is not None:
        return Span(found[0], found[1], "text")
    words = passage.split()
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    spans = [(m.start(), m.end()) for m in pattern.finditer(page_text)]
    if not spans:
        # the words glued differently (a hyphen joined at a line end, a space PDFium
        # inserted): compare with every space removed
        return _without_spaces(page_text, start=start, passage=passage)
    best = min(spans, key=lambda s: abs(s[0] - start))
    return Span(best[0], best[1], "words")


def _nearest(starts: list[int], start: int, length: int) -> tuple[int, int] | None:
    if not starts:
        return None
    best = min(starts, key=lambda s: abs(s - start))
    return best, best + length


def _without_spaces(page_text: str, *, start: int, passage: str) -> Span | None:
    kept = [i for i, c in enumerate(page_text) if not c.isspace()]
    squeezed = "".join(page_text[i] for i in kept)
    target = _SPACE.sub("", passage)
    if not target:
        return None
    starts = [m.start() for m in re.finditer(re.escape(target), squeezed)]
    if not starts:
        return None
    nearest = min(starts, key=lambda s: abs(kept[s] - start))
    return Span(kept[nearest], kept[nearest + len(target) - 1] + 1, "words")
