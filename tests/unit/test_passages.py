"""What is embedded and indexed for a passage, and a PDF outline as page heading paths."""

from ingest.outline import page_sections, section_at
from rag.store.passages import CONTEXT, MAX_CONTEXT_CHARS, indexed_text


def test_a_passage_comes_after_its_heading_path_in_a_contextual_collection() -> None:
    assert indexed_text("Body.", "Intro > Setup", context=CONTEXT) == "Intro > Setup\n\nBody."


def test_a_collection_from_before_and_a_passage_without_headings_index_the_text_alone() -> None:
    assert indexed_text("Body.", "Intro > Setup", context="") == "Body."
    assert indexed_text("Body.", "  \n", context=CONTEXT) == "Body."


def test_a_long_path_keeps_its_deepest_headings() -> None:
    path = " > ".join(f"Heading number {n}" for n in range(30))
    head = indexed_text("Body.", path, context=CONTEXT).split("\n\n")[0]
    assert len(head) <= MAX_CONTEXT_CHARS
    assert head.startswith("…") and head.endswith("Heading number 29")


def test_a_section_starts_where_its_heading_is_in_the_page() -> None:
    marks = [(1, 0, "1 Intro"), (2, 1, "1.1 Setup"), (2, 1, "1.2  Usage"), (4, 0, "2 Reference")]
    texts = ["1 Intro\nWelcome.", "Setup ends.\n1.2 usage\nRun it.", "More usage.", "Index."]
    sections = page_sections(marks, texts)
    # "1.1 Setup" is not in its page's text: it starts where the page's previous one did
    assert sections[1] == ((0, "1 Intro"), (0, "1 Intro > 1.1 Setup"), (12, "1 Intro > 1.2 Usage"))
    assert section_at(sections[1], 5) == "1 Intro > 1.1 Setup"
    assert section_at(sections[1], 12) == "1 Intro > 1.2 Usage"
    assert section_at(sections[2], 0) == "1 Intro > 1.2 Usage"  # carried over the page
    assert section_at(sections[3], 3) == "2 Reference"


def test_an_outline_out_of_page_order_still_gives_each_page_its_section() -> None:
    # an appendix bookmarked before the chapters (outline order is not page order)
    marks = [(3, 0, "Appendix"), (1, 0, "Chapter 1"), (1, 1, "  Section\n 1.1 ")]
    sections = page_sections(marks, ["Chapter 1. Section 1.1 text", "more", "Appendix A"])
    assert section_at(sections[0], 20) == "Chapter 1 > Section 1.1"
    assert section_at(sections[1], 0) == "Chapter 1 > Section 1.1"
    assert section_at(sections[2], 0) == "Appendix"


def test_pages_before_the_first_bookmark_have_no_path() -> None:
    assert page_sections([(2, 0, "Body")], ["Title page", "Body text"]) == [(), ((0, "Body"),)]
