"""Reciprocal rank fusion, MMR and mode parsing: exact expectations."""

import numpy as np
import pytest

from rag.errors import ConfigError
from rag.modes import MODES, Mode, parse_mode
from rag.retrieval.fusion import (
    by_page,
    min_max,
    min_max_fusion,
    mmr,
    page_of,
    reciprocal_rank_fusion,
)
from rag.types import Hit


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], weights=[1.0, 1.0], k=60)
    assert [doc for doc, _ in fused] == ["a", "c", "b"]
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)


def test_rrf_weights_and_ties() -> None:
    # the second list weighs twice as much: its first document wins
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[1.0, 2.0], k=1)
    assert fused == [("b", pytest.approx(1 / 3 + 2 / 2)), ("a", pytest.approx(1 / 2 + 2 / 3))]
    # equal scores keep first-seen order; a zero weight leaves that list out of the order
    assert [d for d, _ in reciprocal_rank_fusion([["x"], ["y"]], weights=[1, 1])] == ["x", "y"]
    only_second = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[0.0, 1.0])
    assert [d for d, _ in only_second] == ["b", "a"]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 1.0])


def test_mmr_trades_relevance_for_diversity() -> None:
    near = np.array([0.99, 0.141], dtype=np.float32)
    candidates = np.stack(
        [near, near, np.array([0.8, -0.6], dtype=np.float32)]  # a duplicate, then another view
    )
    relevance = np.array([1.0, 0.9, 0.7])
    assert mmr(relevance, candidates, k=2, lambda_=1.0) == [0, 1]  # pure relevance
    # lambda 0.5: the duplicate (similarity 1.0 to the first pick) scores 0.5*0.9 - 0.5*1.0;
    # the other view 0.5*0.7 - 0.5*cos(near, view) = 0.35 - 0.5*0.7074 = -0.004 > -0.05
    assert mmr(relevance, candidates, k=2, lambda_=0.5) == [0, 2]
    assert mmr(relevance, candidates, k=5, lambda_=0.5) == [0, 2, 1]
    assert mmr(relevance[:0], candidates[:0], k=3, lambda_=0.5) == []


def test_min_max_scales_scores_for_mmr() -> None:
    assert min_max([0.5, 0.25, 0.0]).tolist() == [1.0, 0.5, 0.0]
    assert min_max([0.3, 0.3]).tolist() == [1.0, 1.0]
    assert min_max([]).tolist() == []


def test_modes_parse_and_print_back() -> None:
    assert parse_mode("hybrid") == Mode("hybrid")
    assert parse_mode(" Dense+MMR ") == Mode("dense", mmr=True)
    assert parse_mode("bm25+rerank+mmr") == Mode("bm25", mmr=True, rerank=True)
    assert [str(parse_mode(m)) for m in MODES] == list(MODES)
    assert len(MODES) == 12
    with pytest.raises(ConfigError, match=r"'sparse' is not known.*dense, bm25, hybrid"):
        parse_mode("sparse")
    with pytest.raises(ConfigError, match="optionally followed by"):
        parse_mode("dense+boost")


def test_min_max_fusion_sums_scaled_scores_with_weights() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]  # scaled 1, 0.5, 0
    lexical = [("c", 12.0), ("d", 4.0), ("b", 2.0)]  # scaled 1, 0.2, 0
    fused = dict(min_max_fusion([dense, lexical], weights=[0.4, 0.6]))
    assert fused == pytest.approx({"a": 0.4, "b": 0.2, "c": 0.6, "d": 0.12})
    assert [d for d, _ in min_max_fusion([dense, lexical], weights=[0.4, 0.6])] == [
        "c",
        "a",
        "b",
        "d",
    ]


def test_min_max_fusion_keeps_score_gaps_that_rrf_drops() -> None:
    # dense is sure of "a"; BM25 barely prefers "b": scores keep that, ranks do not
    dense = [("a", 0.9), ("b", 0.2), ("c", 0.1)]
    lexical = [("b", 10.0), ("a", 9.9), ("c", 1.0)]
    assert min_max_fusion([dense, lexical], weights=[0.5, 0.5])[0][0] == "a"
    assert (
        reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "c"]], weights=[0.5, 0.5])[0][0] == "a"
    )  # a tie in RRF, kept in first-seen order
    assert min_max_fusion([[("x", 3.0)], []], weights=[1.0, 1.0]) == [("x", 1.0)]
    with pytest.raises(ValueError):
        min_max_fusion([dense], weights=[1.0, 1.0])


def test_by_page_ranks_pages_by_their_best_passage_and_a_share_of_the_others() -> None:
    ranked = [("a", 0.5), ("b", 0.45), ("c", 0.4), ("d", 0.2), ("e", 0.19), ("f", 0.1)]
    pages = {"a": ("x.pdf", 1), "b": ("x.pdf", 1), "c": ("x.pdf", 2), "d": ("x.pdf", 3),
             "e": ("x.pdf", 3), "f": None}  # fmt: skip
    fused = by_page(ranked, pages, weight=1.0)
    assert [d for d, _ in fused] == ["a", "c", "d", "f", "b", "e"]
    assert [s for _, s in fused] == pytest.approx([0.95, 0.4, 0.39, 0.1, 0.1, 0.1])
    # page 3's two weak passages together outrank page 2's one strong one only with weight
    assert [d for d, _ in by_page(ranked, pages, weight=0.0)] == ["a", "c", "d", "f", "b", "e"]
    with_weight = by_page(ranked, pages, weight=2.0)
    assert [d for d, _ in with_weight][:3] == ["a", "d", "c"]


def test_by_page_keeps_pages_of_different_documents_and_passages_without_pages_apart() -> None:
    ranked = [("a", 0.5), ("b", 0.4), ("c", 0.3), ("d", 0.2)]
    pages = {"a": ("x.pdf", 1), "b": ("y.pdf", 1), "c": None}
    assert by_page(ranked, pages, weight=0.25) == ranked  # "d" is not in pages: its own page
    scores = [s for _, s in by_page(ranked, {d: ("x.pdf", 1) for d, _ in ranked}, weight=0.0)]
    assert scores == sorted(scores, reverse=True)  # never rising down the list


def test_a_page_is_its_file_and_number_and_a_text_without_pages_has_none() -> None:
    def hit(source: str, page: int) -> Hit:
        return Hit(chunk_id=f"{source}{page}", text="t", source=source, page=page, score=1.0)

    assert page_of(hit("a.pdf", 3)) == ("a.pdf", 3) != page_of(hit("b.pdf", 3))
    assert page_of(hit("notes.md", 0)) is None  # COVID-QA's papers, Markdown, HTML
