"""The chat view: questions in turn, answers streamed with their sources, a queue for the
questions sent while another is answered, and each answer saved to its conversation."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from application.queries import ask
from rag.config import Settings
from rag.conversations.history import Conversations
from rag.errors import RagError
from rag.store.index import Index
from rag.types import Answer, Turn
from ui.conversations import remember_answer, remember_failure, remember_question, sync_url
from ui.explore import ALL_LABELS
from ui.feedback import feedback_controls
from ui.markdown import code_span_name, neutralize_markdown
from ui.page_view import open_button

log = logging.getLogger(__name__)

EXTRACTIVE_BADGE = "extractive — no LLM configured"
CLOSEST = 3  # passages offered when the answer abstains
SNIPPET = 600  # characters of a source's passage shown under it


def chat(settings: Settings, index: Index, llm: Any, conversations: Conversations | None) -> None:
    label = None
    labels = index.store.labels()
    if labels:  # written by `python -m rag classify`
        chosen = st.selectbox("Label", [ALL_LABELS, *labels], key="chat_label")
        label = None if chosen == ALL_LABELS else chosen
    history: list[dict[str, Any]] = st.session_state.setdefault("history", [])
    # a question sent while another is answered reruns this script, which stops the answer
    # under way: questions wait here and the interrupted one is answered again, so none is
    # lost and no answer is overwritten
    queue: list[str] = st.session_state.setdefault("queue", [])
    question = st.chat_input("Ask a question about your documents")
    if question:
        queue.append(question)
    for position, message in enumerate(history):
        with st.chat_message(message["role"]):
            st.markdown(neutralize_markdown(message["text"]))
            if message.get("error"):
                st.error(message["error"])
            if message.get("answer") is not None:
                show_answer(message["answer"], key=str(position))
                feedback_controls(conversations, message)
    waiting = st.empty()
    while queue or (history and history[-1]["role"] == "user"):
        if not (history and history[-1]["role"] == "user"):
            next_question = queue.pop(0)
            remember_question(conversations, next_question)  # committed before it is answered
            history.append({"role": "user", "text": next_question})
            with st.chat_message("user"):
                st.markdown(neutralize_markdown(next_question))
        if queue:
            waiting.caption(f"{len(queue)} more question(s) waiting: " + " · ".join(queue))
        else:
            waiting.empty()
        answer_last(settings, index, llm, history, label, conversations)
    waiting.empty()
    sync_url()


def answer_last(
    settings: Settings,
    index: Index,
    llm: Any,
    history: list[dict[str, Any]],
    label: str | None,
    conversations: Conversations | None,
) -> None:
    """Answer the last (user) message of ``history``, save the reply and append it."""
    question = history[-1]["text"]
    turns = [Turn(role=m["role"], text=m["text"]) for m in history[:-1]]
    with st.chat_message("assistant"):
        placeholder = st.empty()
        text = ""
        try:
            # the sidebar's top-k and mode, through the one assembly every edge uses
            retrieval = settings.retrieval
            stream = ask(
                index,
                question,
                llm=llm,
                history=turns,
                k=retrieval.top_k,
                mode=retrieval.retrieval_mode,
                label=label,
            )
            for delta in stream:
                text += delta
                placeholder.markdown(neutralize_markdown(text) + " ▌")
            answer = stream.answer
        except RagError as exc:
            placeholder.empty()
            st.error(str(exc))
            remember_failure(conversations, str(exc))
            history.append({"role": "assistant", "text": "", "error": str(exc)})
            return
        except Exception:  # a bug: logged in full for us, one line for the user, chat goes on
            log.exception("answering %r failed", question)
            message = (
                "Answering this question failed unexpectedly (the details are in the app's "
                "log). Ask it again; if it keeps failing, please report it with that log."
            )
            placeholder.empty()
            st.error(message)
            remember_failure(conversations, message)
            history.append({"role": "assistant", "text": "", "error": message})
            return
        # the whole answer with its sources in one transaction, before more is drawn
        saved = remember_answer(conversations, answer)
        reply = {"role": "assistant", "text": answer.text, "answer": answer, "message_id": saved}
        history.append(reply)
        placeholder.markdown(neutralize_markdown(answer.text))
        show_answer(answer, key=str(len(history) - 1))
        feedback_controls(conversations, reply)


def show_answer(answer: Answer, *, key: str) -> None:
    """The answer's badge and sources; ``key`` names its message in the chat (its position),
    so its buttons keep their keys across reruns and reopened conversations."""
    if answer.mode == "llm":
        st.badge(str(answer.metadata.get("model", "LLM")), icon=":material/smart_toy:")
    else:
        st.badge(EXTRACTIVE_BADGE, icon=":material/format_quote:", color="gray")
        notice = answer.metadata.get("notice")
        if notice:
            st.caption(neutralize_markdown(str(notice)))
    if answer.citations:
        with st.expander(f"Sources ({len(answer.citations)} cited)"):
            show_sources(answer, key=key)
    elif answer.hits:  # abstained: what came closest, so the user can judge for themselves
        with st.expander(f"Closest passages ({min(len(answer.hits), CLOSEST)}, not an answer)"):
            show_closest(answer, key=key)


def show_sources(answer: Answer, *, key: str) -> None:
    for citation in answer.citations:
        hit = citation.hit
        page = f", {citation.place()}" if citation.place() else ""
        score_text = f" · similarity {hit.similarity:.3f}" if hit.similarity is not None else ""
        st.markdown(
            f"**[{citation.n}]** `{code_span_name(citation.source)}`{page}{score_text}".replace(
                "[", "\\["
            ).replace("]", "\\]")
        )
        # untrusted document text: shown as plain text, never rendered
        st.text(hit.snippet(SNIPPET))
        # the page beside the chat, an extractive answer's quotes (the passage's own words)
        # marked on it too
        open_button(hit, key=f"page-{key}-{citation.n}", quotes=citation.quotes)


def show_closest(answer: Answer, *, key: str) -> None:
    st.caption(
        "None of these matched the question closely enough to quote as an answer "
        "(RAG_ABSTAIN_THRESHOLD); they are the nearest passages found."
    )
    for hit in answer.hits[:CLOSEST]:
        page = f", page {hit.page}" if hit.page else ""
        score = f" · similarity {hit.similarity:.3f}" if hit.similarity is not None else ""
        st.markdown(f"`{code_span_name(hit.source)}`{page}{score}")
        st.text(hit.snippet(SNIPPET))
        open_button(hit, key=f"closest-{key}-{hit.chunk_id}")
