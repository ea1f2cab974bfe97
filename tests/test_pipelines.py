"""``r.pipeline()`` and ``r.transaction()``, differential: every ``r`` test
runs on minikv and on real Redis 7.0 through redis-py's own Pipeline.

Engine semantics (what WATCH notices, queueing errors, EXEC replies) are
covered command by command in test_transactions.py; here it is the client
API: queueing, chaining, reply shapes, errors and their annotations,
immediate mode after WATCH, retries, and that every client method queues.
"""
import datetime
import threading

import pytest
from helpers import kind, queued_beside_redis_py, raises
from redis.exceptions import (
    DataError, ExecAbortError, RedisError, ResponseError, WatchError,
)

import minikv
from minikv._pyclient import FastPaths
from minikv.pipeline import Pipeline, RoutedCommands

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"


def second_client(r, client_factory, **kwargs):
    """Another connection to the same data (build it before writing data)."""
    if kind(r) == "minikv":
        return client_factory("minikv", store=r.store, **kwargs)
    return client_factory("redis", **kwargs)


# -- queueing, chaining, reply shapes --------------------------------------------
@pytest.mark.parametrize("transaction", [True, False])
def test_commands_queue_and_chain(r, transaction):
    pipe = r.pipeline(transaction=transaction)
    assert pipe.set("a", 1) is pipe
    pipe.incr("a").get("a").hset("h", "f", "v").hgetall("h").expire("a", 100).ttl("a")
    pipe.sadd("s", "x").smembers("s").zadd("z", {"m": 1.5}).zscore("z", "m")
    pipe.incrbyfloat("f", 0.5).exists("a").delete("nope").mget([]).lpush("l", "e")
    assert len(pipe) == 16 and bool(pipe) is True
    assert r.get("a") is None  # nothing ran yet
    assert pipe.execute() == [True, 2, b"2", 1, {b"f": b"v"}, True, 100, 1, {b"x"}, 1, 1.5,
                              0.5, 1, 0, [], 1]
    assert len(pipe) == 0
    assert pipe.execute() == []


def test_replies_are_decoded_with_decode_responses(rd):
    with rd.pipeline() as pipe:
        pipe.set("k", "v").get("k").hset("h", "f", "v").hgetall("h").zadd("z", {"m": 2})
        pipe.zrange("z", 0, -1, withscores=True)
        assert pipe.execute() == [True, "v", 1, {"f": "v"}, 1, [("m", 2.0)]]


def test_every_hot_path_method_queues(r):
    pipe = r.pipeline()
    pipe.set("k", "v").get("k").incr("n").incrby("n", 2).delete("x").exists("k")
    pipe.expire("k", 50).ttl("k").hset("h", "f", "v").hget("h", "f")
    pipe.lpush("l", "a", "b").rpush("l", "c").lpop("l").rpop("l").llen("l")
    pipe.sadd("s", "a").srem("s", "b").sismember("s", "a")
    pipe.zadd("z", {"a": 1}).zincrby("z", 2, "a").zscore("z", "a").zcard("z")
    pipe.zrank("z", "a").zrevrank("z", "a").zrange("z", 0, -1).zrevrange("z", 0, -1)
    assert r.keys() == []
    assert pipe.execute() == [True, b"v", 1, 3, 0, 1, True, 50, 1, b"v", 2, 3, b"b", b"c", 1,
                              1, 0, 1, 1, 3.0, 3.0, 1, 0, 0, [b"a"], [b"a"]]


def test_context_manager_resets(r):
    with r.pipeline() as pipe:
        pipe.set("k", "v")
    assert len(pipe) == 0
    assert pipe.execute() == []
    assert r.get("k") is None


def test_reset_drops_the_queue(r):
    pipe = r.pipeline()
    pipe.set("k", "v")
    pipe.reset()
    assert pipe.execute() == []
    assert r.get("k") is None


def test_pipeline_uses_the_clients_database(r, client_factory):
    db2 = client_factory(kind(r), **({"store": r.store} if kind(r) == "minikv" else {}), db=2)
    assert db2.pipeline().set("k", "two").get("k").execute() == [True, b"two"]
    assert r.get("k") is None
    assert db2.get("k") == b"two"


