"""AsyncRateLimiter and its all_of on both async clients (``async_backend``:
minikv.asyncio on a manual clock, redis.asyncio on the private server), and
the ASGI middleware with an async limiter.

The expected sequences are the sync suite's (test_ratelimit.py): exact on
the manual clock, bounded on the real server. Tests that need time to pass
tick the manual clock on minikv and sleep briefly on Redis, after aligning
the start to a window boundary so that no window rolls over mid-test.
"""
import asyncio
import contextlib
import inspect

import pytest
import redis
import redis.asyncio
from asyncio_support import LoopThread, sync_twin
from backends import let_time_pass
from helpers import raises
from redis.exceptions import ResponseError
from round_trips import RoundTrips
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from test_ratelimit import LONG, SEQUENCES, check_times

import minikv
import minikv.asyncio
from minikv.integrations.ratelimit import ASGIRateLimitMiddleware
from minikv.patterns import (AsyncCompositeLimiter, AsyncRateLimiter, CompositeLimiter,
                             RateLimiter, RateLimitResult)
from minikv.patterns.ratelimit import ALGORITHMS

pytest_plugins = ["async_support"]  # the async_backend fixture

WAIT_SECONDS = 30
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def make(backend, algorithm, limit=3, period=LONG, **options):
    return AsyncRateLimiter(backend.client, limit=limit, period=period, algorithm=algorithm,
                            **options)


async def stored(client, limiter, key):
    """The raw state of ``key``: a string, or a sorted set's (member, score) pairs."""
    name = limiter.storage_key(key)
    if limiter.algorithm == "sliding_log":
        return await client.zrange(name, 0, -1, withscores=True)
    return await client.get(name)


async def start_of_window(backend, period):
    """Move to the start of a window (windows are aligned to multiples of
    ``period``): exactly on the manual clock; on the real server just after
    one, so that a short test sees no rollover it did not ask for."""
    seconds, micros = await backend.client.time()
    period_us = round(period * 1_000_000)
    into = (seconds * 1_000_000 + micros) % period_us
    if backend.embedded:
        if into:
            await backend.advance((period_us - into) / 1_000_000)
    else:
        await backend.advance((period_us - into) / 1_000_000 + 0.002)


# -- sequences, denials, peeks, refunds ----------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_allow_then_deny(async_backend, algorithm):
    limiter = make(async_backend, algorithm)
    for expected in SEQUENCES[algorithm]:
        result = await limiter.hit("alice")
        assert type(result) is RateLimitResult
        check_times(async_backend, result, expected)
    assert (await limiter.hit("bob"))[:3] == (True, 3, 2)  # another key, another budget


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_denied_hits_and_peeks_consume_nothing(async_backend, algorithm):
    client = async_backend.client
    limiter = make(async_backend, algorithm)
    assert await limiter.peek("k") == RateLimitResult(True, 3, 3, 0.0, 0.0)
    assert await client.exists(limiter.storage_key("k")) == 0
    assert (await limiter.hit("k", 2)).allowed
    before = await stored(client, limiter, "k")
    denied = await limiter.hit("k", 2)
    assert (denied.allowed, denied.remaining) == (False, 1) and denied.retry_after > 0
    peeked = await limiter.peek("k", 2)
    assert peeked[:3] == (False, 3, 1)
    assert await stored(client, limiter, "k") == before
    assert (await limiter.hit("k", 1))[:3] == (True, 3, 0)
    assert not (await limiter.hit("k")).allowed


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_refund_and_reset(async_backend, algorithm):
    client = async_backend.client
    limiter = make(async_backend, algorithm)
    await limiter.hit("k", 3)
    refunded = await limiter.refund("k", 2)
    assert refunded[:3] == (True, 3, 2) and refunded.retry_after == 0.0
    assert [(await limiter.hit("k")).allowed for _ in range(3)] == [True, True, False]
    # never above the limit: an empty budget is deleted, as if reset
    assert await limiter.refund("k", 10) == RateLimitResult(True, 3, 3, 0.0, 0.0)
    assert await client.exists(limiter.storage_key("k")) == 0
    await limiter.hit("k", 3)
    assert await limiter.reset("k") is None
    assert await client.exists(limiter.storage_key("k")) == 0
    assert await limiter.peek("k") == RateLimitResult(True, 3, 3, 0.0, 0.0)


