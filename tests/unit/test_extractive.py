"""Extractive answers: sentence splitting, selection and rendering, exactly."""

import numpy as np

from rag.extractive import Sentence, quotes_of, render, select, split_sentences


def test_split_drops_cut_fragments_and_table_of_contents() -> None:
    text = (
        "of the previous sentence. R has many vectors.\nThey hold values of one type.\n\n"
        "2.3 Generating sequences ........ 8\n\nThe function seq() makes ranges! And it is"
    )
    assert split_sentences(text) == [
        "R has many vectors.",
        "They hold values of one type.",
        "The function seq() makes ranges!",
    ]


def test_split_sentences_exact() -> None:
    assert split_sentences("First one is here. Second one is here? Third one, also here.") == [
        "First one is here.",
        "Second one is here?",
        "Third one, also here.",
    ]


def test_select_best_in_reading_order_without_duplicates() -> None:
    sentences = [
        Sentence("late in passage one", 1, 5),
        Sentence("early in passage two", 2, 0),
        Sentence("copy of early in two", 2, 1),
        Sentence("early in passage one", 1, 0),
        Sentence("weak one", 3, 0),
    ]
    vectors = np.eye(5, dtype=np.float32)
    vectors[2] = vectors[1]  # a duplicate of sentence 1
    scores = [0.70, 0.80, 0.79, 0.66, 0.40]
    picked = select(sentences, scores, vectors)
    assert [(s.n, s.position) for s in picked] == [(1, 0), (1, 5), (2, 0)]


def test_render_puts_the_citation_before_the_final_punctuation() -> None:
    parts = render([Sentence("NA marks missing values.", 1, 0), Sentence("Use seq()", 2, 0)])
    assert parts == ["NA marks missing values [1].", " Use seq() [2]."]


def test_quotes_of_reads_back_what_render_wrote() -> None:
    sentences = [
        Sentence("First one is here.", 1, 0),
        Sentence("A long one, clipped …", 3, 0),
        Sentence("Is it a question?", 3, 1),
    ]
    text = "".join(render(sentences))
    assert quotes_of(text) == {
        1: ["First one is here"],
        3: ["A long one, clipped", "Is it a question"],
    }
    assert quotes_of("An LLM's answer without quotes.") == {}
