"""Thumbs up or down under each saved answer; once rated, an optional note and the passages that
were useful (preselected: the cited ones for a thumbs up, none for a thumbs down). Stored by
``rag.conversations.feedback``, which keeps the question, the retrieved passages and the answer
with it: ``python -m rag feedback --export FILE`` turns it into evaluation data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

from rag.conversations.feedback import give_feedback, withdraw_feedback
from rag.conversations.history import Conversations
from rag.errors import RagError
from rag.types import Answer, Hit

THUMBS = ("down", "up")  # st.feedback("thumbs"): 0 is thumbs down, 1 thumbs up

log = logging.getLogger(__name__)


def feedback_controls(store: Conversations | None, message: dict[str, Any]) -> None:
    """The thumbs of one answer message of app.py's history (it needs a ``message_id``)."""
    message_id = message.get("message_id")
    answer = message.get("answer")
    if store is None or message_id is None or not isinstance(answer, Answer):
        return
    saved = message.get("feedback")
    st.feedback(
        "thumbs",
        key=f"thumbs-{message_id}",
        default=THUMBS.index(saved.rating) if saved else None,
        on_change=_rated,
        args=(store, message),
    )
    if saved is not None and answer.hits:
        with st.expander("Feedback: a note, and which passages were useful"):
            _details(store, message, answer)


def _rated(store: Conversations, message: dict[str, Any]) -> None:
    value = st.session_state.get(f"thumbs-{message['message_id']}")
    try:
        if value is None:
            withdraw_feedback(store, message["message_id"])
            message.pop("feedback", None)
            return
        saved = message.get("feedback")
        message["feedback"] = give_feedback(
            store,
            message_id=message["message_id"],
            rating=THUMBS[value],
            note=saved.note if saved else "",
        )
    except RagError as exc:
        log.warning("feedback not saved: %s", exc)
        st.toast(f"Feedback not saved: {exc}", icon=":material/error:")


def _details(store: Conversations, message: dict[str, Any], answer: Answer) -> None:
    saved = message["feedback"]
    labels = {h.chunk_id: _label(n, h) for n, h in enumerate(answer.hits, start=1)}
    # keyed by the saved version, so a changed thumb preselects its own default passages
    version = f"{saved.rating}-{int(saved.updated_at * 1000)}"
    with st.form(f"feedback-{message['message_id']}-{version}"):
        note = st.text_input("Note (optional)", value=saved.note, max_chars=2000)
        useful = st.multiselect(
            "Useful passages",
            list(labels),
            default=[c for c in saved.useful if c in labels],
            format_func=lambda chunk_id: labels[chunk_id],
        )
        if st.form_submit_button("Save feedback"):
            try:
                message["feedback"] = give_feedback(
                    store,
                    message_id=message["message_id"],
                    rating=saved.rating,
                    note=note,
                    useful=useful,
                )
                st.toast("Feedback saved", icon=":material/check:")
            except RagError as exc:
                st.error(str(exc))


def _label(n: int, hit: Hit) -> str:
    """A passage as an option: its number in the answer, file, place and opening words."""
    place = f", {hit.place(short=True)}" if hit.place() else ""
    return f"[{n}] {Path(hit.source).name}{place}: {hit.snippet(60)}"
