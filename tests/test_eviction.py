"""maxmemory: memory accounting, MEMORY USAGE, the OOM error and every policy.

Differential tests (fixture ``r``: minikv and the private redis-server) cover
what Redis makes deterministic: the OOM error's class and text and what
still works under it, MULTI/EXEC and scripts under OOM, the volatile-*
policies with a limit no dataset fits (they evict every key with a TTL,
then refuse), CONFIG round trips, MEMORY USAGE's arguments, and the LFU
counter per command with lfu-log-factor 0 (every access then adds one).
The tests put the server's configuration back (``limits``).

Eviction order, the LRU/LFU clocks and the accounting are minikv's own and
run on a ManualClock: exact LRU, sampled policies with maxmemory-samples
above the key count (which makes them exact), LFU growth and decay, idle
times, and a stream of 1,000,000 writes that must stay under a 10 MB cap
and keep the most recently used keys. Nothing asserts a wall-clock
duration.
"""
import random
from sys import getsizeof

import pytest
from redis.exceptions import ExecAbortError, OutOfMemoryError, ResponseError

import minikv
from minikv.engine.memory import DICT_SLOT_BYTES, INT_BYTES, key_bytes, object_bytes
from tests.helpers import kind, raises, snapshot

OOM_TEXT = "command not allowed when used memory > 'maxmemory'."
LFU_NOT_SELECTED = ("An LFU maxmemory policy is not selected, access frequency not tracked. "
                    "Please note that when switching between policies at runtime LRU and LFU "
                    "data will take some time to adjust.")
LRU_NOT_SELECTED = ("An LFU maxmemory policy is selected, idle time not tracked. Please note "
                    "that when switching between policies at runtime LRU and LFU data will "
                    "take some time to adjust.")
DEFAULTS = {"maxmemory": 0, "maxmemory-policy": "noeviction", "maxmemory-samples": 5,
            "lfu-log-factor": 10, "lfu-decay-time": 1, "notify-keyspace-events": ""}


@pytest.fixture
def limits(r):
    """``r``, with the server's memory settings restored afterwards."""
    yield r
    for name, value in DEFAULTS.items():
        r.config_set(name, value)


def configure(client, **settings):
    for name, value in settings.items():
        client.config_set(name.replace("_", "-"), value)


def used(client):
    return client.info("memory")["used_memory"]


def evicted(client):
    return client.info("stats")["evicted_keys"]


@pytest.fixture
def second_client(request):
    """``second_client(r)``: another connection to the data ``r`` sees."""
    def connect(r):
        if kind(r) == "minikv":
            return minikv.Redis(store=r.store)
        import redis
        client = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
        request.addfinalizer(client.close)
        return client
    return connect


# -- CONFIG -------------------------------------------------------------------
def test_memory_settings_round_trip(limits):
    r = limits
    configure(r, maxmemory="10mb", maxmemory_policy="ALLKEYS-LRU", maxmemory_samples=7,
              lfu_log_factor=0, lfu_decay_time=3)
    assert r.config_get("maxmemory") == {"maxmemory": "10485760"}
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert r.config_get("maxmemory-samples") == {"maxmemory-samples": "7"}
    assert r.config_get("lfu-*") == {"lfu-log-factor": "0", "lfu-decay-time": "3"}
    r.config_set("maxmemory", "1g")
    assert r.config_get("maxmemory") == {"maxmemory": "1000000000"}


@pytest.mark.parametrize("name, value, why", [
    ("lfu-log-factor", "-1", "argument must be between 0 and 2147483647 inclusive"),
    ("lfu-log-factor", "x", "argument couldn't be parsed into an integer"),
    ("lfu-decay-time", "-1", "argument must be between 0 and 2147483647 inclusive"),
    ("maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive"),
    ("maxmemory", "-1", "argument must be a memory value"),
])
def test_memory_settings_errors(limits, name, value, why):
    with raises(ResponseError, f"CONFIG SET failed (possibly related to argument '{name}') "
                               f"- {why}"):
        limits.config_set(name, value)


