"""Untrusted passage text as safe Markdown with the query's words in bold.

The text goes through ``neutralize_markdown`` piece by piece; the only Markdown added is
``**`` around whole words whose stem matches a query word's (so "values" matches "value"),
never inside a URL (those stay inert code spans). Bold markers cannot build a link, an
image or HTML, so the result is as safe as ``neutralize_markdown`` alone.
"""

from __future__ import annotations

import re

from rag.retrieval.bm25 import tokenize
from ui.markdown import URL, neutralize_markdown

_WORD = re.compile(r"[^\W_]+")


def query_stems(query: str) -> set[str]:
    """The stems of the query's words, stopwords left out (as BM25 sees them)."""
    return set(tokenize(query))


def highlight(text: str, query: str) -> str:
    """``neutralize_markdown(text)`` with each word matching the query in bold."""
    stems = query_stems(query)
    if not stems:
        return neutralize_markdown(text)
    urls = [(m.start(), m.end()) for m in URL.finditer(text)]
    parts: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for s, e in urls):
            continue
        words = tokenize(match.group(0))
        if len(words) != 1 or words[0] not in stems:
            continue
        parts.append(neutralize_markdown(text[last:start]))
        parts.append(f"**{match.group(0)}**")  # letters and digits only: nothing to escape
        last = end
    parts.append(neutralize_markdown(text[last:]))
    return "".join(parts)