def test_encoding_errors_surface_from_execute(r):
    pipe = r.pipeline()
    pipe.set("a", 1).set("b", [1, 2])
    with raises(DataError, "Invalid input of type: 'list'. Convert to a bytes, string, "
                           "int or float first."):
        pipe.execute()
    assert r.get("a") is None
    assert len(pipe) == 0


def test_client_side_argument_errors_are_immediate(r):
    pipe = r.pipeline()
    with raises(DataError, "``ex``, ``px``, ``exat``, ``pxat``, and ``keepttl`` are "
                           "mutually exclusive."):
        pipe.set("k", "v", ex=1, px=1)
    with raises(DataError, "ZADD allows either 'nx' or 'xx', not both"):
        pipe.zadd("z", {"a": 1}, nx=True, xx=True)
    with raises(DataError, "'hset' with no key value pairs"):
        pipe.hset("h")
    assert len(pipe) == 0


# -- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("transaction", [True, False])
def test_runtime_error_is_raised_after_everything_ran(r, transaction):
    r.set("s", "text")
    pipe = r.pipeline(transaction=transaction)
    pipe.set("a", 1).incr("s").lpush("s", "x").set("b", 2)
    with raises(ResponseError, "Command # 2 (INCRBY s 1) of pipeline caused error: "
                               + NOT_INTEGER):
        pipe.execute()
    assert (r.get("a"), r.get("b"), r.get("s")) == (b"1", b"2", b"text")


@pytest.mark.parametrize("transaction", [True, False])
def test_runtime_errors_returned_in_place(r, transaction):
    r.set("s", "text")
    pipe = r.pipeline(transaction=transaction)
    replies = pipe.set("a", 1).incr("s").lpush("s", "x").get("a").execute(raise_on_error=False)
    assert replies[0] is True and replies[3] == b"1"
    assert isinstance(replies[1], ResponseError) and str(replies[1]) == NOT_INTEGER
    assert isinstance(replies[2], ResponseError) and str(replies[2]) == WRONGTYPE


@pytest.mark.parametrize("raise_on_error", [True, False])
def test_queueing_error_aborts_the_transaction(r, raise_on_error):
    pipe = r.pipeline()
    pipe.set("a", 1).execute_command("NOSUCH", "x").get("a").execute_command("GET")
    with raises(ResponseError, "Command # 2 (NOSUCH x) of pipeline caused error: unknown "
                               "command 'NOSUCH', with args beginning with: 'x' "):
        pipe.execute(raise_on_error=raise_on_error)
    assert r.get("a") is None
    assert len(pipe) == 0


def test_queueing_errors_do_not_abort_a_plain_pipeline(r):
    pipe = r.pipeline(transaction=False)
    pipe.set("a", 1).execute_command("NOSUCH", "x").get("a")
    replies = pipe.execute(raise_on_error=False)
    assert replies[0] is True and replies[2] == b"1"
    assert str(replies[1]) == "unknown command 'NOSUCH', with args beginning with: 'x' "


def test_long_commands_are_shortened_in_the_annotation(r):
    r.set("s", "text")
    pipe = r.pipeline()
    pipe.execute_command("SETRANGE", "s", "not-an-offset", "v" * 200)
    with raises(ResponseError, "Command # 1 (SETRANGE s not-an-offset...) of pipeline "
                               "caused error: " + NOT_INTEGER):
        pipe.execute()


def test_exec_abort_without_an_error_reply_of_ours(r):
    """A DISCARD queued after MULTI ends the transaction early: EXEC then has
    no MULTI, and that error is raised as is."""
    pipe = r.pipeline()
    pipe.set("a", 1).execute_command("DISCARD").set("b", 2)
    with raises(ResponseError, "EXEC without MULTI"):
        pipe.execute()
    # Redis ran SET b after the DISCARD as a plain command.
    assert (r.get("a"), r.get("b")) == (None, b"2")


# -- WATCH, MULTI, immediate mode ------------------------------------------------------
def test_watch_then_multi(r):
    r.set("balance", 10)
    with r.pipeline() as pipe:
        assert pipe.watch("balance") is True
        balance = int(pipe.get("balance"))  # immediate mode: a value, not the pipeline
        pipe.multi()
        assert pipe.set("balance", balance - 3) is pipe
        assert pipe.execute() == [True]
    assert r.get("balance") == b"7"


