"""AsyncSessionStore (minikv/patterns/sessions.py) on both async clients, and
the ASGI session middleware over it.

Every ``async_backend`` body runs on a ``minikv.asyncio.Redis`` on a manual
clock and on a ``redis.asyncio.Redis`` on the private redis-server (real
time, short periods). The expectations are test_sessions.py's: an
AsyncSessionStore stores what a SessionStore stores, where it stores it —
the sync store on the same data is the witness.

The middleware tests are sync: Starlette's TestClient runs the app on an
event loop of its own (one for the whole ``with`` block), where the async
store's client lives; its lifespan closes that client on that loop.
"""
import asyncio
import contextlib
import inspect
import secrets
import time

import pytest
import redis
import redis.asyncio
from asyncio_support import class_doctests, sync_twin
from round_trips import RoundTrips
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import minikv
import minikv.asyncio
from minikv.integrations.sessions import (ASGISessionMiddleware, SessionCookie,
                                          WSGISessionMiddleware)
from minikv.patterns import AsyncSessionStore, SessionStore
from minikv.patterns import sessions as sessions_module

pytest_plugins = ["async_support"]  # the async_backend fixture

MALFORMED_IDS = ["", "abc", "x" * 42, "x" * 44, "!" * 43, "session:" + "x" * 35, None, 42,
                 b"x" * 43]
METHODS = ("create", "get", "apply", "update", "delete_field", "replace", "destroy",
           "regenerate", "sessions_of", "destroy_all", "ttl")


def forged_id():
    """Well formed, never issued by the store."""
    return secrets.token_urlsafe(32)


async def keys(client):
    return sorted(key.decode() for key in await client.keys("*"))


def ttl_close(backend, actual, expected):
    """Exact on the manual clock; on the server real milliseconds pass."""
    if backend.embedded:
        return actual == expected
    return actual is not None and expected - 0.15 <= actual <= expected


@pytest.fixture
def witness(async_backend):
    """A sync SessionStore on the same store or server."""
    client = sync_twin(async_backend.client)
    yield SessionStore(client)
    client.close()


def test_async_docstring_runs():
    results = class_doctests(sessions_module, AsyncSessionStore)
    assert results.attempted >= 3
    assert results.failed == 0


def test_same_constructor_and_methods_as_session_store():
    assert (inspect.signature(AsyncSessionStore.__init__)
            == inspect.signature(SessionStore.__init__))
    for name in METHODS:
        assert inspect.iscoroutinefunction(getattr(AsyncSessionStore, name)), name
        assert (inspect.signature(getattr(AsyncSessionStore, name))
                == inspect.signature(getattr(SessionStore, name))), name


# -- each method ------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_create_and_get_share_the_sync_layout(async_backend, witness):
    store = AsyncSessionStore(async_backend.client, prefix="s:")
    sid = await store.create({"a": [1], "b": "x"}, user_id=7)
    assert sessions_module.valid_sid(sid)
    assert await store.get(sid) == {"a": [1], "b": "x"}
    stored = await async_backend.client.hgetall("s:" + sid)
    assert stored[b"d:a"] == b"[1]" and stored[b"d:b"] == b'"x"' and stored[b"m:user"] == b"7"
    assert await keys(async_backend.client) == sorted(["s:" + sid, "s:user:7"])
    assert SessionStore(witness.client, prefix="s:").get(sid) == {"a": [1], "b": "x"}
    other = witness.create({"from": "sync"})
    assert await AsyncSessionStore(async_backend.client).get(other) == {"from": "sync"}
    assert await store.get(await store.create()) == {}
    assert len({await store.create() for _ in range(20)}) == 20


@pytest.mark.asyncio
async def test_update_delete_field_apply_replace(async_backend):
    store = AsyncSessionStore(async_backend.client)
    sid = await store.create({"a": 1, "b": 2, "c": 3}, user_id="u")
    assert await store.update(sid, b=20, d=[4]) is True
    assert await store.get(sid) == {"a": 1, "b": 20, "c": 3, "d": [4]}
    assert await store.delete_field(sid, "a") is True
    assert await store.delete_field(sid, "a") is False
    assert await store.apply(sid, {"e": 5}, ["b", "nope"]) is True
    assert await store.get(sid) == {"c": 3, "d": [4], "e": 5}
    assert await store.replace(sid, {"z": 26}) is True
    assert await store.get(sid) == {"z": 26}
    assert await store.sessions_of("u") == {sid}  # replace keeps the user link
    with pytest.raises(TypeError):
        await store.update(sid, a={1, 2})
    with pytest.raises(TypeError):
        await store.replace(sid, "z=1")
    with pytest.raises(TypeError):
        await store.create({1: "a"})
    assert await store.get(sid) == {"z": 26}


