"""The viewer's HTML: document text escaped, the page image inline, the boxes measurable."""

from ingest.pagerender import Box, PageImage
from rag.retrieval.surroundings import Surrounding
from rag.types import Hit
from ui.page_view import context_html, is_pdf, page_html

HOSTILE = '<img src="http://127.0.0.1:9/leak?d=1" onerror=alert(1)> & </mark><script>x()</script>'


def test_surrounding_text_is_escaped_and_only_the_passage_is_marked() -> None:
    out = context_html(Surrounding("before " + HOSTILE, "the passage", "\nafter"))
    assert "<img" not in out and "<script" not in out and "</mark><script>" not in out
    assert "&lt;img src=&quot;http://127.0.0.1:9/leak?d=1&quot; onerror=alert(1)&gt; &amp;" in out
    assert out.count("<mark") == 1 and out.count("</mark>") == 1
    assert '0 1px">the passage</mark>\nafter</div>' in out


def test_the_page_is_an_inline_image_with_a_box_per_line() -> None:
    image = PageImage(b"\x89PNG-bytes", 1200, 1553, 17, (Box(0.1, 0.2, 0.5, 0.25),), "offset")
    out = page_html(image, chunk_id='abc"><script>')
    assert 'src="data:image/png;base64,iVBORy1ieXRlcw=="' in out
    assert "http" not in out and "<script" not in out
    assert 'data-chunk-id="abc&quot;&gt;&lt;script&gt;"' in out
    assert out.count("data-passage-box") == 1
    assert "left:10.000%;top:20.000%;width:40.000%;height:5.000%" in out


def test_only_local_pdf_files_are_rendered() -> None:
    def hit(source: str) -> Hit:
        return Hit("id", "text", source, 1, 0.0)

    assert is_pdf(hit("/docs/Report.PDF"))
    assert not is_pdf(hit("https://example.org/paper.pdf"))  # a web page: never fetched
    assert not is_pdf(hit("/docs/notes.md"))
