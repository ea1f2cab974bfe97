"""minikv.asyncio.Redis against redis.asyncio.Redis on a real redis-server.

The ``ar``/``ard`` tests run one body on both clients (see
tests/asyncio_support.py): a sample of every command family, errors,
decode_responses, pipelines and transactions. The minikv-only tests cover
what has no server-side twin: construction, store sharing with the sync
client, the generated methods' signatures, closing.
"""
import asyncio
import inspect
import warnings

import pytest
import redis.asyncio
from asyncio_support import sync_twin
from helpers import raises
from redis.exceptions import DataError, NoScriptError, ResponseError, WatchError

import minikv
import minikv.asyncio

pytest_plugins = ["asyncio_fixtures"]  # the ar, ard and another fixtures

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


# -- command families (differential) ---------------------------------------------
@pytest.mark.asyncio
async def test_strings(ar):
    assert await ar.set("k", "v") is True
    assert await ar.get("k") == b"v"
    assert await ar.set("k", "w", nx=True) is None
    assert await ar.set("k", "w", get=True) == b"v"
    assert await ar.append("k", "xyz") == 4
    assert await ar.getrange("k", 1, 2) == b"xy"
    assert await ar.incr("n") == 1
    assert await ar.incrby("n", 41) == 42
    assert await ar.incrbyfloat("n", 0.5) == 42.5
    assert await ar.mset({"a": 1, "b": 2}) is True
    assert await ar.mget("a", "b", "missing") == [b"1", b"2", None]
    assert await ar.getdel("a") == b"1"
    assert await ar.strlen("k") == 4
    with raises(ResponseError, "value is not an integer or out of range"):
        await ar.incr("k")
    with raises(DataError, "Invalid input of type: 'NoneType'. "
                           "Convert to a bytes, string, int or float first."):
        await ar.set("k", None)


@pytest.mark.asyncio
async def test_keys(ar):
    await ar.set("a", 1)
    await ar.set("b", 2, ex=100)
    await ar.rpush("l", "x")
    assert await ar.exists("a", "b", "nope") == 2
    assert await ar.type("l") == b"list"
    assert await ar.ttl("b") == 100
    assert await ar.expire("a", 50) is True
    assert await ar.persist("a") is True
    assert await ar.ttl("a") == -1
    assert await ar.rename("a", "c") is True
    assert sorted(await ar.keys("*")) == [b"b", b"c", b"l"]
    assert sorted([key async for key in ar.scan_iter(match="[bc]")]) == [b"b", b"c"]
    assert await ar.delete("b", "c") == 2
    assert await ar.dbsize() == 1
    with raises(ResponseError, "no such key"):
        await ar.rename("nope", "x")


@pytest.mark.asyncio
async def test_hashes(ar):
    assert await ar.hset("h", mapping={"f": "1", "g": "2"}) == 2
    assert await ar.hget("h", "f") == b"1"
    assert await ar.hgetall("h") == {b"f": b"1", b"g": b"2"}
    assert await ar.hincrby("h", "f", 9) == 10
    assert await ar.hmget("h", ["f", "nope"]) == [b"10", None]
    assert sorted([pair async for pair in ar.hscan_iter("h")]) == [(b"f", b"10"),
                                                                  (b"g", b"2")]
    assert await ar.hdel("h", "g", "nope") == 1
    await ar.set("s", "x")
    with raises(ResponseError, WRONGTYPE):
        await ar.hget("s", "f")


@pytest.mark.asyncio
async def test_lists(ar):
    assert await ar.rpush("l", "a", "b", "c", "d") == 4
    assert await ar.lpush("l", "z") == 5
    assert await ar.lrange("l", 0, -1) == [b"z", b"a", b"b", b"c", b"d"]
    assert await ar.lpop("l") == b"z"
    assert await ar.rpop("l", 2) == [b"d", b"c"]
    assert await ar.lpos("l", "b") == 1
    assert await ar.lmove("l", "m", "LEFT", "RIGHT") == b"a"
    assert await ar.llen("l") == 1
    assert await ar.lmpop(2, "nope", "m", direction="LEFT") == [b"m", [b"a"]]


