"""A conversation as Markdown: each question and answer, the answers' ``[n]`` citations
numbered through the whole conversation, and at the end a "Sources" list, one line per
cited passage: ``[n] file name, page P`` (or its locator: ``Citation.place()``).

Every answer numbers its passages from 1; here a passage keeps the number it got where it
was first cited, so ``[1]`` of the second answer may become ``[3]``, and a passage cited
twice has one number. Questions, answers, titles and file names are untrusted text: the
caller's ``escape`` (the app's ``neutralize_markdown``) makes them safe, and only the
markers this module writes stay live Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePath

from rag.conversations.history import Conversation, Message
from rag.types import Citation

# a citation as the answer wrote it; "x[1]" (R indexing) is text, as in rag.answers.citations
MARKER = re.compile(r"(?<![\w)])\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
Escape = Callable[[str], str]


def to_markdown(conversation: Conversation, *, escape: Escape) -> str:
    numbers: dict[str, int] = {}  # chunk id -> number in this transcript
    sources: list[Citation] = []
    lines = [f"# {escape(conversation.title)}", "", f"*{_when(conversation, escape)}*", ""]
    for message in conversation.messages:
        if message.role == "user":
            lines += [f"**Question:** {escape(message.text)}", ""]
            continue
        lines += ["**Answer:** " + _answer_text(message, numbers, sources, escape), ""]
    if sources:
        lines += ["## Sources", ""]
        for citation in sources:
            place = citation.place()
            name = escape(PurePath(citation.source).name) + (f", {escape(place)}" if place else "")
            lines.append(f"- [{numbers[citation.chunk_id]}] {name}")
        lines.append("")
    return "\n".join(lines)


def download_name(conversation: Conversation) -> str:
    """A download name made from the title: letters, digits and dashes only."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", conversation.title).strip("-").lower()[:60]
    return f"{stem or 'conversation'}.md"


def _answer_text(
    message: Message, numbers: dict[str, int], sources: list[Citation], escape: Escape
) -> str:
    if message.error:
        return "*(failed: " + escape(message.error) + ")*"
    if message.answer is None:
        return escape(message.text)
    local: dict[int, int] = {}
    for citation in message.answer.citations:
        if citation.chunk_id not in numbers:
            numbers[citation.chunk_id] = len(numbers) + 1
            sources.append(citation)
        local[citation.n] = numbers[citation.chunk_id]
    parts: list[str] = []
    last = 0
    text = message.answer.text
    for match in MARKER.finditer(text):
        cited = [int(n) for n in match.group(1).split(",")]
        if not all(n in local for n in cited):
            continue  # not one of this answer's citations: stays text
        parts.append(escape(text[last : match.start()]))
        parts.append("[" + ", ".join(str(local[n]) for n in cited) + "]")
        last = match.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


def _when(conversation: Conversation, escape: Escape) -> str:
    started = datetime.fromtimestamp(conversation.created_at, tz=UTC)
    return f"Collection {escape(conversation.collection)} · started {started:%Y-%m-%d %H:%M} UTC"
