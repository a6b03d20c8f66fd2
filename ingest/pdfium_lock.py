"""The one lock every call into PDFium (``pypdfium2``) in this process holds.

PDFium is not thread-safe, even across documents: reading the text layer (``ingest.pdf``),
the outline (``ingest.outline``), rendering for OCR (``ingest.ocr``) and rendering a cited
page (``ingest.pagerender``) all hold it. It lives apart from ``ingest.pdf`` so that the
modules ``ingest.pdf`` calls (``ocr``, ``outline``) need not import it back."""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
