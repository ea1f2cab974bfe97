"""minikv.testing.patch_redis: redis-py clients built by the code under test
are minikv clients, shared per server address, and everything is back to
redis-py once the patch ends."""
import asyncio
import inspect
import threading

import pytest
import redis
from redis import Redis as RedisImportedBeforePatching
from redis import StrictRedis

import minikv
from minikv.patterns import Cache, SessionStore
from minikv.testing import PatchedRedis, RedisPatch, patch_redis


def is_stand_in(client):
    return isinstance(client, minikv.Redis) and isinstance(client, redis.Redis)


# -- which clients share a store ----------------------------------------------
def test_every_constructor_returns_a_stand_in():
    with patch_redis():
        clients = [
            redis.Redis(),
            redis.StrictRedis(),
            RedisImportedBeforePatching(),
            redis.Redis.from_url("redis://localhost:6379/0"),
            redis.from_url("redis://localhost"),
            redis.Redis(connection_pool=redis.ConnectionPool()),
            redis.Redis(connection_pool=redis.ConnectionPool.from_url("redis://localhost")),
            redis.Redis(connection_pool=redis.BlockingConnectionPool()),
            redis.Redis.from_pool(redis.ConnectionPool()),
        ]
        assert all(is_stand_in(client) for client in clients)
        assert all(isinstance(client, StrictRedis) for client in clients)
        clients[0].set("greeting", "hello")
        assert [client.get("greeting") for client in clients] == [b"hello"] * len(clients)
        assert len({id(client.store) for client in clients}) == 1


def test_loopback_names_are_one_server():
    with patch_redis():
        redis.Redis(host="localhost").set("k", "v")
        assert redis.Redis(host="127.0.0.1").get("k") == b"v"
        assert redis.Redis(host="::1").get("k") == b"v"
        assert redis.from_url("redis://LOCALHOST:6379").get("k") == b"v"


def test_different_servers_do_not_share():
    with patch_redis() as fake:
        redis.Redis(port=6379).set("k", "on 6379")
        redis.Redis(port=6380).set("k", "on 6380")
        redis.Redis(host="cache.internal").set("k", "elsewhere")
        assert redis.Redis(port=6379).get("k") == b"on 6379"
        assert redis.Redis(port=6380).get("k") == b"on 6380"
        assert redis.from_url("redis://cache.internal:6379").get("k") == b"elsewhere"
        assert redis.Redis(host="cache.internal", port=6380).get("k") is None
        assert fake.store(port=6379) is not fake.store(port=6380)


def test_db_selects_a_database_of_the_servers_store():
    with patch_redis():
        zero = redis.Redis(db=0)
        three = redis.Redis(db=3)
        assert zero.store is three.store
        three.set("k", "in db 3")
        assert zero.get("k") is None
        assert redis.from_url("redis://localhost/3").get("k") == b"in db 3"
        assert redis.from_url("redis://localhost?db=3").get("k") == b"in db 3"
        assert redis.from_url("redis://localhost", db=3).get("k") == b"in db 3"
        assert redis.Redis(connection_pool=redis.ConnectionPool(db=3)).get("k") == b"in db 3"
        # SELECT-like view from a client of db 0: MOVE is visible across.
        assert three.move("k", 0) is True
        assert zero.get("k") == b"in db 3"


def test_unix_sockets_are_servers_by_path(tmp_path):
    socket_path = str(tmp_path / "redis.sock")
    with patch_redis() as fake:
        redis.Redis(unix_socket_path=socket_path, db=1).set("k", "v")
        assert redis.from_url(f"unix://{socket_path}?db=1").get("k") == b"v"
        assert redis.Redis(unix_socket_path=str(tmp_path / "other.sock"), db=1).get("k") is None
        assert redis.Redis(db=1).get("k") is None
        assert fake.client(unix_socket_path=socket_path, db=1).get("k") == b"v"


def test_url_schemes_and_credentials_do_not_change_the_server():
    with patch_redis():
        redis.from_url("redis://localhost:6390/2").set("k", "v")
        assert redis.from_url("rediss://localhost:6390/2").get("k") == b"v"
        assert redis.from_url("redis://user:secret@localhost:6390/2").get("k") == b"v"


def test_connection_settings_are_honoured():
    with patch_redis():
        plain = redis.Redis()
        plain.set("word", "caf\u00e9".encode("latin-1"))
        assert redis.Redis(decode_responses=True, encoding="latin-1").get("word") == "caf\u00e9"
        assert redis.from_url("redis://localhost?decode_responses=True",
                              encoding="latin-1").get("word") == "caf\u00e9"
        pool = redis.ConnectionPool(decode_responses=True, encoding="latin-1")
        # As in redis-py, a pool's settings win over the client's arguments.
        assert redis.Redis(connection_pool=pool, decode_responses=False).get("word") == "caf\u00e9"
        assert plain.get("word") == b"caf\xe9"


