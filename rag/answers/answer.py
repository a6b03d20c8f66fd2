"""The answer pipeline: condense a follow-up, retrieve, then either stream an LLM answer
over a budgeted prompt (mapping its ``[n]`` to the hits) or compose an extractive one.

    stream = answerer_for(index, settings, make_llm(settings.answers)).ask(q)
    for delta in stream:      # text as it arrives
        ...
    stream.answer             # the Answer: text, citations, hits, timings, metadata
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from time import perf_counter

from rag.answers import extractive
from rag.answers.answer_types import asks_command
from rag.answers.citations import CitationFilter
from rag.answers.llm import LLM
from rag.answers.prompt import (
    ABSTAIN,
    answer_messages,
    clean_condensed,
    condense_messages,
    fit_context,
)
from rag.answers.question_words import REFERRING, not_subject_stems
from rag.config import AnswerSettings, Settings
from rag.embedding.types import Embedder
from rag.errors import StoreError
from rag.retrieval.bm25 import tokenize
from rag.retrieval.retriever import Retriever
from rag.retrieval.surroundings import neighbour_starts, widened
from rag.store.index import Index
from rag.types import Answer, Citation, Hit, Turn

__all__ = ["ABSTAIN", "NO_LLM_NOTICE", "AnswerStream", "Answerer", "Turn", "answerer_for"]

log = logging.getLogger(__name__)

NO_LLM_NOTICE = (
    "No LLM is configured, so this answer quotes the best-matching sentences. For written "
    "answers set RAG_LLM_BASE_URL and RAG_LLM_MODEL (Ollama, vLLM, llama.cpp), "
    "OPENAI_API_KEY (OpenAI), or RAG_LLM=local (the bundled demo model)."
)
CONTINUING = ("and ", "but ", "or ", "so ", "also ", "what about ", "how about ", "then ")
STANDALONE_WORDS = 4  # a question of fewer words rarely stands alone ("and for matrices?")
# Joining a follow-up that stays on the previous subject barely moves the best passage's
# similarity; one on another subject pulls it down. The cut is chosen on 48 hand-written
# pairs and reported on 24 others by bench/calibrate_followups.py (results/followups.json;
# a test keeps the two equal). A follow-up whose passages name all its own terms is kept
# whatever the drop.
FOLLOWUP_DRIFT = 0.028
# An answer reads passages, not pages: two passages of one page are often a sentence and its
# continuation, and the extractive answer quotes across them. Ranking pages (RAG_RANK_BY)
# put each page's second passage behind every other page's first, and the how-to questions'
# tuning half stated fewer golds (bench/results/answers.json at bc59d22), so the answer keeps
# ranking chunks; search, and what page@k measures, ranks pages.
ANSWER_RANKING = "chunks"
TOKEN_SAFETY = 1.15  # prompt tokens are counted with the embedding model's tokenizer
PROMPT_MARGIN = 32  # tokens the chat template adds around the messages


class AnswerStream:
    """Iterate for the text deltas; once exhausted, ``.answer`` holds the Answer.

    Reading ``.answer`` early consumes the rest of the stream. Errors (``LLMError``,
    ``StoreError``...) are raised while iterating.
    """

    def __init__(self, run: Generator[str, None, Answer]) -> None:
        self._run = run
        self._answer: Answer | None = None
        self._failed = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._answer is not None or self._failed:
            raise StopIteration
        try:
            return next(self._run)
        except StopIteration as stop:
            self._answer = stop.value
            raise StopIteration from None
        except BaseException:
            self._failed = True
            raise

    @property
    def answer(self) -> Answer:
        for _ in self:
            pass
        if self._answer is None:
            raise RuntimeError("The answer failed while streaming; see the error raised then.")
        return self._answer

    def close(self) -> None:
        """Stop early (e.g. the user left); the LLM request is closed."""
        self._run.close()
        self._failed = self._answer is None


class Answerer:
    """Answers questions over the index, with an LLM when one is given, else extractively."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        llm: LLM | None,
        settings: AnswerSettings,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    @property
    def mode(self) -> str:
        return "extractive" if self.llm is None else "llm"

    def ask(
        self, question: str, *, history: Sequence[Turn] = (), label: str | None = None
    ) -> AnswerStream:
        """Stream the answer; with ``label``, only documents so classified are searched."""
        return AnswerStream(self._run(question.strip(), tuple(history), label))

    def _run(
        self, question: str, history: tuple[Turn, ...], label: str | None = None
    ) -> Generator[str, None, Answer]:
        start = perf_counter()
        timings: dict[str, float] = {}
        metadata: dict[str, object] = {}
        if label:
            metadata["label"] = label
        query = question
        if history and self.llm is not None:
            t = perf_counter()
            reply = self.llm.complete(condense_messages(question, history))
            query = clean_condensed(reply, fallback=question)
            metadata["condensed_query"] = query
            timings["condense_ms"] = _ms(t)
        t = perf_counter()
        if history and self.llm is None and query:
            query, hits = self._resolve_followup(question, history, label, metadata)
        else:
            hits = self.passages(query, label) if query else []
        timings["retrieval_ms"] = _ms(t)
        if self.llm is None:
            run = self._extractive(query, hits, metadata)
        else:
            run = self._generate(question, hits, history, metadata)
        parts: list[str] = []
        try:
            while True:
                try:
                    part = next(run)
                except StopIteration as stop:
                    citations, hits = stop.value
                    break
                if not parts:
                    timings["first_token_ms"] = _ms(start)
                parts.append(part)
                yield part
        finally:
            run.close()  # stopping early closes the LLM request
        text = "".join(parts)
        metadata["abstained"] = text.startswith(ABSTAIN)
        timings["total_ms"] = _ms(start)
        return Answer(
            text=text,
            mode=self.mode,
            citations=tuple(citations),
            hits=tuple(hits),
            timings=timings,
            metadata=metadata,
        )

    def _resolve_followup(
        self,
        question: str,
        history: tuple[Turn, ...],
        label: str | None,
        metadata: dict[str, object],
    ) -> tuple[str, list[Hit]]:
        """Without an LLM: a question that can stand alone is searched on its own. One that
        cannot (by its form: ``needs_context``) is searched with the last answered question,
        and that is kept only when it finds an answer whose passages name what the follow-up
        names; otherwise the question is searched on its own. A new subject the documents do
        not cover therefore abstains, whatever was asked before."""
        query = followup_query(question, history)
        if query != question:
            combined = self.passages(query, label)
            previous = last_answered(history)
            if keeps_join(
                answerable=self._answerable(combined, query),
                named=names_its_passages(
                    question, combined, lambda hits: self._answerable(hits, query)
                ),
                drift=lambda: drift(self.passages(previous, label), combined),
            ):
                metadata["condensed_query"] = query
                return query, combined
        return question, self.passages(question, label)

    def passages(self, query: str, label: str | None = None) -> list[Hit]:
        """The passages an answer to ``query`` reads, as they are retrieved for it: ranked
        for an answer, with a how-to question's BM25 share."""
        return self.retriever.retrieve(
            query, label=label, rank_by=ANSWER_RANKING, bm25_weight=self._bm25_weight(query)
        )

    def _bm25_weight(self, query: str) -> float | None:
        """BM25's weight in the fusion of a how-to question's passages; None keeps the
        retrieval settings' (every other question, and how-to ones at the default share 1)."""
        share = self.settings.howto_bm25
        if share == 1.0 or not asks_command(query):
            return None
        return share * self.retriever.settings.bm25_weight

    def _answerable(self, hits: list[Hit], query: str) -> bool:
        return passages_answer(query, hits, self.settings.abstain_threshold)

    def _extractive(
        self, query: str, hits: list[Hit], metadata: dict[str, object]
    ) -> Generator[str, None, tuple[list[Citation], list[Hit]]]:
        metadata["notice"] = NO_LLM_NOTICE
        # cosine similarity, not the mode's score: RRF/BM25 scores mean nothing absolute
        best = max((_similarity(h) for h in hits), default=None)
        metadata["best_score"] = round(best, 4) if best is not None else None
        # the quotes' [n] are their passages' places among all the hits: the answer's
        # sources list every hit, in this order
        hits = self._widened(hits, extractive.passages_read(query))
        found = extractive.extract(query, list(enumerate(hits, start=1)), embedder=self.embedder)
        evidence = found.evidence()
        metadata["evidence"] = {
            "score": round(evidence, 4),
            "cosine": round(found.cosine, 4),
            "terms": round(found.terms, 4),
        }
        # abstain on the evidence of the quotes themselves: the passage they come from and
        # how much of what the question names they contain
        if not found.sentences or evidence < self.settings.abstain_threshold:
            yield ABSTAIN
            return [], hits
        yield from extractive.render(found.sentences)
        return extractive.cite(found.sentences, hits), hits

    def _widened(self, hits: list[Hit], first: int) -> list[Hit]:
        """The ``first`` hits each read in its page (``RAG_ANSWER_WIDEN``), the rest as found."""
        margin = self.settings.widen
        if margin <= 0:
            return hits
        out = list(hits)
        for i, hit in enumerate(hits[:first]):
            start, end = neighbour_starts(hit, margin=margin)
            try:
                neighbours = self.retriever.store.around(hit.source, hit.page, start=start, end=end)
            except StoreError as exc:  # the passage alone still answers
                log.warning("the text around a passage cannot be read: %s", exc)
                continue
            out[i] = widened(hit, neighbours, margin=margin)
        return out

    def _generate(
        self,
        question: str,
        hits: list[Hit],
        history: tuple[Turn, ...],
        metadata: dict[str, object],
    ) -> Generator[str, None, tuple[list[Citation], list[Hit]]]:
        assert self.llm is not None
        metadata["model"] = self.llm.model
        kept, dropped = fit_context(
            hits, budget=self._passage_budget(question, history), count_tokens=self._count
        )
        metadata["dropped"] = [h.chunk_id for h in dropped]
        if dropped:
            log.info("context budget: %d of %d passages sent", len(kept), len(hits))
        if not kept:
            metadata["notice"] = (
                f"No passage fit RAG_LLM_CONTEXT_TOKENS={self.settings.llm_context_tokens} "
                f"after RAG_LLM_MAX_TOKENS={self.settings.llm_max_tokens}; raise the first."
                if hits
                else "Nothing is indexed yet: ingest documents with python -m ingest PATH."
            )
            yield ABSTAIN
            return [], kept
        marks = CitationFilter(len(kept))
        deltas = self.llm.stream(answer_messages(question, kept, history))
        try:
            for delta in deltas:
                if out := marks.feed(delta):
                    yield out
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()
        if tail := marks.flush():
            yield tail
        metadata["removed_citations"] = marks.removed
        if marks.removed:
            log.info("removed %d citation(s) to passages that were not given", marks.removed)
        return [Citation(n, kept[n - 1]) for n in marks.used], kept

    def _passage_budget(self, question: str, history: tuple[Turn, ...]) -> int:
        """Tokens left for passages: the context minus the answer and the bare prompt."""
        bare = answer_messages(question, [], history)
        overhead = sum(self._count(m["content"]) + 4 for m in bare) + PROMPT_MARGIN
        return self.settings.llm_context_tokens - self.settings.llm_max_tokens - overhead

    def _count(self, text: str) -> int:
        return int(self.embedder.count_tokens(text) * TOKEN_SAFETY) + 1


