"""Streamlit chat over your documents. Widgets only: the work is the application layer's
(``application.service.Service``), over ingest/ and rag/."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import get_script_run_ctx

from application.resources import Resources
from application.service import Service
from ingest.document import KINDS
from ingest.report import Report
from rag.config import Settings
from rag.embedding.models import expected_identity, precision_in_use
from rag.errors import IngestError, RagError
from rag.retrieval.retriever import MODES
from rag.store.index import Index
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

# -- the application layer: one model, connection and LLM per process, shared by every
# browser session and rerun


@contextmanager
def model_spinner() -> Iterator[None]:
    """The spinner over the model's first load, when a script run draws it (ingestion's
    prefetch thread may load it, and a thread outside the run cannot draw)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        yield
        return
    with st.spinner("Loading the embedding model…"):
        yield


@st.cache_resource(show_spinner=False)
def resources() -> Resources:
    """The process's one ``Resources``, held by Streamlit so that its "Clear cache" drops
    the model, the connections and the LLM too (made again on the next run)."""
    return Resources()


def service_for(settings: Settings) -> Service:
    # uploads embed with the readers' model: the app keeps one model in memory
    return Service(settings, resources=resources(), separate_writer=False, loading=model_spinner)


@st.cache_data(ttl=30, show_spinner=False)
def llm_status(_llm: Any, key: str) -> str | None:
    """None when the LLM answers, else the error with its fix (re-checked every 30 s)."""
    try:
        _llm.check()
    except RagError as exc:
        return str(exc)
    return None


# -- sidebar --------------------------------------------------------------------------------


def collection_size(settings: Settings, index: Index, place: DeltaGenerator) -> None:
    """Under the collection picker (``place``, kept empty until now): what the chosen
    collection holds and its model. Drawn after the sidebar's forms, so the counts include
    what an upload in this run just added. ``settings`` are the collection's
    (``Service.settings_for``): its model, prefixes and precision, not only the configured."""
    with place.container():
        documents = index.manifest.count()
        index.close()
        st.markdown(f"**{documents}** documents · **{index.store.count()}** chunks")
        st.caption(
            describe(
                index.contract(),
                expected=expected_identity(settings.embedding),
                precision=precision_in_use(settings.embedding)
                if settings.embedding.embed_provider == "local"
                else "",
            )
        )


def sidebar(service: Service, settings: Settings, llm: Any) -> Settings:
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
        upload_form(service, settings)
        url_form(service, settings)
    return settings.replace(top_k=top_k, retrieval_mode=mode)


def upload_form(service: Service, settings: Settings) -> None:
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
        ingest_uploads(service, settings, [(f.name, f.getvalue()) for f in files])


def url_form(service: Service, settings: Settings) -> None:
    with st.form("url", clear_on_submit=True):
        url = st.text_input("Web page", placeholder="https://…").strip()
        depth = st.number_input(
            "Same-site links to follow, levels deep", min_value=0, max_value=3, value=0
        )
        submitted = st.form_submit_button("Fetch and ingest", icon=":material/language:")
    if submitted and url:
        ingest_url(service, settings, url, depth=int(depth))


def ingest_url(service: Service, settings: Settings, url: str, *, depth: int) -> None:
    """The page (and its same-site links, ``depth`` deep) through the CLI's pipeline: private
    and loopback addresses refused unless RAG_URL_PRIVATE=allow, since anyone who reaches
    the app can ask it to fetch."""
    with st.status(f"Fetching {url}…", expanded=True) as status:
        try:
            report = service.fetch(url, depth=depth, collection=settings.store.collection)
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


def ingest_uploads(service: Service, settings: Settings, files: list[tuple[str, bytes]]) -> None:
    """The files through the upload transaction (``Service.upload``): a file refused is
    shown and the others go on; a failed run takes back every file it saved."""
    saved: list[Path] = []
    with st.status(f"Ingesting {len(files)} file(s)…", expanded=True) as status:
        bar: Any = None
        done = 0

        def refused(name: str, exc: IngestError) -> None:
            st.error(f"{name}: {exc.reason}")

        def started(stored: Sequence[Path]) -> None:
            nonlocal bar
            saved.extend(stored)
            if stored:
                bar = st.progress(0.0, text="embedding…")

        def progress(_: str) -> None:
            nonlocal done
            done += 1
            bar.progress(done / len(saved), text=f"{done}/{len(saved)} files")

        report = Report()
        try:
            report, _ = service.upload(
                files,
                collection=settings.store.collection,
                refused=refused,
                saved=started,
                progress=progress,
            )
        except RagError as exc:
            st.error(str(exc))
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
        service = service_for(Settings.from_env())
        llm = service.llm
    except RagError as exc:
        st.error(str(exc))
        return
    name = chosen_collection(service.settings, store_of=service.store, create=service.create)
    try:
        # opened with its own model where its contract records another bundled one
        settings = service.settings_for(name)
        index = service.open(settings)
    except RagError as exc:  # a contract mismatch: its message says how to fix it
        st.error(str(exc))
        st.sidebar.warning(
            f"Collection '{name}' cannot be opened with the current settings; the page says "
            "why and how to fix it. Choose another collection above."
        )
        return
    size = st.sidebar.empty()
    panel = st.sidebar.container()  # the collection's conversations, drawn after the chat
    settings = sidebar(service, settings, llm)
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
