"""MULTI/EXEC/DISCARD/WATCH/UNWATCH, differential: every ``r`` test runs on
minikv and on real Redis 7.0.

Raw commands go through ``execute_command`` on one client (a minikv client
is one connection; redis-py reuses its one pooled connection when used from
one thread). WATCH races are driven from a second client of the same kind.
The pipeline API on top of this is tested in test_pipelines.py.
"""
import gc
import importlib
import threading
import time

import pytest
from helpers import kind, raises
from redis.exceptions import ExecAbortError, ResponseError

import minikv
from minikv import _pycore
from minikv.engine.transactions import frozen_expiry_clock

UNKNOWN = "unknown command 'NOSUCH', with args beginning with: 'x' "
EXECABORT = "Transaction discarded because of previous errors."


def second_client(r, client_factory, **kwargs):
    """Another connection to the same data. Build it before writing data:
    for real Redis the factory flushes the server."""
    if kind(r) == "minikv":
        return client_factory("minikv", store=r.store, **kwargs)
    return client_factory("redis", **kwargs)


# -- queueing and EXEC replies -----------------------------------------------
def test_raw_multi_queues_and_exec_returns_raw_replies(r):
    r.set("s", "text")
    assert r.execute_command("MULTI") == b"OK"
    assert r.execute_command("SET", "k", "v") is False  # SET's callback on "QUEUED"
    assert r.execute_command("GET", "k") == b"QUEUED"
    assert r.execute_command("INCR", "s") == b"QUEUED"
    assert r.execute_command("EXPIRE", "k", 100) is True  # bool(b"QUEUED")
    assert r.get("k") == b"QUEUED"  # the hot paths queue too
    assert r.exists("k") == b"QUEUED"
    assert r.delete("nope") == b"QUEUED"
    assert r.hset("h", "f", "v") == b"QUEUED"
    assert r.hget("h", "f") == b"QUEUED"
    assert r.hgetall("h") == b"QUEUED"  # RESP3 map: redis-py has no callback to apply
    assert r.ttl("k") == b"QUEUED"
    assert r.incr("n") == b"QUEUED"
    reply = r.execute_command("EXEC")
    assert reply[:4] == [b"OK", b"v", reply[2], 1]
    assert isinstance(reply[2], ResponseError)
    assert str(reply[2]) == "value is not an integer or out of range"
    assert reply[4:] == [b"v", 1, 0, 1, b"v", {b"f": b"v"}, 100, 1]
    # Back to normal: commands run again.
    assert r.get("k") == b"v"
    assert r.set("k", "w") is True


