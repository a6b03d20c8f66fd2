"""Query words in bold over neutralized passage text: exact Markdown out."""

from ui.highlight import highlight, query_stems


def test_query_stems_drop_stopwords_and_stem() -> None:
    # bm25s's English list has "are" and "the" but not "how"
    assert query_stems("How are the missing values represented?") == {
        "how",
        "miss",
        "valu",
        "repres",
    }


def test_matching_words_bold_by_stem_case_kept() -> None:
    text = "Missing values are coded NA; a value is missing when unknown."
    assert highlight(text, "missing value") == (
        "**Missing** **values** are coded NA; a **value** is **missing** when unknown."
    )


def test_no_terms_is_plain_neutralize() -> None:
    assert highlight("A [link](http://x.io/a) here", "the of and") == (
        "A \\[link\\](`http://x.io/a`) here"
    )


def test_hostile_text_stays_inert_and_urls_are_not_split() -> None:
    text = "<img src=x onerror=alert(1)> dough ![p](http://evil.io/dough?d=1) www.dough.io"
    assert highlight(text, "dough") == (
        "\\<img src=x onerror=alert(1)\\> **dough** \\!\\[p\\](`http://evil.io/dough?d=1`) "
        "`www.dough.io`"
    )


def test_heading_in_a_passage_is_escaped_around_a_match() -> None:
    assert highlight("# Dough\nKnead the dough", "dough") == "\\# **Dough**\nKnead the **dough**"
