"""Cited PDF pages rendered with the passage's boxes, on real and generated PDFs: the boxes
lie on the passage's characters (found here by PDFium directly) and on ink in the image;
hostile pages are scaled down or declined with a reason, never allocated at full size."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from ingest.loaders import load
from ingest.pagerender import MAX_PIXELS, MAX_SIDE_PX, NOT_FOUND, PageImage, render_page
from rag.errors import PageViewError
from tests.conftest import R_INTRO, SHARED
from tests.integration.test_pdf_text import encrypt
from tests.pdfboxes import centre, passage_chars, within
from tests.pdfgen import make_pdf

pytestmark = pytest.mark.integration

PDFS = SHARED / "pdfs"
LINE = "The amber beacon of the northern lighthouse turns twice a minute."


def page_text(pdf: Path, number: int) -> str:
    """The page's text exactly as ingestion stores it (chunk offsets point into it)."""
    return next(p.text for p in load(pdf, ocr=False).pages if p.number == number)


def boxed(pdf: Path, number: int, passage: str, *, start: int | None = None) -> PageImage:
    text = page_text(pdf, number)
    offset = text.index(passage) if start is None else start
    return render_page(pdf, page=number, start=offset, passage=passage)


def pixel_boxes(image: PageImage) -> list[tuple[float, float, float, float]]:
    return [
        (
            b.left * image.width,
            b.top * image.height,
            (b.right - b.left) * image.width,
            (b.bottom - b.top) * image.height,
        )
        for b in image.boxes
    ]


def assert_boxes_on_the_passage(pdf: Path, number: int, passage: str, image: PageImage) -> None:
    chars = passage_chars(pdf, number, passage)
    boxes = pixel_boxes(image)
    size = (0.0, 0.0, float(image.width), float(image.height))
    inside = [centre(r, chars.size, x=0, y=0, width=size[2], height=size[3]) for r in chars.inside]
    outside = [
        centre(r, chars.size, x=0, y=0, width=size[2], height=size[3]) for r in chars.outside
    ]
    assert inside and all(within(c, boxes, pad=1.0) for c in inside)
    assert [c for c in outside if within(c, boxes, pad=-1.0)] == []
    assert_on_ink(image)


def assert_on_ink(image: PageImage) -> None:
    """Every box covers dark pixels: text is drawn where the boxes are."""
    gray = Image.open(io.BytesIO(image.png)).convert("L")
    assert gray.size == (image.width, image.height)
    for x, y, w, h in pixel_boxes(image):
        region = gray.crop((int(x), int(y), int(x + w) + 1, int(y + h) + 1))
        dark = sum(1 for v in region.getdata() if v < 128)
        assert dark > 0.03 * region.width * region.height, (x, y, w, h)


def test_a_passage_is_boxed_where_its_characters_are() -> None:
    text = page_text(R_INTRO, 17)
    start = text.index("In general any operation")
    passage = text[start : start + 300]
    image = render_page(R_INTRO, page=17, start=start, passage=passage)
    assert (image.page, image.width, image.how, image.note) == (17, 1200, "offset", "")
    assert 4 <= len(image.boxes) <= 6  # one per line it spans
    assert_boxes_on_the_passage(R_INTRO, 17, passage, image)


def test_quoted_sentences_are_marked_inside_the_passage_only() -> None:
    text = page_text(R_INTRO, 17)
    start = text.index("In general any operation")
    passage = text[start : start + 300]
    quote = "The motivation for this rule is simply that if the specification of an operation"
    assert quote in " ".join(passage.split())
    elsewhere = "Missing values are sometimes printed as <NA>"  # on the page, not in the passage
    assert elsewhere in " ".join(text.split()) and elsewhere not in " ".join(passage.split())
    image = render_page(
        R_INTRO, page=17, start=start, passage=passage, quotes=[quote, elsewhere, "not here"]
    )
    assert image.quotes and len(image.quotes) < len(image.boxes)
    # the quote's boxes lie on the quote's characters and on no other character
    assert_boxes_on_the_passage(R_INTRO, 17, quote, replace(image, boxes=image.quotes))
    plain = render_page(R_INTRO, page=17, start=start, passage=passage)
    assert plain.quotes == () and plain.boxes == image.boxes


@pytest.mark.shared_data
def test_a_hyphen_removed_at_a_line_end_and_ligatures_still_map() -> None:
    text = page_text(PDFS / "multicolumn.pdf", 1)
    start = text.index("dictum gravida")
    passage = text[start : text.index("consectetuer id,") + 16]  # "con-" ends a line
    assert "\n" in passage
    image = render_page(PDFS / "multicolumn.pdf", page=1, start=start, passage=passage)
    assert image.how == "offset" and len(image.boxes) >= 2
    assert_boxes_on_the_passage(PDFS / "multicolumn.pdf", 1, passage, image)
    text = page_text(PDFS / "gmpl.pdf", 11)
    start = text.index("fixed")
    passage = text[start - 40 : start + 40]
    image = render_page(PDFS / "gmpl.pdf", page=11, start=start - 40, passage=passage)
    assert image.how == "offset"
    assert_boxes_on_the_passage(PDFS / "gmpl.pdf", 11, passage, image)