def test_redis_py_argument_checks_apply():
    with patch_redis():
        with pytest.raises(TypeError, match="no_such_option"):
            redis.Redis(no_such_option=1)
        with pytest.raises(ValueError, match="Redis URL must specify one of"):
            redis.from_url("http://localhost")


def test_pool_and_client_introspection_matches_redis_py():
    with patch_redis():
        client = redis.Redis(host="127.0.0.1", port=6390, db=2)
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 2)
        assert client.get_connection_kwargs() is kwargs
        assert repr(client) == "<PatchedRedis (minikv stand-in) localhost:6390 db=2>"
        # type(client)(...) builds a sibling, as libraries that copy a
        # client's class and pool do (rq's scheduler and worker pool).
        sibling = type(client)(connection_pool=redis.ConnectionPool(**kwargs))
        client.set("k", "v")
        assert sibling.get("k") == b"v"
        single = client.client()
        assert is_stand_in(single) and single.get("k") == b"v"


def test_monitor_is_refused_rather_than_connecting():
    with patch_redis():
        with pytest.raises(NotImplementedError, match="MONITOR"):
            redis.Redis().monitor()


def test_redis_py_methods_minikv_lacks_run_through_minikv():
    with patch_redis():
        client = redis.Redis()
        # A redis-py command method that minikv's client does not define
        # still sends its command to the minikv engine.
        assert "hstrlen" not in vars(minikv.Redis)
        client.hset("h", "f", "four")
        assert client.hstrlen("h", "f") == 4


def test_subclasses_keep_their_methods():
    class AppRedis(redis.Redis):
        def __init__(self, *args, prefix="app:", **kwargs):
            super().__init__(*args, **kwargs)
            self.prefix = prefix

        def get(self, name):
            return super().get(self.prefix + name)

        def remember(self, name, value):
            return self.set(self.prefix + name, value)

    with patch_redis():
        client = AppRedis(db=1)
        assert isinstance(client, AppRedis) and is_stand_in(client)
        assert client.remember("user", "ada") is True
        assert client.get("user") == b"ada"
        assert redis.Redis(db=1).get("app:user") == b"ada"
        assert type(AppRedis()) is type(client)


def test_transactions_and_pipelines_run_on_the_stand_in():
    with patch_redis():
        client = redis.Redis()
        with client.pipeline() as pipe:
            pipe.set("n", 1).incr("n").get("n")
            assert pipe.execute() == [True, 2, b"2"]
        assert client.execute_command("MULTI") == b"OK"
        assert client.incr("n") == b"QUEUED"
        assert client.execute_command("EXEC") == [3]
        assert is_stand_in(client)


# -- the registry handle -------------------------------------------------------
def test_patch_handle_reaches_the_same_data():
    with patch_redis() as fake:
        assert isinstance(fake, RedisPatch)
        redis.Redis(db=2).set("k", "v")
        assert fake.client(db=2).get("k") == b"v"
        assert fake.client(db=2, decode_responses=True).get("k") == "v"
        assert fake.store() is fake.store(host="127.0.0.1", port=6379)
        assert fake.store() is redis.Redis().store


def test_store_factory_and_clock():
    shared = minikv.Store()
    with patch_redis(store_factory=lambda: shared):
        assert redis.Redis(port=1).store is shared
        assert redis.Redis(port=2).store is shared
    clock = minikv.ManualClock(start=1_700_000_000)
    with patch_redis(clock=clock) as fake:
        assert fake.store().clock is clock
    with pytest.raises(ValueError, match="store_factory or clock"):
        patch_redis(store_factory=minikv.Store, clock=clock)
    with patch_redis(store_factory=dict):
        with pytest.raises(TypeError, match="store_factory returned dict, not a minikv.Store"):
            redis.Redis()


# -- restoring -------------------------------------------------------------------
def test_redis_py_is_back_after_the_block(redis_port):
    with patch_redis():
        inside = redis.Redis(port=redis_port)
        inside.set("where", "minikv")
    outside = redis.Redis(port=redis_port)
    try:
        assert type(outside) is redis.client.Redis
        assert not isinstance(outside, minikv.Redis)
        outside.set("where", "real redis")
        assert outside.get("where") == b"real redis"
        # A client made inside keeps working on its in-process store.
        assert inside.get("where") == b"minikv"
    finally:
        outside.close()


def test_restored_after_an_exception():
    with pytest.raises(KeyError):
        with patch_redis():
            redis.Redis()
            raise KeyError("boom")
    assert type(redis.Redis()) is redis.client.Redis
    assert type(redis.from_url("redis://localhost")) is redis.client.Redis