@pytest.mark.asyncio
async def test_destroy_regenerate_sessions_of_destroy_all(async_backend):
    client = async_backend.client
    store = AsyncSessionStore(client)
    sid = await store.create({"cart": ["x"]}, user_id="alice")
    other = await store.create(user_id="alice")
    created = await client.hget("session:" + sid, "m:created")
    new_sid = await store.regenerate(sid)
    assert sessions_module.valid_sid(new_sid) and new_sid != sid
    assert await store.get(sid) is None
    assert await store.update(sid, cart=[]) is False  # the old id cannot come back
    assert await store.regenerate(sid) is None
    assert await store.get(new_sid) == {"cart": ["x"]}
    assert await client.hget("session:" + new_sid, "m:created") == created
    assert await store.sessions_of("alice") == {new_sid, other}
    assert await store.destroy(other) is True
    assert await store.destroy(other) is False
    await client.delete("session:" + new_sid)  # as if it had expired
    assert await store.sessions_of("alice") == set()  # pruned
    third = await store.create(user_id="alice")
    assert await store.destroy_all("alice") == 1
    assert await store.get(third) is None
    assert await store.destroy_all("alice") == 0
    assert await keys(client) == []


@pytest.mark.asyncio
async def test_unknown_forged_and_malformed_ids(async_backend):
    store = AsyncSessionStore(async_backend.client)
    for sid in [forged_id(), *MALFORMED_IDS]:
        assert await store.get(sid) is None
        assert await store.update(sid, user="admin") is False
        assert await store.apply(sid, {"user": "admin"}, ["x"]) is False
        assert await store.delete_field(sid, "user") is False
        assert await store.replace(sid, {"user": "admin"}) is False
        assert await store.regenerate(sid) is None
        assert await store.destroy(sid) is False
        assert await store.ttl(sid) is None
    assert await keys(async_backend.client) == []  # never adopted


@pytest.mark.asyncio
async def test_wrong_clients_and_settings_are_refused(async_backend, witness):
    with pytest.raises(TypeError, match="AsyncSessionStore needs an asyncio client"):
        AsyncSessionStore(witness.client)
    with pytest.raises(TypeError, match="SessionStore needs a sync client"):
        SessionStore(async_backend.client)
    with pytest.raises(ValueError):
        AsyncSessionStore(async_backend.client, ttl=0)
    with pytest.raises(TypeError):
        AsyncSessionStore(async_backend.client, prefix=b"s:")
    assert repr(AsyncSessionStore(async_backend.client, ttl=60)) == (
        "AsyncSessionStore(prefix='session:', ttl=60, sliding=True, absolute_ttl=None)")


@pytest.mark.asyncio
async def test_a_decoding_client_gives_the_same_results(async_backend):
    store = AsyncSessionStore(async_backend.new_client(decode_responses=True))
    sid = await store.create({"a": "ü"}, user_id=1)
    assert await store.get(sid) == {"a": "ü"}
    assert await store.sessions_of(1) == {sid}
    assert await store.regenerate(sid) is not None


@pytest.mark.asyncio
async def test_the_default_client_is_a_private_minikv_asyncio_redis():
    first, second = AsyncSessionStore(), AsyncSessionStore()
    assert isinstance(first.client, minikv.asyncio.Redis)
    sid = await first.create({"a": 1})
    assert await second.get(sid) is None
    await first.client.aclose()
    await second.client.aclose()


# -- TTLs and time travel -------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_sliding_expiry(async_backend):
    store = AsyncSessionStore(async_backend.client, ttl=0.5)
    sid = await store.create({"a": 1})
    assert ttl_close(async_backend, await store.ttl(sid), 0.5)
    await async_backend.advance(0.3)
    assert await store.get(sid) == {"a": 1}  # renews: 0.5 s from now
    await async_backend.advance(0.3)
    assert await store.update(sid, b=2) is True  # alive past the first 0.5 s
    assert ttl_close(async_backend, await store.ttl(sid), 0.5)
    await async_backend.advance(0.55)
    assert await store.get(sid) is None
    assert await keys(async_backend.client) == []


