"""The app's collection picker: choose a collection, create one, see its model and size.

The choice is per browser session (``st.session_state``), so two users of one app can work
in different collections; ``RAG_COLLECTION`` is only where a session starts. A collection
whose index contract differs from the current model settings is still listed and can be
chosen: the page then shows the mismatch with its fix instead of opening it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rag.config import Settings, valid_collection_name
from rag.errors import RagError
from rag.store.chroma import Store
from rag.store.contract import Contract
from rag.store.index import collection_names

KEY = "collection"  # the session's chosen collection
NAME_RULE = (
    "3-512 characters from a-z, A-Z, 0-9, '.', '_' and '-', starting and ending with a "
    "letter or digit"
)


def chosen_collection(
    settings: Settings,
    *,
    store_of: Callable[[Settings], Store],
    create: Callable[[Settings], None],
) -> Settings:
    """The sidebar's picker and "new collection" form; ``settings`` for the chosen one.

    ``store_of`` connects to a collection's store, ``create`` makes an empty collection
    for the given settings (recording its index contract)."""
    default = settings.store.collection
    try:
        names = sorted({*collection_names(store_of(settings)), default})
    except RagError as exc:  # the store cannot be listed: stay on the configured one
        st.sidebar.error(str(exc))
        return settings
    created = st.session_state.pop("created_collection", None)
    if created in names:
        st.session_state[KEY] = created
    if st.session_state.get(KEY) not in names:
        st.session_state[KEY] = default
    with st.sidebar:
        # the chat follows: ui.conversations starts a new conversation on another collection
        name = st.selectbox("Collection", names, key=KEY)
        new_collection_form(settings, names, create)
    return settings if name == default else settings.replace(collection=name)


def new_collection_form(
    settings: Settings, names: list[str], create: Callable[[Settings], None]
) -> None:
    with st.popover("New collection", icon=":material/add:"):
        with st.form("new_collection", clear_on_submit=True, border=False):
            name = st.text_input("Name", placeholder="e.g. contracts-2026").strip()
            submitted = st.form_submit_button("Create")
        if not submitted or not name:
            return
        if not valid_collection_name(name):
            st.error(f"{name!r} is not a valid collection name: use {NAME_RULE}.")
        elif name in names:
            st.error(f"There is already a collection {name!r}: choose it in the list.")
        else:
            try:
                create(settings.replace(collection=name))
            except RagError as exc:
                st.error(str(exc))
                return
            st.session_state["created_collection"] = name
            st.rerun()


def describe(contract: Contract | None, *, fallback_model: str, precision: str = "") -> str:
    """The caption under a collection: its model and vector size, as its contract says,
    and the arithmetic the local model runs in here (``precision``)."""
    model = contract.embedding_model if contract else fallback_model
    size = f" · {contract.dimension} dims" if contract and contract.dimension else ""
    size += " (PCA)" if contract and contract.reduction else ""
    where = " via OpenAI-compatible API" if contract and contract.provider == "openai" else ""
    runs = f" · {precision} on this CPU" if precision and where == "" else ""
    return f"Embedding model: {model}{size}{where}{runs}"
