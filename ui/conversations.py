"""The app's lasting conversations: the sidebar list of the collection's conversations
(newest first) with new, open, rename, delete and export as Markdown; each question and
answer written as it happens. Storage and its guarantees are ``rag.conversations.history``'s;
here are the widgets and the session state they drive.

Session state: ``history`` (app.py's chat: one dict per message), ``conversation_id``
(the open conversation, None before the first question of a new one) and the collection
it belongs to. The open conversation's id is also in the page's URL (``?conversation=``),
so reloading the page reopens it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import streamlit as st

from rag.config import Settings
from rag.conversations.feedback import feedback_in
from rag.conversations.history import Conversation, Conversations
from rag.conversations.transcript import download_name, to_markdown
from rag.errors import StoreError
from rag.types import Answer
from ui.markdown import neutralize_markdown

LIST_LIMIT = 50
KEY_ID = "conversation_id"
KEY_COLLECTION = "conversation_collection"
KEY_RESTORED = "conversation_restored"
KEY_PROBLEM = "conversation_problem"
PARAM = "conversation"

log = logging.getLogger(__name__)


def begin(settings: Settings) -> Conversations | None:
    """Before the chat renders: the collection's conversations (None, with the reason kept
    for the panel, when the file cannot be used: the chat then goes on without saving); a
    new conversation when the collection changed; the URL's conversation on a (re)load."""
    _follow_collection(settings)
    try:
        store = Conversations.for_store(settings.store)
    except StoreError as exc:
        st.session_state[KEY_PROBLEM] = str(exc)
        return None
    _restore_from_url(store)
    return store


def conversations_panel(store: Conversations | None) -> None:
    """The sidebar section, drawn after the chat so that it lists the question just asked:
    New conversation, the list (newest first), and the open one's actions."""
    st.header("Conversations")
    problem = st.session_state.pop(KEY_PROBLEM, None)
    if problem:
        st.warning(f"Conversations are not being saved: {problem}")
    if store is None:
        return
    st.button(
        "New conversation", icon=":material/add_comment:", key="new_conversation",
        on_click=new_conversation,
    )  # fmt: skip
    current = st.session_state.get(KEY_ID)
    try:
        conversations = store.list(limit=LIST_LIMIT)
    except StoreError as exc:
        st.warning(str(exc))
        return
    if not conversations:
        st.caption("Your questions and answers are kept here, newest first.")
    with st.container(key="conversation_list"):
        for c in conversations:
            st.button(
                neutralize_markdown(c.title),
                key=f"open-{c.id}",
                help=f"Last active {datetime.fromtimestamp(c.updated_at):%Y-%m-%d %H:%M}",
                type="primary" if c.id == current else "tertiary",
                on_click=open_conversation,
                args=(store, c.id),
            )
    opened = next((c for c in conversations if c.id == current), None)
    if opened is not None:
        _actions(store, opened)
    sync_url()


def new_conversation() -> None:
    st.session_state[KEY_ID] = None
    st.session_state.history = []
    st.session_state.queue = []


def open_conversation(store: Conversations, conversation_id: str) -> None:
    """Make a stored conversation the chat, its answers with their sources and feedback."""
    try:
        conversation = store.load(conversation_id)
        rated = feedback_in(store, conversation_id) if conversation else {}
    except StoreError as exc:
        st.session_state[KEY_PROBLEM] = str(exc)
        return
    if conversation is None:  # deleted meanwhile, perhaps in another tab
        new_conversation()
        return
    history: list[dict[str, Any]] = []
    for m in conversation.messages:
        message: dict[str, Any] = {"role": m.role, "text": m.text}
        if m.error:
            message["error"] = m.error
        if m.answer is not None:
            message.update(answer=m.answer, message_id=m.id)
            if m.id in rated:
                message["feedback"] = rated[m.id]
        history.append(message)
    st.session_state[KEY_ID] = conversation.id
    st.session_state.history = history
    st.session_state.queue = []


# -- writing the chat as it happens (called by app.py) ----------------------------------


def remember_question(store: Conversations | None, question: str) -> None:
    """Commit a question before it is answered (starting a conversation with the first)."""
    if store is None:
        return
    try:
        current = st.session_state.get(KEY_ID)
        if current is None:
            conversation, _ = store.start(question)
            st.session_state[KEY_ID] = conversation.id
        else:
            store.ask(current, question)
    except StoreError as exc:
        log.warning("question not saved: %s", exc)
        st.session_state[KEY_PROBLEM] = str(exc)


def remember_answer(store: Conversations | None, answer: Answer) -> int | None:
    """Commit a complete answer with its sources; its message id (for feedback)."""
    current = st.session_state.get(KEY_ID)
    if store is None or current is None:
        return None
    try:
        return store.answer(current, answer).id
    except StoreError as exc:
        log.warning("answer not saved: %s", exc)
        st.session_state[KEY_PROBLEM] = str(exc)
        return None


def remember_failure(store: Conversations | None, error: str) -> None:
    current = st.session_state.get(KEY_ID)
    if store is None or current is None:
        return
    try:
        store.fail(current, error)
    except StoreError as exc:
        log.warning("failure not saved: %s", exc)


# -- internals -----------------------------------------------------------------------------


def _actions(store: Conversations, conversation: Conversation) -> None:
    """Rename, export and delete the open conversation."""
    rename, delete = st.columns(2)
    with rename.popover("Rename", width="stretch"), st.form("rename_conversation"):
        title = st.text_input("Title", value=conversation.title, max_chars=200)
        if st.form_submit_button("Save title"):
            _try(store.rename, conversation.id, title)
            st.rerun()
    st.download_button(
        "Export as Markdown",
        data=lambda: _markdown(store, conversation.id),
        file_name=download_name(conversation),
        mime="text/markdown",
        icon=":material/download:",
        help="The conversation with its sources listed at the end",
        on_click="ignore",
        width="stretch",
    )
    with delete.popover("Delete", width="stretch"):
        st.markdown(f"Delete **{neutralize_markdown(conversation.title)}** and its messages?")
        st.caption("Feedback given on its answers is kept, as evaluation data.")
        if st.button("Delete for good", type="primary", key="delete_conversation"):
            if _try(store.delete, conversation.id):
                new_conversation()
            st.rerun()


def _markdown(store: Conversations, conversation_id: str) -> str:
    conversation = store.load(conversation_id)
    return to_markdown(conversation, escape=neutralize_markdown) if conversation else ""


def _try(action: Any, *args: object) -> bool:
    try:
        action(*args)
    except StoreError as exc:
        st.session_state[KEY_PROBLEM] = str(exc)
        return False
    return True


def _follow_collection(settings: Settings) -> None:
    """A conversation belongs to its collection: another collection starts a new one."""
    collection = settings.store.collection
    before = st.session_state.get(KEY_COLLECTION)
    if before is not None and before != collection:
        new_conversation()
    st.session_state[KEY_COLLECTION] = collection


def _restore_from_url(store: Conversations) -> None:
    """On a page (re)load: reopen the conversation named in the URL, once per session."""
    if st.session_state.get(KEY_RESTORED):
        return
    st.session_state[KEY_RESTORED] = True
    wanted = st.query_params.get(PARAM)
    if wanted and not st.session_state.get("history"):
        open_conversation(store, wanted)


def sync_url() -> None:
    """The open conversation's id in the page's URL (none for a new conversation)."""
    current = st.session_state.get(KEY_ID)
    if current and st.query_params.get(PARAM) != current:
        st.query_params[PARAM] = current
    elif not current and PARAM in st.query_params:
        del st.query_params[PARAM]
