"""Extractive answers (no LLM) on R-intro.pdf: the right page is cited for the questions
whose pages are known; questions about other things abstain and cite nothing."""

import pytest

from rag.answers.answer import ABSTAIN, NO_LLM_NOTICE, Answerer, Turn
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.evaluation.grading import names
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index
from rag.types import Answer
from tests.integration.test_search import PAGE_KNOWN

pytestmark = pytest.mark.integration

OUT_OF_CORPUS = [
    "How do I bake sourdough bread?",
    "Who won the football World Cup in 2018?",
    "What are the symptoms of influenza?",
    "Who painted the Mona Lisa?",
]


@pytest.fixture(scope="module")
def answerer(rintro_settings: Settings, embedder: SentenceTransformerEmbedder) -> Answerer:
    retriever = Retriever(
        index=open_index(rintro_settings, writing=False, model=embedder),
        settings=rintro_settings.retrieval,
    )
    return Answerer(retriever=retriever, llm=None, settings=rintro_settings.answers)


# Answerable questions the extractive answer abstained on before issue 24: the abstain read
# the top passage's cosine against a cut calibrated on questions phrased like the manual, and
# a short question scores low against a long passage even when the page is right.
FALSE_ABSTAINS = {"What does the function lm fit?": {64}}  # "11.2 Linear models"


@pytest.mark.parametrize("question", sorted(FALSE_ABSTAINS))
def test_answerable_questions_are_answered(answerer: Answerer, question: str) -> None:
    stream = answerer.ask(question)
    answer = stream.answer
    assert answer.text != ABSTAIN
    assert {c.page for c in answer.citations} & FALSE_ABSTAINS[question]


# How-to questions whose answer names a function (issue 24): the answer opens with the
# quote that names it, not with a neighbour that merely resembles the question.
OPENS_WITH = {
    "How do I make a histogram of my data?": "hist",
    "How do I remove objects from the workspace?": "rm",
}


@pytest.mark.parametrize("question", sorted(OPENS_WITH))
def test_the_answer_opens_with_what_answers(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question).answer
    assert answer.text != ABSTAIN
    first = answer.text.split("\n\n")[0]
    assert names(first, OPENS_WITH[question]), answer.text
    assert_quotes_come_from_their_passages(answer)


@pytest.mark.parametrize("question", sorted(PAGE_KNOWN))
def test_cites_the_right_page(answerer: Answerer, question: str) -> None:
    stream = answerer.ask(question)
    deltas = list(stream)
    answer = stream.answer
    assert answer.mode == "extractive"
    assert len(deltas) >= 1 and "".join(deltas) == answer.text
    assert answer.text != ABSTAIN and answer.metadata["notice"] == NO_LLM_NOTICE
    cited_pages = {c.page for c in answer.citations}
    assert cited_pages & PAGE_KNOWN[question], (answer.text, cited_pages)
    for c in answer.citations:  # every [n] in the text maps to hit n
        assert f"[{c.n}]" in answer.text
        hit = answer.hits[c.n - 1]
        assert (c.source, c.page, c.chunk_id) == (hit.source, hit.page, hit.chunk_id)
    assert_quotes_come_from_their_passages(answer)


def assert_quotes_come_from_their_passages(answer: Answer) -> None:
    """Each quoted unit is in the passage its [n] names, hit n of the answer, which its
    citation holds; every quote is in the text (before its end mark)."""
    assert answer.citations and all(c.quotes for c in answer.citations), answer.text
    for c in answer.citations:
        assert c.hit == answer.hits[c.n - 1]
        passage = " ".join(c.hit.text.split())
        for quote in c.quotes:
            assert " ".join(quote.split())[:60] in passage, (quote, c.n, passage[:200])
            assert quote.rstrip(".!?:;, ")[:60] in answer.text, (quote, answer.text)


def test_citations_keep_their_places_among_all_the_hits(answerer: Answerer) -> None:
    """Quotes may come from any of the best passages; each [n] is its passage's place among
    all the hits (the sources list every hit), so [n] names hit n."""
    answer = answerer.ask("How are matrices multiplied?").answer
    assert answer.text != ABSTAIN
    for c in answer.citations:
        hit = answer.hits[c.n - 1]
        assert (c.source, c.page, c.chunk_id) == (hit.source, hit.page, hit.chunk_id)
    assert_quotes_come_from_their_passages(answer)


@pytest.mark.parametrize("question", OUT_OF_CORPUS)
def test_abstains_outside_the_corpus(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question).answer
    assert answer.text == ABSTAIN
    assert answer.citations == () and answer.metadata["abstained"] is True
    # the cut is on the evidence of the quotes (RRF scores are always far below it)
    evidence = answer.metadata["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["score"] < answerer.settings.abstain_threshold


def test_short_follow_up_is_searched_with_the_previous_question(answerer: Answerer) -> None:
    history = [
        Turn("user", "How are missing values represented in R?"),
        Turn("assistant", "As NA [1]."),
    ]
    answer = answerer.ask("and how to test for them?", history=history).answer
    assert answer.metadata["condensed_query"] == (
        "How are missing values represented in R? and how to test for them?"
    )
    assert 17 in {c.page for c in answer.citations} | {h.page for h in answer.hits[:2]}


ANSWERED = [
    Turn("user", "How are missing values represented in R?"),
    Turn("assistant", "NA [1]."),
]


@pytest.mark.parametrize("question", [*OUT_OF_CORPUS[:2], "What about the football World Cup?"])
def test_a_new_subject_abstains_right_after_an_answered_question(
    answerer: Answerer, question: str
) -> None:
    answer = answerer.ask(question, history=ANSWERED).answer
    assert answer.text == ABSTAIN and answer.citations == ()
    assert "condensed_query" not in answer.metadata  # never answered from the old subject


def test_a_question_that_stands_alone_is_answered_on_its_own(answerer: Answerer) -> None:
    question = "How do I read a data frame from a file?"
    answer = answerer.ask(question, history=ANSWERED).answer
    assert "condensed_query" not in answer.metadata and answer.citations
    alone = answerer.ask(question).answer
    assert [c.chunk_id for c in answer.citations] == [c.chunk_id for c in alone.citations]


def test_an_answer_reads_passages_even_where_search_ranks_pages(answerer: Answerer) -> None:
    # two passages of one page are often a sentence and its continuation: the answer keeps
    # both where search (RAG_RANK_BY=pages, the default) shows each page once
    assert answerer.retriever.settings.rank_by == "pages"
    question = "How do I read a data frame from an external file with read.table?"
    answer = answerer.ask(question).answer
    share = answerer.settings.howto_bm25  # a how-to question's passages: its BM25 share
    bm25 = None if share == 1.0 else share * answerer.retriever.settings.bm25_weight
    chunks = answerer.retriever.retrieve(question, rank_by="chunks", bm25_weight=bm25)
    pages = answerer.retriever.retrieve(question)
    assert [h.chunk_id for h in answer.hits] == [h.chunk_id for h in chunks]
    assert len({h.page for h in pages}) == len(pages)