@pytest.mark.asyncio
async def test_sets(ar):
    assert await ar.sadd("s", "a", "b", "c") == 3
    assert await ar.sadd("t", "b", "c", "d") == 3
    assert await ar.smembers("s") == {b"a", b"b", b"c"}
    assert await ar.sinter("s", "t") == {b"b", b"c"}
    assert await ar.sismember("s", "a") == 1
    assert await ar.smismember("s", ["a", "x"]) == [1, 0]
    assert sorted([member async for member in ar.sscan_iter("s")]) == [b"a", b"b", b"c"]
    assert await ar.srem("s", "a") == 1
    assert await ar.scard("s") == 2


@pytest.mark.asyncio
async def test_sorted_sets(ar):
    assert await ar.zadd("z", {"a": 1, "b": 2, "c": 3.5}) == 3
    assert await ar.zrange("z", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.0),
                                                            (b"c", 3.5)]
    assert await ar.zincrby("z", 2, "a") == 3.0
    assert await ar.zrank("z", "a") == 1
    assert await ar.zscore("z", "c") == 3.5
    assert await ar.zpopmin("z") == [(b"b", 2.0)]
    assert await ar.zrevrange("z", 0, 0) == [b"c"]
    assert sorted([pair async for pair in ar.zscan_iter("z")]) == [(b"a", 3.0), (b"c", 3.5)]
    with raises(DataError, "ZADD requires at least one element/score pair"):
        await ar.zadd("z", {})


@pytest.mark.asyncio
async def test_scripting(ar):
    script = "redis.call('set', KEYS[1], ARGV[1]) return redis.call('incr', KEYS[1])"
    assert await ar.eval(script, 1, "n", 41) == 42
    sha = await ar.script_load(script)
    assert await ar.evalsha(sha, 1, "n", 1) == 2
    assert await ar.script_exists(sha) == [True]
    with raises(NoScriptError, "No matching script. Please use EVAL."):
        await ar.evalsha("0" * 40, 0)
    registered = ar.register_script("return {KEYS[1], ARGV[1]}")
    assert await registered(keys=["k"], args=["a"]) == [b"k", b"a"]
    await ar.script_flush()
    assert await registered(keys=["k"], args=["b"]) == [b"k", b"b"]  # reloaded


@pytest.mark.asyncio
async def test_server(ar):
    assert await ar.ping() is True
    assert await ar.echo("hi") == b"hi"
    await ar.set("k", "v")
    assert await ar.dbsize() == 1
    assert (await ar.info("keyspace"))["db0"]["keys"] == 1
    seconds, micros = await ar.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000
    assert await ar.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert await ar.flushdb() is True
    assert await ar.dbsize() == 0


@pytest.mark.asyncio
async def test_execute_command(ar):
    assert await ar.execute_command("SET", "k", "v") is True
    assert await ar.execute_command("GET", "k") == b"v"
    assert await ar.execute_command("HSET", "h", "f", "v") == 1
    assert await ar.execute_command("HGETALL", "h") == {b"f": b"v"}
    with raises(ResponseError, "unknown command 'NOPE', with args beginning with: 'x' "):
        await ar.execute_command("NOPE", "x")


@pytest.mark.asyncio
async def test_decode_responses(ard):
    await ard.set("k", "é")
    assert await ard.get("k") == "é"
    await ard.hset("h", "f", "v")
    assert await ard.hgetall("h") == {"f": "v"}
    await ard.rpush("l", "a")
    assert await ard.blpop("l", 1) == ("l", "a")
    await ard.zadd("z", {"m": 1})
    assert await ard.bzpopmin("z", 1) == ("z", "m", 1.0)
    assert sorted([key async for key in ard.scan_iter()]) == ["h", "k"]


@pytest.mark.asyncio
async def test_select_another_database(ar):
    await ar.set("k", "db0")
    assert await ar.execute_command("SELECT", 3) is True
    assert await ar.get("k") is None
    await ar.set("k", "db3")
    assert await ar.execute_command("SELECT", 0) is True
    assert await ar.get("k") == b"db0"


@pytest.mark.asyncio
async def test_await_client_and_context_manager(ar):
    assert await ar is ar
    async with ar as client:
        assert client is ar
        assert await client.ping() is True


# -- pipelines and transactions (differential) -------------------------------------
@pytest.mark.asyncio
async def test_transaction_pipeline(ar):
    async with ar.pipeline() as pipe:
        assert pipe.set("a", 1) is pipe  # queued at once, chainable
        pipe.incr("a").get("a").hset("h", "f", "v").hgetall("h")
        assert len(pipe) == 5
        assert await pipe.execute() == [True, 2, b"2", 1, {b"f": b"v"}]
        assert len(pipe) == 0
    assert await ar.get("a") == b"2"