# -- MEMORY USAGE ---------------------------------------------------------------
def test_memory_usage_arguments(r):
    r.set("k", "v")
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert isinstance(r.memory_usage("k"), int) and r.memory_usage("k") > 0
    assert isinstance(r.memory_usage("h", samples=0), int)
    assert r.memory_usage("missing") is None
    assert r.memory_usage("missing", samples=0) is None
    assert r.execute_command("MEMORY", "USAGE", "k", "SAMPLES", 3, "samples", 0) > 0
    with raises(ResponseError, "wrong number of arguments for 'memory|usage' command"):
        r.execute_command("MEMORY", "USAGE")
    with raises(ResponseError, "wrong number of arguments for 'memory' command"):
        r.execute_command("MEMORY")
    with raises(ResponseError, "unknown subcommand 'NOPE'. Try MEMORY HELP."):
        r.execute_command("MEMORY", "NOPE")
    for options in (["SAMPLES"], ["SAMPLES", -1], ["FOO"], ["FOO", 1], ["SAMPLES", 1, "X"]):
        with raises(ResponseError, "syntax error"):
            r.execute_command("MEMORY", "USAGE", "missing", *options)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.execute_command("MEMORY", "USAGE", "k", "SAMPLES", "many")


def test_memory_usage_of_strings_is_exact():
    r = minikv.Redis()
    r.set("k", "x" * 10)
    short = r.memory_usage("k")
    r.set("k", "x" * 110)
    assert r.memory_usage("k") - short == 100
    r.expire("k", 100)
    with_ttl = r.memory_usage("k")
    assert with_ttl > short + 100
    r.persist("k")
    assert r.memory_usage("k") == short + 100


def test_memory_usage_samples_collections():
    r = minikv.Redis()
    # Nine small values and one large: 5 spread samples may miss it, all won't.
    r.hset("h", mapping={f"f{i}": "v" * (1000 if i == 9 else 1) for i in range(10)})
    assert r.memory_usage("h", samples=0) > r.memory_usage("h", samples=1)
    r.rpush("l", *["e" * 20] * 100)
    r.rpush("l2", *["e" * 20] * 200)
    assert r.memory_usage("l2") > r.memory_usage("l")
    assert r.memory_usage("l", samples=0) == r.memory_usage("l")  # uniform elements


def test_memory_usage_does_not_expire_or_touch_keys(clock):
    r = minikv.Redis(clock=clock, maxmemory="10mb")
    r.set("idle", "v")
    r.set("k", "v", px=100)
    r.store.close()  # no active expiry: the key stays until something looks
    clock.advance(3)
    assert r.memory_usage("k") > 0  # as in Redis: MEMORY USAGE finds it
    assert r.memory_usage("idle") > 0
    assert r.object("idletime", "idle") == 3
    assert r.get("k") is None


# -- the OOM error (noeviction) -----------------------------------------------------
DENYOOM_CALLS = [
    ("set", ("s", "new"), {}),
    ("set", ("s", "new"), {"ex": 100}),
    ("set", ("fresh", "new"), {"nx": True}),
    ("psetex", ("s", 100_000, "new"), {}),
    ("mset", ({"s": "1", "m": "2"},), {}),
    ("append", ("s", "x"), {}),
    ("incr", ("n",), {}),
    ("incrby", ("n", 5), {}),
    ("incrbyfloat", ("n", 1.5), {}),
    ("getset", ("s", "x"), {}),
    ("setrange", ("s", 0, "x"), {}),
    ("hset", ("h", "f", "v2"), {}),
    ("hset", ("h",), {"mapping": {"f": "v2", "g": "w"}}),
    ("hincrby", ("h", "c", 1), {}),
    ("lpush", ("l", "x"), {}),
    ("rpush", ("l", "x", "y"), {}),
    ("lset", ("l", 0, "x"), {}),
    ("sadd", ("set", "x"), {}),
    ("sadd", ("set", "x", "y"), {}),
    ("zadd", ("z", {"x": 1}), {}),
    ("zadd", ("z", {"x": 1, "y": 2}), {}),
    ("zincrby", ("z", 1, "a"), {}),
    ("copy", ("s", "copied"), {}),
]


