"""Run a per-item job in a background thread, a bounded number of items ahead.

Ingestion parses and chunks the next files (pypdf, the tokenizer) while the main thread
embeds and writes the previous ones; the runtimes release the GIL while they compute,
so the two overlap. Results come back in input order. A job's ``IngestError`` belongs to
its item; any other exception stops the producer and is raised in the consumer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from rag.errors import IngestError

T = TypeVar("T")
R = TypeVar("R")


class _Crash:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Done:
    pass


class Outcome(Generic[T, R]):
    """An item and either its result or the IngestError its job raised."""

    __slots__ = ("error", "item", "result")

    def __init__(self, item: T, result: R | None, error: IngestError | None) -> None:
        self.item = item
        self.result = result
        self.error = error


def prefetch(
    items: Iterable[T], job: Callable[[T], R], *, depth: int = 8
) -> Iterator[Outcome[T, R]]:
    """Yield ``Outcome(item, job(item))`` in order, computing up to ``depth`` ahead."""
    slots: queue.Queue[Outcome[T, R] | _Crash | _Done] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(value: Outcome[T, R] | _Crash | _Done) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                try:
                    outcome = Outcome(item, job(item), None)
                except IngestError as exc:
                    outcome = Outcome(item, None, exc)
                if not put(outcome):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Crash(exc))
            return
        put(_Done())

    worker = threading.Thread(target=produce, name="ingest-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = slots.get()
            if isinstance(value, _Done):
                return
            if isinstance(value, _Crash):
                raise value.error
            yield value
    finally:
        stop.set()
        worker.join()
