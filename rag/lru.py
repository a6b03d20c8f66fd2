"""A least-recently-used cache bounded both in entries and in bytes, safe across threads.

``functools.lru_cache`` and ``st.cache_data(max_entries=)`` bound the number of entries
only: ten rendered pages of a poster-sized PDF can hold hundreds of megabytes. Here each
value is weighed (``size``) when it is stored, the least recently used entries go until
both bounds hold, and a value heavier than the whole byte budget is not kept at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedLRU(Generic[V]):
    """At most ``max_entries`` values weighing at most ``max_bytes`` together."""

    def __init__(self, *, max_entries: int, max_bytes: int, size: Callable[[V], int]) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(f"bounds must be positive (got {max_entries}, {max_bytes})")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size = size
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        """What the kept values weigh together."""
        return self._bytes

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: V) -> None:
        weight = self._size(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if weight > self.max_bytes:
                return
            self._items[key] = (value, weight)
            self._bytes += weight
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The kept value for ``key``, else ``make()`` kept and returned. Two threads may
        both make a missing value; the later one is kept (values are equal by key)."""
        found = self.get(key)
        if found is not None:
            return found
        value = make()
        self.put(key, value)
        return value