def test_stand_in_classes_refuse_construction_without_a_patch():
    with patch_redis():
        stand_in_class = type(redis.Redis())
    with pytest.raises(RuntimeError, match="only while patch_redis\\(\\) is active"):
        stand_in_class()
    with pytest.raises(RuntimeError, match="only while patch_redis\\(\\) is active"):
        PatchedRedis()


def test_clients_built_before_the_patch_stay_real(redis_port, real_redis):
    real_redis.set("k", "real")
    with patch_redis():
        assert real_redis.get("k") == b"real"
        with real_redis.pipeline() as pipe:
            assert type(pipe) is redis.client.Pipeline
            assert pipe.get("k").execute() == [b"real"]
        assert redis.Redis(port=redis_port).get("k") is None


def test_nesting():
    with patch_redis() as outer:
        redis.Redis().set("k", "outer")
        with patch_redis() as inner:
            assert redis.Redis().get("k") is None
            redis.Redis().set("k", "inner")
            assert inner.client().get("k") == b"inner"
        assert redis.Redis().get("k") == b"outer"
        assert outer.client().get("k") == b"outer"
    assert type(redis.Redis()) is redis.client.Redis


def test_an_active_patch_cannot_be_entered_again():
    patch = patch_redis()
    with patch:
        with pytest.raises(RuntimeError, match="already active"):
            patch.__enter__()
    with patch:  # sequential reuse is fine, and starts with no servers
        assert redis.Redis().get("k") is None


def test_each_activation_starts_with_fresh_servers():
    patch = patch_redis()
    with patch:
        redis.Redis().set("k", "first")
    assert patch.client().get("k") == b"first"  # still inspectable after exit
    with patch:
        assert redis.Redis().get("k") is None


# -- decorator -------------------------------------------------------------------
@patch_redis()
def count_visits(times):
    client = redis.Redis()
    for _ in range(times):
        client.incr("visits")
    return int(client.get("visits")), isinstance(client, minikv.Redis)


def test_decorating_a_function():
    assert count_visits(3) == (3, True)
    assert count_visits(2) == (2, True)  # a fresh server per call
    assert type(redis.Redis()) is redis.client.Redis
    assert count_visits.__name__ == "count_visits"


def test_decorating_a_coroutine_function():
    @patch_redis()
    async def handler(key):
        client = redis.Redis()
        client.set(key, "v")
        await asyncio.sleep(0)  # still patched after a suspension
        return is_stand_in(redis.Redis()), redis.Redis().get(key)

    assert inspect.iscoroutinefunction(handler)
    assert asyncio.run(handler("k")) == (True, b"v")
    assert type(redis.Redis()) is redis.client.Redis


def test_decorated_function_raising_restores():
    @patch_redis()
    def fails():
        redis.Redis().set("k", "v")
        raise LookupError("inner")

    with pytest.raises(LookupError, match="inner"):
        fails()
    assert type(redis.Redis()) is redis.client.Redis


def test_decorated_function_settings_apply_per_call():
    clock = minikv.ManualClock(start=1_700_000_000)

    @patch_redis(clock=clock)
    def ttl_after(seconds):
        client = redis.Redis()
        client.set("k", "v", ex=10)
        clock.advance(seconds)
        return client.get("k")

    assert ttl_after(10) == b"v"  # a key expires once the time is past its TTL
    assert ttl_after(10.001) is None


# -- threads -----------------------------------------------------------------------
def test_threads_share_the_servers_of_the_active_patch():
    workers, increments = 8, 200
    start = threading.Barrier(workers)
    errors = []

    def work(index):
        try:
            start.wait(timeout=30)
            client = redis.Redis(db=index % 2)
            for _ in range(increments):
                client.incr("counter")
        except Exception as exc:  # reported below: a thread's exception is lost otherwise
            errors.append(exc)

    with patch_redis() as fake:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert [fake.client(db=db).get("counter") for db in (0, 1)] == [b"800", b"800"]


