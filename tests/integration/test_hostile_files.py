"""A generated set of hostile and broken files: each is reported with a clear reason while
the rest are stored, and the ingest's peak memory stays bounded."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from rag.store.index import connect
from tests.conftest import R_INTRO, make_settings, run_cli_peak_rss
from tests.pdfgen import make_pdf

pytestmark = pytest.mark.integration

PAGES = 2000
RSS_LIMIT_MB = 2000  # measured 570 MB warm, 1,194 MB when the first run exports the model


def hostile_folder(root: Path) -> Path:
    rng = random.Random(7)
    docs = root / "hostile"
    docs.mkdir()
    (docs / "truncated.pdf").write_bytes(R_INTRO.read_bytes()[:200_000])
    (docs / "random.pdf").write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    (docs / "zero.txt").write_bytes(b"")
    with (docs / "one-line.txt").open("w") as f:  # a single 50 MB line
        for _ in range(50):
            f.write("word " * 200_000)
    (docs / "nul.txt").write_bytes(b"Null\x00 bytes\x00 inside a\x00 sentence about owls.")
    (docs / "rtl.md").write_text(
        "# שלום עולם\nمرحبا بالعالم — זה טקסט מימין לשמאל.\n"
        "Zalgo: h\u0335\u0321e\u0334\u031bl\u0336l\u0337o\u0338 and e\u0301\u0302\u0303.\n",
        encoding="utf-8",
    )
    # Latin-1 text with bytes that would be UTF-8-encoded surrogates (ED A0 80)
    (docs / "latin1-surrogates.txt").write_bytes(
        "Café crème, naïve façade. ".encode("latin-1") + b"\xed\xa0\x80 end of note."
    )
    make_pdf(
        docs / "big.pdf",
        [f"Page {i}: the lighthouse keeper logs entry {i}." for i in range(1, PAGES + 1)],
    )
    (docs / "loop-a.txt").symlink_to(docs / "loop-b.txt")
    (docs / "loop-b.txt").symlink_to(docs / "loop-a.txt")
    (docs / "dangling.md").symlink_to(docs / "missing-target.md")
    os.mkfifo(docs / "pipe.txt")
    (docs / "good.md").write_text("# Good\nA perfectly ordinary note about herons.\n")
    return docs


def test_hostile_files_are_reported_and_the_rest_stored(tmp_path: Path) -> None:
    docs = hostile_folder(tmp_path)
    settings = make_settings(tmp_path / "store")
    result, peak_mb = run_cli_peak_rss(
        "ingest", [str(docs), "--json"], settings.store.store_dir, timeout=1200
    )
    print(f"peak RSS of the hostile ingest (2,000-page PDF, 50 MB line): {peak_mb:.0f} MB")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    reasons = {Path(e["path"]).name: e["reason"] for e in report["errors"]}
    assert reasons["random.pdf"] == "not a PDF (no %PDF- header); is the extension wrong?"
    assert reasons["truncated.pdf"].startswith("unreadable PDF (")
    assert reasons["zero.txt"] == "empty file; nothing to index"
    assert reasons["one-line.txt"].startswith("has a line over 1,000,000 characters")
    assert reasons["loop-a.txt"] == reasons["loop-b.txt"] == "symlink loop; fix or remove the link"
    assert reasons["dangling.md"] == "broken symlink; its target does not exist"
    assert reasons["pipe.txt"] == "not a regular file (FIFO, socket or device)"
    assert len(reasons) == 8, reasons
    assert report["added"] == 5  # nul, rtl, latin1-surrogates, big.pdf, good

    store = connect(settings.store)
    sources = {Path(s).name for s in store.sources()}
    assert sources == {"nul.txt", "rtl.md", "latin1-surrogates.txt", "big.pdf", "good.md"}
    big = store.ids_for_source(str(docs / "big.pdf"))
    assert len(big) == PAGES  # one short chunk per page
    got = store._existing().get(ids=list(store.ids_for_source(str(docs / "nul.txt"))))
    assert got["documents"] == ["Null bytes inside a sentence about owls."]
    assert peak_mb < RSS_LIMIT_MB
