"""pytest-benchmark cases for minikv's hot commands, and the floor under them.

    python -m pytest benchmarks -q --benchmark-only            # active backend
    MINIKV_PURE=1 python -m pytest benchmarks -q --benchmark-only

Each case times one redis-py-style call on ``minikv.Redis`` with ``str``
arguments, as application code makes it. ``test_floor_*`` time a plain dict
behind a ``threading.Lock`` — the least a thread-safe in-process store can
cost — for reference. Cases of one command share a group, so the report puts
them side by side. For minikv next to fakeredis and a real redis-server in
one table, see ``benchmarks/compare.py``.
"""
import threading
from collections import deque

import pytest

import minikv

KEY = "user:1000:name"
VALUE = "alice@example.org"
FIELD = "email"


@pytest.fixture
def r(benchmark):
    client = minikv.Redis()
    benchmark.extra_info["backend"] = minikv.BACKEND
    yield client
    client.close()


@pytest.fixture
def floor():
    """A dict and its lock, holding KEY."""
    return {KEY: VALUE}, threading.Lock()


@pytest.mark.benchmark(group="GET")
def test_get_hit(benchmark, r):
    r.set(KEY, VALUE)
    assert benchmark(r.get, KEY) == VALUE.encode()


@pytest.mark.benchmark(group="GET")
def test_get_miss(benchmark, r):
    assert benchmark(r.get, "no:such:key") is None


@pytest.mark.benchmark(group="SET")
def test_set(benchmark, r):
    assert benchmark(r.set, KEY, VALUE) is True


@pytest.mark.benchmark(group="SET")
def test_set_ex(benchmark, r):
    assert benchmark(r.set, KEY, VALUE, ex=60) is True
    assert 0 < r.ttl(KEY) <= 60


@pytest.mark.benchmark(group="INCR")
def test_incr(benchmark, r):
    last = benchmark(r.incr, "counter")
    assert int(r.get("counter")) == last >= 1


@pytest.mark.benchmark(group="HSET")
def test_hset(benchmark, r):
    benchmark(r.hset, "user:1001", FIELD, VALUE)
    assert r.hget("user:1001", FIELD) == VALUE.encode()


@pytest.mark.benchmark(group="HGET")
def test_hget(benchmark, r):
    r.hset("user:1001", FIELD, VALUE)
    assert benchmark(r.hget, "user:1001", FIELD) == VALUE.encode()


# -- sets at two sizes: the per-call cost must not grow with the set --------
SET_SIZES = {"1k": 1_000, "1M": 1_000_000}
NEW_MEMBER = "member:new"
PRESENT_MEMBER = "member:500"


def set_key(label):
    return f"set:{label}"


@pytest.fixture(scope="module")
def sets_client():
    """One client holding a set of each size, filled once for the module."""
    client = minikv.Redis()
    for label, size in SET_SIZES.items():
        for start in range(0, size, 10_000):
            chunk = range(start, min(size, start + 10_000))
            client.sadd(set_key(label), *[f"member:{i}" for i in chunk])
    yield client
    client.close()


@pytest.mark.benchmark(group="SADD+SREM")
@pytest.mark.parametrize("label", SET_SIZES)
def test_sadd_srem(benchmark, sets_client, label):
    """SADD of a new member, then SREM of it: the set keeps its size."""
    benchmark.extra_info["backend"] = minikv.BACKEND
    key = set_key(label)

    def sadd_srem():
        sets_client.sadd(key, NEW_MEMBER)
        sets_client.srem(key, NEW_MEMBER)

    benchmark(sadd_srem)
    assert sets_client.scard(key) == SET_SIZES[label]


@pytest.mark.benchmark(group="SISMEMBER")
@pytest.mark.parametrize("label", SET_SIZES)
def test_sismember(benchmark, sets_client, label):
    benchmark.extra_info["backend"] = minikv.BACKEND
    assert benchmark(sets_client.sismember, set_key(label), PRESENT_MEMBER) == 1


# -- lists at two sizes: LPUSH/LPOP must not grow with the list -------------
LIST_SIZES = {"1k": 1_000, "1M": 1_000_000}


def list_key(label):
    return f"list:{label}"


@pytest.fixture(scope="module")
def lists_client():
    """One client holding a list of each length, filled once for the module."""
    client = minikv.Redis()
    for label, size in LIST_SIZES.items():
        for start in range(0, size, 10_000):
            client.rpush(list_key(label), *range(start, min(size, start + 10_000)))
    yield client
    client.close()


@pytest.mark.benchmark(group="LPUSH+LPOP")
@pytest.mark.parametrize("label", LIST_SIZES)
def test_lpush_lpop(benchmark, lists_client, label):
    """LPUSH of an element, then LPOP of it: the list keeps its length."""
    benchmark.extra_info["backend"] = minikv.BACKEND
    key = list_key(label)

    def lpush_lpop():
        lists_client.lpush(key, VALUE)
        return lists_client.lpop(key)

    assert benchmark(lpush_lpop) == VALUE.encode()
    assert lists_client.llen(key) == LIST_SIZES[label]


@pytest.mark.benchmark(group="LPUSH+LPOP")
@pytest.mark.parametrize("label", LIST_SIZES)
def test_floor_lpush_lpop(benchmark, label):
    """A deque behind a lock, at the same lengths."""
    data, lock = deque(range(LIST_SIZES[label])), threading.Lock()

    def lpush_lpop():
        with lock:
            data.appendleft(VALUE)
        with lock:
            return data.popleft()

    assert benchmark(lpush_lpop) == VALUE


