"""Cache (minikv/patterns/cache.py) on both backends.

Every test body runs on an embedded minikv on a manual clock and on the
private redis-server (``backend`` fixture). Expiry on the real server takes
real time, so TTLs there are a fraction of a second.
"""
import asyncio
import doctest
import logging
import threading
import time
from enum import Enum

import pytest
from redis.exceptions import ResponseError

import minikv
from minikv.patterns import Cache
from minikv.patterns import cache as cache_module
from minikv.patterns.cache import CacheInfo, CacheStats, _Counter
from tests.helpers import Call, raises, run_threads, wait_blocked
from tests.patterns.round_trips import RoundTrips

THREADS = 16


@pytest.fixture
def cache(backend):
    return Cache(backend.client)


def test_class_docstring_runs():
    result = doctest.testmod(cache_module)
    assert result.attempted >= 8
    assert result.failed == 0


# -- values and serializers -------------------------------------------------------------
def test_values_round_trip_and_their_stored_form(backend, cache):
    cache.set("b", b"\x00raw\xff")
    cache.set("s", "héllo")
    cache.set("j", {"a": [1, 2.5, None, True]})
    cache.set("t", (1, 2))
    cache.set("n", 42)
    cache.set("none", None)
    cache.set("ba", bytearray(b"xy"))
    assert cache.get("b") == b"\x00raw\xff"
    assert cache.get("s") == "héllo"
    assert cache.get("j") == {"a": [1, 2.5, None, True]}
    assert cache.get("t") == [1, 2]  # JSON has no tuples
    assert cache.get("n") == 42
    assert cache.get("none", "missing") is None  # a stored null is not a miss
    assert cache.get("ba") == b"xy"
    assert cache.get("absent") is None
    assert cache.get("absent", "missing") == "missing"
    raw = backend.client
    assert raw.get(b"cache:b") == b"\x01\x00raw\xff"
    assert raw.get(b"cache:s") == b"\x02h\xc3\xa9llo"
    assert raw.get(b"cache:j") == b'{"a":[1,2.5,null,true]}'
    assert raw.get(b"cache:n") == b"42"


def test_bytes_and_str_keys_are_the_same_entry(cache):
    cache.set(b"k\xc3\xa9", 1)
    assert cache.get("ké") == 1
    with pytest.raises(TypeError):
        cache.set(3, 1)


def test_pickle_only_when_chosen(backend):
    cache = Cache(backend.client, serializer="pickle")
    cache.set("set", {1, 2})
    cache.set("tuple", (1, "a"))
    assert cache.get("set") == {1, 2}
    assert cache.get("tuple") == (1, "a")
    assert cache.incr("n", 5) == 5
    assert cache.get("n") == 5
    assert "arbitrary code" in cache_module.PickleSerializer.__doc__
    with pytest.raises(TypeError):  # the default never falls back to pickle
        Cache(backend.client).set("set", {1, 2})


def test_pluggable_serializer(backend):
    class Upper:
        def dumps(self, value):
            return value.upper().encode()

        def loads(self, data):
            return data.decode().lower()

    cache = Cache(backend.client, serializer=Upper())
    cache.set("k", "abc")
    assert backend.client.get(b"cache:k") == b"ABC"
    assert cache.get("k") == "abc"
    with pytest.raises(TypeError):
        Cache(backend.client, serializer=object())


def test_a_decoding_client_and_bad_options_are_refused(backend):
    with pytest.raises(ValueError):
        Cache(backend.new_client(decode_responses=True))
    with pytest.raises(ValueError):
        Cache(backend.client, namespace="")
    with pytest.raises(ValueError):
        Cache(backend.client, lease=0)


# -- TTLs --------------------------------------------------------------------------------
def test_entries_expire(backend, cache):
    cache.set("short", b"v", ttl=0.1)
    cache.set("forever", b"v")
    assert 0 < cache.ttl("short") <= 0.1
    assert cache.ttl("forever") is None
    assert cache.ttl("absent") == 0
    backend.advance(0.15)
    assert cache.get("short") is None
    assert cache.get("forever") == b"v"
    assert cache.ttl("short") == 0


