"""The words of a question that ask rather than name: what a follow-up points back with,
the question words, the words of the asking. BM25's stopword list (Lucene's 33) keeps most
of them, so "how do I" would count as the subject of a question without this list."""

from __future__ import annotations

import re
from functools import cache

from rag.retrieval.bm25 import stopwords, tokenize

# Without an LLM a follow-up is recognised by its form: words that point back at the
# conversation, an opening that continues it, or too few words to stand alone.
REFERRING = frozenset(
    {"it", "its", "it's", "itself", "this", "these", "those", "they", "them", "their"}
    | {"theirs", "he", "him", "his", "she", "her", "ones", "former", "latter", "above"}
)
QUESTION_WORDS = frozenset({"who", "what", "when", "where", "why", "how", "which", "whom"})
ASKING_WORDS = frozenset(
    {"do", "does", "did", "i", "me", "my", "we", "us", "our", "you", "your", "can", "could"}
    | {"should", "would", "may", "might", "must", "shall", "has", "have", "had", "about"}
    | {"also", "too", "please", "so"}
)


@cache
def not_subject_stems() -> frozenset[str]:
    """The words that point back or ask, stemmed as ``tokenize`` stems a question."""
    return frozenset(tokenize(" ".join(REFERRING | QUESTION_WORDS | ASKING_WORDS)))


def subject_terms(question: str) -> list[str]:
    """The question's own terms, stemmed as BM25 stems them: what it asks about."""
    skip = not_subject_stems()
    return [t for t in tokenize(question) if t not in skip]


def subject_words(question: str) -> list[str]:
    """The question's words as written, lower case, without the asking ones (for matching
    the names of code: "histogram" starts with ``hist``)."""
    skip = REFERRING | QUESTION_WORDS | ASKING_WORDS | stopwords()
    return [w for w in re.findall(r"[a-z_][\w.]*", question.lower()) if w not in skip]
