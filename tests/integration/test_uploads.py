"""Uploads that fail to ingest are taken back, as the app and the API do it: a new file is
deleted, and a re-upload puts back the version the index still holds."""

from pathlib import Path

import pytest

from ingest.uploads import keep_ingested, previous_of, save_upload
from rag.config import Settings
from rag.store.index import connect
from tests.conftest import IngestFn
from tests.pdfgen import make_pdf

pytestmark = pytest.mark.integration

LIMIT = 1_000_000
# passes the upload checks (a PDF header), then fails to open
BROKEN = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nthis is not a PDF body\n"


def test_a_failed_re_upload_puts_back_the_indexed_version(
    settings: Settings, ingest: IngestFn, tmp_path: Path
) -> None:
    folder = settings.store.upload_dir
    good = make_pdf(tmp_path / "report.pdf", ["The quarterly harvest of cloves rose by a third."])
    first = save_upload("report.pdf", good.read_bytes(), folder=folder, max_bytes=LIMIT)
    assert keep_ingested([first], ingest([first])) == [first]
    indexed = first.read_bytes()
    chunks = connect(settings.store).ids_for_source(str(first.absolute()))
    assert chunks

    again = save_upload("report.pdf", BROKEN, folder=folder, max_bytes=LIMIT)
    assert again == first and again.read_bytes() == BROKEN
    report = ingest([again])
    assert [e.path for e in report.errors] == [str(again.absolute())]
    assert keep_ingested([again], report) == []
    # the file on disk is again the one whose chunks are indexed, and they are still there
    assert first.read_bytes() == indexed
    assert connect(settings.store).ids_for_source(str(first.absolute())) == chunks
    assert not previous_of(first).exists()


def test_a_new_upload_that_fails_is_deleted(
    settings: Settings, ingest: IngestFn, tmp_path: Path
) -> None:
    path = save_upload("broken.pdf", BROKEN, folder=settings.store.upload_dir, max_bytes=LIMIT)
    report = ingest([path])
    assert report.errors and keep_ingested([path], report) == []
    assert not path.exists() and not previous_of(path).exists()


def test_a_run_that_did_not_happen_takes_every_upload_back(settings: Settings) -> None:
    folder = settings.store.upload_dir
    new = save_upload("new.md", b"# New\nnever ingested\n", folder=folder, max_bytes=LIMIT)
    old = save_upload("notes.md", b"# Notes\nversion one\n", folder=folder, max_bytes=LIMIT)
    again = save_upload("notes.md", b"# Notes\nversion two\n", folder=folder, max_bytes=LIMIT)
    assert again == old and previous_of(old).read_bytes() == b"# Notes\nversion one\n"
    assert keep_ingested([new, again], None) == []  # e.g. another writer held the lock
    assert not new.exists()
    assert old.read_bytes() == b"# Notes\nversion one\n" and not previous_of(old).exists()
