import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.errors import StoreBusyError
from rag.store.lock import writer_lock

HOLD = """
import sys, time
from pathlib import Path
from rag.store.lock import writer_lock
with writer_lock(Path(sys.argv[1]), timeout=0):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_in_subprocess(store: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_waits_then_fails_with_the_holder(tmp_path: Path) -> None:
    proc = hold_in_subprocess(tmp_path)
    messages: list[str] = []
    try:
        started = time.monotonic()
        with (
            pytest.raises(StoreBusyError) as info,
            writer_lock(tmp_path, timeout=0.6, on_wait=messages.append),
        ):
            pass
        assert time.monotonic() - started >= 0.6
        assert f"(pid {proc.pid})" in str(info.value)
        assert "raise RAG_LOCK_TIMEOUT" in str(info.value)
        assert messages == [
            f"Another ingestion (pid {proc.pid}) is writing to {tmp_path}; waiting…"
        ]
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_writer_releases_the_lock(tmp_path: Path) -> None:
    proc = hold_in_subprocess(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with writer_lock(tmp_path, timeout=0):
        assert (tmp_path / "writer.lock").read_text() == str(os.getpid())