# -- time travel ---------------------------------------------------------------------------
# limit 3 per 300 ms, 3 taken at the start of a window: when a hit of cost 2 passes.
RETRY_AFTER = {
    "fixed_window": 0.3,     # the next window
    "sliding_window": 0.5,   # 3 * (1 - 2/3 of the next window) + 2 <= 3
    "sliding_log": 0.3,      # the 3 units leave the log
    "token_bucket": 0.2,     # 2 tokens at 10 per second
    "gcra": 0.2,
}


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_waiting_retry_after_then_reset_after(async_backend, algorithm):
    limiter = make(async_backend, algorithm, period=0.3)
    await start_of_window(async_backend, 0.3)
    await limiter.hit("k", 3)
    denied = await limiter.hit("k", 2)
    assert not denied.allowed and 0 < denied.retry_after <= RETRY_AFTER[algorithm]
    if async_backend.embedded:  # exact to the ms: one ms earlier it still fails
        assert denied.retry_after == RETRY_AFTER[algorithm]
        await async_backend.advance(denied.retry_after - 0.001)
        assert not (await limiter.peek("k", 2)).allowed
        await async_backend.advance(0.001)
    else:
        await async_backend.advance(denied.retry_after)
    passed = await limiter.hit("k", 2)
    assert passed.allowed and passed.reset_after > 0
    await async_backend.advance(passed.reset_after)
    assert (await limiter.peek("k"))[:3] == (True, 3, 3)


@pytest.mark.asyncio
async def test_gcra_spaces_hits_after_the_burst(async_backend):
    limiter = make(async_backend, "gcra", limit=5, period=0.5)  # one per 100 ms, burst 5
    assert all([(await limiter.hit("k")).allowed for _ in range(5)])
    for _ in range(2):
        denied = await limiter.hit("k")
        assert not denied.allowed and 0 < denied.retry_after <= 0.1
        if async_backend.embedded:
            assert denied.retry_after == 0.1
        await async_backend.advance(denied.retry_after)
        assert (await limiter.hit("k")).allowed


@pytest.mark.asyncio
async def test_sliding_log_is_exact():
    clock = minikv.ManualClock(start=1_700_000_000)
    limiter = AsyncRateLimiter(minikv.asyncio.Redis(clock=clock), limit=3, period=1,
                               algorithm="sliding_log")
    for _ in range(3):
        assert (await limiter.hit("k")).allowed
        clock.advance(0.4)
    # t = 1.2: the hit at 0 has left, those at 0.4 and 0.8 count
    assert (await limiter.peek("k"))[:3] == (True, 3, 1)
    assert (await limiter.hit("k")).allowed
    denied = await limiter.hit("k")
    assert (denied.allowed, denied.retry_after, denied.reset_after) == (False, 0.2, 1.0)
    clock.advance(0.199)
    assert not (await limiter.hit("k")).allowed
    clock.advance(0.001)
    assert (await limiter.hit("k")).allowed
    await limiter.client.aclose()


@pytest.mark.asyncio
async def test_keys_expire_when_idle(async_backend):
    client = async_backend.client
    for algorithm in ALGORITHMS:
        limiter = make(async_backend, algorithm, period=0.2)
        await limiter.hit("k")
        assert 0 < await client.pttl(limiter.storage_key("k")) <= 400, algorithm
    await async_backend.advance(0.41)
    assert await client.keys("ratelimit:*") == []


# -- many tasks ------------------------------------------------------------------------------
async def hammer(limiter, tasks, hits):
    """``tasks`` tasks of ``hits`` hits each on one key, interleaved; how
    many were allowed."""
    async def task():
        allowed = 0
        for _ in range(hits):
            allowed += (await limiter.hit("shared")).allowed
            await asyncio.sleep(0)  # a minikv hit never suspends: let the others in
        return allowed
    return sum(await asyncio.gather(*(task() for _ in range(tasks))))


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_tasks_allow_exactly_the_limit(async_backend, algorithm):
    # A period of 10**7 s: no refill and no rollover while the tasks run.
    limiter = make(async_backend, algorithm, limit=100, period=10 ** 7)
    assert await hammer(limiter, 10, 25) == 100
    assert (await limiter.peek("shared"))[:3] == (False, 100, 0)


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_tasks_on_several_loops_and_threads_allow_exactly_the_limit(algorithm):
    # minikv.asyncio runs a hit inline on whichever loop awaits it: one
    # limiter object serves tasks of three event loops in three threads.
    limiter = AsyncRateLimiter(minikv.asyncio.Redis(), limit=300, period=10 ** 7,
                               algorithm=algorithm)
    threads = [LoopThread(), LoopThread()]
    try:
        futures = [thread.run_coroutine(hammer(limiter, 5, 40)) for thread in threads]
        here = await hammer(limiter, 5, 40)
        there = [await asyncio.wrap_future(future) for future in futures]
    finally:
        for thread in threads:
            thread.stop()
    assert here + sum(there) == 300
    assert (await limiter.peek("shared"))[:3] == (False, 300, 0)
    await limiter.client.aclose()