def _fill(r):
    r.set("s", "value")
    r.set("n", "10")
    r.hset("h", "f", "v")
    r.rpush("l", "a", "b", "c")
    r.sadd("set", "a", "b")
    r.zadd("z", {"a": 1, "b": 2})
    r.set("ttl", "t", ex=1000)


@pytest.mark.parametrize("name, args, kwargs", DENYOOM_CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(DENYOOM_CALLS)])
def test_noeviction_refuses_denyoom_writes_and_changes_nothing(limits, name, args, kwargs):
    r = limits
    _fill(r)
    before = snapshot(r)
    r.config_set("maxmemory", 1)
    with raises(OutOfMemoryError, OOM_TEXT):
        getattr(r, name)(*args, **kwargs)
    assert snapshot(r) == before


def test_out_of_memory_reads_and_shrinking_writes_still_work(limits):
    r = limits
    _fill(r)
    r.config_set("maxmemory", 1)
    assert r.get("s") == b"value"
    assert r.hgetall("h") == {b"f": b"v"}
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    assert r.exists("s", "h", "nope") == 2
    assert r.ttl("s") == -1
    assert r.expire("s", 100) is True  # EXPIRE is not denyoom
    assert r.lpop("l") == b"a"
    assert r.srem("set", "a") == 1
    assert r.zrem("z", "a") == 1
    assert r.delete("h") == 1
    assert r.getdel("n") == b"10"
    with raises(OutOfMemoryError, OOM_TEXT):
        r.set("s", "again")
    assert isinstance(OutOfMemoryError(), ResponseError)


def test_out_of_memory_inside_multi(limits, second_client):
    r = limits
    r.set("a", "x")
    r.config_set("maxmemory", 1)
    assert r.execute_command("MULTI") == b"OK"
    for command in (("GET", "a"), ("PING",), ("SET", "b", "1")):
        with raises(OutOfMemoryError, OOM_TEXT):
            r.execute_command(*command)
    with raises(ExecAbortError, "Transaction discarded because of previous errors."):
        r.execute_command("EXEC")
    # A transaction queued before memory ran out: EXEC refuses it if it
    # holds a denyoom command, and discards it.
    r.config_set("maxmemory", 0)
    r.execute_command("MULTI")
    r.execute_command("SET", "b", "1")
    assert r.execute_command("GET", "a") == b"QUEUED"
    other = second_client(r)
    other.config_set("maxmemory", 1)
    with raises(ExecAbortError, "Transaction discarded because of: OOM command not allowed "
                                "when used memory > 'maxmemory'."):
        r.execute_command("EXEC")
    with raises(ResponseError, "EXEC without MULTI"):
        r.execute_command("EXEC")
    assert r.get("b") is None
    # Without a denyoom command it runs.
    other.config_set("maxmemory", 0)
    r.execute_command("MULTI")
    r.execute_command("GET", "a")
    other.config_set("maxmemory", 1)
    assert r.execute_command("EXEC") == [b"x"]


def test_pipelines_under_out_of_memory(limits):
    r = limits
    r.set("a", "x")
    r.config_set("maxmemory", 1)
    pipe = r.pipeline(transaction=False)
    pipe.get("a").set("b", "1").delete("a")
    results = pipe.execute(raise_on_error=False)
    assert results[0] == b"x" and results[2] == 1
    assert isinstance(results[1], OutOfMemoryError)