def answerer_for(index: Index, settings: Settings, llm: LLM | None) -> Answerer:
    """The app's answer path over an open index, as ``rag ask`` and ``rag eval --answers``
    take it: the retriever in the configured mode, and ``llm`` (``make_llm(settings.answers)``,
    made once by the caller: with ``RAG_LLM=local`` making it starts a server)."""
    retriever = Retriever(index=index, settings=settings.retrieval)
    return Answerer(retriever=retriever, llm=llm, settings=settings.answers)


def passages_answer(query: str, hits: Sequence[Hit], threshold: float) -> bool:
    """Whether the passages could answer ``query`` (a follow-up joined to the previous
    question): the evidence the abstain cut reads, taken from whole passages (a passage's
    cosine, and the query's terms in its heading and text), which needs no quotes."""
    return any(
        extractive.evidence(_similarity(h), extractive.terms_found(query, [h.header_path, h.text]))
        >= threshold
        for h in hits
    )


def followup_query(question: str, history: Sequence[Turn]) -> str:
    """Without an LLM: a question that cannot stand alone (it points back, continues the
    previous one, or is a few words) joined to the last question that was answered (not
    abstained on); others unchanged."""
    previous = last_answered(history)
    if previous and needs_context(question):
        return f"{previous.strip()} {question}"
    return question