def test_a_wrong_offset_is_searched_and_a_missing_passage_opens_unmarked() -> None:
    passage = "becomes an NA. The motivation for this rule"
    image = boxed(R_INTRO, 17, passage, start=0)
    assert image.how == "text"
    assert_boxes_on_the_passage(R_INTRO, 17, passage, image)
    gone = render_page(R_INTRO, page=17, start=0, passage="This sentence is on no page.")
    assert (gone.boxes, gone.how, gone.note) == ((), "", NOT_FOUND)
    assert gone.png.startswith(b"\x89PNG") and gone.width == 1200


def with_page(tmp_path: Path, name: str, old: bytes, new: bytes) -> Path:
    pdf = make_pdf(tmp_path / name, [LINE, "A second page."])
    pdf.write_bytes(pdf.read_bytes().replace(old, new, 1))
    return pdf


def test_a_rotated_page_has_its_boxes_on_the_text(tmp_path: Path) -> None:
    pdf = with_page(tmp_path, "rotated.pdf", b"/Type /Page ", b"/Type /Page /Rotate 90 ")
    image = render_page(pdf, page=1, start=0, passage=LINE)
    assert (image.width, image.height) == (1200, 928)  # the page turned to landscape
    assert image.how == "offset" and len(image.boxes) == 1
    box = image.boxes[0]
    assert box.bottom - box.top > box.right - box.left  # the line runs down the image
    assert_on_ink(image)


@pytest.mark.parametrize(
    ("box", "size", "percent"),
    [(b"[0 0 14400 14400]", (1200, 1200), "8%"), (b"[0 0 600 14400]", (250, 6000), "42%")],
    ids=["poster", "strip"],
)
def test_a_large_page_is_scaled_down_within_the_pixel_limits(
    tmp_path: Path, box: bytes, size: tuple[int, int], percent: str
) -> None:
    pdf = with_page(tmp_path, "large.pdf", b"[0 0 612 792]", box)
    image = render_page(pdf, page=1, start=0, passage=LINE)
    assert (image.width, image.height) == size
    assert image.width * image.height <= MAX_PIXELS and max(size) <= MAX_SIDE_PX
    assert image.note.startswith("A large page (")
    assert image.note.endswith(f"scaled down to {percent} of its printed size.")
    assert image.how == "offset" and len(image.boxes) == 1


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b"[0 0 612 792]",
            b"[0 0 1000000 1000000]",
            "the page is 1,000,000 x 1,000,000 points, beyond PDF's limit of 14,400 points "
            "a side; it is not rendered",
        ),
        (
            b"[0 0 612 792]",
            b"[0 0 0.01 14400]",
            "the page is 0 x 14,400 points: too thin to show within 4,000,000 pixels",
        ),
        (
            b"/Kids [4 0 R 6 0 R]",
            b"/Kids [9 0 R 6 0 R]",
            "page 1 is broken (PdfiumError: Failed to load page.)",
        ),
    ],
    ids=["huge", "thin", "missing-page-object"],
)
def test_a_hostile_page_is_declined_with_its_reason(
    tmp_path: Path, old: bytes, new: bytes, reason: str
) -> None:
    pdf = with_page(tmp_path, "hostile.pdf", old, new)
    with pytest.raises(PageViewError) as info:
        render_page(pdf, page=1, start=0, passage=LINE)
    assert str(info.value) == reason
    assert render_page(pdf, page=2, start=0, passage="A second page.").how == "offset"


@pytest.mark.shared_data
def test_files_that_cannot_be_shown_say_why(tmp_path: Path) -> None:
    def reason(path: Path, page: int = 1) -> str:
        with pytest.raises(PageViewError) as info:
            render_page(path, page=page, start=0, passage="x")
        return str(info.value)

    assert reason(R_INTRO, page=200) == (
        "the file has 113 pages, not page 200; it has changed since it was indexed "
        "(ingest it again)"
    )
    assert reason(tmp_path / "gone.pdf") == "gone.pdf: cannot read file (No such file or directory)"
    (tmp_path / "text.pdf").write_text("plain text now")
    assert reason(tmp_path / "text.pdf") == "text.pdf is no longer a PDF (no %PDF- header)"
    (tmp_path / "cut.pdf").write_bytes(R_INTRO.read_bytes()[:2000])
    assert reason(tmp_path / "cut.pdf").startswith("cut.pdf is unreadable (PdfiumError: ")
    locked = encrypt(PDFS / "pdflatex-4-pages.pdf", tmp_path / "locked.pdf", user_password="pw")
    assert reason(locked) == "locked.pdf is encrypted; a password is required"