# -- several limits ----------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_all_of_is_all_or_nothing(async_backend):
    burst = make(async_backend, "sliding_log", limit=2)
    hourly = make(async_backend, "fixed_window", limit=3)
    both = AsyncRateLimiter.all_of(burst, hourly)
    assert type(both) is AsyncCompositeLimiter
    assert [(await both.hit("k")).allowed for _ in range(3)] == [True, True, False]
    assert (await hourly.peek("k")).remaining == 1  # the denied hit took nothing from it
    await both.reset("k")
    assert await async_backend.client.keys("ratelimit:*") == []
    await hourly.hit("k", 3)
    denied = await both.hit("k")
    assert (denied.allowed, denied.limit, denied.remaining) == (False, 3, 0)
    assert (await burst.peek("k")).remaining == 2  # nor from this one


@pytest.mark.asyncio
async def test_all_of_reports_the_binding_limit_and_refunds_all(async_backend):
    small = make(async_backend, "fixed_window", limit=2)
    large = make(async_backend, "token_bucket", limit=10)
    both = AsyncRateLimiter.all_of(large, small)
    assert (await both.hit("k"))[:3] == (True, 2, 1)
    assert (await both.peek("k"))[:3] == (True, 2, 1)
    await both.hit("k")
    denied = await both.hit("k")
    assert denied[:3] == (False, 2, 0)
    if async_backend.embedded:
        assert denied.retry_after == (await small.peek("k")).retry_after == 1000.0
    assert (await large.peek("k")).remaining == 8
    refunded = await both.refund("k", 1)
    assert refunded[:3] == (True, 2, 1) and refunded.retry_after == 0.0
    assert (await large.peek("k")).remaining == 9


@pytest.mark.asyncio
async def test_all_of_validation(async_backend):
    a = make(async_backend, "gcra", limit=2)
    with pytest.raises(ValueError, match="share one client"):
        AsyncRateLimiter.all_of(a, AsyncRateLimiter(async_backend.new_client(), limit=2,
                                                    period=1))
    with pytest.raises(ValueError, match="at least one"):
        AsyncRateLimiter.all_of()
    with pytest.raises(TypeError, match="combines AsyncRateLimiters"):
        AsyncRateLimiter.all_of(a, RateLimiter(minikv.Redis(), limit=1, period=1))
    with pytest.raises(TypeError, match="combines RateLimiters"):
        RateLimiter.all_of(a)
    too_big = AsyncRateLimiter.all_of(a, make(async_backend, "fixed_window", limit=5))
    with pytest.raises(ValueError, match="smallest limit"):
        await too_big.hit("k", 3)
    with pytest.raises(ValueError, match="a refund is a positive int"):
        await too_big.refund("k", 0)
    assert await async_backend.client.keys("*") == []


# -- the same state as the sync limiter ------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_shares_state_with_a_sync_limiter(async_backend, algorithm):
    twin = sync_twin(async_backend.client)
    async_limiter = make(async_backend, algorithm, limit=4)
    sync_limiter = RateLimiter(twin, limit=4, period=LONG, algorithm=algorithm)
    assert async_limiter.storage_key("k") == sync_limiter.storage_key("k")
    await async_limiter.hit("k", 2)
    assert sync_limiter.peek("k")[:3] == (True, 4, 2)
    sync_limiter.hit("k", 2)
    assert (await async_limiter.hit("k"))[:3] == (False, 4, 0)
    assert (await async_limiter.refund("k", 1))[:3] == (True, 4, 1)
    assert sync_limiter.hit("k")[:3] == (True, 4, 0)
    twin.close()