def test_default_ttl_and_touch(backend):
    cache = Cache(backend.client, ttl=0.1)
    cache.set("k", 1)
    assert 0 < cache.ttl("k") <= 0.1
    assert cache.touch("k", 60) is True
    assert 59 < cache.ttl("k") <= 60
    assert cache.touch("k") is True  # back to the default
    assert cache.ttl("k") <= 0.1
    assert cache.touch("absent", 5) is False
    backend.advance(0.15)
    assert cache.get("k") is None
    unbounded = Cache(backend.client, namespace="other")
    unbounded.set("k", 1, ttl=5)
    assert unbounded.touch("k") is True  # default None: no expiry
    assert unbounded.ttl("k") is None


def test_bad_ttls(cache):
    for ttl in (0, -1, float("nan"), float("inf"), 0.0001):
        with pytest.raises(ValueError):
            cache.set("k", 1, ttl=ttl)
    with pytest.raises(TypeError):
        cache.set("k", 1, ttl="5")


def test_incr(backend, cache):
    assert cache.incr("hits") == 1
    assert cache.incr("hits", 4) == 5
    assert cache.ttl("hits") is None
    assert cache.incr("window", ttl=0.2) == 1
    first = cache.ttl("window")
    assert 0 < first <= 0.2
    assert cache.incr("window", ttl=60) == 2  # an existing expiry is kept
    assert cache.ttl("window") <= first
    assert cache.get("window") == 2
    cache.set("n", 10)
    assert cache.incr("n", -3) == 7
    cache.set("text", "ten")
    with raises(ResponseError, "value is not an integer or out of range"):
        cache.incr("text")
    with pytest.raises(TypeError):
        cache.incr("n", 1.5)
    backend.advance(0.25)
    assert cache.get("window") is None


# -- many keys, delete, clear ---------------------------------------------------------------
def test_get_many_set_many_delete(cache):
    cache.set_many({"a": 1, "b": b"2", "c": "3"}, ttl=60)
    assert cache.get_many(["a", "b", "x", "c"]) == {"a": 1, "b": b"2", "c": "3"}
    assert cache.get_many([]) == {}
    assert 59 < cache.ttl("b") <= 60
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert cache.get_many(["a", "b"]) == {"b": b"2"}


def test_set_many_is_all_or_nothing(cache):
    with pytest.raises(TypeError):
        cache.set_many({"ok": 1, "bad": object()})
    assert cache.get("ok") is None


def test_clear_leaves_other_keys_alone(backend):
    raw = backend.client
    cache = Cache(raw, namespace="app")
    other = Cache(raw, namespace="application")
    for i in range(2500):  # several SCAN pages
        cache.set(f"k{i}", i)
    cache.set("tagged", 1, tags=["t"])
    other.set("k1", "mine", tags=["t"])
    raw.set("app", "plain key")
    raw.set("apps:x", "plain key")
    raw.set("ap:x", "plain key")
    assert cache.clear() == 2501
    assert cache.get("k1") is None
    assert sorted(raw.keys("*")) == [b"ap:x", b"app", b"application:k1",
                                     b"application|meta:k1", b"application|tag:t", b"apps:x"]
    assert other.get("k1") == "mine"
    assert cache.clear() == 0


def test_clear_takes_the_namespace_literally(backend):
    raw = backend.client
    cache = Cache(raw, namespace="a*[b]")
    cache.set("k", 1)
    raw.set("aX[b]:k", "not ours")
    raw.set("ab:k", "not ours")
    assert cache.clear() == 1
    assert sorted(raw.keys("*")) == [b"aX[b]:k", b"ab:k"]


