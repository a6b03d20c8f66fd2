"""The prefetch thread: input order, per-item IngestErrors, crashes re-raised, early stop."""

import threading

import pytest

from ingest.prefetch import prefetch
from rag.errors import IngestError


def test_results_come_in_order_with_per_item_errors() -> None:
    def job(n: int) -> int:
        if n % 3 == 0:
            raise IngestError(f"f{n}", "bad")
        return n * n

    seen = [
        (o.item, o.result, o.error.reason if o.error else None)
        for o in prefetch(range(7), job, depth=2)
    ]
    assert seen == [
        (0, None, "bad"),
        (1, 1, None),
        (2, 4, None),
        (3, None, "bad"),
        (4, 16, None),
        (5, 25, None),
        (6, None, "bad"),
    ]


def test_runs_in_another_thread_and_other_errors_reach_the_consumer() -> None:
    threads = set()

    def job(n: int) -> int:
        threads.add(threading.current_thread().name)
        if n == 2:
            raise RuntimeError("model exploded")
        return n

    got = []
    with pytest.raises(RuntimeError, match="model exploded"):
        for outcome in prefetch(range(5), job):
            got.append(outcome.result)
    assert got == [0, 1] and threads == {"ingest-prefetch"}


def test_stopping_early_stops_the_producer() -> None:
    done = []

    def job(n: int) -> int:
        done.append(n)
        return n

    stream = prefetch(range(1000), job, depth=2)
    assert next(stream).result == 0
    stream.close()  # the consumer gives up: the worker is joined, not left running
    assert len(done) < 10
    assert not any(t.name == "ingest-prefetch" for t in threading.enumerate())
