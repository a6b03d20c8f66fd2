"""Dense and hybrid search over R-intro.pdf finds the page that answers the question."""

import pytest

from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.retrieval.fusion import by_page, min_max_fusion, page_of, reciprocal_rank_fusion
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index

pytestmark = pytest.mark.integration

# question -> the PDF pages (1-based) whose text answers it, checked by reading them
PAGE_KNOWN = {
    "How do I read a data frame from an external file with read.table?": {39, 40},
    "How are missing values represented in R?": {17},
    "How can I generate regular sequences such as 1:30 or with seq()?": {15, 16},
    "How do I execute commands stored in an external file?": {12},
    "What does tapply do with ragged arrays?": {24},
}


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_right_page_in_top_3(
    rintro_settings: Settings, embedder: SentenceTransformerEmbedder, mode: str
) -> None:
    retriever = Retriever(
        index=open_index(rintro_settings, writing=False, model=embedder),
        settings=rintro_settings.retrieval,
    )
    found = {}
    for question, pages in PAGE_KNOWN.items():
        hits = retriever.retrieve(question, k=3, mode=mode)
        assert len(hits) == 3
        assert all(h.source.endswith("R-intro.pdf") for h in hits)
        assert hits[0].score >= hits[1].score >= hits[2].score
        found[question] = bool({h.page for h in hits} & pages)
    assert sum(found.values()) >= 4, found


def test_hits_carry_offsets_into_the_page(
    rintro_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    from ingest.loaders import load
    from tests.conftest import R_INTRO

    pages = {p.number: p.text for p in load(R_INTRO).pages}
    retriever = Retriever(
        index=open_index(rintro_settings, writing=False, model=embedder),
        settings=rintro_settings.retrieval,
    )
    for hit in retriever.retrieve("attach a data frame to the search path", k=5):
        assert pages[hit.page][hit.start_index : hit.start_index + len(hit.text)] == hit.text


@pytest.mark.parametrize(
    ("fusion", "rank_by"), [("minmax", "chunks"), ("rrf", "chunks"), ("rrf", "pages")]
)
def test_hybrid_is_the_configured_fusion_of_the_two_rankings(
    rintro_settings: Settings, embedder: SentenceTransformerEmbedder, fusion: str, rank_by: str
) -> None:
    settings = rintro_settings.replace(fusion=fusion, rank_by=rank_by)
    retriever = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    r = settings.retrieval
    for question in PAGE_KNOWN:
        depth = r.candidates
        dense = retriever.retrieve(question, k=depth, mode="dense")
        lexical = retriever.retrieve(question, k=depth, mode="bm25")
        if fusion == "rrf":
            expected = reciprocal_rank_fusion(
                [[h.chunk_id for h in dense], [h.chunk_id for h in lexical]],
                weights=[r.dense_weight, r.bm25_weight],
                k=r.rrf_k,
            )
        else:
            expected = min_max_fusion(
                [[(h.chunk_id, h.score) for h in dense], [(h.chunk_id, h.score) for h in lexical]],
                weights=[r.dense_weight, r.bm25_weight],
            )
        if rank_by == "pages":
            # what an answer reads: passages, whatever the setting (rag.answers.answer)
            chunks = retriever.retrieve(question, k=10, mode="hybrid", rank_by="chunks")
            assert [h.chunk_id for h in chunks] == [c for c, _ in expected[:10]], question
            pages = {h.chunk_id: page_of(h) for h in [*dense, *lexical]}
            expected = by_page(expected[:depth], pages, weight=r.page_weight)
        if fusion == "rrf" and rank_by == "chunks":
            # what a how-to question's answer reads: BM25 weighed less (RAG_ANSWER_HOWTO_BM25)
            lighter = reciprocal_rank_fusion(
                [[h.chunk_id for h in dense], [h.chunk_id for h in lexical]],
                weights=[r.dense_weight, 0.25],
                k=r.rrf_k,
            )
            got = retriever.retrieve(question, k=10, mode="hybrid", bm25_weight=0.25)
            assert [h.chunk_id for h in got] == [c for c, _ in lighter[:10]], question
        hybrid = retriever.retrieve(question, k=10, mode="hybrid")
        assert [h.chunk_id for h in hybrid] == [c for c, _ in expected[:10]], question
        assert [h.score for h in hybrid] == pytest.approx([s for _, s in expected[:10]])
        if rank_by == "pages":  # the top passages are on as many pages as there are
            shown = [h.page for h in hybrid[:5]]
            assert len(set(shown)) == len(shown), question