def test_scripts_under_out_of_memory(limits):
    pytest.importorskip("lupa")
    r = limits
    r.set("a", "x")
    r.config_set("maxmemory", 1)
    sha = "d223ed8c7345b684e8ed044ed472601f536fa58b"  # of the script below
    with raises(OutOfMemoryError, OOM_TEXT + f" script: {sha}, on @user_script:1."):
        r.eval("return redis.call('set','k','v')", 0)
    with raises(OutOfMemoryError, OOM_TEXT):
        r.eval("return redis.pcall('set','k','v')", 0)
    assert r.eval("return redis.call('get','a')", 0) == b"x"
    # After a first write a script may go on: stopping halfway would be worse.
    assert r.eval("redis.call('del','nothing'); return redis.call('set','k','v')", 0) == b"OK"
    with raises(OutOfMemoryError, OOM_TEXT):
        r.eval("#!lua\nreturn redis.call('set','k2','v')", 0)
    assert r.eval("#!lua flags=allow-oom\nreturn redis.call('set','k3','v')", 0) == b"OK"
    assert r.eval("#!lua flags=no-writes\nreturn redis.call('get','a')", 0) == b"x"
    assert r.get("k2") is None and r.get("k3") == b"v"


# -- volatile-* with a limit nothing fits: every key with a TTL goes --------------------
@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_volatile_policies_evict_only_keys_with_a_ttl(limits, policy):
    r = limits
    configure(r, maxmemory_policy=policy, notify_keyspace_events="Ee")
    r.config_resetstat()
    p = r.pubsub()
    p.subscribe("__keyevent@0__:evicted", "__keyevent@1__:evicted")
    assert [p.get_message(timeout=5)["type"] for _ in range(2)] == ["subscribe"] * 2
    r.set("keep1", "a")
    r.rpush("keep2", "b")
    r.set("t1", "x", ex=100)
    r.hset("t2", "f", "v")
    r.expire("t2", 100)
    r.execute_command("SELECT", 1)
    r.set("t3", "z", px=100_000)
    r.execute_command("SELECT", 0)
    r.config_set("maxmemory", 1)
    events = []
    for _ in range(3):
        message = p.get_message(timeout=5)
        events.append((message["channel"], message["data"]))
    assert sorted(events) == [(b"__keyevent@0__:evicted", b"t1"),
                              (b"__keyevent@0__:evicted", b"t2"),
                              (b"__keyevent@1__:evicted", b"t3")]
    assert evicted(r) == 3
    assert sorted(r.keys()) == [b"keep1", b"keep2"]
    # Nothing left to evict: volatile-* behaves as noeviction.
    with raises(OutOfMemoryError, OOM_TEXT):
        r.set("t4", "v", ex=100)
    r.config_resetstat()
    assert evicted(r) == 0
    p.close()


# -- LFU counting, per command, as Redis counts (lfu-log-factor 0: +1 per access) ------
LFU_STEPS = [
    (("SET", "a", "x"), "a", 5), (("GET", "a"), "a", 6), (("SET", "a", "y"), "a", 7),
    (("APPEND", "a", "z"), "a", 8), (("STRLEN", "a"), "a", 9), (("GETRANGE", "a", 0, 1), "a", 10),
    (("EXPIRE", "a", 100), "a", 11), (("PERSIST", "a"), "a", 12),
    (("MSET", "a", "1x", "a", "2x"), "a", 14), (("SET", "a", "v", "GET"), "a", 16),
    (("COPY", "a", "c"), "c", 5), (("INCR", "n"), "n", 5), (("INCRBY", "n", 5), "n", 6),
    (("DECR", "n"), "n", 7), (("HSET", "h", "f", "v"), "h", 5), (("HSET", "h", "f", "v"), "h", 6),
    (("HGET", "h", "f"), "h", 7), (("HGETALL", "h"), "h", 8), (("HINCRBY", "h", "c", 1), "h", 9),
    (("HDEL", "h", "c"), "h", 10), (("LPUSH", "l", "a"), "l", 5), (("LPUSH", "l", "b"), "l", 6),
    (("RPOP", "l"), "l", 7), (("LRANGE", "l", 0, -1), "l", 8), (("SADD", "s", "m"), "s", 5),
    (("SADD", "s", "n"), "s", 6), (("SMEMBERS", "s"), "s", 7), (("SREM", "s", "n"), "s", 8),
    (("ZADD", "z", 1, "m"), "z", 5), (("ZADD", "z", 2, "m"), "z", 6),
    (("ZSCORE", "z", "m"), "z", 7), (("ZINCRBY", "z", 1, "m"), "z", 8),
    (("SETEX", "e", 100, "v"), "e", 5), (("PEXPIRE", "e", 100_000), "e", 6),
]