def test_stats(backend, cache):
    cache.set("a", 1)
    cache.set_many({"b": 2, "c": 3}, tags=["t"])
    cache.get("a")
    cache.get("nope")
    cache.get_many(["b", "zz"])
    cache.get_or_set("d", lambda: 4)
    cache.get_or_set("d", lambda: 4)
    assert cache.stats() == CacheStats(hits=3, misses=3, sets=4, evictions=None)


def test_counters_lose_nothing_under_threads():
    counter = _Counter()

    def bump(_):
        for _ in range(20_000):
            counter.bump()
    assert counter.value() == 0
    run_threads(8, bump)
    assert counter.value() == 160_000
    assert counter.value() == 160_000


# -- tags ----------------------------------------------------------------------------------------
def test_invalidate_tag(backend, cache):
    cache.set("user:1", {"n": 1}, tags=["users", "org:7"])
    cache.set_many({"user:2": 2, "user:3": 3}, tags=["users"])
    cache.set("org", "seven", tags=["org:7"])
    cache.set("plain", "untagged")
    assert cache.invalidate_tag("users") == 3
    assert cache.get_many(["user:1", "user:2", "user:3", "org", "plain"]) == {
        "org": "seven", "plain": "untagged"}
    assert cache.invalidate_tag("users") == 0
    assert cache.invalidate_tag("org:7") == 1  # user:1 is gone already
    assert cache.get("plain") == "untagged"
    assert sorted(backend.client.keys("*")) == [b"cache:plain"]


def test_tag_sets_live_as_long_as_their_entries(backend, cache):
    raw = backend.client
    cache.set("short", 1, ttl=0.1, tags=["t"])
    assert 0 < raw.pttl(b"cache|tag:t") <= 100
    cache.set("long", 2, ttl=60, tags=["t"])
    assert raw.pttl(b"cache|tag:t") > 59_000
    cache.set("forever", 3, tags=["t"])
    assert raw.pttl(b"cache|tag:t") == -1
    cache.set("short2", 4, ttl=0.1, tags=["u"])
    assert cache.touch("short2", 60) is True  # outlives the tag set unless it is extended
    assert raw.pttl(b"cache|tag:u") > 59_000
    backend.advance(0.15)
    assert cache.invalidate_tag("u") == 1
    assert cache.get("short2") is None


def test_tag_sets_of_expired_entries_are_pruned(backend, cache):
    raw = backend.client
    for i in range(20):
        cache.set(f"old{i}", i, ttl=0.1, tags=["t"])
    cache.set("kept", 1, tags=["t"])
    backend.advance(0.15)
    for i in range(40):
        cache.set(f"new{i}", i, tags=["t"])
    # each write of a tagged entry drops the dead members it samples
    assert raw.scard(b"cache|tag:t") < 61
    assert cache.invalidate_tag("t") == 41


def test_tags_is_a_collection(cache):
    with pytest.raises(TypeError):
        cache.set("k", 1, tags="users")


# -- single-flight ---------------------------------------------------------------------
def slow_function(calls, value="computed", seconds=0.1):
    def fn():
        calls.append(threading.get_ident())
        time.sleep(seconds)  # long enough for the other threads to pile up
        return value
    return fn


def test_get_or_set_hits_and_misses(backend, cache):
    calls = []
    assert cache.get_or_set("k", slow_function(calls, seconds=0), ttl=60) == "computed"
    assert cache.get_or_set("k", slow_function(calls, seconds=0)) == "computed"
    assert len(calls) == 1
    assert 59 < cache.ttl("k") <= 60
    assert cache.get_or_set("tagged", lambda: (1, 2), tags=["t"]) == [1, 2]
    assert cache.invalidate_tag("t") == 1


def test_sixteen_threads_one_cache_run_fn_once(backend, cache):
    calls = []
    fn = slow_function(calls)
    results, errors = run_threads(THREADS, lambda i: cache.get_or_set("cold", fn, ttl=60))
    assert errors == [None] * THREADS
    assert results == ["computed"] * THREADS
    assert len(calls) == 1


