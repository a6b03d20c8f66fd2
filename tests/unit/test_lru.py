"""The bounded LRU cache: entries and bytes both bounded, least recently used out first."""

import threading

import pytest

from rag.lru import BoundedLRU


def cache(*, entries: int = 3, max_bytes: int = 100) -> BoundedLRU[bytes]:
    return BoundedLRU(max_entries=entries, max_bytes=max_bytes, size=len)


def test_the_least_recently_used_entry_goes_first() -> None:
    lru = cache(entries=3)
    for key in "abc":
        lru.put(key, b"x")
    assert lru.get("a") == b"x"  # a is now the most recent
    lru.put("d", b"x")
    assert [k for k in "abcd" if lru.get(k) is not None] == ["a", "c", "d"]
    assert len(lru) == 3


def test_bytes_are_bounded_whatever_the_entry_count() -> None:
    lru = cache(entries=100, max_bytes=100)
    for i in range(10):
        lru.put(i, b"y" * 30)
    assert lru.bytes == 90 and len(lru) == 3
    assert [i for i in range(10) if lru.get(i) is not None] == [7, 8, 9]


def test_a_value_heavier_than_the_budget_is_not_kept() -> None:
    lru = cache(max_bytes=100)
    lru.put("small", b"s" * 10)
    lru.put("huge", b"h" * 101)
    assert lru.get("huge") is None
    assert lru.get("small") == b"s" * 10 and lru.bytes == 10


def test_replacing_a_key_reweighs_it() -> None:
    lru = cache(max_bytes=100)
    lru.put("k", b"a" * 60)
    lru.put("k", b"b" * 20)
    assert lru.bytes == 20 and lru.get("k") == b"b" * 20
    lru.put("k", b"c" * 200)  # too heavy: the old value is dropped too, never left stale
    assert lru.get("k") is None and lru.bytes == 0


def test_get_or_make_makes_once_per_key() -> None:
    lru = cache()
    made: list[str] = []

    def make(key: str) -> bytes:
        made.append(key)
        return key.encode()

    assert lru.get_or_make("a", lambda: make("a")) == b"a"
    assert lru.get_or_make("a", lambda: make("a")) == b"a"
    assert made == ["a"]


def test_threads_keep_the_bounds() -> None:
    lru = cache(entries=5, max_bytes=50)

    def work(n: int) -> None:
        for i in range(500):
            lru.put((n, i), b"z" * (i % 13))
            lru.get((n, i - 1))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(lru) <= 5 and lru.bytes <= 50
    assert lru.bytes == sum(len(lru.get(k) or b"") for k in list(lru._items))


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bounds must be positive"):
        BoundedLRU(max_entries=0, max_bytes=10, size=len)
