"""What is embedded and indexed for a passage: its text, after its section heading path.

A chunk cut from the middle of a section rarely names what the section is about; its
heading path ("Writing R Extensions > 1 Creating R packages > 1.1.1 The DESCRIPTION file",
from a PDF's outline or a Markdown file's headers) does. Putting that path before the text
that is embedded and indexed for BM25, while the stored passage stays as it was (citations
and offsets point into the document), is contextual retrieval without an LLM. Measured by
``bench/levers.py`` (docs/retrieval.md, "Levers").

A collection records in its contract whether its chunks were embedded so (``CONTEXT``);
one created before this feature keeps being written the old way, so no index mixes the
two until it is rebuilt.
"""

from __future__ import annotations

CONTEXT = "headings"  # what a new collection records; "" for a collection from before
# a path longer than this keeps its deepest headings: with a 200-token chunk the two still
# fit the bundled model's 256-token window
MAX_CONTEXT_CHARS = 160


def indexed_text(text: str, header_path: str, *, context: str) -> str:
    """The text to embed and to index for BM25 for a passage of ``text`` under
    ``header_path``, in a collection that records ``context``."""
    head = " ".join(header_path.split())
    if context != CONTEXT or not head:
        return text
    if len(head) > MAX_CONTEXT_CHARS:
        head = "…" + head[-(MAX_CONTEXT_CHARS - 1) :].lstrip()
    return f"{head}\n\n{text}"