def test_watched_key_changed_by_another_client(r, client_factory):
    other = second_client(r, client_factory)
    r.set("balance", 10)
    with r.pipeline() as pipe:
        pipe.watch("balance")
        balance = int(pipe.get("balance"))
        other.set("balance", 100)
        pipe.multi()
        pipe.set("balance", balance - 3)
        with raises(WatchError, "Watched variable changed."):
            pipe.execute()
    assert r.get("balance") == b"100"


def test_watched_key_changed_by_the_pipeline_itself(r):
    with r.pipeline() as pipe:
        pipe.watch("k")
        pipe.set("k", 1)  # immediate
        pipe.multi()
        pipe.get("k")
        with raises(WatchError, "Watched variable changed."):
            pipe.execute()
    assert r.get("k") == b"1"


def test_watching_with_nothing_queued_executes_an_empty_transaction(r, client_factory):
    other = second_client(r, client_factory)
    pipe = r.pipeline()
    pipe.watch("k")
    assert pipe.execute() == []
    pipe.watch("k")
    other.set("k", 1)
    with raises(WatchError, "Watched variable changed."):
        pipe.execute()


def test_unwatch_and_reset_drop_the_watches(r, client_factory):
    other = second_client(r, client_factory)
    pipe = r.pipeline()
    assert pipe.unwatch() is True  # not watching: nothing sent
    pipe.watch("k")
    assert pipe.unwatch() is True
    other.set("k", 1)
    pipe.multi()
    pipe.get("k")
    assert pipe.execute() == [b"1"]
    pipe.watch("k")
    pipe.reset()
    other.set("k", 2)
    assert pipe.set("k", 3).execute() == [True]


def test_multi_and_watch_misuse(r):
    pipe = r.pipeline()
    pipe.multi()
    with raises(RedisError, "Cannot issue nested calls to MULTI"):
        pipe.multi()
    with raises(RedisError, "Cannot issue a WATCH after a MULTI"):
        pipe.watch("k")
    pipe.reset()
    pipe.set("k", 1)
    with raises(RedisError, "Commands without an initial WATCH have already been issued"):
        pipe.multi()


def test_multi_makes_a_plain_pipeline_transactional(r, client_factory):
    other = second_client(r, client_factory)
    pipe = r.pipeline(transaction=False)
    pipe.watch("k")
    other.set("k", 1)
    pipe.multi()
    pipe.set("k", 2)
    with raises(WatchError, "Watched variable changed."):
        pipe.execute()


def test_watch_errors_in_immediate_mode_are_raised(r):
    pipe = r.pipeline()
    with raises(ResponseError, "wrong number of arguments for 'watch' command"):
        pipe.watch()
    assert pipe.watching is False
    r.hset("h", "f", "v")
    pipe.watch("h")
    with raises(ResponseError, WRONGTYPE):
        pipe.get("h")
    assert pipe.watching is True


# -- transaction() --------------------------------------------------------------------
def test_transaction_retries_until_the_watch_holds(r, client_factory):
    other = second_client(r, client_factory)
    r.set("counter", 1)
    calls = []

    def double(pipe):
        value = int(pipe.get("counter"))
        calls.append(value)
        if len(calls) == 1:
            other.set("counter", 10)  # a race the first time only
        pipe.multi()
        pipe.set("counter", value * 2)
        return value

    assert r.transaction(double, "counter") == [True]
    assert calls == [1, 10]
    assert r.get("counter") == b"20"
    assert r.transaction(double, "counter", value_from_callable=True, watch_delay=0.001) == 20
    assert r.get("counter") == b"40"


def test_transaction_without_watches(r):
    assert r.transaction(lambda pipe: pipe.set("k", "v").get("k")) == [True, b"v"]


# -- raw MULTI on a plain client --------------------------------------------------------
def test_watch_and_unwatch_methods_belong_to_pipelines(r):
    with pytest.warns(DeprecationWarning, match="Call WATCH from a Pipeline object"):
        assert r.watch("k") is None
    with pytest.warns(DeprecationWarning, match="Call UNWATCH from a Pipeline object"):
        assert r.unwatch() is None