def test_lfu_counter_counts_accesses_like_redis(limits):
    r = limits
    configure(r, maxmemory="100mb", maxmemory_policy="allkeys-lfu", lfu_log_factor=0)
    for command, key, frequency in LFU_STEPS:
        r.execute_command(*command)
        assert (command, r.object("freq", key)) == (command, frequency)
    # COPY read its source; OBJECT and MEMORY USAGE are no access.
    r.memory_usage("a")
    assert r.object("freq", "a") == 17


def test_object_freq_and_idletime_follow_the_policy(limits):
    r = limits
    configure(r, maxmemory="100mb", maxmemory_policy="allkeys-lru")
    r.set("k", "v")
    assert r.object("idletime", "k") in (0, 1)
    assert r.object("freq", "missing") is None
    with raises(ResponseError, LFU_NOT_SELECTED):
        r.object("freq", "k")
    r.config_set("maxmemory-policy", "volatile-lfu")
    assert r.object("idletime", "missing") is None
    with raises(ResponseError, LRU_NOT_SELECTED):
        r.object("idletime", "k")
    assert r.object("freq", "k") >= 0


# -- minikv's policies, on the manual clock ------------------------------------------
def limited(clock, policy, **settings):
    client = minikv.Redis(clock=clock, maxmemory="100mb", maxmemory_policy=policy)
    configure(client, **settings)
    return client


def shrink_to_evict(r, count, like):
    """Lower maxmemory just enough that ``count`` keys of the size of key
    ``like`` must go, and return the keys that went."""
    before = set(r.keys())
    r.config_set("maxmemory", used(r) - r.memory_usage(like) * count + 1)
    return before - set(r.keys())


def test_allkeys_lru_evicts_the_least_recently_used_key_first(clock):
    r = limited(clock, "allkeys-lru")
    for i in range(10):
        r.set(f"key{i}", "v" * 10)
        clock.advance(1)
    r.get("key0")
    r.hget("nope", "x")  # a miss touches nothing
    assert shrink_to_evict(r, 1, "key0") == {b"key1"}
    r.set("key2", "w" * 10)  # a write is an access too
    assert shrink_to_evict(r, 2, "key0") == {b"key3", b"key4"}
    assert evicted(r) == 3


def test_allkeys_lru_compares_databases(clock):
    r = limited(clock, "allkeys-lru")
    other = minikv.Redis(store=r.store, db=3)
    other.set("old", "v")
    clock.advance(1)
    r.set("new", "v")
    r.set("new2", "v")
    r.config_set("maxmemory", used(r) - 1)
    assert other.exists("old") == 0 and r.exists("new", "new2") == 2


def test_allkeys_lru_keeps_the_hot_keys(clock):
    cap = 200_000
    r = limited(clock, "allkeys-lru", maxmemory=cap)
    hot = [f"hot:{i}" for i in range(50)]
    for key in hot:
        r.set(key, "h" * 50)
    for i in range(5000):
        r.set(f"cold:{i}", "c" * 50)
        assert used(r) <= cap
        if i % 100 == 0:
            for key in hot:
                r.get(key)
    assert r.exists(*hot) == len(hot)
    assert evicted(r) > 1000


def test_volatile_lru_evicts_the_idlest_key_with_a_ttl(clock):
    r = limited(clock, "volatile-lru", maxmemory_samples=64)
    for i in range(6):
        r.set(f"t{i}", "v", ex=1000)
        r.set(f"p{i}", "v")
        clock.advance(1)
    r.get("t0")
    r.get("t1")
    assert shrink_to_evict(r, 2, "t0") == {b"t2", b"t3"}


