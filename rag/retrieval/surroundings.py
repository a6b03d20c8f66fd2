"""A passage in its surrounding text, pieced together from the stored neighbouring chunks.

Every chunk keeps its offset in its page (or file) text, so the chunks around a passage
put back the text around it without opening the file (which may be gone, a web page, or
an image read by OCR). Chunks overlap, and agree where they do; the whitespace the
chunker stripped between two chunks is not stored, so a gap reads as one space (a line
break when two or more characters are missing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.types import Hit

MARGIN = 1_200  # characters of surrounding text shown either side of a passage
MAX_CHUNK_CHARS = 4_000  # how far before a passage a neighbouring chunk may start
ELLIPSIS = "…"


@dataclass(frozen=True)
class Surrounding:
    before: str  # text before the passage ("…" first when cut)
    passage: str
    after: str  # text after it ("…" last when cut)


def window(hit: Hit, *, margin: int = MARGIN) -> tuple[int, int]:
    """The offsets whose text ``surrounding`` may show for ``hit``."""
    return max(hit.start_index - margin, 0), hit.start_index + len(hit.text) + margin


def neighbour_starts(hit: Hit, *, margin: int = MARGIN) -> tuple[int, int]:
    """The offsets at which a chunk reaching into ``hit``'s window (``window``) may start:
    what to ask the store for (``Store.around``)."""
    low, high = window(hit, margin=margin)
    return max(low - MAX_CHUNK_CHARS, 0), high


def surrounding(hit: Hit, neighbours: Sequence[Hit], *, margin: int = MARGIN) -> Surrounding:
    """``hit``'s text with up to ``margin`` characters either side from ``neighbours``
    (chunks of the same page: other sources and pages are ignored)."""
    sides = _sides(hit, neighbours, margin)
    before, after = sides.before, sides.after
    if sides.cut_before:  # cut at the window's edge: the page goes on
        before = ELLIPSIS + _from_word(before)
    if sides.cut_after:
        after = _to_word(after) + ELLIPSIS
    return Surrounding(before, hit.text, after)


def widened(hit: Hit, neighbours: Sequence[Hit], *, margin: int) -> Hit:
    """``hit`` with the whole sentences of up to ``margin`` characters either side of it
    (from ``neighbours``, chunks of its page), as one passage starting where its first
    character is on the page. A chunk boundary often cuts an answer from the sentence
    that introduces it; an answer that reads the passage in its page reads both. A side
    cut by the margin inside a sentence keeps only its whole sentences."""
    if margin <= 0:
        return hit
    sides = _sides(hit, neighbours, margin)
    before, after = sides.before, sides.after
    if sides.cut_before:  # start at a sentence's start...
        first = _SENTENCE_END.search(before)
        before = before[first.end() :] if first else ""
    if sides.cut_after:  # ...and stop at a sentence's end
        ends = list(_SENTENCE_END.finditer(after + " "))
        after = after[: ends[-1].end() - 1] if ends else ""
    if not before.strip() and not after.strip():
        return hit
    skipped = len(sides.before) - len(before)
    start = sides.offsets[skipped] if before else hit.start_index
    return replace(hit, text=before + hit.text + after, start_index=start)


@dataclass(frozen=True)
class _Sides:
    before: str
    after: str
    offsets: list[int]  # each character of ``before``'s place on the page
    cut_before: bool  # the margin cut the side: the page goes on beyond it
    cut_after: bool


def _sides(hit: Hit, neighbours: Sequence[Hit], margin: int) -> _Sides:
    """The text up to ``margin`` characters before and after ``hit``."""
    low, high = window(hit, margin=margin)
    start, end = hit.start_index, hit.start_index + len(hit.text)
    chars: dict[int, str] = {}
    for chunk in neighbours:
        if chunk.source != hit.source or chunk.page != hit.page:
            continue
        for i, c in enumerate(chunk.text, start=chunk.start_index):
            if low <= i < start or end <= i < high:
                chars[i] = c
    before, offsets = _joined(sorted(i for i in chars if i < start), chars)
    after, _ = _joined(sorted(i for i in chars if i >= end), chars)
    if before:
        gap = _gap(max(i for i in chars if i < start), start)
        before, offsets = before + gap, offsets + [start] * len(gap)
    if after:
        after = _gap(end - 1, min(i for i in chars if i >= end)) + after
    return _Sides(
        before,
        after,
        offsets,
        cut_before=bool(before) and low > 0 and low in chars,
        cut_after=bool(after) and high - 1 in chars,
    )


# a sentence's last character (and a closing mark) with the space after it
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s")


def _gap(last: int, following: int) -> str:
    """What stood between two known characters: nothing, a space, or a line break."""
    missing = following - last - 1
    return "" if missing <= 0 else " " if missing == 1 else "\n"


def _joined(positions: list[int], chars: dict[int, str]) -> tuple[str, list[int]]:
    """The characters at ``positions`` with their gaps put back, and each one's offset (a
    gap's is the offset of the character after it)."""
    parts: list[str] = []
    offsets: list[int] = []
    for n, i in enumerate(positions):
        if n:
            gap = _gap(positions[n - 1], i)
            parts.append(gap)
            offsets += [i] * len(gap)
        parts.append(chars[i])
        offsets.append(i)
    return "".join(parts), offsets


def _from_word(text: str) -> str:
    cut = text.find(" ")
    return text[cut + 1 :] if 0 <= cut < 40 else text


def _to_word(text: str) -> str:
    cut = text.rfind(" ")
    return text[:cut] if cut > len(text) - 40 else text