def test_sixteen_clients_run_fn_once(backend):
    # One Cache per thread, each on its own client: they meet through the
    # lease and BLPOP wake-ups in the store, not in-process.
    caches = [Cache(backend.new_client()) for _ in range(THREADS)]
    calls = []
    fn = slow_function(calls)
    results, errors = run_threads(THREADS, lambda i: caches[i].get_or_set("cold", fn, ttl=60))
    assert errors == [None] * THREADS
    assert results == ["computed"] * THREADS
    assert len(calls) == 1
    assert backend.client.keys(b"cache|*") == []  # lease, waiters and wake-ups are gone


def test_fn_raising_releases_the_waiters_of_one_cache(backend, cache):
    calls = []

    def failing():
        calls.append(1)
        time.sleep(0.1)
        raise ValueError("backend down")
    results, errors = run_threads(8, lambda i: cache.get_or_set("k", failing))
    assert len(calls) == 1
    assert [str(error) for error in errors] == ["backend down"] * 8
    assert cache.get_or_set("k", lambda: "recovered") == "recovered"


def test_fn_raising_lets_another_client_retry(backend):
    caches = [Cache(backend.new_client()) for _ in range(8)]
    calls = []
    lock = threading.Lock()

    def fails_first():
        with lock:
            calls.append(1)
            first = len(calls) == 1
        time.sleep(0.1)
        if first:
            raise ValueError("first try fails")
        return "second try"
    results, errors = run_threads(8, lambda i: caches[i].get_or_set("k", fails_first))
    assert len(calls) == 2
    assert sorted(map(str, filter(None, errors))) == ["first try fails"]
    assert sorted(filter(None, results)) == ["second try"] * 7


def test_a_dead_lease_holder_is_replaced(backend):
    cache = Cache(backend.client, lease=0.2)
    backend.client.set(b"cache|lease:k", b"someone else's", px=200)  # and it never returns
    call = Call(cache.get_or_set, "k", lambda: "taken over")
    call.start()
    if backend.embedded:
        wait_blocked(backend.client, 1)  # in BLPOP, until the lease's time is up
        backend.advance(0.25)
    assert call.outcome() == "taken over"


# -- XFetch ------------------------------------------------------------------------------------
class Draws:
    """An injectable random source: the test decides every draw."""

    def __init__(self):
        self.next = 0.5
        self.count = 0

    def __call__(self):
        self.count += 1
        return self.next


# With a compute time of at least 50 ms, a 10 s TTL and beta 1, a draw of
# 1e-300 (-ln = 690) always recomputes early and 0.99 (-ln = 0.01) never does.
ALWAYS, NEVER = 1e-300, 0.99


def test_xfetch_recomputes_early_on_the_right_draws(backend):
    draws = Draws()
    cache = Cache(backend.client, random=draws)
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.05)
        return len(calls)
    assert cache.get_or_set("k", fn, ttl=10, beta=1.0) == 1
    assert int(backend.client.hget(b"cache|meta:k", "d")) >= 50
    draws.next = NEVER
    assert cache.get_or_set("k", fn, ttl=10, beta=1.0) == 1
    assert draws.count == 1
    draws.next = ALWAYS
    assert cache.get_or_set("k", fn, ttl=10, beta=1.0) == 2
    assert cache.get("k") == 2
    assert 9 < cache.ttl("k") <= 10
    # beta 0 (the default) never draws
    assert cache.get_or_set("k", fn, ttl=10) == 2
    assert draws.count == 2


def test_xfetch_leaves_the_refresh_to_the_lease_holder(backend):
    draws = Draws()
    draws.next = ALWAYS
    cache = Cache(backend.client, random=draws)
    cache.get_or_set("k", lambda: time.sleep(0.05) or "old", ttl=10, beta=1.0)
    backend.client.set(b"cache|lease:k", b"another refresher", px=5000)
    assert cache.get_or_set("k", lambda: "new", ttl=10, beta=1.0) == "old"


