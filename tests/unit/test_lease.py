"""The writer lease's pure logic: when a waiter may take a lease, and when a holder must stop.

The lease against a real `chroma run` (two hosts, a holder killed) is in
tests/integration/test_hosts.py."""

import pytest

from rag.errors import StoreBusyError
from rag.store.lease import Holder, Lease, Watch

PERIOD = 30.0


def holder(token: str = "t1", expires_at: float = 1_000.0) -> Holder:
    return Holder(token=token, host="a", pid=7, expires_at=expires_at, acquired_at=0.0)


def test_no_record_is_free() -> None:
    assert Watch(PERIOD).free(None, now=0.0, tick=0.0)


def test_a_live_lease_is_not_free_until_unchanged_for_a_whole_period() -> None:
    watch = Watch(PERIOD)
    lease = holder(expires_at=1_020.0)
    assert not watch.free(lease, now=1_000.0, tick=5.0)
    assert not watch.free(lease, now=1_029.0, tick=34.9)  # 29.9 s unchanged
    assert watch.free(lease, now=1_030.0, tick=35.0)  # a whole period: its holder is gone


def test_a_renewal_starts_the_period_again() -> None:
    watch = Watch(PERIOD)
    assert not watch.free(holder(expires_at=1_030.0), now=1_000.0, tick=0.0)
    # renewed (new end time) just before the period ran out
    assert not watch.free(holder(expires_at=1_055.0), now=1_025.0, tick=25.0)
    assert not watch.free(holder(expires_at=1_055.0), now=1_050.0, tick=50.0)
    assert watch.free(holder(expires_at=1_055.0), now=1_055.0, tick=55.0)


def test_a_new_holder_starts_the_period_again() -> None:
    watch = Watch(PERIOD)
    assert not watch.free(holder("t1", 1_030.0), now=1_000.0, tick=0.0)
    assert not watch.free(holder("t2", 1_030.0), now=1_029.0, tick=29.0)
    assert not watch.free(holder("t2", 1_030.0), now=1_050.0, tick=50.0)


def test_a_long_expired_lease_is_free_at_once() -> None:
    # written by a holder that died long ago: its own end time is more than a period past
    watch = Watch(PERIOD)
    assert watch.free(holder(expires_at=1_000.0), now=1_000.0 + PERIOD + 1, tick=0.0)


def test_a_fast_clock_does_not_end_a_live_lease_early() -> None:
    # the waiter's clock is 25 s ahead of the holder's: the holder's end time looks past,
    # but not by more than a period, and the record keeps changing
    watch = Watch(PERIOD)
    for beat in range(10):
        renewed = holder(expires_at=1_030.0 + 10 * beat)
        assert not watch.free(renewed, now=1_025.0 + 30 + 10 * beat, tick=10.0 * beat)


def test_holder_round_trips_through_its_record_and_names_itself() -> None:
    lease = Holder(token="t", host="app-2", pid=4242, expires_at=3_600.5, acquired_at=3_570.0)
    assert Holder.from_metadata(lease.as_metadata()) == lease
    assert lease.describe() == "host app-2, pid 4242"
    assert lease.ends() == "01:00:00 UTC"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_holder_stops_once_its_lease_ran_out_unrenewed() -> None:
    clock = Clock()
    # check() reads no record: the holder's own view of its lease is enough
    lease = Lease(None, seconds=PERIOD, what="collection 'docs'", clock=clock)  # type: ignore[arg-type]
    lease.me = holder(expires_at=1_030.0)
    lease.check()  # within its period
    clock.now = 1_030.5
    with pytest.raises(StoreBusyError) as info:
        lease.check()
    assert "ran out at 00:17:10 UTC without being renewed" in str(info.value)
    assert "run the ingestion again" in str(info.value)


def test_a_holder_that_lost_its_lease_stops() -> None:
    lease = Lease(None, seconds=PERIOD, what="collection 'docs'", clock=Clock())  # type: ignore[arg-type]
    lease.me = holder(expires_at=1_030.0)
    lease.lost = "this ingestion lost the writer lease of collection 'docs' to host b, pid 9"
    with pytest.raises(StoreBusyError, match=r"lost the writer lease .* to host b, pid 9"):
        lease.check()
