"""A passage in its surrounding text, pieced together from neighbouring chunks' offsets."""

from rag.retrieval.surroundings import Surrounding, surrounding, widened
from rag.types import Hit

TEXT = "Alpha beta gamma.\n\nDelta epsilon zeta. Eta theta iota.\n\nKappa lambda mu."


def chunk(text: str, *, source: str = "a.md", page: int = 0) -> Hit:
    start = TEXT.index(text)
    return Hit(f"{source}-{start}", text, source, page, 0.0, start_index=start)


def test_neighbours_put_the_text_back_around_the_passage() -> None:
    passage = chunk("Eta theta iota.")
    neighbours = [
        chunk("Alpha beta gamma."),
        chunk("Delta epsilon zeta."),
        chunk("Kappa lambda mu."),
    ]
    assert surrounding(passage, neighbours) == Surrounding(
        "Alpha beta gamma.\nDelta epsilon zeta. ", "Eta theta iota.", "\nKappa lambda mu."
    )


def test_overlapping_chunks_agree_and_the_passage_is_its_own_text() -> None:
    passage = chunk("epsilon zeta. Eta")
    neighbours = [chunk("Delta epsilon zeta."), chunk("zeta. Eta theta iota."), passage]
    assert surrounding(passage, neighbours) == Surrounding(
        "Delta ", "epsilon zeta. Eta", " theta iota."
    )


def test_the_window_is_cut_at_a_word_with_an_ellipsis() -> None:
    passage = chunk("Eta theta iota.")
    neighbours = [
        chunk("Alpha beta gamma."),
        chunk("Delta epsilon zeta."),
        chunk("Kappa lambda mu."),
    ]
    near = surrounding(passage, neighbours, margin=12)
    assert near == Surrounding("…zeta. ", "Eta theta iota.", "\nKappa…")


def test_other_pages_and_files_are_left_out_and_no_neighbours_is_the_passage_alone() -> None:
    passage = chunk("Eta theta iota.")
    strangers = [chunk("Alpha beta gamma.", source="b.md"), chunk("Kappa lambda mu.", page=2)]
    assert surrounding(passage, strangers) == Surrounding("", "Eta theta iota.", "")
    assert surrounding(passage, []) == Surrounding("", "Eta theta iota.", "")


def test_a_widened_passage_reads_whole_sentences_of_its_page_around_it() -> None:
    passage = chunk("Eta theta iota.")
    neighbours = [
        chunk("Alpha beta gamma."),
        chunk("Delta epsilon zeta."),
        chunk("Kappa lambda mu."),
    ]
    wide = widened(passage, neighbours, margin=25)
    # 25 characters before reach into "gamma.": the sentence cut is left out, the whole one
    # after it kept; after, the page ends within the margin
    assert wide.text == "Delta epsilon zeta. Eta theta iota.\nKappa lambda mu."
    assert wide.start_index == TEXT.index("Delta") and wide.chunk_id == passage.chunk_id
    # 10 reach only into sentences they cut: the passage alone
    assert widened(passage, neighbours, margin=10).text == "Eta theta iota."


def test_a_widened_passage_keeps_the_whole_sentences_inside_a_cut_side() -> None:
    passage = chunk("Delta epsilon zeta.")
    neighbours = [chunk("Alpha beta gamma."), chunk("Eta theta iota."), chunk("Kappa lambda mu.")]
    wide = widened(passage, neighbours, margin=22)
    # after: "Eta theta iota." is whole, "Kappa" is cut and left out; before: the page's
    # start is reached, nothing is cut
    assert wide.text == "Alpha beta gamma.\nDelta epsilon zeta. Eta theta iota."
    assert wide.start_index == 0


def test_no_width_or_no_neighbours_is_the_passage_alone() -> None:
    passage = chunk("Eta theta iota.")
    assert widened(passage, [chunk("Delta epsilon zeta.")], margin=0) is passage
    assert widened(passage, [], margin=500) is passage
