"""``python -m ingest PATH... [--prune] [--rebuild] [--dry-run] [--json]`` (also
``python -m rag ingest``): add files to the index through the one ingestion pipeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ingest.pipeline import Ingestor, Report
from rag.config import Settings
from rag.index import open_index

EXIT_OK, EXIT_SOME_FAILED = 0, 1
DESCRIPTION = (
    "Add PDFs, Markdown and text files to the index. Unchanged files are skipped; changed "
    "files have their chunks replaced."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders to ingest")
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

    try:
        writing = not args.dry_run
        with open_index(settings, writing=writing, rebuild=args.rebuild and writing) as index:
            report = Ingestor(index).run(
                args.paths,
                prune=args.prune,
                rebuild=args.rebuild,
                dry_run=args.dry_run,
                progress=progress,
                on_plan=on_plan,
                on_wait=lambda message: print(message, file=sys.stderr),
            )
    finally:
        if bar is not None:
            bar.close()
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
    from rag.cli import run, setup_logging

    setup_logging()
    parser = argparse.ArgumentParser(prog="python -m ingest", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