def test_xfetch_failed_refresh_serves_the_cached_value(backend, caplog):
    draws = Draws()
    draws.next = ALWAYS
    cache = Cache(backend.client, random=draws)
    cache.get_or_set("k", lambda: time.sleep(0.05) or "old", ttl=10, beta=1.0)

    def broken():
        raise RuntimeError("refresh failed")
    with caplog.at_level(logging.WARNING, logger="minikv.patterns.cache"):
        assert cache.get_or_set("k", broken, ttl=10, beta=1.0) == "old"
    assert "early recomputation" in caplog.text
    assert backend.client.get(b"cache|lease:k") is None


def test_xfetch_without_a_stored_delta_never_draws(backend):
    draws = Draws()
    cache = Cache(backend.client, random=draws)
    cache.set("k", "plain", ttl=10)
    assert cache.get_or_set("k", lambda: "new", beta=1.0) == "plain"
    assert draws.count == 0
    with pytest.raises(ValueError):
        cache.get_or_set("k", lambda: 1, beta=-1)


# -- the decorator -------------------------------------------------------------------------
class Color(Enum):
    RED = 1


def test_cached_function(backend, cache):
    calls = []

    @cache.cached(ttl=60)
    def area(width, height=2, *rest, **options):
        calls.append((width, height))
        return width * height

    assert area(3) == 6
    assert area(3, 2) == 6
    assert area(width=3) == 6
    assert area(3, height=2) == 6
    assert calls == [(3, 2)]
    assert area(4) == 8
    assert area.cache_info() == CacheInfo(hits=3, misses=2, computations=2)
    assert area.__name__ == "area"
    key = area.cache_key(3)
    # BLAKE2b-128 of "width=3,height=2,rest=(),options={}"
    assert key == f"{__name__}.test_cached_function.<locals>.area:" \
                  "52bb25922c43f7aa5c322c94b835e337"
    assert 59 < cache.ttl(key) <= 60
    assert area.invalidate(width=3) is True
    assert area.invalidate(3) is False
    assert area(3) == 6
    assert len(calls) == 3
    assert area.cache_key(1) != area.cache_key(1.0) != area.cache_key(True)
    assert area.cache_key(1, 2, "x", flag=Color.RED) == area.cache_key(1, 2, "x", flag=Color.RED)
    with pytest.raises(TypeError):
        area(object())


def test_cached_with_a_key_function_and_without_arguments(backend, cache):
    @cache.cached(key=lambda user_id: f"user:{user_id}")
    def load(user_id):
        return {"id": user_id}

    assert load(7) == {"id": 7}
    assert cache.get("user:7") == {"id": 7}

    @cache.cached
    def twice(n):
        return 2 * n
    assert twice(4) == 8
    assert twice.cache_info() == CacheInfo(hits=0, misses=1, computations=1)


def test_cached_single_flight_across_threads(backend, cache):
    calls = []

    @cache.cached(ttl=60)
    def report(month):
        calls.append(month)
        time.sleep(0.1)
        return f"report {month}"
    results, errors = run_threads(THREADS, lambda i: report("2024-05"))
    assert results == ["report 2024-05"] * THREADS
    assert calls == ["2024-05"]
    info = report.cache_info()
    assert info.computations == 1
    assert info.hits + info.misses == THREADS


def test_cached_coroutine(backend, cache):
    calls = []

    @cache.cached(ttl=60)
    async def fetch(item):
        calls.append(item)
        await asyncio.sleep(0.05)
        return {"item": item}

    async def main():
        together = await asyncio.gather(*(fetch("a") for _ in range(10)))
        return together, await fetch("a"), await fetch("b")

    together, again, other = asyncio.run(main())
    assert together == [{"item": "a"}] * 10
    assert again == {"item": "a"} and other == {"item": "b"}
    assert calls == ["a", "b"]
    assert fetch.cache_info() == CacheInfo(hits=1, misses=11, computations=2)
    assert asyncio.iscoroutinefunction(fetch)
    assert fetch.invalidate("a") is True