# -- minikv.asyncio reuses the sync hot path ----------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_minikv_calls_never_suspend(algorithm):
    limiter = AsyncRateLimiter(minikv.asyncio.Redis(), limit=2, period=LONG, algorithm=algorithm)
    # the sync limiter's embedded path (compiled windows on the compiled backend)
    assert isinstance(limiter._inline, RateLimiter)
    if minikv.BACKEND == "compiled" and algorithm in ("fixed_window", "sliding_window"):
        assert limiter._inline._compiled is not None
    for call in (limiter.hit("k"), limiter.peek("k"), limiter.refund("k"), limiter.reset("k")):
        with pytest.raises(StopIteration):  # it ran to its end in one step
            call.send(None)
    await limiter.client.aclose()


@pytest.mark.asyncio
async def test_a_redis_asyncio_call_is_one_round_trip(redis_port, monkeypatch):
    client = redis.asyncio.Redis(port=redis_port)
    await client.flushall()
    trips = RoundTrips(client, monkeypatch)
    limiters = [AsyncRateLimiter(client, limit=5, period=LONG, algorithm=algorithm)
                for algorithm in ALGORITHMS]
    both = AsyncRateLimiter.all_of(*limiters)
    await both.hit("warm-up")  # loads the script once
    trips.take()
    for limiter in [*limiters, both]:
        await limiter.hit("k", 2)
        await limiter.peek("k")
        await limiter.refund("k", 1)
        await limiter.reset("k")
    assert trips.calls == ["EVALSHA", "EVALSHA", "EVALSHA", "DEL"] * (len(ALGORITHMS) + 1)
    await client.aclose()


# -- errors and arguments ------------------------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_a_key_of_another_type(async_backend, algorithm):
    limiter = make(async_backend, algorithm)
    await async_backend.client.hset(limiter.storage_key("k"), "field", "value")
    for call in (limiter.hit, limiter.peek, limiter.refund):
        with raises(ResponseError, WRONGTYPE):
            await call("k")


@pytest.mark.asyncio
@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "sliding_log"])
async def test_a_state_written_by_someone_else(async_backend, algorithm):
    limiter = make(async_backend, algorithm)
    await async_backend.client.set(limiter.storage_key("k"), b"1 2 3 4")
    for call in (limiter.hit, limiter.peek, limiter.refund):
        with raises(ResponseError, "invalid rate limiter state"):
            await call("k")
    assert await async_backend.client.get(limiter.storage_key("k")) == b"1 2 3 4"


@pytest.mark.asyncio
async def test_arguments_are_checked(async_backend):
    for bad in ({"limit": 0, "period": 1}, {"limit": 1.5, "period": 1},
                {"limit": 1, "period": 0.0004}, {"limit": 1, "period": 1, "algorithm": "leaky"},
                {"limit": 2 ** 40, "period": 2 ** 20}):
        with pytest.raises(ValueError):
            AsyncRateLimiter(async_backend.client, **bad)
    limiter = make(async_backend, "fixed_window")
    for cost in (0, 4, -1, 1.0, True, "1"):
        with pytest.raises(ValueError, match="cost must be an int from 1 to the limit"):
            await limiter.hit("k", cost)
        with pytest.raises(ValueError):
            await limiter.peek("k", cost)
    for cost in (0, -1, 1.0):
        with pytest.raises(ValueError, match="a refund is a positive int"):
            await limiter.refund("k", cost)
    with pytest.raises(TypeError):
        await limiter.hit(42)
    assert await async_backend.client.keys("*") == []


@pytest.mark.asyncio
async def test_keys_repr_and_default_client(async_backend):
    limiter = make(async_backend, "sliding_window", limit=7, period=1.5, prefix="api:")
    await limiter.hit("alice")
    await limiter.hit(b"\xffbinary")
    assert sorted(await async_backend.client.keys("*")) == [
        b"api:alice:sliding_window:7:1500", b"api:\xffbinary:sliding_window:7:1500"]
    assert repr(limiter) == ("AsyncRateLimiter(limit=7, period=1.5, "
                             "algorithm='sliding_window', prefix='api:')")
    default = AsyncRateLimiter(limit=1, period=60)
    assert type(default.client) is minikv.asyncio.Redis
    assert [(await default.hit("k")).allowed for _ in range(2)] == [True, False]
    await default.client.aclose()


def test_the_async_classes_mirror_the_sync_ones():
    for sync_class, async_class in ((RateLimiter, AsyncRateLimiter),
                                    (CompositeLimiter, AsyncCompositeLimiter)):
        for name in ("hit", "peek", "refund", "reset"):
            assert inspect.iscoroutinefunction(getattr(async_class, name)), name
            assert (inspect.signature(getattr(async_class, name))
                    == inspect.signature(getattr(sync_class, name)))
    assert (inspect.signature(AsyncRateLimiter.__init__)
            == inspect.signature(RateLimiter.__init__))


