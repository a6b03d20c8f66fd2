from pathlib import Path

import pytest

from ingest.uploads import check_content, safe_filename, save_upload
from rag.errors import IngestError
from ui.markdown import code_span_name, neutralize_markdown


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.TXT", "evil.txt"),
        ("/abs/path/notes.md", "notes.md"),
        (".hidden.md", "hidden.md"),
        ("Résumé (final) v2.pdf", "Resume_final_v2.pdf"),
        ("...", "upload"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_save_stays_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    path = save_upload("../../outside.md", b"# hi\n", folder=folder, max_bytes=1000)
    assert path == folder.resolve() / "outside.md"
    assert path.read_bytes() == b"# hi\n"
    assert not (tmp_path / "outside.md").exists()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.pdf", b"hello", "not a PDF (no %PDF- header)"),
        ("a.txt", b"%PDF-1.4 ...", "this is a PDF named as text"),
        ("a.md", b"\x89PNG\r\n\x1a\n\x00\x00", "binary data, not text"),
        ("a.exe", b"MZ", "unsupported file type"),
        ("a.txt", b"x" * 2001, "over the upload limit of 0 MB"),
        ("a.txt", b"", "empty file"),
    ],
)
def test_content_checks(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(IngestError) as info:
        check_content(name, data, max_bytes=2000)
    assert reason in info.value.reason


def test_content_ok() -> None:
    assert check_content("a.pdf", b"%PDF-1.7\n...", max_bytes=100) == "pdf"
    assert check_content("a.md", "héllo".encode("utf-16"), max_bytes=100) == "markdown"


def test_neutralize_markdown_kills_images_links_and_html() -> None:
    hostile = "See ![x](http://127.0.0.1:9/leak.png?d=secret) and [y](http://e.com) <img src=z>"
    safe = neutralize_markdown(hostile)
    assert "![" not in safe.replace("\\!\\[", "")
    assert "](" not in safe.replace("\\](", "")
    assert "<img" not in safe.replace("\\<img", "")
    assert neutralize_markdown("cites [1] and [2]") == "cites \\[1\\] and \\[2\\]"
    assert neutralize_markdown("see http://e.com/x?a=1 or www.e.org.") == (
        "see `http://e.com/x?a=1` or `www.e.org.`"
    )
    assert safe == (
        "See \\!\\[x\\](`http://127.0.0.1:9/leak.png?d=secret`) and "
        "\\[y\\](`http://e.com`) \\<img src=z\\>"
    )


def test_a_file_name_cannot_end_its_code_span() -> None:
    assert code_span_name("/docs/R-intro.pdf") == "R-intro.pdf"
    assert code_span_name("/docs/notes `rm -rf` here.md") == "notes 'rm -rf' here.md"


def test_words_streamlit_would_rewrite_show_as_written() -> None:
    # Streamlit turns "<-" into an arrow even escaped: a quoted R command would not run
    assert neutralize_markdown('> HousePrice <- read.table("houses.data")') == (
        '\\> HousePrice `<-` read.table("houses.data")'
    )
    assert neutralize_markdown("x >= 5 -- :tada: :red[alert] at 10:30:45") == (
        "x `>=` 5 `--` `:tada:` `:red[alert]` at 10:30:45"
    )
    # a code span stays as written (escapes inside one would show), hostile text included
    assert neutralize_markdown("run `x <- a[1]` then ``b`c``") == "run `x <- a[1]` then ``b`c``"
    assert (
        neutralize_markdown("`![x](http://127.0.0.1:9/leak)`") == "`![x](http://127.0.0.1:9/leak)`"
    )
    # a lone backtick cannot open a span that takes the escapes and the URL's span apart
    assert neutralize_markdown("a `b ![x](http://e.com/y)") == (
        "a \\`b \\!\\[x\\](`http://e.com/y`)"
    )