# -- sorted sets at two sizes: O(log n) must look flat from 1k to 1M ---------
ZSET_SIZES = {"1k": 1_000, "1M": 1_000_000}
ZSET_MEMBER = "member:500"
ZSET_INCR_MEMBER = "member:700"


def zset_key(label):
    return f"zset:{label}"


@pytest.fixture(scope="module")
def zsets_client():
    """One client holding a sorted set of each size (member:i scores i),
    filled once for the module with 10,000 pairs per ZADD."""
    client = minikv.Redis()
    for label, size in ZSET_SIZES.items():
        for start in range(0, size, 10_000):
            client.zadd(zset_key(label), {f"member:{i}": i
                                          for i in range(start, min(size, start + 10_000))})
    yield client
    client.close()


@pytest.mark.benchmark(group="ZADD+ZREM")
@pytest.mark.parametrize("label", ZSET_SIZES)
def test_zadd_zrem(benchmark, zsets_client, label):
    """ZADD of a new member, then ZREM of it: the set keeps its size."""
    benchmark.extra_info["backend"] = minikv.BACKEND
    key = zset_key(label)

    def zadd_zrem():
        zsets_client.zadd(key, {NEW_MEMBER: 250.5})
        return zsets_client.zrem(key, NEW_MEMBER)

    assert benchmark(zadd_zrem) == 1
    assert zsets_client.zcard(key) == ZSET_SIZES[label]


@pytest.mark.benchmark(group="ZINCRBY")
@pytest.mark.parametrize("label", ZSET_SIZES)
def test_zincrby(benchmark, zsets_client, label):
    benchmark.extra_info["backend"] = minikv.BACKEND
    assert benchmark(zsets_client.zincrby, zset_key(label), 1, ZSET_INCR_MEMBER) > 700


@pytest.mark.benchmark(group="ZRANK")
@pytest.mark.parametrize("label", ZSET_SIZES)
def test_zrank(benchmark, zsets_client, label):
    benchmark.extra_info["backend"] = minikv.BACKEND
    assert benchmark(zsets_client.zrank, zset_key(label), ZSET_MEMBER) == 500


@pytest.mark.benchmark(group="ZSCORE")
@pytest.mark.parametrize("label", ZSET_SIZES)
def test_zscore(benchmark, zsets_client, label):
    benchmark.extra_info["backend"] = minikv.BACKEND
    assert benchmark(zsets_client.zscore, zset_key(label), ZSET_MEMBER) == 500.0


@pytest.mark.benchmark(group="ZREVRANGE 0 9 WITHSCORES")
@pytest.mark.parametrize("label", ZSET_SIZES)
def test_zrevrange_top_10(benchmark, zsets_client, label):
    benchmark.extra_info["backend"] = minikv.BACKEND
    top = benchmark(zsets_client.zrevrange, zset_key(label), 0, 9, withscores=True)
    assert len(top) == 10 and top[0][1] >= top[-1][1]


@pytest.mark.benchmark(group="GET")
def test_floor_get(benchmark, floor):
    data, lock = floor

    def get(key):
        with lock:
            return data.get(key)

    assert benchmark(get, KEY) == VALUE


@pytest.mark.benchmark(group="SET")
def test_floor_set(benchmark, floor):
    data, lock = floor

    def set_(key, value):
        with lock:
            data[key] = value

    benchmark(set_, "user:1001:name", VALUE)
    assert data["user:1001:name"] == VALUE


# -- pipelines and transactions ------------------------------------------------
# A pipeline is built and executed inside the timed call, as application code
# does; divide the pipeline case's time by PIPELINE_SIZE for the cost per SET.
PIPELINE_SIZE = 100
PIPELINE_KEYS = [f"pipe:{i}" for i in range(PIPELINE_SIZE)]
TRANSACTION_SIZE = 10


@pytest.mark.benchmark(group="PIPELINE 100 SET")
def test_pipeline_of_100_sets(benchmark, r):
    benchmark.extra_info["operations_per_call"] = PIPELINE_SIZE

    def pipeline_of_sets():
        pipe = r.pipeline(transaction=False)
        for key in PIPELINE_KEYS:
            pipe.set(key, VALUE)
        return pipe.execute()

    assert benchmark(pipeline_of_sets) == [True] * PIPELINE_SIZE


@pytest.mark.benchmark(group="PIPELINE 100 SET")
def test_floor_100_sets(benchmark, floor):
    data, lock = floor
    benchmark.extra_info["operations_per_call"] = PIPELINE_SIZE

    def sets():
        with lock:
            for key in PIPELINE_KEYS:
                data[key] = VALUE

    benchmark(sets)
    assert data[PIPELINE_KEYS[-1]] == VALUE


@pytest.mark.benchmark(group="MULTI/EXEC 10 INCR")
def test_multi_exec_of_10_incrs(benchmark, r):
    def transaction():
        pipe = r.pipeline()
        for _ in range(TRANSACTION_SIZE):
            pipe.incr("counter")
        return pipe.execute()

    replies = benchmark(transaction)
    assert replies == list(range(replies[0], replies[0] + TRANSACTION_SIZE))
