"""A passage in its surrounding text, pieced together from the stored neighbouring chunks.

Every chunk keeps its offset in its page (or file) text, so the chunks around a passage
put back the text around it without opening the file (which may be gone, a web page, or
an image read by OCR). Chunks overlap, and agree where they do; the whitespace the
chunker stripped between two chunks is not stored, so a gap reads as one space (a line
break when two or more characters are missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.types import Hit

MARGIN = 1_200  # characters of surrounding text shown either side of a passage
ELLIPSIS = "…"


@dataclass(frozen=True)
class Surrounding:
    before: str  # text before the passage ("…" first when cut)
    passage: str
    after: str  # text after it ("…" last when cut)


def window(hit: Hit, *, margin: int = MARGIN) -> tuple[int, int]:
    """The offsets whose text ``surrounding`` may show for ``hit``."""
    return max(hit.start_index - margin, 0), hit.start_index + len(hit.text) + margin


def surrounding(hit: Hit, neighbours: Sequence[Hit], *, margin: int = MARGIN) -> Surrounding:
    """``hit``'s text with up to ``margin`` characters either side from ``neighbours``
    (chunks of the same page: other sources and pages are ignored)."""
    low, high = window(hit, margin=margin)
    start, end = hit.start_index, hit.start_index + len(hit.text)
    chars: dict[int, str] = {}
    for chunk in neighbours:
        if chunk.source != hit.source or chunk.page != hit.page:
            continue
        for i, c in enumerate(chunk.text, start=chunk.start_index):
            if low <= i < start or end <= i < high:
                chars[i] = c
    before = _joined(sorted(i for i in chars if i < start), chars)
    after = _joined(sorted(i for i in chars if i >= end), chars)
    if before:
        before += _gap(max(i for i in chars if i < start), start)
        if low > 0 and low in chars:  # cut at the window's edge: the page goes on
            before = ELLIPSIS + _from_word(before)
    if after:
        after = _gap(end - 1, min(i for i in chars if i >= end)) + after
        if high - 1 in chars:
            after = _to_word(after) + ELLIPSIS
    return Surrounding(before, hit.text, after)


def _gap(last: int, following: int) -> str:
    """What stood between two known characters: nothing, a space, or a line break."""
    missing = following - last - 1
    return "" if missing <= 0 else " " if missing == 1 else "\n"


def _joined(positions: list[int], chars: dict[int, str]) -> str:
    parts: list[str] = []
    for n, i in enumerate(positions):
        if n:
            parts.append(_gap(positions[n - 1], i))
        parts.append(chars[i])
    return "".join(parts)


def _from_word(text: str) -> str:
    cut = text.find(" ")
    return text[cut + 1 :] if 0 <= cut < 40 else text


def _to_word(text: str) -> str:
    cut = text.rfind(" ")
    return text[:cut] if cut > len(text) - 40 else text