@pytest.mark.asyncio
async def test_pipeline_errors(ar):
    await ar.set("s", "x")
    pipe = ar.pipeline(transaction=False)
    pipe.set("a", 1).lpush("s", "y").get("a")
    result = await pipe.execute(raise_on_error=False)
    assert result[0] is True and result[2] == b"1"
    assert isinstance(result[1], ResponseError)
    assert str(result[1]) == WRONGTYPE  # annotated only when raised
    # redis.asyncio quotes the exception's args tuple (redis-py's sync
    # pipeline quotes the message): minikv.asyncio says it the same way.
    annotated = f"Command # 2 (LPUSH s y) of pipeline caused error: ('{WRONGTYPE}',)"
    pipe.set("a", 2).lpush("s", "y")
    with raises(ResponseError, annotated):
        await pipe.execute()
    assert await ar.get("a") == b"2"
    async with ar.pipeline() as pipe:
        pipe.set("b", 1).lpush("s", "y")
        with raises(ResponseError, annotated):
            await pipe.execute()
    assert await ar.get("b") == b"1"  # EXEC ran the rest
    async with ar.pipeline() as pipe:
        pipe.set("c", 1).execute_command("LPUSH", "s")  # refused while queueing
        with raises(ResponseError, "Command # 2 (LPUSH s) of pipeline caused error: "
                                   "(\"wrong number of arguments for 'lpush' command\",)"):
            await pipe.execute()
    assert await ar.get("c") is None  # EXECABORT: nothing ran


@pytest.mark.asyncio
async def test_watch_multi_and_watch_error(ar, another):
    other = another()
    await ar.set("balance", 10)
    async with ar.pipeline() as pipe:
        assert await pipe.watch("balance") is True
        balance = await pipe.get("balance")  # immediate after WATCH: awaited for its value
        assert balance == b"10"
        pipe.multi()
        assert pipe.set("balance", int(balance) + 5) is pipe
        assert await pipe.execute() == [True]
    async with ar.pipeline() as pipe:
        await pipe.watch("balance")
        await other.set("balance", 0)  # another connection changes it
        pipe.multi()
        pipe.incr("balance")
        with raises(WatchError, "Watched variable changed."):
            await pipe.execute()
    assert await ar.get("balance") == b"0"


@pytest.mark.asyncio
async def test_transaction_helper(ar, another):
    other = another()
    await ar.set("n", 1)
    attempts = []

    async def double(pipe):
        value = int(await pipe.get("n"))
        if not attempts:  # the first attempt is spoiled by another client
            await other.set("n", 5)
        attempts.append(value)
        pipe.multi()
        pipe.set("n", value * 2)
        return value

    assert await ar.transaction(double, "n") == [True]
    assert attempts == [1, 5]
    assert await ar.get("n") == b"10"

    def plain(pipe):
        pipe.multi()
        pipe.incr("n")
        return "done"

    assert await ar.transaction(plain, "n", value_from_callable=True) == "done"
    assert await ar.get("n") == b"11"


@pytest.mark.asyncio
async def test_pipeline_with_scripts(ar):
    script = ar.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    await ar.script_flush()
    async with ar.pipeline() as pipe:
        await script(keys=["n"], args=[3], client=pipe)  # queued; loaded by execute
        pipe.get("n")
        assert await pipe.execute() == [3, b"3"]


@pytest.mark.asyncio
async def test_blocking_command_in_transaction_does_not_block(ar):
    async with ar.pipeline() as pipe:
        pipe.blpop("nothing", 0).brpoplpush("nothing", "x", 0).bzpopmin("nothing", 0)
        assert await pipe.execute() == [None, None, None]


# -- minikv only -----------------------------------------------------------------------
@pytest.mark.asyncio
async def test_store_shared_both_ways():
    sync = minikv.Redis()
    from_sync = minikv.asyncio.Redis(store=sync.store)
    await from_sync.set("k", "async")
    assert sync.get("k") == b"async"
    sync_again = minikv.Redis(store=from_sync.store, db=2)
    sync_again.set("k", "db2")
    assert await minikv.asyncio.Redis(store=sync.store, db=2).get("k") == b"db2"
    assert from_sync.store is sync.store is sync_again.store
    sync.close()