def test_concurrent_first_use_creates_one_store_per_address():
    workers = 16
    start = threading.Barrier(workers)
    stores = []

    def connect():
        start.wait(timeout=30)
        stores.append(redis.Redis(port=7001).store)

    with patch_redis():
        threads = [threading.Thread(target=connect) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(stores) == workers
    assert len({id(store) for store in stores}) == 1


# -- time travel ---------------------------------------------------------------------
@pytest.fixture
def travel():
    clock = minikv.ManualClock(start=1_700_000_000)
    with patch_redis(clock=clock):
        yield clock


def test_time_travel_expires_keys(travel):
    client = redis.Redis()
    client.set("session", "s", ex=60)
    client.set("lease", "l", px=1500)
    travel.advance(1.501)
    assert client.get("lease") is None
    assert client.ttl("session") == 58
    travel.advance(58.499)
    assert client.get("session") == b"s"  # expired once the time is past the TTL
    travel.advance(0.001)
    assert client.get("session") is None
    assert client.time() == (1_700_000_060, 1000)


def test_time_travel_ages_sessions(travel):
    sessions = SessionStore(redis.Redis(), ttl=600, sliding=False)
    sid = sessions.create({"user": "ada"})
    travel.advance(599)
    assert sessions.get(sid) == {"user": "ada"}
    travel.advance(1.001)
    assert sessions.get(sid) is None


def test_time_travel_ages_cache_entries(travel):
    cache = Cache(redis.Redis(), ttl=30)
    calls = []

    def load():
        calls.append(1)
        return {"price": len(calls)}

    assert cache.get_or_set("item", load) == {"price": 1}
    travel.advance(29)
    assert cache.get_or_set("item", load) == {"price": 1}
    travel.advance(1.001)
    assert cache.get_or_set("item", load) == {"price": 2}


def test_the_stand_ins_class_parses_urls_as_redis_py():
    with patch_redis():
        client = redis.Redis()
        sibling = type(client).from_url("redis://127.0.0.1:6390/1", decode_responses=True)
        redis.Redis(port=6390, db=1).set("k", "v")
        assert sibling.get("k") == "v"


# -- redis.asyncio -------------------------------------------------------------------
def test_async_constructors_return_stand_ins():
    import redis.asyncio

    import minikv.asyncio

    async def main():
        with patch_redis() as fake:
            clients = [
                redis.asyncio.Redis(),
                redis.asyncio.StrictRedis(host="127.0.0.1"),
                redis.asyncio.from_url("redis://localhost:6379/0"),
                redis.asyncio.Redis.from_url("redis://localhost?db=0"),
                redis.asyncio.Redis(connection_pool=redis.asyncio.ConnectionPool()),
                redis.asyncio.Redis.from_pool(
                    redis.asyncio.ConnectionPool.from_url("redis://localhost")),
                await redis.asyncio.Redis(),
            ]
            assert all(isinstance(client, redis.asyncio.Redis) for client in clients)
            assert all(isinstance(client, minikv.asyncio.Redis) for client in clients)
            redis.Redis().set("k", "from sync")  # one server for both APIs
            assert [await client.get("k") for client in clients] == [b"from sync"] * len(clients)
            assert {id(client.store) for client in clients} == {id(fake.store())}
            other = redis.asyncio.Redis(port=6380, db=2, decode_responses=True)
            assert await other.get("k") is None
            await other.set("k", "elsewhere")
            assert fake.client(port=6380, db=2).get("k") == b"elsewhere"
            assert await redis.asyncio.from_url("redis://localhost:6380/2").get("k") == b"elsewhere"
            assert repr(other) == "<PatchedAsyncRedis (minikv stand-in) localhost:6380 db=2>"
            async with redis.asyncio.Redis() as client:
                async with client.pipeline() as pipe:
                    pipe.incr("n").incr("n")
                    assert await pipe.execute() == [1, 2]
            await clients[0].aclose()
        return type(redis.asyncio.Redis())

    assert asyncio.run(main()) is redis.asyncio.client.Redis


def test_async_argument_checks_are_redis_py_s():
    import redis.asyncio

    with patch_redis():
        with pytest.raises(TypeError):
            redis.asyncio.Redis("localhost")  # keyword-only in redis.asyncio


def test_async_blocking_pop_is_woken_by_a_sync_push_in_a_thread():
    import redis.asyncio

    async def main():
        with patch_redis():
            consumer = redis.asyncio.Redis()
            pusher = threading.Thread(target=lambda: redis.Redis().rpush("jobs", "job-1"))
            waiting = asyncio.create_task(consumer.blpop("jobs", timeout=30))
            await asyncio.sleep(0)
            pusher.start()
            reply = await asyncio.wait_for(waiting, 30)
            pusher.join(30)
            return reply

    assert asyncio.run(main()) == (b"jobs", b"job-1")


def test_decorated_coroutine_patches_redis_asyncio():
    import redis.asyncio

    clock = minikv.ManualClock(start=1_700_000_000)

    @patch_redis(clock=clock)
    async def handler():
        client = redis.asyncio.Redis(decode_responses=True)
        await client.set("token", "t", ex=5)
        clock.advance(5.001)
        return await client.get("token"), await client.exists("token")

    assert asyncio.run(handler()) == (None, 0)


def test_time_travel_ages_rate_limit_windows(travel):
    from minikv.patterns.ratelimit import RateLimiter
    for algorithm in ("gcra", "sliding_window"):
        limiter = RateLimiter(redis.Redis(), limit=2, period=10, algorithm=algorithm,
                              prefix=f"{algorithm}:")
        assert [limiter.hit("client-ip").allowed for _ in range(3)] == [True, True, False]
        denied = limiter.hit("client-ip")
        assert not denied.allowed and denied.retry_after > 0
        travel.advance(denied.retry_after)
        assert limiter.hit("client-ip").allowed
