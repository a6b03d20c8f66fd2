"""The page-known questions (bench/data/pages_questions.json) keep the shape `rag eval --pages`
reads and the invariants that make its two halves fair. Needs no PDF: the answers are checked
against the real pages by `bench/fetch_pdfs.py --verify`."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
QUESTIONS = BENCH / "data" / "pages_questions.json"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    return loaded


def _fetch_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_pdfs", BENCH / "fetch_pdfs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documents_name_a_pinned_origin_a_license_a_hash_and_a_page_count(
    data: dict[str, Any],
) -> None:
    files = [doc["file"] for doc in data["documents"]]
    assert len(files) == len(set(files))
    for doc in data["documents"]:
        origins = [doc["origin"], *([doc["fallback"]] if "fallback" in doc else [])]
        for origin in origins:
            assert origin == "shared" or re.fullmatch(r"apt:[a-z0-9.+-]+=[^:]+:\S+", origin)
        assert doc["license"].strip(), doc["file"]
        assert re.fullmatch(r"[0-9a-f]{64}", doc["sha256"]), doc["file"]
        assert isinstance(doc["pages"], int) and doc["pages"] > 0


def test_every_question_is_well_formed_and_its_pages_exist(data: dict[str, Any]) -> None:
    pages_of = {doc["file"]: doc["pages"] for doc in data["documents"]}
    ids = [q["id"] for q in data["questions"]]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for q in data["questions"]:
        assert q["file"] in pages_of, q["id"]
        assert q["question"].strip() and q["answer"].strip(), q["id"]
        assert q["half"] in ("tune", "report") and q["kind"] in ("prose", "table"), q["id"]
        pages = q["pages"]
        assert pages and pages == sorted(set(pages)), q["id"]
        assert all(isinstance(p, int) and 1 <= p <= pages_of[q["file"]] for p in pages), q["id"]


def test_every_document_has_questions_and_balanced_halves(data: dict[str, Any]) -> None:
    halves = Counter((q["file"], q["half"]) for q in data["questions"])
    for doc in data["documents"]:
        tune, report = halves[(doc["file"], "tune")], halves[(doc["file"], "report")]
        assert tune + report > 0, f"{doc['file']} has no question"
        assert abs(tune - report) <= 2, f"{doc['file']}: {tune} tune, {report} report"


def test_there_are_enough_questions_and_a_quarter_are_table_lookups(
    data: dict[str, Any],
) -> None:
    questions = data["questions"]
    assert len(questions) >= 40
    tables = sum(q["kind"] == "table" for q in questions)
    assert tables >= 0.25 * len(questions), f"{tables} of {len(questions)} are table questions"


def test_the_answer_check_normalises_the_pdf_text() -> None:
    fetch = _fetch_module()
    page = fetch.normalise("Apple’s  Macintosh\nCR ^M 13 0D — non\ufffe\r\nnormal")
    assert page == "apple's macintosh cr ^m 13 0d - nonnormal"
    assert fetch.answer_on_pages("Apple's Macintosh CR ... nonnormal", ["x", page])
    assert not fetch.answer_on_pages("Apple's Macintosh CR ... LF", ["x", page])
