"""The two CLIs as a user runs them: exit codes, JSON shapes, messages without tracebacks."""

import json
import os
import shutil
from pathlib import Path

import pytest

from cli import main as rag_main
from ingest.pdf import ENCRYPTED
from rag.config import Settings
from rag.cpu import this_cpu
from rag.embedding.models import bundled_model_path
from tests.conftest import SHARED, run_cli

pytestmark = pytest.mark.integration


run = run_cli


@pytest.mark.shared_data
def test_ingest_json_exit_codes_and_real_pdfs(tmp_path: Path) -> None:
    docs = tmp_path / "in"
    docs.mkdir()
    for name in ("pdflatex-4-pages.pdf", "multicolumn.pdf", "libreoffice-writer-password.pdf"):
        shutil.copy(SHARED / "pdfs" / name, docs)
    (docs / "noise.pdf").write_bytes(os.urandom(5000).replace(b"%PDF-", b""))
    (docs / "empty.md").write_bytes(b"")
    (docs / "old.txt").write_bytes("Ça coûte très cher, señor.".encode("latin-1"))
    store = tmp_path / "store"

    first = run(["-m", "ingest", str(docs), "--json"], store)
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    assert {
        "added",
        "updated",
        "unchanged",
        "removed",
        "failed",
        "chunks_written",
        "errors",
    } <= set(report)
    assert (report["added"], report["failed"]) == (3, 3)
    assert all(isinstance(report[k], int) for k in ("added", "failed", "chunks_written"))
    reasons = {Path(e["path"]).name: e["reason"] for e in report["errors"]}
    assert reasons["libreoffice-writer-password.pdf"] == ENCRYPTED
    assert reasons["empty.md"] == "empty file; nothing to index"
    assert reasons["noise.pdf"].startswith("not a PDF")
    assert "Traceback" not in first.stderr

    second = run(["-m", "ingest", str(docs)], store)
    assert second.returncode == 1
    assert "added 0, updated 0, unchanged 3, removed 0, failed 3" in second.stdout
    assert second.stderr.count("failed: ") == 3

    ok = run(["-m", "ingest", str(docs / "old.txt")], store)
    assert ok.returncode == 0 and "unchanged 1" in ok.stdout


def test_usage_error_exit_code(tmp_path: Path) -> None:
    result = run(["-m", "ingest", str(tmp_path)], tmp_path / "s", RAG_CHUNK_SIZE="ten")
    assert result.returncode == 2
    assert "RAG_CHUNK_SIZE must be a whole number, got 'ten'" in result.stderr
    assert "Traceback" not in result.stderr


def test_changing_the_model_gives_the_contract_message(tmp_path: Path) -> None:
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.md").write_text("# A\nSomething to index.\n")
    store = tmp_path / "store"
    assert run(["-m", "ingest", str(docs)], store).returncode == 0
    other = tmp_path / "bge-small-en-v1.5"
    shutil.copytree(bundled_model_path(), other)

    for args in (["-m", "rag", "search", "something"], ["-m", "ingest", str(docs)]):
        result = run(args, store, RAG_EMBED_MODEL=str(other))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "Collection 'docs' was built with all-MiniLM-L6-v2" in result.stderr
        assert "Re-ingest with --rebuild, or set RAG_EMBED_MODEL back" in result.stderr

    rechunk = run(["-m", "ingest", str(docs)], store, RAG_CHUNK_SIZE="100")
    assert rechunk.returncode == 2
    assert "chunked with RAG_CHUNK_SIZE=200" in rechunk.stderr

    rebuilt = run(["-m", "ingest", str(docs), "--rebuild"], store, RAG_EMBED_MODEL=str(other))
    assert rebuilt.returncode == 0, rebuilt.stderr


def test_search_and_stats_json(
    rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    assert rag_main(["search", "How are missing values represented?", "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    assert set(hits[0]) == {"source", "page", "locator", "ocr", "score", "text", "chunk_id"}
    assert (hits[0]["locator"], hits[0]["ocr"]) == ("", False)  # a PDF page with a text layer
    assert hits[0]["source"].endswith("R-intro.pdf") and hits[0]["page"] in (17, 18)

    assert rag_main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 1 and stats["chunks"] > 100
    assert (stats["embedding_model"], stats["dimension"]) == ("all-MiniLM-L6-v2", 384)
    assert (stats["query_prefix"], stats["document_prefix"]) == ("", "")  # MiniLM has none
    native = this_cpu().native_bf16
    assert stats["embed_precision"] == ("bf16" if native else "f32")
    assert stats["cpu"].endswith("native bf16") and stats["cpu"].startswith(this_cpu().model)
