"""``python -m ingest --watch PATH...``: keep the index in step with folders as files are
added, changed, renamed or deleted, until Ctrl-C.

watchfiles (Rust's notify) reports changes in debounced batches: a burst of saves is one
batch, and each batch is one ingestion run under the store's writer lock, so there is
one writer however fast files change. A rename is a deletion and an addition."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.files import SKIP_DIRS
from ingest.pipeline import Ingestor
from ingest.report import Report

log = logging.getLogger(__name__)

DEBOUNCE_MS = 1600  # changes within this window are one batch


def watch(
    ingestor: Ingestor,
    paths: Sequence[Path],
    *,
    on_report: Callable[[Report], None] | None = None,
    stop: threading.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
) -> None:
    """Sync ``paths`` once (pruning what is gone), then after every batch of changes;
    return when ``stop`` is set or on Ctrl-C."""
    import watchfiles

    roots = [p.absolute() for p in paths]
    ignore = watchfiles.DefaultFilter(
        ignore_dirs=(*watchfiles.DefaultFilter.ignore_dirs, *SKIP_DIRS),
        ignore_paths=[ingestor.index.settings.store.store_dir.absolute()],
    )
    report = ingestor.run(roots, prune=True)
    if on_report:
        on_report(report)
    for changes in watchfiles.watch(
        *roots,
        watch_filter=ignore,
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        raise_interrupt=False,
        rust_timeout=1000,
        yield_on_timeout=False,
    ):
        changed = sorted({Path(path) for _, path in changes})
        present = [p for p in changed if p.exists()]
        gone = [p for p in changed if not p.exists()]
        log.info("changes: %d present, %d gone", len(present), len(gone))
        report = ingestor.run(present, forget=gone)
        if on_report:
            on_report(report)
