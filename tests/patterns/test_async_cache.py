"""AsyncCache (minikv/patterns/cache.py) on both async clients.

Every ``async_backend`` body runs on a ``minikv.asyncio.Redis`` on a manual
clock and on a ``redis.asyncio.Redis`` on the private redis-server. The
expectations are test_cache.py's: an AsyncCache stores what a Cache stores,
where a Cache stores it.

Single-flight tests are ordered by events, never by sleeps: the computing
function waits for the test's ``release``; the test releases it once every
other caller is waiting — in-process waiters once each task's GET has been
answered (a task that missed runs on to its ``asyncio.Event`` without
suspending), waiters of other clients once they are blocked in BLPOP (INFO's
blocked_clients). A lost wake-up fails the test through ``bounded``.
"""
import asyncio
import inspect
import threading

import pytest
import redis.asyncio
from asyncio_support import (blocked_count, bounded, class_doctests, sync_twin, wait_blocked,
                             wait_until)
from redis.exceptions import ResponseError
from round_trips import RoundTrips
from test_cache import ALWAYS, NEVER, Draws

import minikv
import minikv.asyncio
from minikv.patterns import AsyncCache, Cache
from minikv.patterns import cache as cache_module
from minikv.patterns.cache import CacheInfo, CacheStats
from tests.helpers import raises

pytest_plugins = ["async_support"]  # the async_backend fixture

WAIT = 10
TASKS = 16


async def flight_keys(client):
    """The single-flight coordination keys left in the store."""
    return sorted(await client.keys(b"cache|*"))


class AnsweredGets:
    """How many GETs the client has answered. A task whose GET missed runs
    on to its single-flight wait (or into the computation) without
    suspending, so once every task's GET is answered, all are in place."""

    def __init__(self, client, monkeypatch):
        self.count = 0
        get = client.get

        async def counted(*args, **kwargs):
            reply = await get(*args, **kwargs)
            self.count += 1
            return reply
        monkeypatch.setattr(client, "get", counted)


