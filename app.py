"""Streamlit chat over your documents. Thin: every decision lives in rag/ and ingest/."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ingest.document import KINDS
from ingest.pipeline import Ingestor
from ingest.report import Report
from ingest.uploads import keep_ingested, save_upload, upload_folder
from rag.config import AnswerSettings, EmbeddingSettings, Settings, StoreSettings
from rag.embedder_types import Embedder
from rag.embeddings import precision_in_use
from rag.errors import IngestError, RagError
from rag.index import Index, connect, load_model, open_index
from rag.llm import make_llm
from rag.retriever import MODES
from rag.serialized import Serialized
from rag.store import Store
from ui.chat import EXTRACTIVE_BADGE, chat
from ui.collections import chosen_collection, describe
from ui.conversations import begin, conversations_panel
from ui.explore import search_view, topics_view
from ui.page_view import attach_store

VIEWS = ["Chat", "Search", "Topics"]
LLM_HINT = (
    "For written answers, set RAG_LLM_BASE_URL and RAG_LLM_MODEL (an OpenAI-compatible "
    "server: Ollama, vLLM, llama.cpp), or OPENAI_API_KEY for OpenAI, and restart the app."
)


log = logging.getLogger(__name__)

# -- cached resources: one model per process, shared by every browser session ---------------


@st.cache_resource(show_spinner="Loading the embedding model…")
def cached_model(embedding: EmbeddingSettings) -> Embedder:
    # keyed by the frozen embedding settings: every collection and session shares one model,
    # so calls take turns (a rerun starts while the interrupted run may still be inside it)
    model = load_model(embedding)
    return Serialized(model) if embedding.embed_provider == "local" else model


@st.cache_resource
def cached_store(store: StoreSettings) -> Store:
    # keyed by the frozen store settings, RAG_CHROMA_URL included
    return connect(store)


@st.cache_resource
def cached_llm(answers: AnswerSettings) -> Any:
    return make_llm(answers)


@st.cache_data(ttl=30, show_spinner=False)
def llm_status(_llm: Any, key: str) -> str | None:
    """None when the LLM answers, else the error with its fix (re-checked every 30 s)."""
    try:
        _llm.check()
    except RagError as exc:
        return str(exc)
    return None


def create_collection(settings: Settings) -> None:
    """An empty collection for ``settings``, its index contract recorded."""
    index_for(settings, writing=True).close()


def index_for(settings: Settings, *, writing: bool = False) -> Index:
    """The collection through the one seam, on the shared connection and model."""
    return open_index(
        settings,
        writing=writing,
        model=lambda: cached_model(settings.embedding),
        store=cached_store(settings.store),
    )


# -- sidebar --------------------------------------------------------------------------------


def collection_size(settings: Settings, index: Index, place: DeltaGenerator) -> None:
    """Under the collection picker (``place``, kept empty until now): what the chosen
    collection holds and its model. Drawn after the sidebar's forms, so the counts include
    what an upload in this run just added."""
    with place.container():
        documents = index.manifest.count()
        index.close()
        st.markdown(f"**{documents}** documents · **{index.store.count()}** chunks")
        st.caption(
            describe(
                index.contract(),
                fallback_model=settings.embedding.embed_model,
                precision=precision_in_use(settings.embedding)
                if settings.embedding.embed_provider == "local"
                else "",
            )
        )


def sidebar(settings: Settings, index: Index, llm: Any) -> Settings:
    retrieval = settings.retrieval
    with st.sidebar:
        st.header("Settings")
        top_k = st.slider("Passages per question (top-k)", 1, 20, retrieval.top_k)
        # reranking needs a local CrossEncoder; without one those modes would only fail
        modes = [m for m in MODES if retrieval.rerank_model or "rerank" not in m]
        current = retrieval.retrieval_mode if retrieval.retrieval_mode in modes else modes[0]
        mode = st.selectbox("Retrieval mode", modes, index=modes.index(current))

        st.header("LLM")
        if llm is None:
            st.info(f"{EXTRACTIVE_BADGE}. {LLM_HINT}")
        else:
            problem = llm_status(llm, str(llm.model))
            if problem:
                st.error(problem)
            else:
                st.success(f"{llm.model} is reachable")

        st.header("Add documents")
        upload_form(settings)
        url_form(settings)
    return settings.replace(top_k=top_k, retrieval_mode=mode)


def upload_form(settings: Settings) -> None:
    st.caption(f"Into collection **{settings.store.collection}**")
    with st.form("upload", clear_on_submit=True):
        files = st.file_uploader(
            f"PDF, Word, PowerPoint, Excel, CSV, HTML, EPUB, Markdown, text or images "
            f"(up to {settings.app.max_upload_mb} MB each)",
            type=sorted(k.lstrip(".") for k in KINDS),
            accept_multiple_files=True,
        )
        submitted = st.form_submit_button("Ingest", icon=":material/upload:")
    if submitted and files:
        ingest_uploads(settings, [(f.name, f.getvalue()) for f in files])


def url_form(settings: Settings) -> None:
    with st.form("url", clear_on_submit=True):
        url = st.text_input("Web page", placeholder="https://…").strip()
        depth = st.number_input(
            "Same-site links to follow, levels deep", min_value=0, max_value=3, value=0
        )
        submitted = st.form_submit_button("Fetch and ingest", icon=":material/language:")
    if submitted and url:
        ingest_url(settings, url, depth=int(depth))


def ingest_url(settings: Settings, url: str, *, depth: int) -> None:
    """The page (and its same-site links, ``depth`` deep) through the CLI's pipeline: private
    and loopback addresses refused unless RAG_URL_PRIVATE=allow, since anyone who reaches
    the app can ask it to fetch."""
    with st.status(f"Fetching {url}…", expanded=True) as status:
        try:
            with index_for(settings, writing=True) as index:
                report = Ingestor(index).run_urls([url], depth=depth)
        except RagError as exc:
            st.error(str(exc))
            status.update(label="Nothing fetched", state="error", expanded=True)
            return
        for error in report.errors:
            st.error(f"{error.path}: {error.reason}")
        ok = len(report.added) + len(report.updated) + len(report.unchanged)
        status.update(
            label=f"{ok} page(s) ingested ({len(report.unchanged)} unchanged), "
            f"{report.chunks_written} chunks written",
            state="error" if report.errors or not ok else "complete",
            expanded=bool(report.errors) or not ok,
        )


def ingest_uploads(settings: Settings, files: list[tuple[str, bytes]]) -> None:
    limit = settings.app.max_upload_mb * 1_000_000
    saved: list[Path] = []
    with st.status(f"Ingesting {len(files)} file(s)…", expanded=True) as status:
        with index_for(settings) as index:
            for name, data in files:
                folder = upload_folder(settings.store, name, manifest=index.manifest)
                try:
                    saved.append(save_upload(name, data, folder=folder, max_bytes=limit))
                except IngestError as exc:
                    st.error(f"{name}: {exc.reason}")
        report = Report()
        if saved:
            bar = st.progress(0.0, text="embedding…")
            done = 0

            def progress(_: str) -> None:
                nonlocal done
                done += 1
                bar.progress(done / len(saved), text=f"{done}/{len(saved)} files")

            try:
                with index_for(settings, writing=True) as index:
                    report = Ingestor(index).run(saved, progress=progress)
            except RagError as exc:
                st.error(str(exc))
                keep_ingested(saved, None)
            else:
                keep_ingested(saved, report)
        for error in report.errors:
            st.error(f"{Path(error.path).name}: {error.reason}")
        ok = len(report.added) + len(report.updated) + len(report.unchanged)
        failed = not ok or bool(report.errors) or len(saved) != len(files)
        status.update(
            label=f"Ingested {ok} of {len(files)} file(s), {report.chunks_written} chunks written",
            state="error" if failed else "complete",
            expanded=failed,
        )


# -- chat -----------------------------------------------------------------------------------


def first_run() -> None:
    st.info(
        "**No documents indexed yet.** Upload PDFs, Markdown or text files in the sidebar, "
        "or run `python -m ingest data/` in a terminal and reload this page.",
        icon=":material/upload_file:",
    )


def main() -> None:
    st.set_page_config(page_title="Chat with your documents", page_icon=":material/forum:")
    st.title("Chat with your documents")
    try:
        settings = Settings.from_env()
        llm = cached_llm(settings.answers)
    except RagError as exc:
        st.error(str(exc))
        return
    settings = chosen_collection(
        settings, store_of=lambda s: cached_store(s.store), create=create_collection
    )
    try:
        index = index_for(settings)
    except RagError as exc:  # a contract mismatch: its message says how to fix it
        st.error(str(exc))
        st.sidebar.warning(
            f"Collection '{settings.store.collection}' cannot be opened with the current "
            "settings; the page says why and how to fix it. Choose another collection above."
        )
        return
    size = st.sidebar.empty()
    panel = st.sidebar.container()  # the collection's conversations, drawn after the chat
    settings = sidebar(settings, index, llm)
    collection_size(settings, index, size)
    conversations = begin(settings)
    attach_store(index.store)
    if index.store.count() == 0:
        first_run()
    else:
        view = st.radio("View", VIEWS, horizontal=True, key="view", label_visibility="collapsed")
        if view == "Search":
            search_view(settings, index)
        elif view == "Topics":
            topics_view(settings, index)
        else:
            chat(settings, index, llm, conversations)
    with panel:
        conversations_panel(conversations)


main()
