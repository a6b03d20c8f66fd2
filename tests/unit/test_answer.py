"""The answer pipeline's logic with a scripted LLM and fixed hits (no model, no server):
streaming, citation mapping, the context budget, condensation, the stream object."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from rag.answers.answer import (
    ABSTAIN,
    Answerer,
    AnswerStream,
    Turn,
    followup_query,
    names_its_passages,
)
from rag.answers.prompt import Message
from rag.config import AnswerSettings, RetrievalSettings
from rag.types import Hit

HITS = [
    Hit(chunk_id=f"id{i}", text=f"passage {i} " + "word " * 20, source=f"/d/f{i}.pdf", page=i,
        score=0.9 - i / 10)
    for i in range(1, 5)
]  # fmt: skip


class Embedder:
    def count_tokens(self, text: str) -> int:
        return len(text.split())


class Retriever:
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.labels: list[str | None] = []
        self.rankings: list[str] = []
        self.bm25_weights: list[float | None] = []
        self.embedder = Embedder()
        self.settings = RetrievalSettings()

    def retrieve(
        self,
        query: str,
        *,
        k: int | None = None,
        label: str | None = None,
        rank_by: str = "",
        bm25_weight: float | None = None,
    ) -> list[Hit]:
        self.queries.append(query)
        self.labels.append(label)
        self.rankings.append(rank_by)
        self.bm25_weights.append(bm25_weight)
        return list(HITS)


class ScriptedLLM:
    model = "scripted"

    def __init__(self, deltas: list[str], condensed: str = "") -> None:
        self.deltas = deltas
        self.condensed = condensed
        self.streamed: list[list[Message]] = []
        self.completed: list[list[Message]] = []

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        self.streamed.append(list(messages))
        yield from self.deltas

    def complete(self, messages: Sequence[Message]) -> str:
        self.completed.append(list(messages))
        return self.condensed

    def check(self) -> None:
        pass


def answerer(llm: ScriptedLLM, retriever: Retriever, **settings: object) -> Answerer:
    s = AnswerSettings(**settings)  # type: ignore[arg-type]
    return Answerer(retriever=retriever, llm=llm, settings=s)  # type: ignore[arg-type]


def test_deltas_join_to_the_text_and_citations_map_to_hits() -> None:
    llm = ScriptedLLM(["NA is ", "missing [", "2]. Also [", "7] see [1", "]."])
    stream = answerer(llm, Retriever()).ask("What is NA?")
    deltas = list(stream)
    answer = stream.answer
    assert "".join(deltas) == answer.text == "NA is missing [2]. Also see [1]."
    assert [(c.n, c.page, c.chunk_id) for c in answer.citations] == [(2, 2, "id2"), (1, 1, "id1")]
    assert answer.metadata["removed_citations"] == 1
    assert answer.mode == "llm" and answer.metadata["dropped"] == []
    assert set(answer.timings) == {"retrieval_ms", "first_token_ms", "total_ms"}
    assert "label" not in answer.metadata


def test_a_label_reaches_the_retriever_and_the_metadata() -> None:
    retriever = Retriever()
    answer = answerer(ScriptedLLM(["x [1]"]), retriever).ask("What is NA?", label="r").answer
    assert retriever.labels == ["r"] and answer.metadata["label"] == "r"
    assert retriever.rankings == ["chunks"]  # an answer reads passages, not pages


def test_a_how_to_questions_passages_weigh_bm25_by_its_share() -> None:
    retriever = Retriever()
    asked = answerer(ScriptedLLM(["x [1]"] * 2), retriever, howto_bm25=0.25)
    for question in ("How do I make a histogram?", "What is NA?"):
        assert asked.ask(question).answer.citations
    assert retriever.bm25_weights == [0.25 * RetrievalSettings().bm25_weight, None]
    # at the share 1, every question keeps the retrieval settings' weight
    kept = Retriever()
    at_one = answerer(ScriptedLLM(["x [1]"]), kept, howto_bm25=1.0)
    assert at_one.ask("How do I make a histogram?").answer.text
    assert kept.bm25_weights == [None]
    # what bench/extractive_hits.py keeps for the extractive tuner: the same retrieval
    direct = Retriever()
    answerer(ScriptedLLM([]), direct, howto_bm25=0.25).passages("How do I make a histogram?")
    assert (direct.bm25_weights, direct.rankings) == (retriever.bm25_weights[:1], ["chunks"])


def test_budget_drops_passages_and_lists_them() -> None:
    llm = ScriptedLLM(["ok [1]"])
    # a passage block is 26 words: 26 * 1.15 + 1 + 2 = 32 tokens; leave room for two
    bare = 1000 - answerer(llm, Retriever(), llm_context_tokens=1000)._passage_budget("q", ())
    fits_two = bare + 2 * 32 + 10
    answer = answerer(llm, Retriever(), llm_context_tokens=fits_two).ask("q").answer
    sent = llm.streamed[0][-1]["content"]
    assert len(answer.hits) == 2 and answer.metadata["dropped"] == ["id3", "id4"]
    assert "passage 1" in sent and "passage 2" in sent and "passage 3" not in sent


def test_follow_up_is_condensed_and_the_condensed_query_is_searched() -> None:
    retriever = Retriever()
    llm = ScriptedLLM(["x [1]"], condensed="How do I create a matrix in R?")
    history = [Turn("user", "How do I create a vector?"), Turn("assistant", "With c() [1].")]
    answer = answerer(llm, retriever).ask("and for matrices?", history=history).answer
    assert retriever.queries == ["How do I create a matrix in R?"]
    assert answer.metadata["condensed_query"] == "How do I create a matrix in R?"
    assert "Follow-up question: and for matrices?" in llm.completed[0][-1]["content"]
    assert [m["content"] for m in llm.streamed[0][1:3]] == [
        "How do I create a vector?",
        "With c() [1].",
    ]
    assert "condense_ms" in answer.timings


def test_no_condensation_without_history() -> None:
    llm = ScriptedLLM([ABSTAIN])
    answer = answerer(llm, Retriever()).ask("fresh question").answer
    assert llm.completed == [] and "condensed_query" not in answer.metadata
    assert answer.metadata["abstained"] is True and answer.citations == ()


def test_followup_query_without_llm() -> None:
    history = [Turn("user", "How do I create a vector?"), Turn("assistant", "c()")]
    assert (
        followup_query("and for matrices?", history)
        == "How do I create a vector? and for matrices?"
    )
    long = "How do I read a data frame from a CSV file?"
    assert followup_query(long, history) == long
    # it points back: joined even though it is long enough to look standalone
    assert followup_query("Is there a faster way to do it in R?", history) == (
        "How do I create a vector? Is there a faster way to do it in R?"
    )
    assert followup_query("What about a matrix of strings?", history).startswith("How do I")
    assert followup_query("Who won the football World Cup in 2018?", history) == (
        "Who won the football World Cup in 2018?"
    )
    assert followup_query("and for matrices?", []) == "and for matrices?"  # nothing before
    # the question it follows up is the last one answered, not one the documents missed
    missed = [*history, Turn("user", "Who won the World Cup?"), Turn("assistant", ABSTAIN)]
    assert followup_query("and for matrices?", missed) == (
        "How do I create a vector? and for matrices?"
    )


def test_stream_answer_before_iteration_and_after_an_error() -> None:
    stream = answerer(ScriptedLLM(["a [1]"]), Retriever()).ask("q")
    assert stream.answer.text == "a [1]" and list(stream) == []

    def failing() -> Iterator[str]:
        yield "partial"
        raise ValueError("boom")

    broken = AnswerStream(failing())  # type: ignore[arg-type]
    assert next(broken) == "partial"
    with pytest.raises(ValueError, match="boom"):
        next(broken)
    with pytest.raises(RuntimeError, match="failed while streaming"):
        _ = broken.answer


def test_a_follow_up_keeps_its_passages_only_when_they_name_all_it_names() -> None:
    """After data frames, "and a picture frame?" shares "frame" with the passages but not
    "picture": it does not count as asking more about them."""
    frames = [
        Hit("a", "A data frame is a list of variables of the same length.", "/r.pdf", 27, 0.9),
        Hit("b", "Frames can be edited with edit() and fix().", "/r.pdf", 28, 0.8),
    ]

    def answerable(hits: list[Hit]) -> bool:
        return True

    assert names_its_passages("and how do I edit them?", frames, answerable)
    assert names_its_passages("why?", frames, answerable)  # names nothing
    assert not names_its_passages("and a picture frame?", frames, answerable)
    assert not names_its_passages("and a picture frame?", frames, lambda hits: False)