class Computation:
    """An async ``fn`` that records its calls and returns (or raises) only
    once the test releases it; ``outcomes`` are its calls' results in turn
    (an exception instance is raised)."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self):
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        self.started.set()
        await self.release.wait()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_async_docstring_runs():
    results = class_doctests(cache_module, AsyncCache)
    assert results.attempted >= 3
    assert results.failed == 0


def test_same_constructor_and_methods_as_cache():
    assert inspect.signature(AsyncCache.__init__) == inspect.signature(Cache.__init__)
    for name in ("get", "get_many", "ttl", "set", "set_many", "delete", "touch", "incr",
                 "invalidate_tag", "clear", "stats", "get_or_set", "close"):
        assert inspect.iscoroutinefunction(getattr(AsyncCache, name)), name
        assert (inspect.signature(getattr(AsyncCache, name))
                == inspect.signature(getattr(Cache, name))), name
    assert inspect.signature(AsyncCache.cached) == inspect.signature(Cache.cached)


# -- values, layout, options ------------------------------------------------------------------
@bounded()
async def test_values_round_trip_and_are_stored_as_cache_stores_them(async_backend):
    client = async_backend.client
    cache = AsyncCache(client)
    await cache.set("b", b"\x00raw\xff")
    await cache.set("s", "héllo")
    await cache.set("j", {"a": [1, 2.5, None, True]})
    await cache.set("t", (1, 2))
    await cache.set("none", None)
    assert await cache.get("b") == b"\x00raw\xff"
    assert await cache.get("s") == "héllo"
    assert await cache.get("j") == {"a": [1, 2.5, None, True]}
    assert await cache.get("t") == [1, 2]
    assert await cache.get("none", "missing") is None
    assert await cache.get("absent", "missing") == "missing"
    assert await cache.get(b"s") == "héllo"
    assert await client.get(b"cache:b") == b"\x01\x00raw\xff"
    assert await client.get(b"cache:s") == b"\x02h\xc3\xa9llo"
    assert await client.get(b"cache:j") == b'{"a":[1,2.5,null,true]}'
    # a sync Cache on the same store reads and writes the same entries
    sync_client = sync_twin(client)
    twin = Cache(sync_client)
    assert twin.get("j") == {"a": [1, 2.5, None, True]}
    twin.set("from-sync", [1], tags=["t"])
    sync_client.close()
    assert await cache.get("from-sync") == [1]
    assert await cache.invalidate_tag("t") == 1
    with pytest.raises(TypeError):
        await cache.set(3, 1)
    with pytest.raises(TypeError):
        await cache.set("k", object())


@bounded()
async def test_wrong_clients_and_bad_options_are_refused(async_backend):
    with pytest.raises(ValueError):
        AsyncCache(async_backend.new_client(decode_responses=True))
    sync_client = sync_twin(async_backend.client)
    with pytest.raises(TypeError, match="AsyncCache needs an asyncio client; use Cache"):
        AsyncCache(sync_client)
    sync_client.close()
    with pytest.raises(TypeError, match="Cache needs a sync client; use AsyncCache"):
        Cache(async_backend.client)
    with pytest.raises(ValueError):
        AsyncCache(async_backend.client, namespace="")
    with pytest.raises(ValueError):
        AsyncCache(async_backend.client, lease=0)
    with pytest.raises(ValueError):
        AsyncCache(async_backend.client, max_bytes=1_000_000)
    cache = AsyncCache(async_backend.client)
    with pytest.raises(TypeError):
        await cache.set("k", 1, tags="users")
    for ttl in (0, -1, float("nan"), 0.0001):
        with pytest.raises(ValueError):
            await cache.set("k", 1, ttl=ttl)
    assert await async_backend.client.keys("*") == []


# -- TTLs and time travel ---------------------------------------------------------------------
@bounded()
async def test_entries_expire_and_touch_renews_them(async_backend):
    cache = AsyncCache(async_backend.client, ttl=0.1)
    await cache.set("short", b"v")
    await cache.set("long", b"v", ttl=60)
    await cache.set("kept", b"v", ttl=0.1)
    assert 0 < await cache.ttl("short") <= 0.1
    assert 59 < await cache.ttl("long") <= 60
    assert await cache.ttl("absent") == 0
    assert await cache.touch("kept", 60) is True
    assert await cache.touch("absent") is False
    await async_backend.advance(0.15)
    assert await cache.get("short") is None
    assert await cache.ttl("short") == 0
    assert await cache.get("kept") == b"v"
    unbounded = AsyncCache(async_backend.client, namespace="other")
    await unbounded.set("k", 1, ttl=5)
    assert await unbounded.touch("k") is True  # its default: no expiry
    assert await unbounded.ttl("k") is None


@bounded()
async def test_incr(async_backend):
    cache = AsyncCache(async_backend.client)
    assert await cache.incr("hits") == 1
    assert await cache.incr("hits", 4) == 5
    assert await cache.ttl("hits") is None
    assert await cache.incr("window", ttl=0.2) == 1
    first = await cache.ttl("window")
    assert 0 < first <= 0.2
    assert await cache.incr("window", ttl=60) == 2  # an existing expiry is kept
    assert await cache.ttl("window") <= first
    await cache.set("text", "ten")
    with raises(ResponseError, "value is not an integer or out of range"):
        await cache.incr("text")
    with pytest.raises(TypeError):
        await cache.incr("hits", 1.5)
    await async_backend.advance(0.25)
    assert await cache.get("window") is None
    assert await cache.get("hits") == 5


# -- many keys, tags, clear, stats ---------------------------------------------------------------
@bounded()
async def test_get_many_set_many_delete(async_backend):
    cache = AsyncCache(async_backend.client)
    await cache.set_many({"a": 1, "b": b"2", "c": "3"}, ttl=60)
    assert await cache.get_many(["a", "b", "x", "c"]) == {"a": 1, "b": b"2", "c": "3"}
    assert await cache.get_many([]) == {}
    assert 59 < await cache.ttl("b") <= 60
    assert await cache.delete("a") is True
    assert await cache.delete("a") is False
    assert await cache.get_many(iter(["a", "b"])) == {"b": b"2"}
    with pytest.raises(TypeError):  # all or nothing
        await cache.set_many({"ok": 1, "bad": object()})
    assert await cache.get("ok") is None


@bounded()
async def test_invalidate_tag(async_backend):
    cache = AsyncCache(async_backend.client)
    await cache.set("user:1", {"n": 1}, tags=["users", "org:7"])
    await cache.set_many({"user:2": 2, "user:3": 3}, tags=["users"])
    await cache.set("org", "seven", tags=["org:7"])
    await cache.set("plain", "untagged")
    assert await cache.invalidate_tag("users") == 3
    assert await cache.get_many(["user:1", "user:2", "user:3", "org", "plain"]) == {
        "org": "seven", "plain": "untagged"}
    assert await cache.invalidate_tag("users") == 0
    assert await cache.invalidate_tag("org:7") == 1
    assert await async_backend.client.keys("*") == [b"cache:plain"]


@bounded()
async def test_tag_sets_live_as_long_as_their_entries(async_backend):
    client = async_backend.client
    cache = AsyncCache(client)
    await cache.set("short", 1, ttl=0.1, tags=["t"])
    assert 0 < await client.pttl(b"cache|tag:t") <= 100
    await cache.set("forever", 3, tags=["t"])
    assert await client.pttl(b"cache|tag:t") == -1
    await cache.set("short2", 4, ttl=0.1, tags=["u"])
    assert await cache.touch("short2", 60) is True
    assert await client.pttl(b"cache|tag:u") > 59_000
    await async_backend.advance(0.15)
    assert await cache.invalidate_tag("u") == 1
    assert await cache.invalidate_tag("t") == 1  # "short" is gone


@bounded()
async def test_clear_takes_only_its_namespace(async_backend):
    client = async_backend.client
    cache = AsyncCache(client, namespace="app")
    other = AsyncCache(client, namespace="application")
    await cache.set_many({f"k{i}": i for i in range(2500)})  # several SCAN pages
    await cache.set("tagged", 1, tags=["t"])
    await other.set("k1", "mine", tags=["t"])
    await client.set("app", "plain key")
    await client.set("apps:x", "plain key")
    assert await cache.clear() == 2501
    assert sorted(await client.keys("*")) == [b"app", b"application:k1",
                                              b"application|meta:k1", b"application|tag:t",
                                              b"apps:x"]
    assert await other.get("k1") == "mine"
    assert await cache.clear() == 0


@bounded()
async def test_stats(async_backend):
    cache = AsyncCache(async_backend.client)
    await cache.set("a", 1)
    await cache.set_many({"b": 2, "c": 3}, tags=["t"])
    await cache.get("a")
    await cache.get("nope")
    await cache.get_many(["b", "zz"])
    await cache.get_or_set("d", lambda: 4)
    await cache.get_or_set("d", lambda: 4)
    assert await cache.stats() == CacheStats(hits=3, misses=3, sets=4, evictions=None)


# -- get_or_set and single-flight -----------------------------------------------------------------
@bounded()
async def test_get_or_set_takes_plain_and_async_functions(async_backend):
    cache = AsyncCache(async_backend.client)
    calls = []

    def plain():
        calls.append("plain")
        return {"from": "plain"}

    async def coroutine_function():
        calls.append("async")
        await asyncio.sleep(0)
        return (1, 2)

    assert await cache.get_or_set("p", plain, ttl=60) == {"from": "plain"}
    assert await cache.get_or_set("p", plain) == {"from": "plain"}
    assert await cache.get_or_set("a", coroutine_function, tags=["t"]) == [1, 2]
    assert await cache.get_or_set("a", coroutine_function) == [1, 2]
    assert calls == ["plain", "async"]
    assert 59 < await cache.ttl("p") <= 60
    assert await cache.invalidate_tag("t") == 1
    assert await flight_keys(async_backend.client) == []


@bounded()
async def test_many_tasks_one_cache_run_fn_once(async_backend, monkeypatch):
    client = async_backend.client
    cache = AsyncCache(client)
    gets = AnsweredGets(client, monkeypatch)
    fn = Computation("computed")
    tasks = [asyncio.create_task(cache.get_or_set("cold", fn, ttl=60)) for _ in range(TASKS)]
    await wait_until(lambda: gets.count == TASKS, "every task's GET")
    await fn.started.wait()
    assert await blocked_count(client) == 0  # the others wait in-process, not in BLPOP
    fn.release.set()
    assert await asyncio.gather(*tasks) == ["computed"] * TASKS
    assert fn.calls == 1
    assert await flight_keys(client) == []
    assert await cache.stats() == CacheStats(hits=0, misses=TASKS, sets=1, evictions=None)


@bounded()
async def test_fn_raising_reaches_every_waiting_task(async_backend, monkeypatch):
    client = async_backend.client
    cache = AsyncCache(client)
    gets = AnsweredGets(client, monkeypatch)
    fn = Computation(LookupError("backend down"))
    tasks = [asyncio.create_task(cache.get_or_set("k", fn)) for _ in range(8)]
    await wait_until(lambda: gets.count == 8, "every task's GET")
    fn.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert [repr(outcome) for outcome in outcomes] == ["LookupError('backend down')"] * 8
    assert fn.calls == 1
    assert await flight_keys(client) == []  # the lease is released
    assert await cache.get_or_set("k", lambda: "recovered") == "recovered"


@bounded()
async def test_a_cancelled_leader_lets_a_waiter_compute(async_backend, monkeypatch):
    client = async_backend.client
    cache = AsyncCache(client)
    gets = AnsweredGets(client, monkeypatch)
    fn = Computation("computed")
    leader = asyncio.create_task(cache.get_or_set("k", fn))
    await fn.started.wait()
    waiters = [asyncio.create_task(cache.get_or_set("k", fn)) for _ in range(4)]
    await wait_until(lambda: gets.count == 5, "every task's GET")
    fn.started.clear()
    leader.cancel()
    await fn.started.wait()  # a waiter took over: the lease was released
    assert fn.calls == 2
    fn.release.set()
    assert await asyncio.gather(*waiters) == ["computed"] * 4
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await flight_keys(client) == []


@bounded()
async def test_caches_of_different_clients_run_fn_once(async_backend):
    # One AsyncCache per task, each on its own client: they meet through the
    # lease and BLPOP wake-ups in the store, not in-process.
    observer = async_backend.new_client()
    caches = [AsyncCache(async_backend.new_client()) for _ in range(TASKS)]
    fn = Computation("computed")
    tasks = [asyncio.create_task(cache.get_or_set("cold", fn, ttl=60)) for cache in caches]
    await fn.started.wait()
    await wait_blocked(observer, TASKS - 1)
    fn.release.set()
    assert await asyncio.gather(*tasks) == ["computed"] * TASKS
    assert fn.calls == 1
    assert await flight_keys(async_backend.client) == []


@bounded()
async def test_fn_raising_lets_another_client_retry(async_backend):
    observer = async_backend.new_client()
    caches = [AsyncCache(async_backend.new_client()) for _ in range(8)]
    fn = Computation(ValueError("first try fails"), "second try")
    tasks = [asyncio.create_task(cache.get_or_set("k", fn)) for cache in caches]
    await fn.started.wait()
    await wait_blocked(observer, 7)
    fn.release.set()  # the first call raises; the second returns at once
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert fn.calls == 2
    assert sorted(map(repr, outcomes)) == ["'second try'"] * 7 + [
        "ValueError('first try fails')"]
    assert await flight_keys(async_backend.client) == []


@bounded()
async def test_a_dead_lease_holder_is_replaced(async_backend):
    client = async_backend.client
    cache = AsyncCache(client, lease=0.2)
    await client.set(b"cache|lease:k", b"someone else's", px=200)  # and it never returns
    task = asyncio.create_task(cache.get_or_set("k", lambda: "taken over"))
    if async_backend.embedded:
        await wait_blocked(client, 1)  # in BLPOP until the lease's time is up
        await async_backend.advance(0.25)
    assert await task == "taken over"


@bounded()
async def test_an_async_cache_waits_for_a_sync_caches_computation(async_backend):
    sync_client = sync_twin(async_backend.client)
    computing, release = threading.Event(), threading.Event()

    def slow():
        computing.set()
        release.wait(WAIT)
        return "from the thread"

    holder = threading.Thread(target=Cache(sync_client).get_or_set, args=("k", slow))
    holder.start()
    assert await asyncio.to_thread(computing.wait, WAIT)
    fn = Computation("never used")
    task = asyncio.create_task(AsyncCache(async_backend.client).get_or_set("k", fn))
    await wait_blocked(async_backend.new_client(), 1)
    release.set()
    assert await task == "from the thread"
    assert fn.calls == 0
    await asyncio.to_thread(holder.join, WAIT)
    sync_client.close()


# -- XFetch (Draws, ALWAYS and NEVER: see test_cache.py) -----------------------------------------
@bounded()
async def test_xfetch_recomputes_early_on_the_right_draws(async_backend):
    draws = Draws()
    cache = AsyncCache(async_backend.client, random=draws)
    calls = []

    async def fn():
        calls.append(1)
        await asyncio.sleep(0.05)
        return len(calls)
    assert await cache.get_or_set("k", fn, ttl=10, beta=1.0) == 1
    assert int(await async_backend.client.hget(b"cache|meta:k", "d")) >= 50
    draws.next = NEVER
    assert await cache.get_or_set("k", fn, ttl=10, beta=1.0) == 1
    draws.next = ALWAYS
    assert await cache.get_or_set("k", fn, ttl=10, beta=1.0) == 2
    assert draws.count == 2
    assert await cache.get_or_set("k", fn, ttl=10) == 2  # beta 0 never draws
    assert draws.count == 2
    # another holder of the lease refreshes: serve the cached value
    await async_backend.client.set(b"cache|lease:k", b"another refresher", px=5000)
    assert await cache.get_or_set("k", fn, ttl=10, beta=1.0) == 2
    await async_backend.client.delete(b"cache|lease:k")

    def broken():
        raise RuntimeError("refresh failed")
    assert await cache.get_or_set("k", broken, ttl=10, beta=1.0) == 2  # logged, not raised
    assert await flight_keys(async_backend.client) == [b"cache|meta:k"]
    with pytest.raises(ValueError):
        await cache.get_or_set("k", fn, beta=-1)


# -- the decorator --------------------------------------------------------------------------------
@bounded()
async def test_cached_coroutine_function(async_backend):
    cache = AsyncCache(async_backend.client)
    calls = []

    @cache.cached(ttl=60)
    async def area(width, height=2):
        calls.append((width, height))
        return width * height

    assert await area(3) == 6
    assert await area(width=3, height=2) == 6
    assert await area(4) == 8
    assert calls == [(3, 2), (4, 2)]
    assert area.cache_info() == CacheInfo(hits=1, misses=2, computations=2)
    assert inspect.iscoroutinefunction(area) and area.__name__ == "area"
    key = area.cache_key(3)
    assert key.startswith(f"{__name__}.test_cached_coroutine_function.<locals>.area:")
    assert 59 < await cache.ttl(key) <= 60
    sync_client = sync_twin(async_backend.client)
    assert Cache(sync_client).get(key) == 6  # the same entry
    sync_client.close()
    assert await area.invalidate(width=3) is True
    assert await area.invalidate(3) is False
    assert await area(3) == 6
    assert len(calls) == 3

    @cache.cached
    async def twice(n):
        return 2 * n
    assert await twice(4) == 8
    assert twice.cache_info() == CacheInfo(hits=0, misses=1, computations=1)

    @cache.cached(key=lambda user_id: f"user:{user_id}")
    async def load(user_id):
        return {"id": user_id}
    assert await load(7) == {"id": 7}
    assert await cache.get("user:7") == {"id": 7}

    with pytest.raises(TypeError, match="coroutine functions"):
        @cache.cached(ttl=60)
        def plain(n):
            return n


@bounded()
async def test_cached_single_flight_across_tasks(async_backend, monkeypatch):
    client = async_backend.client
    cache = AsyncCache(client)
    gets = AnsweredGets(client, monkeypatch)
    fn = Computation("report")

    @cache.cached(ttl=60)
    async def report(month):
        return f"{await fn()} {month}"

    tasks = [asyncio.create_task(report("2024-05")) for _ in range(TASKS)]
    await wait_until(lambda: gets.count == TASKS, "every task's GET")
    fn.release.set()
    assert await asyncio.gather(*tasks) == ["report 2024-05"] * TASKS
    assert fn.calls == 1
    assert report.cache_info() == CacheInfo(hits=0, misses=TASKS, computations=1)


# -- round trips, private stores ------------------------------------------------------------------
@pytest.mark.asyncio
async def test_one_round_trip_per_operation_on_redis_asyncio(redis_port, monkeypatch):
    client = redis.asyncio.Redis(port=redis_port)
    await client.flushall()
    cache = AsyncCache(client)
    await cache.set("warm", 1, tags=["w"])  # load the scripts (NOSCRIPT, then loaded)
    await cache.touch("warm", 5)
    await cache.delete("warm")
    await cache.get_or_set("warm-g", lambda: 1)
    trips = RoundTrips(client, monkeypatch)
    await cache.set("k", b"v", ttl=5, tags=["a", "b"])
    assert trips.take() == ["EVALSHA"]
    assert await cache.get("k") == b"v"
    assert trips.take() == ["GET"]
    await cache.set("plain", 1, ttl=5)
    assert trips.take() == ["SET"]
    await cache.get_many(["k", "plain"])
    assert trips.take() == ["MGET"]
    await cache.touch("k", 10)
    await cache.delete("k")
    assert trips.take() == ["EVALSHA", "EVALSHA"]
    await cache.get_or_set("g", lambda: 1)
    assert trips.take() == ["GET", "EVALSHA", "EVALSHA"]  # miss, claim, store+release
    await cache.get_or_set("g", lambda: 1)
    assert trips.take() == ["GET"]
    await client.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("eviction", ["lru", "lfu"])
async def test_a_bounded_private_cache_evicts(eviction):
    cache = AsyncCache(max_bytes=300_000, eviction=eviction)
    assert isinstance(cache.client, minikv.asyncio.Redis)
    await cache.set("hot", b"x" * 100)
    for i in range(5_000):
        await cache.set(f"k{i}", b"v" * 100)
        await cache.get("hot")
    assert (await cache.client.info("memory"))["used_memory"] <= 300_000
    assert (await cache.stats()).evictions > 1_000
    assert await cache.get("hot") == b"x" * 100
    await cache.close()


@pytest.mark.asyncio
async def test_default_clients_are_private():
    async with AsyncCache() as first, AsyncCache() as second:
        await first.set("k", 1)
        assert await second.get("k") is None
        assert (await first.stats()).evictions == 0
