"""Office, spreadsheet, HTML and image-only PDF fixtures with known text, written by the
same libraries people's tools use (python-docx, python-pptx, openpyxl, pypdfium2, PIL)."""

from __future__ import annotations

from pathlib import Path

REPORT_TEXT = "The widget factory in Tampere doubled its output after the new kiln arrived."
SLIDE_TEXT = "The zeppelin launch is planned for the first week of March."
PAGE_TEXT = "Install the quokka package before anything else, then restart the server."


def make_docx(path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.add_heading("Annual report", level=1)
    doc.add_paragraph("The company had a quiet first half with few surprises for anyone.")
    doc.add_heading("Production", level=2)
    doc.add_paragraph(REPORT_TEXT)
    table = doc.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "site", (0, 1): "kilns", (1, 0): "Tampere", (1, 1): "4"}.items():
        table.cell(r, c).text = text
    doc.add_heading("Outlook", level=2)
    doc.add_paragraph("Next year the board expects steady demand for garden furniture.")
    doc.save(str(path))
    return path


def make_pptx(path: Path) -> Path:
    import pptx

    deck = pptx.Presentation()
    slides = [
        ("Welcome", "Agenda: introductions, coffee and the budget review."),
        ("Hiring", "Two engineers join the platform team in the autumn."),
        ("Roadmap", SLIDE_TEXT),
    ]
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.save(str(path))
    return path


def make_xlsx(path: Path) -> Path:
    """Sheet "Finance": year, revenue, profit for 2010-2039 (rows 2-31); revenue of year Y
    is (Y - 2000) * 10 and profit (Y - 2000) * 2. Sheet "Staff": two people."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Finance"
    sheet.append(["year", "revenue", "profit"])
    for year in range(2010, 2040):
        sheet.append([year, (year - 2000) * 10, (year - 2000) * 2])
    staff = book.create_sheet("Staff")
    staff.append(["name", "role"])
    staff.append(["Ada Lovelace", "analyst"])
    staff.append(["Grace Hopper", "compiler engineer"])
    book.save(str(path))
    return path


def make_html(path: Path) -> Path:
    path.write_text(html_page("Guide", PAGE_TEXT), encoding="utf-8")
    return path


def html_page(title: str, body: str, links: tuple[str, ...] = ()) -> str:
    anchors = " ".join(f'<a href="{href}">{href}</a>' for href in links)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<nav>Home · About · Contact · {anchors}</nav><article><h1>{title}</h1>"
        "<p>This guide walks through the set-up of the service, step by step, for new "
        "administrators who have not run it before.</p>"
        f"<h2>Setup</h2><p>{body}</p><p>{anchors}</p></article>"
        "<footer>Copyright 2024 · cookie policy · imprint</footer></body></html>"
    )


def make_image_pdf(source: Path, pages: list[int], path: Path, *, dpi: int = 144) -> Path:
    """Render ``pages`` (0-based) of a born-digital PDF to images and wrap them in a PDF
    with no text layer at all, as a scanner would."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(source))
    images = [pdf[n].render(scale=dpi / 72).to_pil().convert("RGB") for n in pages]
    pdf.close()
    images[0].save(str(path), "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


EPUB_CHAPTERS = (
    (
        "The harbour",
        "<h1>The harbour</h1><p>Boats came in at dawn with the night's catch of herring.</p>",
    ),
    (
        "The lighthouse",
        "<h1>The lighthouse</h1><h2>The keeper</h2><p>Old Henrik, the lighthouse keeper, "
        "wound the clockwork of the lamp every four hours through the winter storms.</p>",
    ),
)


def make_epub(path: Path) -> Path:
    """An EPUB 3 book of two chapters, the package document in a subfolder (as most are)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as book:
        # the mimetype entry comes first and stored, as the format requires
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        items = "".join(
            f'<item id="c{i}" href="text/ch{i}.xhtml" media-type="application/xhtml+xml"/>'
            for i in range(1, len(EPUB_CHAPTERS) + 1)
        )
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(1, len(EPUB_CHAPTERS) + 1))
        book.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Coast</dc:title>'
            f"</metadata><manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for i, (title, body) in enumerate(EPUB_CHAPTERS, start=1):
            book.writestr(
                f"OEBPS/text/ch{i}.xhtml",
                '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
                f"<title>{title}</title></head><body>{body}</body></html>",
            )
    return path
