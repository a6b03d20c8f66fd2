"""PDF text extraction: pypdf against PDFium (pypdfium2), speed and what the text looks like.

    python bench/pdf_text.py [--json] [--repeat 3]

Corpus: every PDF in ../shared/data/pdfs and data/, one copy of each (by content hash),
without the encrypted one (neither opens it without its password). Each extractor reads
every page of a file ``--repeat`` times through ``ingest.pdf`` (exactly what ingestion
calls, text cleaning included); the fastest wall time and its CPU time are kept (the
machine is shared, and the fastest run is the least disturbed one). Text measures, per
extractor: characters, words, line-break hyphens left in words (``ab-\\ncd``), ligature
characters (U+FB00-FB06) and control characters other than newline and tab.

Writes bench/results/pdf_text.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from ingest.document import clean  # noqa: E402
from ingest.pdf import pdfium_texts, pypdf_texts  # noqa: E402
from rag.errors import IngestError  # noqa: E402

SHARED_PDFS = ROOT.parent / "shared" / "data" / "pdfs"
EXTRACTORS = {"pypdf": pypdf_texts, "pdfium": pdfium_texts}
_HYPHEN_BREAK = re.compile(r"[a-z]-\n[a-z]")
_LIGATURE = re.compile("[\ufb00-\ufb06]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def corpus() -> list[Path]:
    """Each distinct PDF once (data/ copies some shared ones), in name order."""
    seen: dict[str, Path] = {}
    for path in sorted([*SHARED_PDFS.glob("*.pdf"), *(ROOT / "data").glob("*.pdf")]):
        seen.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path)
    return sorted(seen.values(), key=lambda p: p.name)


def text_measures(pages: list[str]) -> dict[str, float]:
    text = "\n".join(pages)
    return {
        "chars": len(text),
        "words": len(re.findall(r"\w+", text)),
        "hyphen_breaks": len(_HYPHEN_BREAK.findall(text)),
        "ligatures": len(_LIGATURE.findall(text)),
        "control_chars": len(_CONTROL.findall(text)),
    }


def measure(path: Path, name: str, repeat: int) -> dict[str, float]:
    data = path.read_bytes()
    best: tuple[float, float] | None = None
    pages: list[str] = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        pages = [clean(t) for t in EXTRACTORS[name](str(path), data)]
        took = (time.perf_counter() - wall, time.process_time() - cpu)
        best = took if best is None or took[0] < best[0] else best
    assert best is not None
    return {
        "pages": len(pages),
        "seconds": round(best[0], 3),
        "cpu_seconds": round(best[1], 3),
        "pages_per_s": round(len(pages) / best[0], 1),
        **text_measures(pages),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file and extractor")
    args = parser.parse_args(argv)
    files: dict[str, dict[str, dict[str, float]]] = {}
    skipped: dict[str, str] = {}
    for path in corpus():
        try:
            files[path.name] = {name: measure(path, name, args.repeat) for name in EXTRACTORS}
        except IngestError as exc:
            skipped[path.name] = exc.reason
    totals: dict[str, dict[str, float]] = {}
    for name in EXTRACTORS:
        rows = [row[name] for row in files.values()]
        pages = sum(int(r["pages"]) for r in rows)
        seconds = sum(r["seconds"] for r in rows)
        cpu = sum(r["cpu_seconds"] for r in rows)
        totals[name] = {"pages": pages, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3)}
        totals[name]["pages_per_s"] = round(pages / seconds, 1)
    speedup = round(totals["pypdf"]["seconds"] / totals["pdfium"]["seconds"], 1)
    cpu_speedup = round(totals["pypdf"]["cpu_seconds"] / totals["pdfium"]["cpu_seconds"], 1)
    payload: dict[str, object] = {
        "repeat": args.repeat,
        "files": files,
        "skipped": skipped,
        "totals": totals,
        "pdfium_speedup": speedup,
        "pdfium_cpu_speedup": cpu_speedup,
    }
    path = write_result("pdf_text", payload)
    if args.json:
        print(json.dumps(payload))
        return 0
    print(f"{'file':<24}{'pages':>6}{'pypdf p/s':>11}{'pdfium p/s':>12}")
    for name, row in files.items():
        py, pd = row["pypdf"], row["pdfium"]
        print(f"{name:<24}{py['pages']:>6}{py['pages_per_s']:>11}{pd['pages_per_s']:>12}")
    print(
        f"all: pdfium {speedup}x pypdf's speed ({cpu_speedup}x in CPU time); "
        f"skipped {skipped}; wrote {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