def test_client_returns_to_normal_after_execabort(r):
    r.execute_command("MULTI")
    r.get("k")
    with raises(ResponseError, "unknown command 'NOSUCH', with args beginning with: "):
        r.execute_command("NOSUCH")
    with raises(ExecAbortError, "Transaction discarded because of previous errors."):
        r.execute_command("EXEC")
    assert r.set("k", "v") is True and r.get("k") == b"v"


# -- every method queues: the routing matches redis-py's Pipeline ------------------------
# Client plumbing, and the methods that check for a pipeline themselves.
# run_atomically refuses to be queued (test_run_atomically_cannot_be_queued).
NOT_ROUTED = {"__init__", "__repr__", "close", "execute_command", "pipeline", "run_atomically"}
ROUTING_THEMSELVES = {"script_kill"}


def _lock_takers():
    """Methods of minikv.Redis that reach into the engine themselves (read
    from the pure fast paths too: compiled methods have no code object)."""
    names = []
    for name in dir(minikv.Redis):
        method = getattr(minikv.Redis, name)
        code = getattr(getattr(FastPaths, name, method), "__code__", None)
        if code is not None and name not in NOT_ROUTED \
                and {"_lock", "_session", "store", "_finish"} & set(code.co_names):
            names.append(name)
    return names


def test_every_fast_path_is_routed_through_execute_command():
    missing = [name for name in _lock_takers()
               if name not in vars(RoutedCommands) and name not in ROUTING_THEMSELVES]
    assert missing == []


@pytest.mark.parametrize("name", sorted(ROUTING_THEMSELVES))
def test_methods_routing_themselves_queue_in_a_pipeline(name):
    pipe = minikv.Redis().pipeline()
    assert getattr(pipe, name)() is pipe
    client = minikv.Redis()
    client.execute_command("MULTI")
    getattr(client, name)()
    assert len(client._session.multi) == 1  # queued, not run


ROUTED_CALLS = [
    ("get", ("k",), {}),
    ("set", ("k", "v"), {}),
    ("set", ("k", "v"), {"ex": 10}),
    ("set", ("k", 1.5), {"ex": datetime.timedelta(seconds=3), "nx": True, "get": True}),
    ("set", ("k", "v"), {"px": 5, "xx": True}),
    ("set", ("k", "v"), {"keepttl": True, "xx": True}),
    ("set", ("k", "v"), {"exat": 1_900_000_000}),
    ("set", ("k", "v"), {"pxat": 1_900_000_000_000}),
    ("incr", ("n",), {}),
    ("incr", ("n", 5), {}),
    ("incrby", ("n",), {}),
    ("incrby", ("n", -2), {}),
    ("delete", ("a", "b"), {}),
    ("exists", ("a",), {}),
    ("exists", ("a", "b"), {}),
    ("expire", ("k", 10), {}),
    ("expire", ("k", datetime.timedelta(seconds=7)), {"nx": True}),
    ("expire", ("k", 10), {"xx": True, "gt": True}),
    ("ttl", ("k",), {}),
    ("hget", ("h", "f"), {}),
    ("hset", ("h", "f", "v"), {}),
    ("hset", ("h",), {"mapping": {"a": 1, "b": 2}}),
    ("hset", ("h", "f", "v"), {"mapping": {"a": 1}, "items": ["x", 1]}),
    ("lpush", ("l", "a", "b"), {}),
    ("rpush", ("l", "a"), {}),
    ("lpop", ("l",), {}),
    ("lpop", ("l", 2), {}),
    ("rpop", ("l",), {}),
    ("rpop", ("l", 3), {}),
    ("llen", ("l",), {}),
    ("sadd", ("s", "a"), {}),
    ("sadd", ("s", "a", "b"), {}),
    ("srem", ("s", "a"), {}),
    ("srem", ("s", "a", "b"), {}),
    ("sismember", ("s", "a"), {}),
    ("zadd", ("z", {"a": 1}), {}),
    ("zadd", ("z", {"a": 1, "b": 2.5}), {"nx": True, "ch": True}),
    ("zadd", ("z", {"a": 1}), {"xx": True, "incr": True}),
    ("zadd", ("z", {"a": 1}), {"gt": True}),
    ("zadd", ("z", {"a": "1e3"}), {"lt": True, "ch": True}),
    ("zincrby", ("z", 1.5, "a"), {}),
    ("zrem", ("z", "a", "b"), {}),
    ("zscore", ("z", "a"), {}),
    ("zcard", ("z",), {}),
    ("zrank", ("z", "a"), {}),
    ("zrank", ("z", "a"), {"withscore": True}),
    ("zrevrank", ("z", "a"), {}),
    ("zrange", ("z", 0, -1), {}),
    ("zrange", ("z", 0, -1), {"withscores": True}),
    ("zrange", ("z", 0, -1), {"desc": True}),
    ("zrevrange", ("z", 1, 2), {"withscores": True}),
]


