"""The BM25 index: derived from the store's chunk texts, persisted next to it, loaded once.

Scoring is bm25s (Lucene's BM25, k1=1.2, b=0.5: chosen on SciFact train by
bench/tune.py); tokenisation is ours: lowercase word tokens, stopwords removed, Snowball
stems from PyStemmer, in each chunk's language. English is the default and is analysed
exactly as before (Lucene's English stopwords, Porter 2 stems): a chunk counts as another
language (``detect_language``) only when it holds at least four distinct stopwords of that
language and three times as many as English ones, among the Snowball languages bm25s ships
stopwords for (``LANGUAGES``). A query is analysed in every language the index holds, after
dropping its own language's stopwords; an index of English chunks only analyses it exactly
as before, so an English collection's rankings are unchanged bit for bit. The index is
rebuilt from the store at the end of an ingestion run that changed anything (``sync``),
so it is always a function of what the store holds, whatever happened before. Each build
is written to a new folder and published by atomically replacing the ``CURRENT`` pointer,
so a reader never sees half an index; readers reload only when that pointer changes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, ClassVar

from rag.errors import StoreError
from rag.store.chroma import Store
from rag.store.lock import writer_active
from rag.store.passages import indexed_text
from rag.store.shared import Generation

log = logging.getLogger(__name__)

K1 = 1.2
B = 0.5
FORMAT = 1
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG; keep its chatter out of our CLI output
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stopwords() -> frozenset[str]:
    """The English stopwords ``tokenize`` drops (Lucene's list, as bm25s ships it)."""
    return _stopwords()


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens without English stopwords, stemmed."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _stopwords()]
    return list(_stemmer().stemWords(words))


ENGLISH = "english"
# Snowball's name -> bm25s's stopword list: the languages detect_language tells apart
LANGUAGES = {
    "danish": "STOPWORDS_DANISH",
    "dutch": "STOPWORDS_DUTCH",
    ENGLISH: "STOPWORDS_EN",
    "french": "STOPWORDS_FRENCH",
    "german": "STOPWORDS_GERMAN",
    "italian": "STOPWORDS_ITALIAN",
    "norwegian": "STOPWORDS_NORWEGIAN",
    "portuguese": "STOPWORDS_PORTUGUESE",
    "russian": "STOPWORDS_RUSSIAN",
    "spanish": "STOPWORDS_SPANISH",
    "swedish": "STOPWORDS_SWEDISH",
    "turkish": "STOPWORDS_TURKISH",
}
# distinct stopwords of a language a text must hold to count as that language, and how many
# times its English ones: an English table row or index line holds a few words that are
# stopwords elsewhere ("de", "per", "van"), and a misread chunk is lost to English queries
# (on the bench's manuals, COVID-QA papers and SEC filings, 33,000 chunks: 150 English
# ones read as another language with 2 and "more than English"; with these, only the 23
# really in Danish, German or Spanish: reference lists, a filing's Spanish exhibit)
MIN_EVIDENCE = 4
DOMINANCE = 3
QUERY_EVIDENCE = 2  # a query only picks the stopwords it drops: it is analysed in all languages


@cache
def language_stopwords(language: str) -> frozenset[str]:
    """The stopwords a language's analysis drops (English: Lucene's, as ``tokenize``)."""
    import bm25s.stopwords

    return frozenset(getattr(bm25s.stopwords, LANGUAGES[language]))


@cache
def _evidence() -> dict[str, frozenset[str]]:
    """What detection counts: each language's stopwords (English: the longer list)."""
    import bm25s.stopwords

    lists = {name: language_stopwords(name) for name in LANGUAGES}
    lists[ENGLISH] = frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)
    return lists