@pytest.mark.asyncio
async def test_fixed_expiry_and_absolute_ttl(async_backend):
    fixed = AsyncSessionStore(async_backend.client, ttl=0.5, sliding=False)
    capped = AsyncSessionStore(async_backend.client, prefix="c:", ttl=0.4, absolute_ttl=0.7)
    sid = await fixed.create({"a": 1})
    other = await capped.create({"a": 1})
    await async_backend.advance(0.3)
    assert await fixed.get(sid) == {"a": 1}
    assert ttl_close(async_backend, await fixed.ttl(sid), 0.2)  # not renewed
    assert await capped.get(other) == {"a": 1}
    assert ttl_close(async_backend, await capped.ttl(other), 0.4)
    await async_backend.advance(0.3)
    assert await fixed.get(sid) is None
    assert await capped.update(other, b=2) is True
    assert ttl_close(async_backend, await capped.ttl(other), 0.1)  # 0.7 s after creation
    await async_backend.advance(0.15)
    assert await capped.get(other) is None


# -- concurrency ----------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_concurrent_field_updates_lose_nothing(async_backend, witness):
    # Tasks on one client and on others (other connections on the server)
    # write different fields of one session at once.
    stores = [AsyncSessionStore(async_backend.client)]
    stores += [AsyncSessionStore(async_backend.new_client()) for _ in range(3)]
    sid = await stores[0].create({"seed": 0, "gone": 1})

    async def writer(store, letter):
        for i in range(100):
            assert await store.update(sid, **{f"{letter}{i}": i, letter: i}) is True

    await asyncio.gather(*(writer(store, letter) for store, letter in zip(stores, "abcd")),
                         stores[1].delete_field(sid, "gone"))
    data = witness.get(sid)
    assert len(data) == 1 + 4 * 101
    assert all(data[letter] == 99 for letter in "abcd")
    assert all(data[f"{letter}{i}"] == i for letter in "abcd" for i in range(100))


@pytest.mark.asyncio
async def test_one_round_trip_per_method_on_redis_asyncio(redis_port, monkeypatch):
    client = redis.asyncio.Redis(port=redis_port)
    await client.flushall()
    store = AsyncSessionStore(client, absolute_ttl=3600)
    async def run_all():
        sid = await store.create({"a": 1}, user_id="rt")
        await store.get(sid)
        await store.update(sid, b=2)
        await store.delete_field(sid, "b")
        await store.apply(sid, {"c": 3}, ["a"])
        await store.replace(sid, {"d": 4})
        await store.ttl(sid)
        sid = await store.regenerate(sid)
        await store.sessions_of("rt")
        await store.destroy(sid)
        await store.destroy_all("rt")

    await run_all()  # loads the scripts (NOSCRIPT, then SCRIPT LOAD)
    trips = RoundTrips(client, monkeypatch)
    await run_all()
    assert trips.calls == ["EVALSHA"] * 6 + ["PTTL"] + ["EVALSHA"] * 4
    await client.aclose()


# -- the ASGI middleware over an AsyncSessionStore ------------------------------------------------
class AsyncSessionApp:
    """A Starlette app behind ASGISessionMiddleware with an AsyncSessionStore
    on its own async client (minikv.asyncio on a manual clock, or
    redis.asyncio), closed by the app's lifespan on the loop that used it.
    ``witness`` is a sync SessionStore on the same data."""

    def __init__(self, kind, port, **store_options):
        self.clock = None
        if kind == "minikv":
            self.clock = minikv.ManualClock(start=1_700_000_000)
            client = minikv.asyncio.Redis(clock=self.clock)
            self.raw = minikv.Redis(store=client.store)
        else:
            self.raw = redis.Redis(port=port)
            self.raw.flushall()
            client = redis.asyncio.Redis(port=port)
        self.store = AsyncSessionStore(client, **store_options)
        self.witness = SessionStore(self.raw, **store_options)
        store = self.store

        async def incr(session):
            session["n"] = session.get("n", 0) + 1

        async def login(session):
            session.regenerate()
            session["user"] = "alice"

        async def beside(session):
            await store.update(session.sid, other="from elsewhere")  # lands while we run
            session["n"] = 100

        handlers = {"/read": None, "/incr": incr, "/login": login, "/beside": beside,
                    "/destroy": lambda session: session.destroy()}

        def endpoint(handler):
            async def run(request):
                if handler is not None:
                    outcome = handler(request.session)
                    if inspect.isawaitable(outcome):
                        await outcome
                return JSONResponse(dict(request.session))
            return run

        @contextlib.asynccontextmanager
        async def lifespan(app):
            yield
            await client.aclose()

        self.app = Starlette(
            routes=[Route(path, endpoint(handler), methods=["POST"])
                    for path, handler in handlers.items()],
            lifespan=lifespan, middleware=[Middleware(ASGISessionMiddleware, store=store)])

    def advance(self, seconds):
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)

    def close(self):
        self.raw.close()


