"""The API server's guard, piece by piece: keys, the rate limit, what counts as local, and
the refusal to serve beyond localhost without keys."""

from __future__ import annotations

import pytest

from api.app import check_bind
from api.guard import Keys, RateLimit
from rag.config import Settings, is_local_host
from rag.errors import ConfigError

KEY_A = "a" * 20
KEY_B = "b" * 32


def test_keys_match_by_index_and_refuse_everything_else() -> None:
    keys = Keys([KEY_A, KEY_B])
    assert keys and keys.match(KEY_B) == 1 and keys.match(KEY_A) == 0
    for wrong in ("", KEY_A[:-1], KEY_A + "a", KEY_B.upper(), f"{KEY_A},{KEY_B}"):
        assert keys.match(wrong) is None, wrong
    assert not Keys([])


def test_rate_limit_allows_a_burst_then_refills_over_the_minute() -> None:
    limit = RateLimit(per_minute=3)
    assert [limit.take("x", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limit.take("x", now=0.0)
    assert wait == pytest.approx(20.0)  # one request every 20 s at 3 a minute
    assert limit.take("y", now=0.0) == 0.0  # each client has its own bucket
    assert limit.take("x", now=10.0) == pytest.approx(10.0)
    assert limit.take("x", now=20.0) == 0.0
    assert RateLimit(per_minute=0).take("x") == 0.0  # 0: no limit


def test_local_hosts() -> None:
    local = ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.5.1", "LOCALHOST"]
    remote = ["0.0.0.0", "::", "192.168.1.5", "example.com", "127.example.com", ""]
    assert all(is_local_host(h) for h in local)
    assert not any(is_local_host(h) for h in remote)


def test_a_non_local_bind_needs_keys() -> None:
    with pytest.raises(ConfigError, match=r"Refusing to listen on 0\.0\.0\.0 without API keys"):
        check_bind(Settings.from_env({"RAG_API_HOST": "0.0.0.0"}))
    check_bind(Settings.from_env({"RAG_API_HOST": "0.0.0.0", "RAG_API_KEYS": KEY_A}))
    check_bind(Settings.from_env({}))  # localhost without keys is fine


def test_short_keys_are_refused_without_showing_them() -> None:
    with pytest.raises(ConfigError, match="1 key\\(s\\) shorter than 16") as caught:
        Settings.from_env({"RAG_API_KEYS": f"{KEY_A}, tooshort"})
    assert "tooshort" not in str(caught.value)
    assert Settings.from_env({"RAG_API_KEYS": f" {KEY_A} ,{KEY_B},"}).api.keys == (KEY_A, KEY_B)
    assert KEY_A not in repr(Settings.from_env({"RAG_API_KEYS": KEY_A}))
