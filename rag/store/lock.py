"""One writer at a time on a store: an advisory file lock held for a whole ingestion.

Chroma's embedded store is not safe for two writing processes. Readers (search, chat)
take no lock; writers (the CLI, the UI upload) queue here, and the kernel releases the
lock when a writer dies, so a killed ingest never leaves the store locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.errors import StoreBusyError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def writer_lock(
    store_dir: Path,
    *,
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the store's writer lock; wait up to ``timeout`` seconds for another writer."""
    store_dir.mkdir(parents=True, exist_ok=True)
    path = store_dir / "writer.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"Another ingestion{holder} is writing to {store_dir}. Wait for it to "
                        "finish and run again, or raise RAG_LOCK_TIMEOUT to wait longer."
                    ) from None
                if not told:
                    message = f"Another ingestion{holder} is writing to {store_dir}; waiting…"
                    log.info(message)
                    if on_wait:
                        on_wait(message)
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def writer_active(store_dir: Path) -> bool:
    """Whether some process holds the store's writer lock right now."""
    path = store_dir / "writer.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