# -- the ASGI middleware with an async limiter ------------------------------------------------
class AsyncApp:
    """A Starlette app behind ASGIRateLimitMiddleware with an async limiter
    on its own async client (minikv.asyncio on a manual clock, or
    redis.asyncio), closed by the app's lifespan on the loop that used it."""

    def __init__(self, kind, port, make_limiter, **options):
        self.clock = None
        if kind == "minikv":
            self.clock = minikv.ManualClock(start=1_700_000_000)
            client = minikv.asyncio.Redis(clock=self.clock)
        else:
            admin = redis.Redis(port=port)
            admin.flushall()
            admin.close()
            client = redis.asyncio.Redis(port=port)
        self.limiter = make_limiter(client)
        self.served = []

        async def endpoint(request):
            self.served.append(request.url.path)
            return PlainTextResponse("ok", headers={"X-App": "yes"})

        @contextlib.asynccontextmanager
        async def lifespan(app):
            yield
            await client.aclose()

        self.app = Starlette(
            routes=[Route(path, endpoint) for path in ("/", "/heavy")], lifespan=lifespan,
            middleware=[Middleware(ASGIRateLimitMiddleware, limiter=self.limiter, **options)])

    def advance(self, seconds):
        """A sync tick or sleep: the app's loop runs in TestClient's thread."""
        let_time_pass(self.clock, seconds)


@pytest.fixture(params=["minikv", "redis"])
def asgi_app(request):
    port = request.getfixturevalue("redis_port") if request.param == "redis" else None
    return lambda make_limiter, **options: AsyncApp(request.param, port, make_limiter, **options)


def test_asgi_middleware_awaits_an_async_limiter(asgi_app):
    app = asgi_app(lambda client: AsyncRateLimiter(client, limit=3, period=LONG,
                                                   algorithm="fixed_window"))
    with TestClient(app.app) as web:  # one event loop for every request
        for remaining in ("2", "1", "0"):
            response = web.get("/")
            assert (response.status_code, response.text) == (200, "ok")
            assert response.headers["x-app"] == "yes"
            assert response.headers["ratelimit-limit"] == "3"
            assert response.headers["ratelimit-remaining"] == remaining
        denied = web.get("/")
        assert (denied.status_code, denied.content) == (429, b"Too Many Requests")
        assert "x-app" not in denied.headers
        retry = int(denied.headers["retry-after"])
        assert retry == LONG if app.clock else 1 <= retry <= LONG
        assert web.portal.call(app.limiter.peek, "testclient")[:3] == (False, 3, 0)
    assert app.served == ["/"] * 3  # the denied request never reached the app


def test_asgi_middleware_with_async_all_of_key_and_cost(asgi_app):
    def limits(client):
        burst = AsyncRateLimiter(client, limit=3, period=LONG, algorithm="sliding_log")
        daily = AsyncRateLimiter(client, limit=5, period=2 * LONG, algorithm="token_bucket")
        return AsyncRateLimiter.all_of(burst, daily)

    def user(scope):
        return dict(scope["headers"]).get(b"x-user", b"").decode() or None

    def cost(scope):
        return 2 if scope["path"] == "/heavy" else 1

    app = asgi_app(limits, key=user, cost=cost)
    with TestClient(app.app) as web:
        alice = {"X-User": "alice"}
        assert web.get("/heavy", headers=alice).headers["ratelimit-remaining"] == "1"
        assert web.get("/", headers=alice).headers["ratelimit-remaining"] == "0"
        assert web.get("/", headers=alice).status_code == 429
        assert web.get("/heavy", headers={"X-User": "bob"}).status_code == 200
        exempt = web.get("/")  # no user: no hit, no headers
        assert exempt.status_code == 200 and "ratelimit-limit" not in exempt.headers
    assert app.served == ["/heavy", "/", "/heavy", "/"]


def test_asgi_middleware_time_travel(asgi_app):
    app = asgi_app(lambda client: AsyncRateLimiter(client, limit=1, period=0.3,
                                                   algorithm="sliding_log"))
    with TestClient(app.app) as web:
        assert web.get("/").status_code == 200
        denied = web.get("/")
        assert (denied.status_code, denied.headers["retry-after"]) == (429, "1")
        app.advance(0.3)
        assert web.get("/").status_code == 200