@pytest.mark.asyncio
async def test_constructor_takes_the_sync_clients_arguments():
    clock = minikv.ManualClock(start=1_000_000)
    client = minikv.asyncio.Redis("somehost", 6380, db=1, decode_responses=True, clock=clock,
                                  maxmemory="1mb", maxmemory_policy="allkeys-lru",
                                  socket_timeout=5, retry_on_timeout=True,
                                  auto_close_connection_pool=True)
    assert client.store.clock is clock
    assert await client.config_get("maxmemory") == {"maxmemory": "1048576"}
    assert await client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    await client.set("k", "v", ex=10)
    clock.advance(11)
    assert await client.get("k") is None
    with pytest.raises(TypeError):
        minikv.asyncio.Redis(no_such_argument=1)
    url_client = minikv.asyncio.Redis.from_url("redis://localhost:6379/4?decode_responses=1")
    assert isinstance(url_client, minikv.asyncio.Redis)
    await url_client.set("k", "v")
    assert await url_client.get("k") == "v"
    assert minikv.Redis(store=url_client.store, db=4).get("k") == b"v"


def test_every_command_method_is_a_coroutine_with_the_sync_signature():
    generated = [name for name in dir(minikv.Redis)
                 if not name.startswith("_") and callable(getattr(minikv.Redis, name))
                 and name not in ("from_url", "pipeline", "pubsub", "lock", "register_script",
                                  "get_encoder", "set_response_callback", "close",
                                  "execute_command", "transaction")]
    assert len(generated) > 150
    for name in generated:
        method = getattr(minikv.asyncio.Redis, name)
        if name.endswith("_iter"):
            assert inspect.isasyncgenfunction(method), name
        else:
            assert inspect.iscoroutinefunction(method), name
        sync_method = getattr(minikv.Redis, name)
        assert method.__wrapped__ is sync_method
        assert method.__doc__ == sync_method.__doc__
    assert str(inspect.signature(minikv.asyncio.Redis.blmove)) == \
        "(self, first_list, second_list, timeout, src='LEFT', dest='RIGHT')"
    for name in ("get", "set", "blpop", "bzmpop", "hset", "zadd", "eval", "publish"):
        assert hasattr(redis.asyncio.Redis, name)


@pytest.mark.asyncio
async def test_close_is_a_deprecated_alias_of_aclose():
    client = minikv.asyncio.Redis()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await client.close()
    assert [w.category for w in caught] == [DeprecationWarning]
    assert "Use aclose() instead" in str(caught[0].message)


@pytest.mark.asyncio
async def test_raw_multi_on_the_async_client_answers_as_the_sync_client():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis()
    for args in (("MULTI",), ("SET", "k", "v"), ("GET", "k"), ("EXEC",)):
        assert await client.execute_command(*args) == sync.execute_command(*args)
    assert await client.execute_command("MULTI") == sync.execute_command("MULTI")
    assert await client.set("k", "w") == sync.set("k", "w")  # queued
    assert await client.execute_command("EXEC") == sync.execute_command("EXEC")
    assert await client.get("k") == sync.get("k") == b"w"


@pytest.mark.asyncio
async def test_lock_is_redis_pys_asyncio_lock():
    from redis.asyncio.lock import Lock

    client = minikv.asyncio.Redis()
    other = minikv.asyncio.Redis(store=client.store)
    lock = client.lock("resource", timeout=10)
    assert isinstance(lock, Lock)
    assert await lock.acquire() is True
    assert await other.lock("resource", blocking=False).acquire() is False
    assert await lock.extend(5) is True
    await lock.release()
    async with other.lock("resource", blocking_timeout=1) as held:
        assert await held.locked() is True
    assert await client.exists("resource") == 0


@pytest.mark.asyncio
async def test_commands_run_inline_without_a_thread():
    client = minikv.asyncio.Redis()
    loop = asyncio.get_running_loop()
    calls = []
    original = loop.run_in_executor

    def spy(*args):
        calls.append(args)
        return original(*args)

    loop.run_in_executor = spy
    try:
        await client.set("k", "v")
        await client.get("k")
        await client.blpop("nothing", 0.01)
    finally:
        del loop.run_in_executor
    assert calls == []
    assert sync_twin(client).get("k") == b"v"