def test_volatile_ttl_evicts_the_soonest_expiring_key_first(clock):
    r = limited(clock, "volatile-ttl", maxmemory_samples=64)
    for i, seconds in enumerate([50, 10, 40, 20, 30]):
        r.set(f"t{i}", "v", ex=seconds)
        r.set(f"p{i}", "v")
    assert shrink_to_evict(r, 1, "t0") == {b"t1"}
    assert shrink_to_evict(r, 2, "t0") == {b"t3", b"t4"}


def test_random_policies(clock):
    r = limited(clock, "volatile-random")
    for i in range(20):
        r.set(f"t{i:02d}", "v", ex=100)
        r.set(f"p{i:02d}", "v")
    gone = shrink_to_evict(r, 5, "t00")
    assert len(gone) == 5 and all(key.startswith(b"t") for key in gone)
    r.config_set("maxmemory-policy", "allkeys-random")
    r.config_set("maxmemory", 40_000)
    for i in range(500):
        r.set(f"k{i}", "x" * 20)
        assert used(r) <= 40_000
    assert 0 < r.dbsize() < 500


def test_allkeys_lfu_keeps_the_frequently_used_keys(clock):
    random.seed(1234)
    r = limited(clock, "allkeys-lfu", maxmemory=100_000)
    popular = [f"popular:{i}" for i in range(20)]
    for key in popular:
        r.set(key, "p" * 30)
        for _ in range(50):
            r.get(key)
    for i in range(3000):
        r.set(f"once:{i}", "o" * 30)
        assert used(r) <= 100_000
    assert r.exists(*popular) == len(popular)


def test_lfu_counter_grows_logarithmically(clock):
    random.seed(42)
    r = limited(clock, "allkeys-lfu")
    r.set("k", "v")
    assert r.object("freq", "k") == 5
    counts = []
    for _ in range(10):
        for _ in range(100):
            r.get("k")
        counts.append(r.object("freq", "k"))
    assert counts == sorted(counts)
    # Redis's table for lfu-log-factor 10: about 10 after 100 hits, 18 after 1000.
    assert 7 <= counts[0] <= 14 and 13 <= counts[-1] <= 24
    r.config_set("lfu-log-factor", 0)
    for _ in range(300):
        r.get("k")
    assert r.object("freq", "k") == 255  # saturates


def test_lfu_counter_decays_with_the_store_clock(clock):
    r = limited(clock, "allkeys-lfu", lfu_log_factor=0)
    r.set("k", "v")
    for _ in range(15):
        r.get("k")
    assert r.object("freq", "k") == 20
    clock.advance(3 * 60)  # one point per lfu-decay-time (1) minutes
    assert r.object("freq", "k") == 17
    r.get("k")  # an access decays first, then counts
    assert r.object("freq", "k") == 18
    r.config_set("lfu-decay-time", 2)
    clock.advance(5 * 60)
    assert r.object("freq", "k") == 16
    r.config_set("lfu-decay-time", 0)  # never decays
    clock.advance(3600)
    assert r.object("freq", "k") == 18
    r.config_set("lfu-decay-time", 1)
    assert r.object("freq", "k") == 0  # floors at zero


def test_idletime_reads_the_store_clock(clock):
    r = limited(clock, "allkeys-lru")
    r.set("k", "v")
    clock.advance(42.7)
    assert r.object("idletime", "k") == 42
    assert r.object("idletime", "k") == 42  # OBJECT is no access
    r.get("k")
    assert r.object("idletime", "k") == 0
    clock.advance(5)
    r.hset("h", "f", "v")
    r.append("k", "w")
    assert r.object("idletime", "k") == 0


def test_tracking_starts_and_stops_with_maxmemory(clock):
    r = minikv.Redis(clock=clock)
    r.set("old", "v")
    clock.advance(10)
    r.config_set("maxmemory", "1mb")
    clock.advance(2)
    assert r.object("idletime", "old") == 2  # counted from when tracking began
    r.config_set("maxmemory-policy", "allkeys-lfu")
    assert r.object("freq", "old") == 5
    r.config_set("maxmemory", 0)
    assert r.store.memory is None and all(ks.memory is None for ks in r.store.dbs)
    with pytest.raises(ResponseError, match="not available while maxmemory is 0"):
        r.object("freq", "old")