@pytest.mark.parametrize("method, args, kwargs", ROUTED_CALLS,
                         ids=[f"{call[0]}-{i}" for i, call in enumerate(ROUTED_CALLS)])
def test_queued_commands_match_redis_py(method, args, kwargs):
    """What a minikv pipeline queues is what redis-py's queues (redis-py's
    Pipeline queues without connecting)."""
    queued_options, expected_options = queued_beside_redis_py(method, args, kwargs)
    expected_options.pop("keys", None)
    assert queued_options == expected_options


def test_the_covered_methods_are_the_fast_paths():
    assert {call[0] for call in ROUTED_CALLS} >= {
        name for name in _lock_takers() if not name.startswith("_")} \
        - {"__contains__"} - ROUTING_THEMSELVES


def test_a_client_inside_multi_routes_through_execute_command():
    client = minikv.Redis()
    client.execute_command("MULTI")
    assert set(_lock_takers()) - ROUTING_THEMSELVES <= set(vars(type(client)))
    assert isinstance(client, RoutedCommands)
    client.execute_command("DISCARD")
    assert type(client) is minikv.Redis


def test_a_pipeline_is_not_another_connected_client():
    client = minikv.Redis()
    pipe = client.pipeline()
    pipe.watch("k")
    assert client.info("clients")["connected_clients"] == 1


def test_pipeline_is_a_client():
    pipe = minikv.Redis().pipeline(transaction=False)
    assert isinstance(pipe, Pipeline) and isinstance(pipe, minikv.Redis)
    assert pipe.transaction is False and pipe.watching is False


# -- atomicity and batching with threads (minikv) -------------------------------------------
def test_transactional_pipelines_are_never_interleaved():
    store = minikv.Store()
    errors = []
    stop = threading.Event()

    def transactions():
        client = minikv.Redis(store=store)
        for _ in range(30):
            pipe = client.pipeline()
            for _ in range(200):
                pipe.incr("counter")
            replies = pipe.execute()
            if replies != list(range(replies[0], replies[0] + 200)):
                errors.append(replies)

    def interferer():
        client = minikv.Redis(store=store)
        while not stop.is_set():
            client.incr("counter")
            client.execute_command("INCR", "counter")

    racers = [threading.Thread(target=transactions) for _ in range(3)]
    others = [threading.Thread(target=interferer) for _ in range(3)]
    for thread in others + racers:
        thread.start()
    for thread in racers:
        thread.join()
    stop.set()
    for thread in others:
        thread.join()
    assert errors == []


def test_a_long_plain_pipeline_releases_the_lock_between_batches(monkeypatch):
    """A non-transactional pipeline takes the store lock once per batch, so
    other threads' commands can run between batches (and only there)."""
    from minikv import pipeline as pipeline_module
    monkeypatch.setattr(pipeline_module, "BATCH", 10)
    client = minikv.Redis()
    seen = []
    original = client.store.lock

    class CountingLock:
        def __enter__(self):
            seen.append(client.store.dbs[0].data.get(b"n"))
            return original.__enter__()

        def __exit__(self, *exc_info):
            return original.__exit__(*exc_info)

    pipe = client.pipeline(transaction=False)
    pipe._lock = CountingLock()
    for _ in range(35):
        pipe.incr("n")
    assert pipe.execute() == list(range(1, 36))
    assert seen == [None, b"10", b"20", b"30"]


def test_run_atomically_cannot_be_queued():
    client = minikv.Redis()
    with pytest.raises(RedisError, match="cannot be queued"):
        client.pipeline().run_atomically(lambda context: None)
    client.execute_command("MULTI")
    with pytest.raises(RedisError, match="cannot be queued"):
        client.run_atomically(lambda context: None)
    assert client.execute_command("EXEC") == []
