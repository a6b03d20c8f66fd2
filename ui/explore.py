"""The app's views beyond chat: semantic search (no LLM) and the topic map."""

from __future__ import annotations

import streamlit as st

from application.queries import search
from rag.analytics.topics import TopicMap, build_topic_map
from rag.config import Settings
from rag.errors import RagError
from rag.store.chroma import Store
from rag.store.index import Index
from ui.highlight import highlight
from ui.markdown import code_span_name
from ui.page_view import open_button
from ui.topic_map import draw_map

MAX_PASSAGE = 1200  # characters of each passage shown
ALL_LABELS = "(all labels)"


def search_view(settings: Settings, index: Index) -> None:
    store, retrieval = index.store, settings.retrieval
    query = st.text_input("Search your documents", key="search_query", placeholder="a question")
    labels = store.labels()
    label = None
    if labels:  # written by `python -m rag classify`
        label = st.selectbox("Label", [ALL_LABELS, *labels], key="search_label")
        label = None if label == ALL_LABELS else label
    if not query.strip():
        st.caption(f"Ranked passages for a query ({retrieval.retrieval_mode}); no LLM involved.")
        return
    try:
        hits = search(index, query, k=retrieval.top_k, mode=retrieval.retrieval_mode, label=label)
    except RagError as exc:
        st.error(str(exc))
        return
    if not hits:
        st.info("No passages found.")
        return
    st.caption(f"{len(hits)} passages · {retrieval.retrieval_mode}")
    for rank, hit in enumerate(hits, start=1):
        page = f" · {hit.place()}" if hit.place() else ""
        similarity = f" · similarity {hit.similarity:.3f}" if hit.similarity is not None else ""
        st.markdown(
            f"**{rank}.** `{code_span_name(hit.source)}`{page} · score {hit.score:.3f}{similarity}"
        )
        with st.container(border=True):
            st.markdown(highlight(hit.snippet(MAX_PASSAGE), query))
        open_button(hit, key=f"search-page-{rank}-{hit.chunk_id}")


@st.cache_data(show_spinner="Clustering the chunks…", max_entries=4)
def cached_topics(
    location: str, collection: str, count: int, k: int | None, _store: Store
) -> TopicMap:
    """Keyed by the store and its size: a new ingest (another count) computes it again."""
    hits, vectors = _store.all_vectors()
    return build_topic_map(hits, vectors, k=k)


def topics_view(settings: Settings, index: Index) -> None:
    store = index.store
    auto = st.checkbox(
        "Choose the number of topics automatically (silhouette)", value=True, key="topics_auto"
    )
    k = None if auto else st.slider("Topics", 2, 12, 4, key="topics_k")
    try:
        topic_map = cached_topics(store.location, store.name, store.count(), k, store)
    except RagError as exc:
        st.error(str(exc))
        return
    score = f", silhouette {topic_map.silhouette:.3f}" if topic_map.silhouette is not None else ""
    st.caption(f"{len(topic_map.clusters)} topics over {len(topic_map.assignments)} chunks{score}")
    st.pyplot(draw_map(topic_map, title=f"Topics in '{settings.store.collection}'"))
    for i, cluster in enumerate(topic_map.clusters, start=1):
        files = ", ".join(f"`{code_span_name(s)}`" for s in cluster.sources[:8])
        terms = ", ".join(cluster.top_terms)
        st.markdown(f"**{i}. {terms}** — {cluster.size} chunks — {files}")