def test_lowering_maxmemory_evicts_at_once(clock):
    r = limited(clock, "allkeys-lru")
    for i in range(100):
        r.set(f"k{i}", "v" * 100)
    r.config_set("maxmemory", 20_000)
    assert used(r) <= 20_000 and evicted(r) > 0
    assert r.exists("k99") == 1


def test_eviction_waits_for_the_end_of_a_transaction(clock):
    r = limited(clock, "allkeys-lru", maxmemory=30_000)
    pipe = r.pipeline(transaction=True)
    for i in range(200):
        pipe.set(f"k{i}", "v" * 100)
    assert pipe.execute() == [True] * 200
    assert used(r) <= 30_000
    assert r.exists("k199") == 1 and r.exists("k0") == 0


def test_fast_paths_evict_like_commands(clock):
    r = limited(clock, "allkeys-lru", maxmemory=50_000)
    writes = [lambda i: r.set(f"s{i}", "x" * 40), lambda i: r.set(f"e{i}", "x", ex=100),
              lambda i: r.incr(f"n{i}"), lambda i: r.hset(f"h{i}", "f", "v"),
              lambda i: r.lpush(f"l{i}", "a"), lambda i: r.sadd(f"s{i}:set", "a"),
              lambda i: r.zadd(f"z{i}", {"m": 1}), lambda i: r.zincrby(f"zi{i}", 1, "m")]
    for i in range(300):
        for write in writes:
            write(i)
            assert used(r) <= 50_000
    assert r.exists("s299", "zi299") == 2


def test_constructor_settings():
    r = minikv.Redis(maxmemory="1mb", maxmemory_policy="allkeys-lfu")
    assert r.config_get("maxmemory*") == {"maxmemory": "1048576",
                                          "maxmemory-policy": "allkeys-lfu",
                                          "maxmemory-samples": "5"}
    assert minikv.Redis(maxmemory=123).config_get("maxmemory") == {"maxmemory": "123"}
    with pytest.raises(ValueError, match="argument must be a memory value"):
        minikv.Redis(maxmemory="lots")
    with pytest.raises(ValueError, match="argument.s. must be one of the following"):
        minikv.Redis(maxmemory_policy="sometimes")
    with pytest.raises(ValueError, match="configure a new store"):
        minikv.Redis(store=r.store, maxmemory=10)


# -- accounting ---------------------------------------------------------------------------
def recomputed(store):
    """engine/memory.py's formula from scratch over every key of every db,
    collections sampled in full (the tests fill them with equal-sized
    elements, where any sample gives the same mean)."""
    total = 0
    for ks in store.dbs:
        for key, value in ks.data.items():
            tracking = 0 if ks.memory is None else ks.memory.tracking_bytes(value)
            total += key_bytes(key, value, key in ks.expires, 0, tracking)
    return total


def _usage_sum(clients):
    """MEMORY USAGE of every key of every db (a client per db), summed."""
    return sum(client.memory_usage(key) for client in clients for key in client.keys())


def test_accounting_equals_the_sum_of_memory_usage(clock):
    r = limited(clock, "allkeys-lru")
    rng = random.Random(7)
    clients = [minikv.Redis(store=r.store, db=db) for db in range(16)]
    other = clients[2]
    for step in range(2000):
        key = f"k{rng.randrange(60)}"
        op = rng.randrange(13)
        if op == 0:
            r.set(key, "x" * rng.randrange(50))
        elif op == 1:
            r.set(key, "y" * 8, px=rng.randrange(1, 5000))
        elif op == 2:
            r.delete(key)
        elif op == 3:
            r.execute_command("APPEND", f"a{key}", "z" * rng.randrange(5))
        elif op == 4:
            r.hset(f"h{key}", f"f{rng.randrange(30):02d}", "vvvv")
        elif op == 5:
            r.rpush(f"l{key}", "eeee")
        elif op == 6:
            r.lpop(f"l{key}")
        elif op == 7:
            r.sadd(f"s{key}", f"m{rng.randrange(99):02d}")
        elif op == 8:
            r.zadd(f"z{key}", {f"m{rng.randrange(99):02d}": rng.random()})
        elif op == 9:
            r.expire(key, 3)
        elif op == 10:
            other.set(key, "o")
        elif op == 11:
            clock.advance(0.5)
            r.store.active_expire_cycle()
        elif step % 500 == 12:
            r.swapdb(0, 2)
        if step % 4 == 0:
            assert used(r) == recomputed(r.store), step
    assert used(r) == _usage_sum(clients)
    r.flushall()
    assert used(r) == 0


