"""`rag eval --answers FILE` end to end on a user's own question file: data/configuration.md
ingested into a real Chroma store, each question answered by the app's answer path with the
bundled model (extractive; and through the bundled llama.cpp server for the mechanics of
the llm mode), and graded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import _answers, main
from rag.answers.local_server import LocalServer
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from tests.conftest import DATA, make_settings, run_ingest

pytestmark = pytest.mark.integration

QUESTIONS = [
    # a figure, compared as a number: the page says "(default 200)"
    {"id": "chunk", "question": "How many tokens are in a chunk by default?", "answer": "200",
     "half": "tune"},
    {"id": "store", "question": "Where is the Chroma database kept?",
     "must_name": ["RAG_STORE_DIR"], "half": "tune"},
    # text, case and punctuation aside: the passage says "Re-ingest with `--rebuild`", the
    # answer quotes only the sentence before it
    {"id": "switch", "question": "How do I move an existing index to another embedding model?",
     "answer": "re-ingest with --rebuild", "half": "report"},
    # a wrong gold on purpose: answered, not stated, not supported
    {"id": "wrong", "question": "How many passages are retrieved per question by default?",
     "answer": "7", "half": "report"},
    {"id": "off", "question": "Who won the football World Cup in 2018?", "must_name": "France",
     "half": "report"},
]  # fmt: skip


@pytest.fixture
def store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> Settings:
    settings = make_settings(tmp_path / "store")
    report = run_ingest(settings, embedder, [DATA / "configuration.md"])
    assert report.errors == []
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store.store_dir))
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    monkeypatch.setenv("RAG_LLM", "none")
    monkeypatch.setattr(_answers, "load_model", lambda _: embedder)  # the session's model
    return settings


def questions_file(folder: Path) -> Path:
    path = folder / "mine.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return path


def test_own_questions_are_answered_and_graded(
    store: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = questions_file(tmp_path)
    assert main(["eval", "--answers", str(path), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["set"], got["mode"], got["model"], got["collection"]) == (
        "own", "extractive", None, "docs",
    )  # fmt: skip
    rows = {r["id"]: r for r in got["rows"]}
    grades = {i: (r["answered"], r["stated"], r["supported"]) for i, r in rows.items()}
    assert grades == {
        "chunk": (True, True, True),
        "store": (True, True, True),
        "switch": (True, True, True),  # since issue 24 the quote that answers is chosen
        "wrong": (True, False, False),
        "off": (False, False, False),
    }, {i: r["answer"] for i, r in rows.items()}
    assert rows["chunk"]["gold"] == {"answer": "200", "unit": "1"}
    assert rows["off"]["answer"] == "The indexed documents don't answer this."
    assert rows["store"]["citations"][0]["source"].endswith("configuration.md")
    assert rows["store"]["chars"] == len(rows["store"]["answer"]) > 0
    summary = got["summary"]
    assert summary["tune"] == {**summary["tune"], "questions": 2, "answered": 1.0, "stated": 1.0}
    assert summary["report"]["answered"] == pytest.approx(2 / 3, abs=1e-5)
    assert summary["report"]["stated"] == pytest.approx(1 / 3, abs=1e-5)
    assert summary["report"]["supported"] == pytest.approx(1 / 3, abs=1e-5)
    assert summary["all"]["gradable"] == 5

    # the text report: one line per half and the answered question that missed its gold
    assert main(["eval", "--answers", str(path), "--half", "report"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("mine.jsonl: 3 questions (report half), 3 gradable automatically; "
                             "answers: extractive (no LLM); retrieval hybrid, top 5")  # fmt: skip
    assert [line.split()[0] for line in out[2:4]] == ["all", "report"]
    assert "  wrong: How many passages are retrieved per question by default?" in out
    assert "  switch: How do I move an existing index to another embedding model?" not in out


def test_a_malformed_question_file_is_one_line_with_the_fix(
    store: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text('{"question": "Which setting?", "must_name": "RAG_TOP_K"}\n'
                    '{"question": "Where?", "answer": "here", "must_name": "x"}\n')  # fmt: skip
    assert main(["eval", "--answers", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f'error: {path} line 2: give "answer" (the text or figure a correct answer states) or '
        '"must_name" (the names it must mention, any one of them), not both.\n'
    )
    pages = DATA.parent / "bench" / "data" / "howto_questions.json"
    assert main(["eval", "--answers", str(pages)]) == 2
    assert capsys.readouterr().err == (
        f"error: {pages} is a page-questions file: give --docs DIR, the folder of its PDFs.\n"
    )


def test_the_llm_mode_is_taken_from_the_settings_and_recorded(
    store: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    llama_server: LocalServer,
) -> None:
    """The mechanics only: SmolLM2-135M's answers are not graded for quality here."""
    monkeypatch.setenv("RAG_LLM", "auto")
    monkeypatch.setenv("RAG_LLM_BASE_URL", llama_server.base_url)
    monkeypatch.setenv("RAG_LLM_MODEL", llama_server.model)
    monkeypatch.setenv("RAG_LLM_MAX_TOKENS", "24")
    path = questions_file(tmp_path)
    assert main(["eval", "--answers", str(path), "--limit", "1", "--half", "tune", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["mode"], got["model"], got["questions"], got["limit"]) == (
        "llm", llama_server.model, 1, 1,
    )  # fmt: skip
    row = got["rows"][0]
    assert row["id"] == "chunk" and row["mode"] == "llm" and "error" not in row
    assert isinstance(row["stated"], bool) and row["chars"] == len(row["answer"])


def test_a_half_without_questions_is_refused(
    store: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tuning.json"
    path.write_text(json.dumps([{"question": "Which setting?", "answer": "x", "half": "tune"}]))
    assert main(["eval", "--answers", str(path), "--half", "report"]) == 2
    assert capsys.readouterr().err == (
        "error: tuning has no questions in the report half; choose --half all.\n"
    )
