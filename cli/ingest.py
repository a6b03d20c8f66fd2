"""``python -m ingest PATH... [--prune] [--rebuild] [--dry-run] [--json]`` (also
``python -m rag ingest``): add files to the index through the one ingestion pipeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ingest.pipeline import Ingestor
from ingest.report import Report
from ingest.web import is_url
from rag.config import Settings
from rag.store.index import open_index

EXIT_OK, EXIT_SOME_FAILED = 0, 1
DESCRIPTION = (
    "Add PDF, Word, PowerPoint, Excel, CSV, HTML, EPUB, Markdown, text and image files (or "
    "web pages by URL) to the index. Unchanged files are skipped; changed files have their "
    "chunks replaced."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", help="files or folders to ingest, or http(s) URLs of web pages"
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=0,
        help="with URLs: also the same-site pages linked from them, this many links deep",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="keep the index in step with the folders as files change, until Ctrl-C",
    )
    parser.add_argument(
        "--prune", action="store_true", help="remove the chunks of files under PATHs that are gone"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the collection and ingest everything afresh"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be added, updated and removed; change nothing",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=cmd_ingest)


def register(sub: Any) -> None:
    add_arguments(sub.add_parser("ingest", help="add files to the index", description=DESCRIPTION))


def summary(report: Report) -> str:
    counts = (
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
        f"failed {len(report.errors)}"
    )
    if report.dry_run:
        return f"dry run (would be changed): {counts}; nothing was written"
    skipped = f" (skipped {len(report.skipped)} unsupported)" if report.skipped else ""
    dedup = (
        f", {report.deduplicated} near-duplicate(s) left out (RAG_DEDUP=skip)"
        if report.deduplicated
        else ""
    )
    return (
        f"{counts}{skipped} — {report.chunks_written} chunks written{dedup} "
        f"in {report.seconds:.1f} s"
    )


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    bar = None
    interactive = sys.stderr.isatty() and not args.json

    def on_plan(total: int) -> None:
        nonlocal bar
        if interactive and total:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="file", desc="ingesting", file=sys.stderr)

    def progress(_: str) -> None:
        if bar is not None:
            bar.update(1)

    ocr_bar: Any = None

    def ocr_progress(source: str, done: int, total: int) -> None:
        nonlocal ocr_bar
        if not interactive:
            return
        from tqdm import tqdm

        if ocr_bar is None or done == 1:
            if ocr_bar is not None:
                ocr_bar.close()
            ocr_bar = tqdm(total=total, unit="page", desc=f"OCR {Path(source).name}", leave=False)
        ocr_bar.update(1)

    urls = [p for p in args.paths if is_url(p)]
    paths = [Path(p) for p in args.paths if not is_url(p)]
    if urls and (args.watch or args.dry_run or args.rebuild):
        print(
            "error: URLs cannot be combined with --watch, --dry-run or --rebuild", file=sys.stderr
        )
        return 2
    try:
        writing = not args.dry_run
        with open_index(settings, writing=writing, rebuild=args.rebuild and writing) as index:
            ingestor = Ingestor(index, ocr_progress=ocr_progress)
            if args.watch:
                return watch_folders(ingestor, paths, as_json=args.json)
            report = ingestor.run_urls(urls, depth=args.depth) if urls else Report()
            if not paths:
                return finish(report, args)
            file_report = ingestor.run(
                paths,
                prune=args.prune,
                rebuild=args.rebuild,
                dry_run=args.dry_run,
                progress=progress,
                on_plan=on_plan,
                on_wait=lambda message: print(message, file=sys.stderr),
            )
            report = merge(report, file_report) if urls else file_report
    finally:
        for open_bar in (bar, ocr_bar):
            if open_bar is not None:
                open_bar.close()
    return finish(report, args)


def merge(first: Report, second: Report) -> Report:
    for name in ("added", "updated", "unchanged", "removed", "errors", "skipped", "notes"):
        getattr(second, name)[:0] = getattr(first, name)
    second.chunks_written += first.chunks_written
    second.chunks_deleted += first.chunks_deleted
    second.seconds += first.seconds
    return second


def watch_folders(ingestor: Ingestor, paths: list[Path], *, as_json: bool) -> int:
    from ingest.watch import watch

    def show(report: Report) -> None:
        if as_json:
            print(json.dumps(report.as_dict(), ensure_ascii=False), flush=True)
            return
        for error in report.errors:
            print(f"failed: {error.path}: {error.reason}", file=sys.stderr)
        print(summary(report), flush=True)

    print(f"watching {', '.join(map(str, paths))} — Ctrl-C stops", file=sys.stderr)
    watch(ingestor, paths, on_report=show)
    return EXIT_OK


def finish(report: Report, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for error in report.errors:
            print(f"failed: {error.path}: {error.reason}", file=sys.stderr)
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        if report.dry_run:
            for label, items in (
                ("add", report.added),
                ("update", report.updated),
                ("remove", report.removed),
            ):
                for item in items:
                    print(f"would {label}: {item}")
        print(summary(report))
    return EXIT_SOME_FAILED if report.errors else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    from cli import run, setup_logging

    setup_logging()
    parser = argparse.ArgumentParser(prog="python -m ingest", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
