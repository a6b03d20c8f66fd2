"""``rag eval --qa`` and ``rag eval --pages`` through the real pipeline: tiny papers and
PDFs ingested by the Ingestor into their own collections, questions asked, exact figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cli import _longeval, main
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import connect
from tests.pdfgen import make_pdf

pytestmark = pytest.mark.integration

FILLER = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
    "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur."
)
# four paragraphs of ~130 tokens: one 200-token chunk each
LONG = "\n\n".join(
    f"{topic} {FILLER}"
    for topic in (
        "Zebras have black and white stripes that confuse biting flies.",
        "The Krebs cycle produces NADH inside mitochondria.",
        "Glaciers carve U-shaped valleys over thousands of years.",
        "Volcanic ash makes farmland unusually fertile.",
    )
)
PENGUINS = (
    "Penguins huddle together to survive Antarctic winters. Emperor penguins breed in winter."
)
COPPER = "Copper wires conduct electricity because electrons move freely."


def qa(qid: int, question: str, answer: str, start: int) -> dict[str, object]:
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": start}]}


def squad_fixture(folder: Path) -> Path:
    glacier = LONG.index("U-shaped valleys")
    papers = [  # halves by the hash of the id: "2" tune, "1" and "3" report
        ("2", LONG, [
            qa(1, "Why do zebras have stripes?", "stripes that confuse biting flies ", 28),
            qa(2, "What do glaciers carve?", "U-shaped valleys", glacier - 5),  # offset off
            # the words point at the Krebs paragraph, the answer is the volcanic one: BM25
            # finds the right paper in the wrong place
            qa(3, "What does the Krebs cycle produce?", "Volcanic ash makes farmland",
               LONG.index("Volcanic")),
        ]),
        ("1", PENGUINS, [qa(4, "How do penguins survive winter?", "Penguins huddle together", 0)]),
        # the words are the penguin paper's: the right text in the wrong paper is no hit
        ("3", COPPER, [qa(5, "How do emperor penguins breed?", "electrons move freely", 41)]),
    ]  # fmt: skip
    data = {
        "data": [
            {"paragraphs": [{"context": text, "document_id": int(doc), "qas": qas}]}
            for doc, text, qas in papers
        ]
    }
    path = folder / "tiny-qa.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(args) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


@pytest.fixture
def store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> Path:
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    # the session's bundled model (the one the command would load), loaded once
    monkeypatch.setattr(_longeval, "load_model", lambda _: embedder)
    return tmp_path / "store"


def test_qa_through_the_pipeline(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = squad_fixture(tmp_path)
    got = run(["eval", "--qa", str(path), "--mode", "bm25,dense", "--json"], capsys)
    assert (got["papers"], got["questions"], got["chunks"]) == (3, 5, 6)  # 4 + 1 + 1 chunks
    assert got["answers_away_from_answer_start"] == 1
    assert got["offsets_off"] == 0 and isinstance(got["passages_checked"], int)
    assert got["passages_checked"] >= 3
    modes = got["modes"]
    assert isinstance(modes, dict)
    bm25 = modes["bm25"]
    # tune: zebra and glacier at rank 1, Krebs missed; report: penguins at 1, copper missed
    assert bm25["tune"] == {
        "questions": 3, "hit@1": 0.66667, "hit@5": 0.66667, "hit@10": 0.66667, "mrr@10": 0.66667
    }  # fmt: skip
    assert bm25["report"] == {
        "questions": 2, "hit@1": 0.5, "hit@5": 0.5, "hit@10": 0.5, "mrr@10": 0.5
    }  # fmt: skip
    assert bm25["all"]["hit@1"] == 0.6
    # dense returns all six passages: every answer is among them
    assert modes["dense"]["all"]["hit@10"] == 1.0
    assert 0.6 <= modes["dense"]["all"]["mrr@10"] < 1.0
    # the papers are files under the eval store, in a collection of their own
    papers = store / "eval" / "tiny-qa" / "papers"
    assert sorted(p.name for p in papers.iterdir()) == ["1.txt", "2.txt", "3.txt"]
    assert (papers / "2.txt").read_text(encoding="utf-8") == LONG
    settings = Settings.default(store)
    assert got["collection"] == "eval-qa-tiny-qa-all-MiniLM-L6-v2-c200o30"
    assert not connect(settings.store).exists()  # the user's collection is untouched

    # the report half alone; the unchanged papers are not ingested again
    again = run(["eval", "--qa", str(path), "--mode", "bm25", "--half", "report", "--json"], capsys)
    assert again["ingest"]["unchanged"] == 3 and again["ingest"]["chunks_written"] == 0  # type: ignore[index]
    assert again["modes"]["bm25"]["all"] == bm25["report"]  # type: ignore[index]
    assert "tune" not in again["modes"]["bm25"]  # type: ignore[index]


def pages_fixture(folder: Path) -> tuple[Path, Path]:
    docs = folder / "pdfs"
    docs.mkdir()
    make_pdf(
        docs / "shop.pdf",
        [
            "Invoices are paid within thirty days of receipt.",
            "The warranty covers defects for two years after purchase.",
            "Returns require the original receipt and packaging.",
        ],
    )
    # the same warranty words, stronger, on page 1 of another file: asked in one shared
    # index, it would outrank shop.pdf's page 2
    make_pdf(
        docs / "other.pdf",
        ["Warranty: the warranty covers defects, warranty defects for two years.", "Nothing."],
    )
    questions = [
        ("shop-1", "How long does the warranty cover defects?", [2], "tune", "prose"),
        ("shop-2", "What do returns require?", [3], "tune", "table"),
        ("shop-3", "When are invoices paid?", [1, 2], "report", "table"),
        # the words are page 2's, the listed page is 1: a miss
        ("shop-4", "Does the warranty cover defects?", [1], "report", "prose"),
    ]
    data = {
        "documents": [
            {
                "file": name,
                "origin": "tests",
                "license": "CC0",
                "pages": n,
                "sha256": hashlib.sha256((docs / name).read_bytes()).hexdigest(),
            }
            for name, n in (("shop.pdf", 3), ("other.pdf", 2))
        ],
        "questions": [
            {"id": i, "file": "shop.pdf", "question": q, "pages": p, "half": h, "kind": k}
            for i, q, p, h, k in questions
        ]
        + [
            {
                "id": "other-1",
                "file": "other.pdf",
                "question": "What is on the second page?",
                "pages": [2],
                "half": "report",
                "kind": "prose",
            }
        ],
    }
    path = folder / "pages.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, docs


def test_pages_each_document_in_its_own_index(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, docs = pages_fixture(tmp_path)
    got = run(
        ["eval", "--pages", str(path), "--docs", str(docs), "--mode", "bm25", "--json"], capsys
    )
    assert got["questions"] == 5
    assert [(d["file"], d["chunks"]) for d in got["documents"]] == [  # type: ignore[union-attr]
        ("shop.pdf", 3),
        ("other.pdf", 2),
    ]
    bm25 = got["modes"]["bm25"]  # type: ignore[index]
    assert bm25["tune"]["page@1"] == 1.0
    assert bm25["tune"]["kinds"]["table"]["questions"] == 1
    # report: invoices at 1 (page 1 of [1, 2]); warranty on page 1 missed; "second page"
    # has no term in other.pdf's page 2 ("Nothing.")
    assert bm25["report"]["page@1"] == round(1 / 3, 5)
    assert bm25["report"]["kinds"]["table"]["page@1"] == 1.0
    assert bm25["report"]["kinds"]["prose"]["page@10"] == 0.0
    assert bm25["all"]["questions"] == 5


def test_pages_through_a_symlinked_folder_read_the_same_collections(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # each file's collection is named after its real path: asked again through a link to
    # its folder, the file must be found unchanged there, not ingested a second time
    path, docs = pages_fixture(tmp_path)
    linked = tmp_path / "linked-docs"
    linked.symlink_to(docs, target_is_directory=True)
    first = run(["eval", "--pages", str(path), "--docs", str(docs), "--json"], capsys)
    again = run(["eval", "--pages", str(path), "--docs", str(linked), "--json"], capsys)
    assert [(d["file"], d["chunks"]) for d in again["documents"]] == [  # type: ignore[union-attr]
        ("shop.pdf", 3),
        ("other.pdf", 2),
    ]
    assert [d["unchanged"] for d in again["documents"]] == [1, 1]  # type: ignore[union-attr]
    ranked = [got["modes"]["hybrid"]["all"] for got in (first, again)]  # type: ignore[index]
    assert ranked[0] == ranked[1]


def test_pages_refuses_a_different_file(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, docs = pages_fixture(tmp_path)
    make_pdf(docs / "shop.pdf", ["Another edition."])
    assert main(["eval", "--pages", str(path), "--docs", str(docs), "--json"]) == 2
    err = capsys.readouterr().err
    assert "shop.pdf is not the file the questions were written on" in err
    assert err.count("\n") == 1