def keeps_join(
    *, answerable: bool, named: bool, drift: Callable[[], float], cut: float = FOLLOWUP_DRIFT
) -> bool:
    """Whether a follow-up searched joined to the previous question keeps that join: the
    joined query found an answer, and either its passages name what the follow-up names or
    the previous question's best match got at most ``cut`` worse (it asked more about the
    same thing). ``drift`` is called only when the names do not decide (a search)."""
    return answerable and (named or drift() <= cut)


def drift(previous: Sequence[Hit], joined: Sequence[Hit]) -> float:
    """How much worse the previous question's best match got by joining the follow-up."""
    best = max((_similarity(h) for h in previous), default=-1.0)
    return best - max((_similarity(h) for h in joined), default=-1.0)


def names_its_passages(
    question: str, hits: list[Hit], answerable: Callable[[list[Hit]], bool]
) -> bool:
    """Whether the passages found with the previous question contain everything the
    follow-up itself names (its own terms, stemmed): "and for matrices?" finds matrices.
    All of them, not one: after data frames, "and a picture frame?" names a frame but not
    the picture. A follow-up that names nothing ("why?") passes."""
    own = set(tokenize(question)) - not_subject_stems()
    if not own:
        return True
    found: set[str] = set()
    for hit in hits:
        if answerable([hit]):
            found |= set(tokenize(hit.text))
    return own <= found


def last_answered(history: Sequence[Turn]) -> str:
    """The last user question whose reply was an answer, not an abstention or an error."""
    turns = list(history)
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].role != "user":
            continue
        reply = turns[i + 1].text if i + 1 < len(turns) else ""
        if reply.strip() and not reply.startswith(ABSTAIN):
            return turns[i].text.strip()
    return ""


def needs_context(question: str) -> bool:
    lowered = " ".join(question.lower().split())
    words = [w.strip("?!.,;:'\"()") for w in lowered.split()]
    return (
        len(words) < STANDALONE_WORDS
        or lowered.startswith(CONTINUING)
        or any(w in REFERRING for w in words)
    )


def _ms(since: float) -> float:
    return round((perf_counter() - since) * 1000, 1)


def _similarity(hit: Hit) -> float:
    return hit.similarity if hit.similarity is not None else hit.score
