"""OCR quality and speed on a scan made from a born-digital PDF, and the render scale.

    .venv/bin/python bench/ocr.py

Pages 12 and 17 of R-intro.pdf are rendered at 144 dpi and wrapped in a PDF with no text
layer (as ``tests/integration/test_ocr.py`` builds it, as a scanner would). Each page is
read by ``ingest.ocr.ocr_pdf_pages`` at the shipped render scale and compared with the
original's text layer (pypdf's): words, the share of them recovered, the word error rate,
and seconds a page. Then page 12 again at other render scales (72 dpi is 1.0), which is
what chose ``ingest.ocr.RENDER_SCALE``. Writes ``bench/results/ocr.json``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from ingest.ocr import RENDER_SCALE, ocr_pdf_pages, recovered, word_error_rate, words  # noqa: E402
from tests.formatgen import make_image_pdf  # noqa: E402

SOURCE = ROOT / "data" / "R-intro.pdf"
PAGES = [12, 17]  # 1-based pages of SOURCE
SCAN_DPI = 144
SCALES = (1.0, 1.5, 3.0)  # 72, 108 and 216 dpi


def main() -> int:
    from pypdf import PdfReader

    original = PdfReader(SOURCE)
    with tempfile.TemporaryDirectory() as tmp:
        scan = make_image_pdf(SOURCE, [n - 1 for n in PAGES], Path(tmp) / "scan.pdf", dpi=SCAN_DPI)
        data = scan.read_bytes()
    rows: list[dict[str, Any]] = []
    for number, page in enumerate(PAGES, start=1):
        reference = words(original.pages[page - 1].extract_text())
        start = time.perf_counter()
        (read,) = ocr_pdf_pages(str(scan), data, [number])
        seconds = time.perf_counter() - start
        recognised = words(read.text)
        rows.append(
            {
                "page": page,
                "words": len(reference),
                "recovered": round(recovered(reference, recognised), 4),
                "word_error_rate": round(word_error_rate(reference, recognised), 4),
                "seconds": round(seconds, 1),
            }
        )
        print(rows[-1], file=sys.stderr)
    reference = words(original.pages[PAGES[0] - 1].extract_text())
    scales = []
    for scale in SCALES:
        (read,) = ocr_pdf_pages(str(scan), data, [1], scale=scale)
        scales.append(
            {
                "scale": scale,
                "dpi": round(72 * scale),
                "recovered": round(recovered(reference, words(read.text)), 4),
            }
        )
        print(scales[-1], file=sys.stderr)
    total = sum(r["seconds"] for r in rows)
    payload = {
        "source": SOURCE.name,
        "scan_dpi": SCAN_DPI,
        "render_scale": RENDER_SCALE,
        "pages": rows,
        "pages_per_s": round(len(rows) / total, 3),
        "scales": {"page": PAGES[0], "rows": scales},
    }
    print(f"wrote {write_result('ocr', payload)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
