"""CLI: python -m ingest PATH... [--prune] [--rebuild] [--dry-run] [--json]."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ingest.pipeline import Ingestor, Report
from rag.components import make_embedder, open_manifest, open_store
from rag.config import Settings
from rag.errors import RagError

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Add PDFs, Markdown and text files to the index. Unchanged files are "
        "skipped; changed files have their chunks replaced.",
    )
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
    return parser.parse_args(argv)


def summary(report: Report) -> str:
    verb = "would be" if report.dry_run else ""
    counts = (
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
        f"failed {len(report.errors)}"
    )
    if report.dry_run:
        return f"dry run ({verb} changed): {counts}; nothing was written"
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


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
        store = open_store(settings)
        manifest = open_manifest(settings)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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

    ingestor = Ingestor(
        settings=settings,
        store=store,
        manifest=manifest,
        embedder_factory=lambda: make_embedder(settings),
    )
    try:
        report = ingestor.run(
            args.paths,
            prune=args.prune,
            rebuild=args.rebuild,
            dry_run=args.dry_run,
            progress=progress,
            on_plan=on_plan,
            on_wait=lambda message: print(message, file=sys.stderr),
        )
    except RagError as exc:
        if bar is not None:
            bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        manifest.close()
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


if __name__ == "__main__":
    sys.exit(main())