def test_cached_coroutine_error_reaches_every_waiter(backend, cache):
    calls = []

    @cache.cached()
    async def flaky():
        calls.append(1)
        await asyncio.sleep(0.05)
        raise LookupError("not yet")

    async def main():
        return await asyncio.gather(*(flaky() for _ in range(5)), return_exceptions=True)

    outcomes = asyncio.run(main())
    assert [repr(outcome) for outcome in outcomes] == ["LookupError('not yet')"] * 5
    assert calls == [1]
    assert backend.client.keys(b"cache|*") == []


# -- round trips on a real Redis -----------------------------------------------------------
def test_one_round_trip_per_operation(real_redis, monkeypatch):
    cache = Cache(real_redis)
    # load every script once (a first EVALSHA is answered NOSCRIPT, then loaded)
    cache.set("warm", 1, tags=["w"])
    cache.touch("warm", 5)
    cache.incr("warm-n", ttl=5)
    cache.delete("warm")
    cache.invalidate_tag("w")
    cache.get_or_set("warm-g", lambda: 1)
    cache.get_or_set("warm-g", lambda: 1, beta=1.0)

    trips = RoundTrips(real_redis, monkeypatch)
    cache.set("k", b"v", ttl=5, tags=["a", "b"])
    assert trips.take() == ["EVALSHA"]
    assert cache.get("k") == b"v"
    assert trips.take() == ["GET"]
    cache.set("plain", 1, ttl=5)
    assert trips.take() == ["SET"]
    cache.set_many({"x": 1, "y": 2}, tags=["a"])
    assert trips.take() == ["EVALSHA"]
    cache.get_many(["x", "y"])
    assert trips.take() == ["MGET"]
    cache.touch("k", 10)
    cache.incr("n", ttl=5)
    cache.delete("x")
    assert cache.invalidate_tag("a") == 2
    assert trips.take() == ["EVALSHA"] * 4
    cache.get_or_set("g", lambda: 1)
    assert trips.take() == ["GET", "EVALSHA", "EVALSHA"]  # miss, claim, store+release
    cache.get_or_set("g", lambda: 1)
    assert trips.take() == ["GET"]


# -- bounded size (the embedded engine's eviction) -------------------------------------------
@pytest.mark.parametrize("eviction", ["lru", "lfu"])
def test_bounded_cache_evicts(eviction):
    cache = Cache(max_bytes=300_000, eviction=eviction)
    try:
        cache.set("hot", b"x" * 100)
        for i in range(10_000):
            cache.set(f"k{i}", b"v" * 100)
            cache.get("hot")
        used = cache.client.info("memory")["used_memory"]
        assert used <= 300_000
        assert cache.stats().evictions > 5_000
        assert cache.get("hot") == b"x" * 100  # the most used key, by either measure
        if eviction == "lru":  # exact LRU: the oldest go first, the newest stay
            assert cache.get("k0") is None
            assert cache.get("k9999") == b"v" * 100
    finally:
        cache.close()


def test_bounds_belong_to_the_private_store(backend):
    with pytest.raises(ValueError):
        Cache(backend.client, max_bytes=1_000_000)
    with pytest.raises(ValueError):
        Cache(max_bytes=1_000_000, eviction="random")


def test_stats_report_evictions_only_for_a_private_store(backend):
    own = Cache()
    try:
        assert own.stats().evictions == 0
    finally:
        own.close()
    assert Cache(backend.client).stats().evictions is None


def test_embedded_default_client_is_private():
    first, second = Cache(), Cache()
    try:
        first.set("k", 1)
        assert second.get("k") is None
        assert isinstance(first.client, minikv.Redis)
    finally:
        first.close()
        second.close()
