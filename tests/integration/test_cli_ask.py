"""`python -m rag ask` as a user runs it: streamed text then sources, or one JSON object;
without an LLM (extractive) and with RAG_LLM=local (the bundled llama.cpp server)."""

import json
import re

import pytest

from cli import main as rag_main
from rag.answers.answer import NO_LLM_NOTICE
from rag.answers.citations import CitationFilter
from rag.config import Settings
from tests.conftest import run_cli

pytestmark = pytest.mark.integration

QUESTION = "How are missing values represented in R?"


def no_llm_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store.store_dir))
    monkeypatch.setenv("RAG_LLM", "none")


def test_ask_streams_then_lists_sources(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_llm_env(monkeypatch, rintro_settings)
    assert rag_main(["ask", QUESTION]) == 0
    captured = capsys.readouterr()
    text, sources = captured.out.split("\nSources:\n")
    # the sentence that answers it, with its citation (of the page's passages, the one
    # about printing <NA> now ranks first: all three cited passages are on page 17)
    assert re.search(r"the special value NA \[\d\]\.", text), text
    # the best quote's passage is cited first, whatever its rank among the hits
    assert re.fullmatch(r"  \[\d\] R-intro\.pdf p\.17", sources.splitlines()[0]), sources
    assert captured.err.strip() == f"note: {NO_LLM_NOTICE}"

    # an abstain names where it looked, as the app offers its closest passages
    assert rag_main(["ask", "Who painted the Mona Lisa?"]) == 0
    text, closest = capsys.readouterr().out.split("\nClosest passages (not an answer):\n")
    assert text.strip() == "The indexed documents don't answer this."
    lines = closest.splitlines()
    assert 1 <= len(lines) <= 3 and len(set(lines)) == len(lines)  # a page named once
    assert all(re.fullmatch(r"  R-intro\.pdf p\.\d+", line) for line in lines), lines


def test_ask_json_extractive(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_llm_env(monkeypatch, rintro_settings)
    assert rag_main(["ask", QUESTION, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"answer", "mode", "citations", "timings"}
    assert result["mode"] == "extractive"
    assert result["citations"][0] == {
        "n": result["citations"][0]["n"],  # the best quote's passage, cited first
        "source": result["citations"][0]["source"],
        "page": 17,
        "locator": "",  # a PDF page is located by its page
        "ocr": False,
        "chunk_id": result["citations"][0]["chunk_id"],
        "quotes": result["citations"][0]["quotes"],
    }
    assert result["citations"][0]["source"].endswith("R-intro.pdf")
    # the units quoted from each passage, as the passage has them, each in the answer
    for cited in result["citations"]:
        assert cited["quotes"], cited
        assert all(q.rstrip(".!?:;, ")[:40] in result["answer"] for q in cited["quotes"])
    assert set(result["timings"]) == {"retrieval_ms", "first_token_ms", "total_ms"}

    assert rag_main(["ask", "Who painted the Mona Lisa?", "--json"]) == 0
    abstained = json.loads(capsys.readouterr().out)
    assert abstained["answer"] == "The indexed documents don't answer this."
    assert abstained["citations"] == []


def test_ask_with_the_bundled_local_llm(rintro_settings: Settings) -> None:
    result = run_cli(
        ["-m", "rag", "ask", QUESTION, "--json"],
        rintro_settings.store.store_dir,
        RAG_LLM="local",
        RAG_LLM_MAX_TOKENS="32",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["mode"] == "llm" and answer["answer"].strip()
    # the citations are exactly the markers in the answer's text (SmolLM2 rarely writes
    # any; the mapping itself is tested against a scripted server in test_prompt_injection)
    markers = CitationFilter(5)
    assert markers.feed(answer["answer"]) + markers.flush() == answer["answer"]
    assert [c["n"] for c in answer["citations"]] == markers.used and markers.removed == 0
    assert "Traceback" not in result.stderr
