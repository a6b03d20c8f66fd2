"""The how-to questions (bench/data/howto_questions.json) keep their shape and their pages:
every listed page of the bundled PDF names one of the question's `must_name` (read with
pypdfium2, matched as `rag eval --answers` matches an answer), so the file cannot rot."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from rag.evaluation.answersets import from_pages
from rag.evaluation.grading import NamesGold, names
from rag.evaluation.longsets import load_page_questions

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "bench" / "data" / "howto_questions.json"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    return loaded


@cache
def page_texts(name: str) -> list[str]:
    """Each page's text layer, hyphen breaks joined and whitespace flattened."""
    pdf = pdfium.PdfDocument(ROOT / "data" / name)
    try:
        return [
            " ".join(re.sub(r"[\ufffe\u00ad]\s*", "", page.get_textpage().get_text_range()).split())
            for page in pdf
        ]
    finally:
        pdf.close()


def test_the_documents_are_the_bundled_pdfs(data: dict[str, Any]) -> None:
    for doc in data["documents"]:
        path = ROOT / "data" / doc["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == doc["sha256"], doc["file"]
        assert len(page_texts(doc["file"])) == doc["pages"]


def test_there_are_at_least_60_well_formed_questions(data: dict[str, Any]) -> None:
    questions = data["questions"]
    assert len(questions) >= 60
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    pages_of = {doc["file"]: doc["pages"] for doc in data["documents"]}
    for q in questions:
        assert set(q) == {"id", "file", "question", "must_name", "pages", "half", "kind"}, q["id"]
        assert q["kind"] == "howto" and q["question"].endswith("?"), q["id"]
        assert q["must_name"] and all(n.strip() == n and n for n in q["must_name"]), q["id"]
        assert q["pages"] == sorted(set(q["pages"])), q["id"]
        assert all(1 <= p <= pages_of[q["file"]] for p in q["pages"]), q["id"]
    golds = [q.gold for q in from_pages(load_page_questions(QUESTIONS))]
    assert all(isinstance(g, NamesGold) for g in golds)


def test_halves_alternate_within_each_document(data: dict[str, Any]) -> None:
    for doc in data["documents"]:
        halves = [q["half"] for q in data["questions"] if q["file"] == doc["file"]]
        assert halves == [("tune", "report")[i % 2] for i in range(len(halves))], doc["file"]


def test_a_question_does_not_give_away_the_name_it_asks_for(data: dict[str, Any]) -> None:
    for q in data["questions"]:
        assert not any(names(q["question"], n) for n in q["must_name"]), q["id"]


def test_every_listed_page_names_what_the_answer_must_name(data: dict[str, Any]) -> None:
    missing = [
        f"{q['id']} p.{page}: none of {q['must_name']}"
        for q in data["questions"]
        for page in q["pages"]
        if not any(names(page_texts(q["file"])[page - 1], n) for n in q["must_name"])
    ]
    assert missing == []
