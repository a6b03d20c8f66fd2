"""Write simple but valid text PDFs of any length (for hostile-input tests and benches)."""

from __future__ import annotations

from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, pages: list[str]) -> Path:
    """One line of Helvetica text per page; pypdf extracts it back."""
    return make_placed_pdf(path, [[(72, 720, text)] for text in pages])


def make_placed_pdf(path: Path, pages: list[list[tuple[float, float, str]]]) -> Path:
    """Pages of Helvetica strings, each drawn at its (x, y) in points, in the order given:
    a table can be drawn column by column, as some generators do."""
    objects: list[bytes] = []
    n = len(pages)
    # 1 catalog, 2 pages tree, 3 font, then (page, content) pairs
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, placed in enumerate(pages):
        drawn = " ".join(
            f"BT /F1 11 Tf {x} {y} Td ({_escape(text)}) Tj ET" for x, y, text in placed
        )
        stream = drawn.encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path
