"""One writer at a time across hosts: a lease record on the Chroma server.

With ``RAG_CHROMA_URL`` several hosts write to one collection, and the file lock of
``rag.store.lock`` only orders the processes of one host. The lease is a record (``lease``) in
the collection's companion (``rag.store.shared``): its holder (host, pid), a token unique to that
acquisition, and the time it ends by the holder's clock. A background thread renews it
every third of ``RAG_LEASE_SECONDS`` while the writer works; the writer deletes it when it
ends. A holder that died stops renewing, and a waiting host takes the lease over once it
has expired.

**Expiry without trusting clocks.** A waiter counts a lease expired when it has seen the
same record (token and end time) unchanged for a whole lease period on its own monotonic
clock, or when the holder's written end time is more than a lease period in the past on
the waiter's clock (clocks may disagree by up to a lease period). A waiter that just
started therefore waits at most one period for a dead holder, and a skewed clock cannot
end a live lease early.

**Acquiring without compare-and-swap.** Chroma offers no conditional write, so two hosts
that both read "free" would both write. Each writes its own token, waits ``SETTLE``
seconds, and reads the record back: Chroma applies writes to one record in order, so once
both writes have landed, the record holds the later one and exactly one host reads back
its own token; the other sees a live lease and waits. Both writes have landed by then
when no host takes longer than ``SETTLE`` between its read and the end of its write (one
round trip to the server, milliseconds on a network where Chroma is usable at all).
What remains: a host stalled for longer than that between the two (a paused VM, a
partitioned network) can overwrite a lease that another host already read back as its
own. The holder then finds another token at its next renewal (within a third of the
lease) and ``check``, called before each batch, stops it with ``StoreBusyError`` before it
writes more; at most the batch in flight overlaps. Overlapping writers still converge:
chunk ids are hashes of their content, writes are upserts, and each file's record is
written after its chunks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rag.errors import StoreBusyError, StoreError
from rag.store.chroma import Records

log = logging.getLogger(__name__)

LEASE = "lease"  # the record's id in the companion collection
SETTLE = 0.5  # seconds between writing a claim and reading it back (see above)
POLL = 0.25  # seconds between two looks at a held lease


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as its record says."""

    token: str
    host: str
    pid: int
    expires_at: float  # epoch seconds, by the holder's clock
    acquired_at: float

    def describe(self) -> str:
        return f"host {self.host}, pid {self.pid}"

    def ends(self) -> str:
        return datetime.fromtimestamp(self.expires_at, UTC).strftime("%H:%M:%S UTC")

    def as_metadata(self) -> dict[str, str | int | float | bool]:
        return {
            "kind": LEASE,
            "token": self.token,
            "host": self.host,
            "pid": self.pid,
            "expires_at": self.expires_at,
            "acquired_at": self.acquired_at,
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Holder:
        return cls(
            token=str(meta.get("token", "")),
            host=str(meta.get("host", "?")),
            pid=int(meta.get("pid", 0)),
            expires_at=float(meta.get("expires_at", 0.0)),
            acquired_at=float(meta.get("acquired_at", 0.0)),
        )


class Watch:
    """A waiter's view of the lease over time: whether it may be taken now (pure logic).

    ``now`` is the waiter's wall clock (epoch seconds) and ``tick`` its monotonic clock.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._seen: tuple[str, float] | None = None
        self._since = 0.0

    def free(self, holder: Holder | None, *, now: float, tick: float) -> bool:
        if holder is None:
            return True
        seen = (holder.token, holder.expires_at)
        if seen != self._seen:  # a new holder or a renewal: its period starts again
            self._seen, self._since = seen, tick
        unchanged_for = tick - self._since
        return unchanged_for >= self.seconds or now - holder.expires_at > self.seconds


class Lease:
    """The writer lease of one collection (``records`` is its companion collection)."""

    def __init__(
        self,
        records: Records,
        *,
        seconds: float,
        what: str,
        settle: float = SETTLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.records = records
        self.seconds = seconds
        self.what = what  # "collection 'docs' on http://…", for messages
        self.settle = settle
        self.clock = clock
        self.me: Holder | None = None
        self.lost: str | None = None  # why the lease was lost while held
        self.took_over: Holder | None = None  # the expired holder this one replaced
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading ------------------------------------------------------------------------

    def holder(self) -> Holder | None:
        row = self.records.get([LEASE]).get(LEASE)
        return Holder.from_metadata(row[0]) if row else None

    def live(self) -> bool:
        """Whether some writer holds an unexpired lease now, by its own end time (a reader's
        question: is a write under way?)."""
        holder = self.holder()
        return holder is not None and holder.expires_at > self.clock()

    # -- acquiring ----------------------------------------------------------------------

    def acquire(self, *, timeout: float, on_wait: Callable[[str], None] | None = None) -> Holder:
        """Take the lease, waiting up to ``timeout`` seconds for a live holder; then keep it
        renewed in a background thread until ``release``."""
        deadline = time.monotonic() + timeout
        watch = Watch(self.seconds)
        told = False
        while True:
            current = self.holder()
            if watch.free(current, now=self.clock(), tick=time.monotonic()):
                mine = self._claim()
                if mine is not None:
                    if current is not None:
                        self.took_over = current
                        log.warning(
                            "took over the writer lease of %s from %s: it was not renewed "
                            "for %.0f s (that writer died or lost the server)",
                            self.what,
                            current.describe(),
                            self.seconds,
                        )
                    self.me = mine
                    self._start_renewing()
                    return mine
                continue  # another host's claim landed after ours: look again
            assert current is not None
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"Another ingestion ({current.describe()}) holds the writer lease of "
                    f"{self.what} until {current.ends()} and renews it while it writes. "
                    "Wait for it to finish and run again, or raise RAG_LOCK_TIMEOUT to wait "
                    f"longer; if that host died, its lease is taken over {self.seconds:g} s "
                    "after its last renewal (RAG_LEASE_SECONDS)."
                )
            if not told:
                message = (
                    f"Another ingestion ({current.describe()}) holds the writer lease of "
                    f"{self.what} until {current.ends()}; waiting…"
                )
                log.info(message)
                if on_wait:
                    on_wait(message)
                told = True
            time.sleep(POLL)

    def _claim(self) -> Holder | None:
        """Write our claim, let any rival claim land, and read back whose it is."""
        now = self.clock()
        mine = Holder(
            token=uuid.uuid4().hex,
            host=socket.gethostname(),
            pid=os.getpid(),
            expires_at=now + self.seconds,
            acquired_at=now,
        )
        started = time.monotonic()
        self._write(mine)
        took = time.monotonic() - started
        if took > self.settle:
            # the claim took longer to land than a rival waits before reading back: a
            # rival may have read its own token meanwhile; the renewal sorts it out (see
            # the module's docstring), and this is logged so that it is seen
            log.warning("claiming the writer lease of %s took %.2f s", self.what, took)
        time.sleep(self.settle)
        back = self.holder()
        return mine if back is not None and back.token == mine.token else None

    def _write(self, holder: Holder) -> None:
        self.records.put({LEASE: (holder.as_metadata(), "")})

    # -- holding ------------------------------------------------------------------------

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="lease-renewal", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except StoreError as exc:
                # a server that is briefly unreachable: try again at the next tick; the
                # lease is lost only once it has run out (checked by ``check``)
                log.warning("renewing the writer lease of %s failed: %s", self.what, exc)
            if self.lost:
                return

    def renew(self) -> None:
        """Push the lease's end a period ahead, if it is still ours."""
        assert self.me is not None
        current = self.holder()
        if current is None or current.token != self.me.token:
            who = current.describe() if current else "nobody"
            self.lost = (
                f"this ingestion lost the writer lease of {self.what} to {who} (it could not "
                f"renew it within {self.seconds:g} s: a stalled host or an unreachable server)"
            )
            log.error(self.lost)
            return
        renewed = Holder(
            token=self.me.token,
            host=self.me.host,
            pid=self.me.pid,
            expires_at=self.clock() + self.seconds,
            acquired_at=self.me.acquired_at,
        )
        self._write(renewed)
        self.me = renewed

    def check(self) -> None:
        """Raise ``StoreBusyError`` if the lease was lost or has run out unrenewed: called
        before each write, so that a writer that lost it stops before writing more."""
        if self.me is None:
            return
        if self.lost is None and self.clock() > self.me.expires_at:
            self.lost = (
                f"the writer lease of {self.what} ran out at {self.me.ends()} without being "
                "renewed (the Chroma server was unreachable)"
            )
        if self.lost:
            raise StoreBusyError(
                f"Stopped writing: {self.lost}. What was written so far is consistent; run "
                "the ingestion again once the other writer has finished."
            )

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.me is None:
            return
        try:
            current = self.holder()
            if current is not None and current.token == self.me.token:
                self.records.delete([LEASE])
        except StoreError as exc:  # it expires by itself
            log.warning(
                "could not release the writer lease of %s (%s); it expires in %g s",
                self.what,
                exc,
                self.seconds,
            )
        self.me = None


@contextlib.contextmanager
def holding(
    lease: Lease, *, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[Lease]:
    """Hold ``lease`` for the body of a ``with``."""
    lease.acquire(timeout=timeout, on_wait=on_wait)
    try:
        yield lease
    finally:
        lease.release()
