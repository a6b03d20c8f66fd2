"""The openai-client path against a real llama.cpp server (SmolLM2-135M, a weak model):
these tests check the mechanics — streaming, citation mapping, the context budget, the
condensation call — never the quality of the answers."""

from __future__ import annotations

from typing import Any

import pytest

from rag.answers.answer import ANSWER_RANKING, Answerer, Turn
from rag.answers.citations import CitationFilter
from rag.answers.llm import OpenAILLM
from rag.answers.local_server import LocalServer
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.errors import LLMError
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index
from rag.types import Hit
from tests.integration.conftest import SERVER_CONTEXT

pytestmark = pytest.mark.integration

QUESTION = "How are missing values represented in R?"


def make_llm(server: LocalServer, *, max_tokens: int = 48) -> OpenAILLM:
    return OpenAILLM(
        model=server.model, base_url=server.base_url, temperature=0.0, max_tokens=max_tokens
    )


class RecordingRetriever(Retriever):
    """The real retriever, remembering the queries it was given."""

    queries: list[str]

    def retrieve(self, query: str, **options: Any) -> list[Hit]:
        self.queries = [*getattr(self, "queries", []), query]
        return super().retrieve(query, **options)


def answerer(
    settings: Settings, embedder: SentenceTransformerEmbedder, llm: OpenAILLM
) -> tuple[Answerer, RecordingRetriever]:
    retriever = RecordingRetriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    return Answerer(retriever=retriever, llm=llm, settings=settings.answers), retriever


def test_streamed_and_whole_replies_agree(llama_server: LocalServer) -> None:
    llm = make_llm(llama_server, max_tokens=24)
    llm.check()
    messages = [{"role": "user", "content": "Name three colours."}]
    # the first request evaluates the prompt afresh, later ones reuse llama.cpp's cached
    # prefix, which can tip a near-tie in greedy decoding: compare two requests that both
    # start from the cache
    llm.complete(messages)  # type: ignore[arg-type]
    deltas = list(llm.stream(messages))  # type: ignore[arg-type]
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)
    whole = llm.complete(messages)  # type: ignore[arg-type]
    assert whole.strip() and "".join(deltas) == whole  # greedy decoding: the same tokens


def test_check_names_the_models_the_server_serves(llama_server: LocalServer) -> None:
    llm = OpenAILLM(model="no-such-model", base_url=llama_server.base_url)
    with pytest.raises(LLMError) as caught:
        llm.check()
    assert f"does not serve model 'no-such-model' (it serves: {llama_server.model})" in str(
        caught.value
    )


def test_answer_streams_through_llama_cpp_within_the_budget(
    rintro_settings: Settings, embedder: SentenceTransformerEmbedder, llama_server: LocalServer
) -> None:
    ask, retriever = answerer(rintro_settings, embedder, make_llm(llama_server))
    stream = ask.ask(QUESTION)
    deltas = list(stream)
    answer = stream.answer
    assert answer.mode == "llm" and len(deltas) > 1
    assert "".join(deltas) == answer.text and answer.text.strip()
    assert retriever.queries == [QUESTION]
    assert len(answer.hits) == rintro_settings.retrieval.top_k and answer.metadata["dropped"] == []
    # SmolLM2-135M rarely writes [n] markers, so the mapping of markers to passages is tested
    # against a scripted server (test_prompt_injection.py). Here: the citations are exactly
    # the markers left in the final text, in order, none of them out of range
    markers = CitationFilter(len(answer.hits))
    assert markers.feed(answer.text) + markers.flush() == answer.text
    assert [c.n for c in answer.citations] == markers.used and markers.removed == 0
    assert answer.timings["retrieval_ms"] > 0
    assert answer.timings["total_ms"] >= answer.timings["first_token_ms"] > 0


def test_budget_fills_the_server_context_without_overflowing_it(
    rintro_settings: Settings, embedder: SentenceTransformerEmbedder, llama_server: LocalServer
) -> None:
    # 12 passages of ~200 tokens cannot all fit 2048 tokens: the budget must drop some,
    # and what it keeps must really fit the server's context (else llama.cpp says 400)
    settings = rintro_settings.replace(
        top_k=12, llm_context_tokens=SERVER_CONTEXT, llm_max_tokens=32
    )
    ask, retriever = answerer(settings, embedder, make_llm(llama_server, max_tokens=32))
    answer = ask.ask(QUESTION).answer
    all_hits = retriever.retrieve(QUESTION, rank_by=ANSWER_RANKING)  # what the answer reads
    dropped = answer.metadata["dropped"]
    assert isinstance(dropped, list) and 0 < len(dropped) < 12
    kept = [h.chunk_id for h in answer.hits]
    assert sorted(kept + dropped) == sorted(h.chunk_id for h in all_hits)
    assert kept[0] == all_hits[0].chunk_id  # best first
    assert answer.text.strip()


def test_follow_up_is_condensed_by_the_llm_before_retrieval(
    rintro_settings: Settings, embedder: SentenceTransformerEmbedder, llama_server: LocalServer
) -> None:
    ask, retriever = answerer(rintro_settings, embedder, make_llm(llama_server))
    history = [Turn("user", "How do I create a vector in R?"), Turn("assistant", "Use c() [1].")]
    answer = ask.ask("and for matrices?", history=history).answer
    condensed = answer.metadata["condensed_query"]
    assert isinstance(condensed, str) and condensed.strip()
    assert retriever.queries == [condensed]  # the retrieval query is the model's rewrite
    assert "\n" not in condensed and len(condensed) <= 300
    assert answer.timings["condense_ms"] > 0