@pytest.fixture(params=["minikv", "redis"])
def session_app(request, monkeypatch):
    """``session_app(**store_options)``; the middleware must never reach for
    a worker thread with an async store."""
    def no_thread(*args, **kwargs):
        raise AssertionError("an async store ran in a worker thread")
    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    port = request.getfixturevalue("redis_port") if request.param == "redis" else None
    made = []

    def make(**store_options):
        app = AsyncSessionApp(request.param, port, **store_options)
        made.append(app)
        return app
    yield make
    for app in made:
        app.close()


def post(web, path):
    """(session content as the handler left it, Set-Cookie headers)."""
    response = web.post(path)
    assert response.status_code == 200
    return response.json(), response.headers.get_list("set-cookie")


CLEAR = "session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax"


def test_asgi_middleware_awaits_an_async_store(session_app):
    app = session_app()
    with TestClient(app.app) as web:  # one event loop for every request
        assert post(web, "/read") == ({}, [])  # nothing stored: no session, no cookie
        assert app.raw.keys("*") == []
        data, cookies = post(web, "/incr")
        sid = web.cookies.get("session")
        assert (data, cookies) == ({"n": 1}, [f"session={sid}; Path=/; HttpOnly; SameSite=Lax"])
        assert post(web, "/incr") == ({"n": 2}, [])  # same id: no new cookie
        assert app.witness.get(sid) == {"n": 2}
        assert post(web, "/beside") == ({"n": 100}, [])  # only its own field is written
        assert app.witness.get(sid) == {"n": 100, "other": "from elsewhere"}
        data, cookies = post(web, "/login")
        new_sid = web.cookies.get("session")
        assert new_sid != sid and cookies == [f"session={new_sid}; Path=/; HttpOnly; SameSite=Lax"]
        assert app.witness.get(sid) is None
        assert app.witness.get(new_sid) == {"n": 100, "other": "from elsewhere", "user": "alice"}
        assert post(web, "/destroy") == ({}, [CLEAR])
        assert app.raw.keys("*") == []


def test_asgi_middleware_with_an_async_store_expiry_and_bogus_cookies(session_app):
    app = session_app(ttl=0.3)
    with TestClient(app.app) as web:
        post(web, "/incr")
        app.advance(0.35)
        assert post(web, "/read") == ({}, [CLEAR])  # expired: a fresh session
        web.cookies.set("session", "not-an-id", domain="testserver.local")
        assert post(web, "/read") == ({}, [CLEAR])
        forged = forged_id()
        web.cookies.set("session", forged, domain="testserver.local")
        data, cookies = post(web, "/incr")
        assert data == {"n": 1} and forged not in cookies[0]  # never adopted
        assert app.witness.get(forged) is None


def test_session_cookie_and_wsgi_refuse_an_async_store():
    store = AsyncSessionStore()
    cookies = SessionCookie(store)
    assert cookies.asynchronous
    with pytest.raises(TypeError, match="aload"):
        cookies.load("")
    session = asyncio.run(cookies.aload(""))  # no cookie: the store is not asked
    session["n"] = 1
    with pytest.raises(TypeError, match="asave"):
        cookies.save(session)
    with pytest.raises(TypeError, match="WSGI"):
        WSGISessionMiddleware(lambda environ, start_response: [], store)
    asyncio.run(store.client.aclose())