def test_exec_replies_keep_resp3_types(r):
    r.zadd("z", {"a": 1.5, "b": 2})
    r.hset("h", mapping={"f": "v"})
    r.set("n", "1")
    r.execute_command("MULTI")
    for command in (("ZSCORE", "z", "a"), ("ZINCRBY", "z", 1, "a"), ("ZMSCORE", "z", "a", "x"),
                    ("ZRANGE", "z", 0, -1, "WITHSCORES"), ("ZRANGE", "z", 0, -1),
                    ("ZADD", "z", "INCR", 1, "b"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z", 5),
                    ("ZPOPMIN", "z"), ("HGETALL", "h"), ("HRANDFIELD", "h", 1, "WITHVALUES"),
                    ("CONFIG", "GET", "maxmemory"), ("LCS", "n", "n", "IDX")):
        r.execute_command(*command)
    # redis-py's float callback chokes on the "QUEUED" status; the command is
    # queued all the same.
    with pytest.raises(ValueError):
        r.execute_command("INCRBYFLOAT", "n", "0.5")
    assert r.execute_command("EXEC") == [
        1.5, 2.5, [2.5, None], [[b"b", 2.0], [b"a", 2.5]], [b"b", b"a"], 3.0, [b"a", 2.5],
        [[b"b", 3.0]], [], {b"f": b"v"}, [[b"f", b"v"]], {b"maxmemory": b"0"},
        {b"matches": [[[0, 0], [0, 0]]], b"len": 1}, b"1.5"]


def test_exec_reply_is_decoded_with_decode_responses(rd):
    rd.execute_command("MULTI")
    assert rd.execute_command("SET", "k", "v") is False
    assert rd.get("k") == "QUEUED"
    rd.execute_command("HSET", "h", "f", "v")
    rd.execute_command("HGETALL", "h")
    rd.execute_command("LPUSH", "k", "x")
    reply = rd.execute_command("EXEC")
    assert reply[:4] == ["OK", "v", 1, {"f": "v"}]
    assert str(reply[4]) == "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_empty_transaction(r):
    r.execute_command("MULTI")
    assert r.execute_command("EXEC") == []


def test_discard_drops_the_queue(r):
    r.execute_command("MULTI")
    r.execute_command("SET", "k", "v")
    assert r.execute_command("DISCARD") == b"OK"
    assert r.get("k") is None
    assert r.set("k", "v") is True


@pytest.mark.parametrize("command, message", [
    ("EXEC", "EXEC without MULTI"),
    ("DISCARD", "DISCARD without MULTI"),
])
def test_exec_and_discard_need_multi(r, command, message):
    with raises(ResponseError, message):
        r.execute_command(command)


def test_nested_multi_and_watch_inside_multi_are_errors_that_do_not_abort(r):
    r.execute_command("MULTI")
    with raises(ResponseError, "MULTI calls can not be nested"):
        r.execute_command("MULTI")
    with raises(ResponseError, "WATCH inside MULTI is not allowed"):
        r.execute_command("WATCH", "k")
    r.execute_command("SET", "k", "v")
    assert r.execute_command("UNWATCH") is False  # queued; bool_ok of "QUEUED"
    assert r.execute_command("EXEC") == [b"OK", b"OK"]
    assert r.get("k") == b"v"


@pytest.mark.parametrize("bad, message", [
    (("NOSUCH", "x"), UNKNOWN),
    (("GET",), "wrong number of arguments for 'get' command"),
    (("SET", "k"), "wrong number of arguments for 'set' command"),
    (("CONFIG", "NOPE"), "unknown subcommand 'NOPE'. Try CONFIG HELP."),
    (("CONFIG", "GET"), "wrong number of arguments for 'config|get' command"),
])
def test_queueing_error_aborts_exec(r, bad, message):
    r.set("k", "old")
    r.execute_command("MULTI")
    r.execute_command("SET", "k", "new")
    with raises(ResponseError, message):
        r.execute_command(*bad)
    r.execute_command("SET", "other", "v")
    with raises(ExecAbortError, EXECABORT):
        r.execute_command("EXEC")
    assert r.get("k") == b"old"
    assert r.get("other") is None
    # The transaction is over.
    with raises(ResponseError, "EXEC without MULTI"):
        r.execute_command("EXEC")


def test_syntax_errors_are_runtime_errors(r):
    """Redis checks only the name and arity when queueing: a bad option is
    found when the command runs, and fails that command alone."""
    r.execute_command("MULTI")
    assert r.execute_command("SET", "a", "1", "BADOPT") is False
    r.execute_command("SET", "b", "2")
    r.execute_command("EXPIRE", "b", "soon")
    reply = r.execute_command("EXEC")
    assert reply[1] == b"OK"
    assert [str(reply[0]), str(reply[2])] == [
        "syntax error", "value is not an integer or out of range"]
    assert isinstance(reply[0], ResponseError) and isinstance(reply[2], ResponseError)
    assert (r.get("a"), r.get("b"), r.ttl("b")) == (None, b"2", -1)


def test_runtime_error_fails_only_its_command(r):
    r.hset("h", "f", "v")
    r.execute_command("MULTI")
    r.execute_command("INCR", "counter")
    r.execute_command("INCR", "h")
    r.execute_command("LPUSH", "h", "x")
    r.execute_command("INCR", "counter")
    reply = r.execute_command("EXEC")
    assert reply[0] == 1 and reply[3] == 2
    for error in reply[1:3]:
        assert type(error) is type(reply[1]) and isinstance(error, ResponseError)
    assert str(reply[1]) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert r.get("counter") == b"2"
    assert r.hgetall("h") == {b"f": b"v"}


def test_select_inside_a_transaction_moves_the_rest(r):
    r.execute_command("MULTI")
    r.execute_command("SELECT", 3)
    r.execute_command("SET", "k", "in-3")
    assert r.execute_command("EXEC") == [b"OK", b"OK"]
    assert r.get("k") == b"in-3"
    r.execute_command("SELECT", 0)
    assert r.get("k") is None


# -- blocking commands inside MULTI --------------------------------------------
def test_blocking_commands_do_not_block_inside_exec(r):
    r.execute_command("MULTI")
    r.execute_command("BLPOP", "empty", 0)
    r.execute_command("BRPOPLPUSH", "empty", "dst", 0)
    r.execute_command("BLMOVE", "empty", "dst", "LEFT", "RIGHT", 0)
    r.execute_command("BZPOPMIN", "empty", 0)
    r.execute_command("RPUSH", "full", "a")
    r.execute_command("BLPOP", "full", 0)
    assert r.execute_command("EXEC") == [None, None, None, None, 1, [b"full", b"a"]]


def test_blocked_client_is_served_after_exec(r, client_factory):
    waiter = second_client(r, client_factory)
    results = []
    thread = threading.Thread(target=lambda: results.append(waiter.blpop("q", timeout=10)))
    thread.start()
    deadline = time.monotonic() + 10
    while r.info("clients")["blocked_clients"] != 1:
        assert time.monotonic() < deadline, "the waiter never blocked"
        time.sleep(0.005)
    # Pushed and popped inside one transaction: the waiter never sees it.
    r.execute_command("MULTI")
    r.execute_command("RPUSH", "q", "gone")
    r.execute_command("LPOP", "q")
    r.execute_command("RPUSH", "q", "first", "second")
    assert r.execute_command("EXEC") == [1, b"gone", 2]
    thread.join(10)
    assert results == [(b"q", b"first")]
    assert r.lrange("q", 0, -1) == [b"second"]


# -- WATCH: what counts as a modification ---------------------------------------
def _split(command):
    return [word if word != "''" else "" for word in command.split()]


# (id, setup run before WATCH k, commands between WATCH and EXEC, EXEC aborted)
# A command prefixed "self:" is sent by the watching client itself.
WATCH_CASES = [
    ("set", [], ["SET k 1"], True),
    ("set-same-value", ["SET k 1"], ["SET k 1"], True),
    ("set-nx-existing", ["SET k 0"], ["SET k 1 NX"], False),
    ("set-xx-missing", [], ["SET k 1 XX"], False),
    ("set-get", ["SET k 1"], ["SET k 2 GET"], True),
    ("set-keepttl", ["SET k 1 EX 100"], ["SET k 2 KEEPTTL"], True),
    ("setnx-existing", ["SET k 0"], ["SETNX k 1"], False),
    ("setnx-new", [], ["SETNX k 1"], True),
    ("setex", [], ["SETEX k 10 v"], True),
    ("psetex", [], ["PSETEX k 1000 v"], True),
    ("mset", [], ["MSET k 1 j 2"], True),
    ("msetnx-refused", ["SET k 1"], ["MSETNX k 2 j 3"], False),
    ("msetnx-done", [], ["MSETNX j 2 k 3"], True),
    ("getset", ["SET k 1"], ["GETSET k 1"], True),
    ("getdel-missing", [], ["GETDEL k"], False),
    ("getdel", ["SET k 1"], ["GETDEL k"], True),
    ("getex-plain", ["SET k 1"], ["GETEX k"], False),
    ("getex-ex", ["SET k 1"], ["GETEX k EX 100"], True),
    ("getex-persist-no-ttl", ["SET k 1"], ["GETEX k PERSIST"], False),
    ("getex-persist-ttl", ["SET k 1 EX 100"], ["GETEX k PERSIST"], True),
    ("incrby-0", ["SET k 1"], ["INCRBY k 0"], True),
    ("decrby-0", ["SET k 1"], ["DECRBY k 0"], True),
    ("incrbyfloat-0", ["SET k 1"], ["INCRBYFLOAT k 0"], True),
    ("incr-wrongtype", ["HSET k f 1"], ["self:INCR k"], False),
    ("append-empty", ["SET k 1"], ["APPEND k ''"], True),
    ("append-empty-missing", [], ["APPEND k ''"], True),
    ("append-twice", ["SET k 1", "APPEND k x"], ["APPEND k y"], True),
    ("setrange-empty", ["SET k 1"], ["SETRANGE k 0 ''"], False),
    ("setrange-empty-missing", [], ["SETRANGE k 0 ''"], False),
    ("setrange-in-place", ["SET k 1", "APPEND k x"], ["SETRANGE k 0 z"], True),
    ("get-exists-type-touch", ["SET k 1"], ["GET k", "EXISTS k", "TYPE k", "TOUCH k"], False),
    ("del-missing", [], ["DEL k"], False),
    ("del", ["SET k 1"], ["DEL k"], True),
    ("unlink", ["SET k 1"], ["UNLINK k"], True),
    ("expire-missing", [], ["EXPIRE k 10"], False),
    ("expire-same-ttl", ["SET k 1 EX 100"], ["EXPIRE k 100"], True),
    ("expire-nx-refused", ["SET k 1 EX 100"], ["EXPIRE k 50 NX"], False),
    ("expire-gt-refused", ["SET k 1 EX 100"], ["EXPIRE k 50 GT"], False),
    ("expire-0-deletes", ["SET k 1"], ["EXPIRE k 0"], True),
    ("pexpire-negative", ["SET k 1"], ["PEXPIRE k -1"], True),
    ("expireat-missing", [], ["EXPIREAT k 1"], False),
    ("persist-no-ttl", ["SET k 1"], ["PERSIST k"], False),
    ("persist", ["SET k 1 EX 100"], ["PERSIST k"], True),
    ("rename-from", ["SET k 1"], ["RENAME k j"], True),
    ("rename-onto", ["SET j 1"], ["RENAME j k"], True),
    ("rename-to-itself", ["SET k 1"], ["RENAME k k"], False),
    ("renamenx-refused", ["SET j 1", "SET k 1"], ["RENAMENX j k"], False),
    ("copy-onto", ["SET j 1"], ["COPY j k"], True),
    ("copy-refused", ["SET k 1", "SET j 2"], ["COPY j k"], False),
    ("copy-replace", ["SET k 1", "SET j 2"], ["COPY j k REPLACE"], True),
    ("copy-from", ["SET k 1"], ["COPY k j"], False),
    ("move-away", ["SET k 1"], ["MOVE k 1"], True),
    ("move-refused", ["SET k 1", "SELECT 1", "SET k 1", "SELECT 0"], ["MOVE k 1"], False),
    ("move-in", ["SELECT 1", "SET k 1", "SELECT 0"], ["SELECT 1", "MOVE k 0", "SELECT 0"], True),
    ("hset-same", ["HSET k f 1"], ["HSET k f 1"], True),
    ("hmset", [], ["HMSET k a 1"], True),
    ("hsetnx-refused", ["HSET k f 1"], ["HSETNX k f 2"], False),
    ("hsetnx-new-field", ["HSET k f 1"], ["HSETNX k g 2"], True),
    ("hsetnx-new-key", [], ["HSETNX k a 1"], True),
    ("hdel-missing-field", ["HSET k f 1"], ["HDEL k g"], False),
    ("hdel-field", ["HSET k f 1 g 2"], ["HDEL k f"], True),
    ("hdel-last-field", ["HSET k f 1"], ["HDEL k f"], True),
    ("hincrby-0", ["HSET k a 1"], ["HINCRBY k a 0"], True),
    ("hincrbyfloat-0", ["HSET k f 1"], ["HINCRBYFLOAT k f 0"], True),
    ("sadd-new-member", ["SADD k a"], ["SADD k b"], True),
    ("sadd-existing-member", ["SADD k a"], ["SADD k a"], False),
    ("sadd-new-key", [], ["SADD k a"], True),
    ("srem-missing-member", ["SADD k a"], ["SREM k b"], False),
    ("srem-member", ["SADD k a b"], ["SREM k a"], True),
    ("srem-last-member", ["SADD k a"], ["SREM k a"], True),
    ("smove-out", ["SADD k a b"], ["SMOVE k j a"], True),
    ("smove-in", ["SADD k a", "SADD j b"], ["SMOVE j k b"], True),
    ("smove-missing", ["SADD k a", "SADD j b"], ["SMOVE j k c"], False),
    ("spop-one", ["SADD k a b c"], ["SPOP k"], True),
    ("spop-count", ["SADD k a b c d e f g h i j"], ["SPOP k 2"], True),
    ("spop-most", ["SADD k a b c d e f g h i j"], ["SPOP k 9"], True),
    ("spop-all", ["SADD k a b"], ["SPOP k 5"], True),
    ("srandmember", ["SADD k a b"], ["SRANDMEMBER k 2"], False),
    ("sinterstore-onto", ["SADD j a"], ["SINTERSTORE k j"], True),
    ("by-the-watcher-itself", [], ["self:SET k 1"], True),
    ("same-key-another-db", [], ["self:SELECT 1", "self:SET k 1", "self:SELECT 0"], False),
    ("another-key", [], ["SET j 1"], False),
    ("unwatched-first", [], ["self:UNWATCH", "SET k 1"], False),
    ("flushdb-key-absent", ["SET j 1"], ["FLUSHDB"], False),
    ("flushdb-key-present", ["SET k 1"], ["FLUSHDB"], True),
    ("flushdb-another-db", ["SET k 1"], ["SELECT 1", "FLUSHDB", "SELECT 0"], False),
    ("flushall-key-absent", ["SELECT 1", "SET k 1", "SELECT 0"], ["FLUSHALL"], False),
    ("flushall-key-present", ["SET k 1"], ["FLUSHALL"], True),
    ("swapdb-absent-in-both", [], ["SWAPDB 0 1"], False),
    ("swapdb-brings-key", ["SELECT 1", "SET k 1", "SELECT 0"], ["SWAPDB 0 1"], True),
    ("swapdb-takes-key", ["SET k 1"], ["SWAPDB 1 0"], True),
    ("swapdb-other-dbs", ["SET k 1", "SELECT 1", "SET k 1", "SELECT 0"], ["SWAPDB 1 2"], False),
    ("swapdb-same-db", ["SET k 1"], ["SWAPDB 0 0"], False),
]


@pytest.mark.parametrize("setup, between, aborted",
                         [case[1:] for case in WATCH_CASES], ids=[case[0] for case in WATCH_CASES])
def test_watch_sees_modifications(r, client_factory, setup, between, aborted):
    other = second_client(r, client_factory)
    for command in setup:
        other.execute_command(*_split(command))
    other.execute_command("SELECT", 0)
    assert r.execute_command("WATCH", "k") is True
    for command in between:
        client = other
        if command.startswith("self:"):
            client, command = r, command[len("self:"):]
        try:
            client.execute_command(*_split(command))
        except ResponseError:
            pass  # incr-wrongtype: the failed write is the point
    other.execute_command("SELECT", 0)
    r.execute_command("MULTI")
    r.execute_command("SET", "marker", "1")
    assert r.execute_command("EXEC") == (None if aborted else [b"OK"])
    assert r.get("marker") == (None if aborted else b"1")


def test_watch_several_keys_and_unwatch(r, client_factory):
    other = second_client(r, client_factory)
    assert r.execute_command("WATCH", "a", "b") is True
    assert r.execute_command("WATCH", "c") is True
    other.set("c", 1)
    r.execute_command("MULTI")
    assert r.execute_command("EXEC") is None
    # EXEC dropped the watches, failed or not.
    other.set("a", 1)
    r.execute_command("MULTI")
    assert r.execute_command("EXEC") == []
    r.execute_command("WATCH", "a")
    other.set("a", 2)
    assert r.execute_command("UNWATCH") is True  # also forgets that a changed
    r.execute_command("MULTI")
    assert r.execute_command("EXEC") == []


def test_discard_drops_the_watches(r, client_factory):
    other = second_client(r, client_factory)
    r.execute_command("WATCH", "k")
    r.execute_command("MULTI")
    r.execute_command("DISCARD")
    other.set("k", 1)
    r.execute_command("MULTI")
    assert r.execute_command("EXEC") == []


def test_failed_watch_with_queueing_error_is_execabort(r, client_factory):
    other = second_client(r, client_factory)
    r.execute_command("WATCH", "k")
    other.set("k", 1)
    r.execute_command("MULTI")
    with raises(ResponseError, UNKNOWN):
        r.execute_command("NOSUCH", "x")
    with raises(ExecAbortError, EXECABORT):
        r.execute_command("EXEC")


# -- WATCH and expiry (real time on both: TTLs of a few ms and short sleeps) ----
EXPIRY_CASES = [
    # (id, setup, sleep, WATCH k, commands, sleep, commands, aborted). The
    # active cycle may or may not delete an expired key before a step: every
    # case has the same outcome either way.
    ("expires-after-watch", ["SET k 1 PX 100"], 0, [], 0.15, [], True),
    ("expires-after-watch-then-read", ["SET k 1 PX 100"], 0, [], 0.15, ["GET k"], True),
    ("expired-before-watch", ["SET k 1 PX 10"], 0.05, [], 0, [], False),
    ("expired-before-watch-then-read", ["SET k 1 PX 10"], 0.05, ["GET k"], 0, [], False),
    ("expired-before-watch-then-set", ["SET k 1 PX 10"], 0.05, ["SET k 2"], 0, [], True),
    ("expired-before-watch-then-flushdb", ["SET k 1 PX 10"], 0.05, ["FLUSHDB"], 0, [], False),
    ("swapdb-brings-an-expired-key", ["SELECT 1", "SET k 1 PX 10", "SELECT 0"], 0.05,
     ["SWAPDB 0 1"], 0, [], False),
    ("swapdb-takes-an-expired-key", ["SET k 1 PX 10"], 0.05, ["SWAPDB 0 1"], 0, [], False),
    ("swapdb-expired-for-live", ["SET k 1 PX 10", "SELECT 1", "SET k 2", "SELECT 0"], 0.05,
     ["SWAPDB 0 1"], 0, [], True),
]


@pytest.mark.parametrize("setup, pause, between, wait, after, aborted",
                         [case[1:] for case in EXPIRY_CASES],
                         ids=[case[0] for case in EXPIRY_CASES])
def test_watch_and_expiry(r, client_factory, setup, pause, between, wait, after, aborted):
    other = second_client(r, client_factory)
    for command in setup:
        other.execute_command(*_split(command))
    time.sleep(pause)
    r.execute_command("WATCH", "k")
    for command in between:
        other.execute_command(*_split(command))
    time.sleep(wait)
    for command in after:
        other.execute_command(*_split(command))
    r.execute_command("MULTI")
    r.execute_command("SET", "marker", "1")
    assert r.execute_command("EXEC") == (None if aborted else [b"OK"])


# -- WATCH and expiry on the manual clock (minikv only: no sleeping) -------------
@pytest.fixture
def watcher(mr):
    return minikv.Redis(store=mr.store)


def _exec_after_watch(client):
    client.execute_command("MULTI")
    client.execute_command("SET", "marker", "1")
    return client.execute_command("EXEC")


def test_key_expiring_after_watch_fails_exec_before_anyone_deletes_it(mr, clock, watcher):
    mr.set("k", "v", px=100)
    watcher.execute_command("WATCH", "k")
    clock.advance(0.2)
    assert "k" in [key.decode() for key in mr.store.dbs[0].data]  # not deleted yet
    assert _exec_after_watch(watcher) is None


@pytest.mark.parametrize("remove", ["lazy", "active"])
def test_expiry_deletion_touches_the_watch(mr, clock, watcher, remove):
    mr.set("k", "v", px=100)
    watcher.execute_command("WATCH", "k")
    clock.advance(0.2)
    if remove == "lazy":
        assert mr.get("k") is None
    else:
        mr.store.active_expire_cycle()
    assert mr.store.dbs[0].data == {}
    assert mr.store.dbs[0].watched == {}  # the touch dropped the (dirty) watch
    assert _exec_after_watch(watcher) is None


def test_exec_freezes_the_expiry_clock(mr, clock):
    mr.set("k", "v", px=100)
    store = mr.store
    ks = store.dbs[0]
    with frozen_expiry_clock(store):
        clock.advance(1)
        assert ks.lookup(b"k") == b"v"
    assert ks.lookup(b"k") is None
    assert ks.clock_ms == store.clock.ms


# -- the keyspace core tells the watchers (both twins) -----------------------------
def _twins():
    twins = [_pycore]
    try:
        twins.append(importlib.import_module("minikv._core"))
    except ImportError:
        pass
    return twins


class Recorder:
    def __init__(self):
        self.calls = []

    def touched(self, ks, key):
        self.calls.append((key, key in ks.data))


@pytest.mark.parametrize("core", _twins(), ids=lambda module: module.__name__)
def test_keyspace_tells_watchers_after_each_change(core):
    now = [1000]
    ks = core.Keyspace(lambda: now[0])
    recorder = Recorder()
    ks.watched[b"k"] = recorder
    ks.store(b"other", b"x")
    ks.delete(b"k")
    ks.persist(b"k")
    assert recorder.calls == []
    ks.store(b"k", b"1")
    ks.replace(b"k", b"2")
    ks.persist(b"k")  # no TTL: no change
    ks.set_expiry(b"k", 5000)
    ks.persist(b"k")
    ks.store_with_expiry(b"k", b"3", 2000)
    ks.signal_modified(b"k")
    ks.signal_modified(b"unwatched")
    now[0] = 3000
    assert ks.lookup(b"k") is None  # lazy expiry
    assert recorder.calls == [(b"k", True)] * 6 + [(b"k", False)]
    ks.store_with_expiry(b"k", b"4", 4000)
    now[0] = 5000
    assert ks.expire_step(5000, 10) == (1, 1)  # active expiry
    ks.store(b"k", b"5")
    ks.delete(b"k")
    assert recorder.calls[7:] == [(b"k", True), (b"k", False), (b"k", True), (b"k", False)]
    ks.store(b"k", b"6")
    other = core.Keyspace(lambda: now[0])
    calls = len(recorder.calls)
    ks.swap(other)
    ks.clear()
    other.clear()
    assert len(recorder.calls) == calls  # db-wide operations tell watchers themselves
    assert ks.watched == {b"k": recorder} and other.watched == {}


# -- watches of a dropped session --------------------------------------------------
def test_dropped_watching_client_releases_its_watches():
    store = minikv.Store()
    client = minikv.Redis(store=store)
    client.execute_command("WATCH", "a", "b")
    assert set(store.dbs[0].watched) == {b"a", b"b"}
    del client
    gc.collect()
    assert store.dbs[0].watched == {}


def test_watches_dropped_while_the_lock_is_busy_are_released_later():
    store = minikv.Store()
    client = minikv.Redis(store=store)
    client.execute_command("WATCH", "a")
    with store.lock:
        del client
        gc.collect()
        assert set(store.dbs[0].watched) == {b"a"}
    assert len(store.orphaned_watches) == 1
    other = minikv.Redis(store=store)
    other.execute_command("WATCH", "b")
    assert set(store.dbs[0].watched) == {b"b"}
    assert store.orphaned_watches == []


# -- atomicity ------------------------------------------------------------------------
def test_exec_is_never_interleaved_with_other_threads():
    """Threads race transactions of 200 INCRs with plain INCRs and reads of
    the same counter: each transaction's replies must be consecutive."""
    store = minikv.Store()
    errors = []
    stop = threading.Event()

    def transactions():
        client = minikv.Redis(store=store)
        for _ in range(30):
            client.execute_command("MULTI")
            for _ in range(200):
                client.execute_command("INCR", "counter")
            replies = client.execute_command("EXEC")
            if replies != list(range(replies[0], replies[0] + 200)):
                errors.append(replies)

    def interferer():
        client = minikv.Redis(store=store)
        while not stop.is_set():
            client.incr("counter")
            client.get("counter")

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
    assert int(minikv.Redis(store=store).get("counter")) >= 3 * 30 * 200
