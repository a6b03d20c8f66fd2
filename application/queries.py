"""A request's retrieval and answer, assembled in one place for every edge: over an open
index, with the request's ``k``, ``mode``, ``label`` and LLM.

``k`` and ``mode`` left None take the collection's settings (``RAG_TOP_K``,
``RAG_RETRIEVAL_MODE``); the app passes its sidebar's choices, the API and the command line
what the request or the flags say. A search passes them to the retriever per call; an
answer's retriever is built with them, since the answerer retrieves more than once (a
follow-up is also searched joined to the previous question).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import ConfigError
from rag.retrieval.retriever import Retriever
from rag.store.index import Index
from rag.types import Hit, Turn

if TYPE_CHECKING:  # `rag search` does not pay for the answer path's imports (the LLM client)
    from rag.answers.answer import AnswerStream
    from rag.answers.llm import LLM


def search(
    index: Index,
    query: str,
    *,
    k: int | None = None,
    mode: str | None = None,
    label: str | None = None,
) -> list[Hit]:
    """Ranked hits, as ``python -m rag search``, ``/v1/search``, the MCP ``search`` tool and
    the app's Search view give them."""
    retriever = Retriever(index=index, settings=index.settings.retrieval)
    return retriever.retrieve(query, k=k, mode=mode, label=label)


def ask(
    index: Index,
    question: str,
    *,
    llm: LLM | None,
    history: Sequence[Turn] = (),
    k: int | None = None,
    mode: str | None = None,
    label: str | None = None,
) -> AnswerStream:
    """The answer as a stream, as the chat, ``python -m rag ask``, chat completions and the
    MCP ``ask`` tool give it; ``llm`` None answers extractively."""
    from rag.answers.answer import answerer_for  # see TYPE_CHECKING above

    settings = request_settings(index.settings, k=k, mode=mode)
    return answerer_for(index, settings, llm).ask(question, history=history, label=label)


def request_settings(settings: Settings, *, k: int | None, mode: str | None) -> Settings:
    """``settings`` with the request's ``k`` and ``mode`` (validated), those not given kept."""
    changes: dict[str, object] = {}
    if k is not None:
        changes["top_k"] = k
    if mode is not None:
        changes["retrieval_mode"] = mode
    return settings.replace(**changes) if changes else settings


def check_label(index: Index, label: str | None, *, drop: str) -> None:
    """ConfigError, with the labels there are, for a label no document has: an answer over
    nothing would only abstain. ``drop`` names how the caller drops it ("--label")."""
    if not label:
        return
    labels = index.store.labels()
    if label not in labels:
        known = ", ".join(labels) or "none yet"
        raise ConfigError(
            f"No document has the label {label!r} (labels: {known}). Label the "
            f"collection with `python -m rag classify LABELS.toml`, or drop {drop}."
        )
