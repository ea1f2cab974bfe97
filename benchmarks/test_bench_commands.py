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