def test_accounting_follows_collections_that_grow_and_shrink(clock):
    r = limited(clock, "allkeys-lru")
    for i in range(1000):
        r.hset("h", f"field{i:04d}", "value-0000")
    assert used(r) == recomputed(r.store)
    for i in range(900):
        r.hdel("h", f"field{i:04d}")
    assert used(r) == recomputed(r.store)
    r.rpush("l", *["e" * 10] * 500)
    r.ltrim("l", 0, 9)
    r.zadd("z", {f"m{i:03d}": i for i in range(300)})
    r.zremrangebyrank("z", 0, 199)
    assert used(r) == recomputed(r.store)


def test_without_a_limit_info_measures_the_tables():
    """maxmemory 0: INFO walks the keys and measures the dicts as they are;
    MEMORY USAGE still gives each key its per-key share of them."""
    r = minikv.Redis()
    r.set("k", "v" * 20)
    r.set("t", "v", ex=100)
    r.hset("h", mapping={f"f{i}": "v" for i in range(10)})
    ks = r.store.dbs[0]
    tables = sum(getsizeof(db.data) + getsizeof(db.expires) for db in r.store.dbs)
    objects = sum(object_bytes(key, value) for key, value in ks.data.items())
    # One expiry time: an int object on the pure backend; the compiled
    # backend's table holds it inline, in its getsizeof.
    expiry_int = INT_BYTES if ks.expires.__class__ is dict else 0
    assert used(r) == tables + objects + expiry_int
    assert r.memory_usage("k") == key_bytes(b"k", b"v" * 20, False)
    assert r.memory_usage("k") == DICT_SLOT_BYTES + object_bytes(b"k", b"v" * 20)


def test_a_collection_overwritten_by_a_string_is_forgotten(clock):
    r = limited(clock, "allkeys-lru")
    r.hset("k", mapping={f"f{i}": "v" for i in range(100)})
    tracker = r.store.dbs[0].memory
    assert b"k" in tracker.means
    r.set("k", "now a string")
    assert b"k" not in tracker.means  # no reference to the old hash is kept
    assert used(r) == recomputed(r.store)


# -- streams of writes under a 10 MB cap ------------------------------------------------
def _stream(clock, writes, hot_every):
    cap = 10 * 1024 * 1024
    r = limited(clock, "allkeys-lru", maxmemory="10mb")
    limit = r.store.memory
    hot = [f"hot:{i}" for i in range(100)]
    for key in hot:
        r.set(key, "h" * 100)
    value = "v" * 100
    for i in range(writes):
        r.set(f"key:{i}", value)
        if limit.used > cap:
            raise AssertionError(f"over the cap after write {i}: {limit.used}")
        if i % hot_every == 0:
            for key in hot:
                r.get(key)
    kept = r.dbsize() - len(hot)
    assert r.exists(*hot) == len(hot)
    # Exact LRU: the survivors are exactly the most recent writes.
    newest = [f"key:{i}" for i in range(writes - kept, writes)]
    assert r.exists(*newest) == kept
    assert r.exists(f"key:{writes - kept - 1}") == 0
    assert evicted(r) == writes - kept
    assert kept > 10_000


def test_1m_writes_stay_under_a_10mb_cap_and_keep_the_recent_keys(clock):
    """About 6 s: well under the budget of a slow-marked soak, so it runs in
    the normal suite (benchmarks/eviction_soak.py runs longer streams)."""
    _stream(clock, 1_000_000, hot_every=5_000)