@cache
def _stemmer_for(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


def detect_language(text: str) -> str:
    """The Snowball language of ``text``: another than English only when it holds at least
    MIN_EVIDENCE distinct stopwords of it (of two letters or more) and DOMINANCE times as many
    as of English (ties and silence: English). Distinct, so a path's repeated `bin` is one piece of
    evidence."""
    return _detect(_WORD.findall(text.lower()))


def detect_query_language(query: str) -> str:
    """The language a question is read in (``query_tokens`` drops its stopwords): a question
    is short, so two distinct stopwords of a language and more than of English suffice."""
    return _detect(_WORD.findall(query.lower()), query=True)


def _detect(words: list[str], *, query: bool = False) -> str:
    # single letters are no evidence: French's elisions (l, d, n) are every `-n 19` and `x_n`
    distinct = {w for w in words if len(w) > 1}
    counts = {name: len(distinct & words_of) for name, words_of in _evidence().items()}
    english = counts.pop(ENGLISH)
    best = max(counts, key=lambda name: counts[name])  # the first of equals: dict order
    if query:  # a question is short: two of a language's stopwords and more than English
        if counts[best] >= QUERY_EVIDENCE and counts[best] > english:
            return best
    elif counts[best] >= MIN_EVIDENCE and counts[best] >= DOMINANCE * max(english, 1):
        return best
    return ENGLISH


def tokenize_in(text: str, language: str) -> list[str]:
    """``tokenize`` in ``language``: its stopwords dropped, its Snowball stems."""
    if language == ENGLISH:
        return tokenize(text)
    return _analyse(_WORD.findall(text.lower()), language)


def _analyse(words: list[str], language: str) -> list[str]:
    if language == ENGLISH:
        return list(_stemmer().stemWords([w for w in words if w not in _stopwords()]))
    dropped = language_stopwords(language)
    return list(_stemmer_for(language).stemWords([w for w in words if w not in dropped]))


def analyse_document(text: str) -> tuple[str, list[str]]:
    """A chunk's language and its tokens in that language."""
    language = detect_language(text)
    return language, tokenize_in(text, language)


def query_tokens(query: str, languages: tuple[str, ...]) -> list[str]:
    """The query in each language the index holds, its own language's stopwords dropped
    first; a token another language already gave is not repeated. Over English chunks
    only, an English query gives ``tokenize(query)`` exactly."""
    words = _WORD.findall(query.lower())
    own = _detect(words, query=True)  # detect_query_language, on the words already found
    if own != ENGLISH:
        words = [w for w in words if w not in language_stopwords(own)]
    if languages == (ENGLISH,):
        return _analyse(words, ENGLISH)
    tokens: list[str] = []
    seen: set[str] = set()
    for language in languages:
        analysed = _analyse(words, language)
        tokens += [t for t in analysed if t not in seen]
        seen.update(analysed)
    return tokens


@dataclass(frozen=True)
class QueryAnalyser:
    """``query_tokens`` over an index's languages, as a value (an index's ``tokenizer``)."""

    languages: tuple[str, ...]

    def __call__(self, query: str) -> list[str]:
        return query_tokens(query, self.languages)


_BY_LANGUAGE = QueryAnalyser((ENGLISH,))  # the default: QueryAnalyser(the index's languages)


@dataclass
class Bm25Index:
    ids: list[str]
    model: Any  # bm25s.BM25
    context: str = ""  # the collection's rag.store.passages context its texts were indexed with
    languages: tuple[str, ...] = (ENGLISH,)  # of its chunks (detect_language), sorted
    # with RAG_CHROMA_URL, the shared index's generation (rag.store.shared) it was built from
    generation: str = ""
    # the query's analyser: QueryAnalyser(languages), or the one analyser bench/tune.py
    # gives ``build`` for documents and queries alike
    tokenizer: Callable[[str], list[str]] = field(default=_BY_LANGUAGE, repr=False)

    def __post_init__(self) -> None:
        if self.tokenizer is _BY_LANGUAGE:
            self.tokenizer = QueryAnalyser(self.languages)

    @classmethod
    def build(
        cls,
        ids: list[str],
        texts: list[str],
        *,
        k1: float = K1,
        b: float = B,
        tokenizer: Callable[[str], list[str]] | None = None,
    ) -> Bm25Index:
        """Each text analysed in its own language, or all by ``tokenizer`` when given."""
        if not texts:  # bm25s cannot index nothing; an empty store has an empty index
            return cls(ids=[], model=None, tokenizer=tokenizer or _BY_LANGUAGE)
        if tokenizer is not None:
            tokens, languages = [tokenizer(t) for t in texts], {ENGLISH}
        else:
            analysed = [analyse_document(t) for t in texts]
            tokens = [t for _, t in analysed]
            languages = {language for language, _ in analysed}
        model = _bm25s().BM25(k1=k1, b=b, method="lucene")
        model.index(tokens, show_progress=False)
        return cls(
            ids=list(ids),
            model=model,
            languages=tuple(sorted(languages)),
            tokenizer=tokenizer or _BY_LANGUAGE,
        )

    def search(self, query: str, *, k: int) -> list[tuple[str, float]]:
        """``(chunk id, score)`` best first; only chunks sharing a term with the query."""
        n = min(k, len(self.ids))
        if self.model is None:
            return []
        tokens = [t for t in self.tokenizer(query) if t in self.model.vocab_dict]
        if n <= 0 or not tokens:
            return []
        docs, scores = self.model.retrieve([tokens], k=n, show_progress=False)
        return [
            (self.ids[int(d)], float(s))
            for d, s in zip(docs[0], scores[0], strict=True)
            if float(s) > 0
        ]

    def save(self, directory: Path) -> None:
        """Write a new version under ``directory`` and point ``CURRENT`` at it."""
        directory.mkdir(parents=True, exist_ok=True)
        version = f"v{time.time_ns()}"
        if self.model is not None:
            self.model.save(str(directory / version), show_progress=False)
        (directory / version).mkdir(exist_ok=True)
        (directory / version / "ids.json").write_text(
            json.dumps(
                {
                    "format": FORMAT,
                    "ids": self.ids,
                    "context": self.context,
                    "languages": list(self.languages),
                    "generation": self.generation,
                }
            ),
            encoding="utf-8",
        )
        pointer = directory / f"CURRENT.{os.getpid()}.tmp"
        pointer.write_text(version, encoding="utf-8")
        pointer.replace(directory / "CURRENT")
        for old in directory.glob("v*"):
            if old.name != version and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, *, context: str = "") -> Bm25Index | None:
        """The published index, or None when there is none, it cannot be read, or it was
        built with other parameters or another ``context``."""
        bm25s = _bm25s()
        try:
            version = (directory / "CURRENT").read_text(encoding="utf-8").strip()
            meta = json.loads((directory / version / "ids.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("context", "") != context:
                return None
            # an index from before languages were detected holds English chunks only
            languages = tuple(meta.get("languages", [ENGLISH]))
            generation = str(meta.get("generation", ""))
            if not meta["ids"]:
                return cls(ids=[], model=None, context=context, generation=generation)
            model = bm25s.BM25.load(str(directory / version), load_corpus=False)
        except (OSError, ValueError) as exc:
            log.info("no usable BM25 index at %s (%s)", directory, exc)
            return None
        if (model.k1, model.b) != (K1, B):  # built before the parameters changed: rebuilt
            log.info("BM25 index at %s: k1=%s b=%s, now %s %s", directory, model.k1, model.b, K1, B)
            return None
        return cls(
            ids=list(meta["ids"]),
            model=model,
            context=context,
            languages=languages,
            generation=generation,
        )


def build_from_store(store: Store, *, context: str = "") -> Bm25Index:
    """The index of every stored passage, each with its heading path when ``context``
    says the collection's passages are indexed so (``rag.store.passages``)."""
    ids: list[str] = []
    texts: list[str] = []
    for batch_ids, batch_texts, paths in store.documents():
        ids.extend(batch_ids)
        texts.extend(
            indexed_text(t, p, context=context) for t, p in zip(batch_texts, paths, strict=True)
        )
    built = Bm25Index.build(ids, texts)
    built.context = context
    if built.languages != (ENGLISH,):
        log.info("BM25: chunks in %s, each analysed in its own", ", ".join(built.languages))
    return built


def sync(
    store: Store, directory: Path, *, changed: bool, context: str, generation: str = ""
) -> None:
    """Rebuild the persisted index when the store changed, or when it is missing or stale.

    Called once at the end of an ingestion run: the one place that keeps BM25 in step
    with the store (adds, updates and prunes alike). ``generation`` is the shared index's
    (``rag.store.shared``, with RAG_CHROMA_URL; read before the store is), which the index
    records: another generation means another host wrote since.
    """
    current = Bm25Index.load(directory, context=context) if not changed else None
    if (
        current is not None
        and current.generation == generation
        and len(current.ids) == store.count()
    ):
        return
    started = time.perf_counter()
    try:
        index = build_from_store(store, context=context)
        index.generation = generation
        index.save(directory)
    except OSError as exc:
        raise StoreError(
            f"Cannot write the BM25 index to {directory} ({exc}). Check that RAG_STORE_DIR "
            "is writable, then run the ingestion again."
        ) from exc
    log.info(
        "BM25 index of %d chunks written to %s in %.1f s",
        len(index.ids),
        directory,
        time.perf_counter() - started,
    )


class Bm25Cache:
    """Loads the published index once per process and again only when ``CURRENT`` changes.

    Loaded indexes are shared by every cache on the same folder, so a UI that builds a
    new retriever per question still reads the index from disk once.

    With RAG_CHROMA_URL other hosts write to the store too, and nothing changes on this
    host's disk when they do: ``marker`` reads the shared index's generation (one small
    record, ``rag.store.shared``) on each ``get``, and the copy is rebuilt when it was built
    from another generation, except while a writer's lease is live (``writer_live``): it
    ends with a new generation, and a rebuild meanwhile would cost every search one.
    """

    _loaded: ClassVar[dict[Path, tuple[tuple[int, int], Bm25Index]]] = {}

    def __init__(
        self,
        directory: Path,
        store: Store,
        *,
        store_dir: Path,
        context: str,
        marker: Callable[[], Generation | None] | None = None,
        writer_live: Callable[[], bool] | None = None,
    ) -> None:
        self.directory = directory
        self.store = store
        self.store_dir = store_dir
        self.context = context
        self.marker = marker
        self.writer_live = writer_live or (lambda: False)

    def get(self) -> Bm25Index:
        mark = self.marker() if self.marker is not None else None
        if mark is None:  # an embedded store, or a server no session of ours wrote to yet
            return self._get_local()
        stamp = _stamp(self.directory / "CURRENT")
        known = self._loaded.get(self.directory)
        if known is not None and stamp == known[0] and self._current(known[1], mark):
            return known[1]
        index = Bm25Index.load(self.directory, context=self.context) if stamp else None
        if index is not None and stamp is not None and self._current(index, mark):
            self._loaded[self.directory] = (stamp, index)
            return index
        # built from another generation (another host wrote since), or none yet: rebuilt
        # from the store, labelled with the generation read before reading it, unless a
        # write is under way (then labelled with none: rebuilt again once it has ended)
        writing = mark.writing and self.writer_live()
        log.info("BM25 index at %s older than the shared index: rebuilding it", self.directory)
        return self._rebuilt(generation="" if writing else mark.token, then="the search")

    def _rebuilt(self, *, generation: str = "", then: str) -> Bm25Index:
        """The index rebuilt from the store, published and loaded."""
        sync(self.store, self.directory, changed=True, context=self.context, generation=generation)
        stamp = _stamp(self.directory / "CURRENT")
        index = Bm25Index.load(self.directory, context=self.context)
        if index is None or stamp is None:
            raise StoreError(
                f"The BM25 index at {self.directory} cannot be read after rebuilding it. "
                f"Delete that folder and run {then} again."
            )
        self._loaded[self.directory] = (stamp, index)
        return index

    def _current(self, index: Bm25Index, mark: Generation) -> bool:
        """Whether ``index`` may serve now: built from the shared index's generation, or a
        write is under way (it ends with a new generation)."""
        return index.generation == mark.token or (mark.writing and self.writer_live())

    def _get_local(self) -> Bm25Index:
        stamp = _stamp(self.directory / "CURRENT")
        known = self._loaded.get(self.directory)
        if known is not None and stamp == known[0]:
            return known[1]
        index = Bm25Index.load(self.directory, context=self.context) if stamp else None
        if index is not None and stamp is not None and writer_active(self.store_dir):
            # an ingestion is under way and will publish a fresh index when it ends;
            # rebuilding here would race it and cost every search a full rebuild
            self._loaded[self.directory] = (stamp, index)
            return index
        if index is None or len(index.ids) != self.store.count():
            # an index from before this feature, or a store changed by other means
            log.info("BM25 index at %s missing or stale: rebuilding it", self.directory)
            return self._rebuilt(then="the ingestion")
        assert stamp is not None  # an index was read, so its pointer exists
        self._loaded[self.directory] = (stamp, index)
        return index


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_ino)
