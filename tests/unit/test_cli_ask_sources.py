"""`rag ask`'s lines after the answer: the cited sources, or where an abstain looked."""

import pytest

from cli.ask import print_sources
from rag.types import Answer, Citation, Hit


def hit(chunk: str, page: int, source: str = "/docs/manual.pdf") -> Hit:
    return Hit(chunk_id=chunk, text="text", source=source, page=page, score=1.0)


def test_an_abstain_names_each_closest_page_once(capsys: pytest.CaptureFixture[str]) -> None:
    hits = (hit("a", 1), hit("b", 1), hit("c", 3), hit("d", 2, "/docs/notes.md"), hit("e", 9))
    print_sources(Answer(text="The indexed documents don't answer this.", mode="extractive",
                         hits=hits))  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Closest passages (not an answer):",
        "  manual.pdf p.1",
        "  manual.pdf p.3",
        "  notes.md p.2",
    ]


def test_an_answer_lists_its_cited_sources(capsys: pytest.CaptureFixture[str]) -> None:
    cited = Citation(2, hit("b", 7))
    print_sources(Answer(text="It is x [2].", mode="extractive", citations=(cited,),
                         hits=(hit("a", 1), cited.hit)))  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1:] == ["Sources:", "  [2] manual.pdf p.7"]
