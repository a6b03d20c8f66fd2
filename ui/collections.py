"""The app's collection picker: choose a collection, create one with a model, see its model,
prefixes and size.

The choice is per browser session (``st.session_state``), so two users of one app can work
in different collections; ``RAG_COLLECTION`` is only where a session starts. A collection is
opened with the model its contract records when that is a bundled one
(``application.models``), so collections of both bundled models live side by side; one
whose contract the settings cannot open (another model that is not bundled here, another
provider) is still listed and can be chosen: the page then shows the mismatch with its fix
instead of opening it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from application.models import offered, with_model
from rag.config import Settings, valid_collection_name
from rag.embedding.models import bundled_models
from rag.embedding.types import Identity
from rag.errors import RagError
from rag.store.chroma import Store
from rag.store.contract import Contract
from rag.store.index import collection_names
from ui.markdown import neutralize_markdown

KEY = "collection"  # the session's chosen collection
MODEL_HELP = (
    "all-MiniLM-L6-v2 for English; multilingual-e5-small (where installed) for questions "
    "and documents in ~100 languages, a question in one found in a document in another."
)
NAME_RULE = (
    "3-512 characters from a-z, A-Z, 0-9, '.', '_' and '-', starting and ending with a "
    "letter or digit"
)


def chosen_collection(
    settings: Settings,
    *,
    store_of: Callable[[Settings], Store],
    create: Callable[[Settings], None],
) -> str:
    """The sidebar's picker and "new collection" form; the chosen collection's name.

    ``store_of`` connects to a collection's store, ``create`` makes an empty collection
    for the given settings (recording its index contract: its model and prefixes)."""
    default = settings.store.collection
    try:
        names = sorted({*collection_names(store_of(settings)), default})
    except RagError as exc:  # the store cannot be listed: stay on the configured one
        st.sidebar.error(str(exc))
        return default
    created = st.session_state.pop("created_collection", None)
    if created in names:
        st.session_state[KEY] = created
    if st.session_state.get(KEY) not in names:
        st.session_state[KEY] = default
    with st.sidebar:
        # the chat follows: ui.conversations starts a new conversation on another collection
        name: str = st.selectbox("Collection", names, key=KEY)
        new_collection_form(settings, names, create)
    return name


def new_collection_form(
    settings: Settings, names: list[str], create: Callable[[Settings], None]
) -> None:
    models = offered(settings, bundled_models())
    with st.popover("New collection", icon=":material/add:"):
        with st.form("new_collection", clear_on_submit=True, border=False):
            name = st.text_input("Name", placeholder="e.g. contracts-2026").strip()
            model: str = st.selectbox(
                "Embedding model",
                models,
                help=f"The model the collection's documents and questions embed with, for "
                f"good: {MODEL_HELP}",
            )
            submitted = st.form_submit_button("Create")
        if not submitted or not name:
            return
        if not valid_collection_name(name):
            st.error(f"{name!r} is not a valid collection name: use {NAME_RULE}.")
        elif name in names:
            st.error(f"There is already a collection {name!r}: choose it in the list.")
        else:
            try:
                create(with_model(settings, model).replace(collection=name))
            except RagError as exc:
                st.error(str(exc))
                return
            st.session_state["created_collection"] = name
            st.rerun()


def describe(contract: Contract | None, *, expected: Identity, precision: str = "") -> str:
    """The caption under a collection: its model, vector size and prefixes, as its contract
    says (``expected``, what the settings promise, before its first ingest), and the
    arithmetic the local model runs in here (``precision``)."""
    model = contract.embedding_model if contract else expected.model
    size = f" · {contract.dimension} dims" if contract and contract.dimension else ""
    size += " (PCA)" if contract and contract.reduction else ""
    where = " via OpenAI-compatible API" if contract and contract.provider == "openai" else ""
    runs = f" · {precision} on this CPU" if precision and where == "" else ""
    query = contract.query_prefix if contract else expected.query_prefix
    document = contract.document_prefix if contract else expected.document_prefix
    return f"Embedding model: {model}{size}{where}{runs} · {prefixes(query, document)}"


def prefixes(query: str, document: str) -> str:
    """The prefixes put before questions and passages, quoted so their trailing space shows;
    a prefix is free text (RAG_QUERY_PREFIX, or a contract on a shared server), so it is
    rendered as text, never as a link or HTML."""
    if not query and not document:
        return "no prefixes"
    return f"prefixes: questions {quoted(query)}, passages {quoted(document)}"


def quoted(prefix: str) -> str:
    return neutralize_markdown(repr(prefix))
