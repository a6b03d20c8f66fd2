"""Citation markers in a streamed answer: keep the ``[n]`` that point at a passage that was
given, remove the others (and count them), so that the streamed deltas join exactly to the
final text. Pure logic, fed one delta at a time."""

from __future__ import annotations

import re

_FULL = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_PARTIAL = re.compile(r"\[(\d{1,3}(\s*,\s*(\d{1,3})?)*)?")
_MAX_MARKER = 24  # a longer bracket is not a citation
_WORDLIKE = re.compile(r"[\w)]")  # "x[1]" is R indexing, not a citation


class CitationFilter:
    """Streams text through, rewriting citation markers to the ``count`` passages given.

    Leading and trailing whitespace of the whole answer is dropped; the whitespace before
    a removed marker goes with it ("claim [9]." becomes "claim.").
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.used: list[int] = []  # passage numbers in order of first citation
        self.removed = 0  # markers (numbers) that pointed at no passage
        self._space = ""  # whitespace held back until we know what follows it
        self._bracket = ""  # a "[..." that may still become a citation
        self._prev = ""  # last character emitted
        self._after_marker = False  # "[1][2]": a marker may follow a marker
        self._started = False

    def feed(self, delta: str) -> str:
        out: list[str] = []
        for ch in delta:
            self._step(ch, out)
        return "".join(out)

    def flush(self) -> str:
        """What is still held at the end (an unfinished bracket); trailing spaces are dropped."""
        out = self._bracket
        if out:
            out = self._space + out
        self._space = self._bracket = ""
        return out

    def _step(self, ch: str, out: list[str]) -> None:
        if self._bracket:
            self._bracket += ch
            if ch == "]" and (match := _FULL.fullmatch(self._bracket)):
                self._resolve(match.group(1), out)
            elif len(self._bracket) > _MAX_MARKER or not _PARTIAL.fullmatch(self._bracket):
                literal, self._bracket = self._bracket, ""
                self._space_out(out)
                self._emit(literal[0], out)
                for rest in literal[1:]:  # the rest may hold a new "[" or spaces
                    self._step(rest, out)
            return
        if ch.isspace():
            if self._started:
                self._space += ch
            return
        if ch == "[" and (self._after_marker or self._space or not _WORDLIKE.match(self._prev)):
            self._bracket = ch
            return
        self._space_out(out)
        self._emit(ch, out)

    def _resolve(self, numbers: str, out: list[str]) -> None:
        marker, self._bracket = self._bracket, ""
        wanted = [int(x) for x in numbers.split(",")]
        valid = [n for n in wanted if 1 <= n <= self.count]
        self.removed += len(wanted) - len(valid)
        for n in valid:
            if n not in self.used:
                self.used.append(n)
        if not valid:
            self._space = ""  # drop the marker and the space before it
            self._after_marker = True
            return
        self._space_out(out)
        text = marker if len(valid) == len(wanted) else "[" + ", ".join(map(str, valid)) + "]"
        for ch in text:
            self._emit(ch, out)
        self._after_marker = True

    def _space_out(self, out: list[str]) -> None:
        if self._space:
            out.append(self._space)
            self._space = ""

    def _emit(self, ch: str, out: list[str]) -> None:
        out.append(ch)
        self._prev = ch
        self._started = True
        self._after_marker = False
