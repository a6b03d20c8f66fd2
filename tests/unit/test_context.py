"""A passage in its surrounding text, pieced together from neighbouring chunks' offsets."""

from rag.retrieval.surroundings import Surrounding, surrounding
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
