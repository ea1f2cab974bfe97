"""The client's fast paths at their edges, against real Redis.

``minikv.Redis``'s hot methods (``FastPaths``: minikv/_pyclient.py, compiled
in minikv/_core.pyx) answer the common forms without going through the
command table. Each case here drives one of their branches — a value kept
as a bytearray after APPEND, integers at the int64 limits, text Redis's
string2ll refuses, a hash changing encoding, a list created by a push while
a client waits for it, index ranges past either end — and checks the reply,
the error and the keyspace against the real server. The whole suite runs on
both backends, so both twins are held to the same answers.
"""
import pytest
from helpers import Call, kind, raises, wait_blocked
from redis.exceptions import ResponseError

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"


def test_get_and_incr_of_an_appended_value(r):
    r.set("s", "1")
    r.append("s", "0")  # minikv keeps it as a bytearray from here
    assert r.get("s") == b"10"
    assert r.incr("s") == 11
    r.append("s", "x")
    with raises(ResponseError, NOT_INTEGER):
        r.incr("s")
    assert r.get("s") == b"11x"


@pytest.mark.parametrize("text", [b"", b"-", b"-0", b"01", b" 1", b"1 ", b"+1", b"1.0",
                                  b"9223372036854775808", b"-9223372036854775809",
                                  b"123456789012345678901", b"0x10", b"\x001"])
def test_incr_refuses_what_string2ll_refuses(r, text):
    r.set("n", text)
    with raises(ResponseError, NOT_INTEGER):
        r.incr("n")
    assert r.get("n") == text


@pytest.mark.parametrize("start, amount, result", [
    (b"0", 1, 1), (b"-1", 1, 0), (b"9223372036854775806", 1, 9223372036854775807),
    (b"-9223372036854775807", -1, -9223372036854775808),
    (b"-9223372036854775808", 9223372036854775807, -1),
    (b"12345678901234567890"[:19], -5, 1234567890123456784),
])
def test_incrby_at_the_int64_limits(r, start, amount, result):
    r.set("n", start)
    assert r.incrby("n", amount) == result
    assert r.get("n") == str(result).encode()


@pytest.mark.parametrize("start, amount", [(b"9223372036854775807", 1),
                                           (b"-9223372036854775808", -1),
                                           (b"1", 9223372036854775807)])
def test_incrby_overflow_leaves_the_value(r, start, amount):
    r.set("n", start)
    with raises(ResponseError, "increment or decrement would overflow"):
        r.incrby("n", amount)
    assert r.get("n") == start


def test_incr_keeps_the_ttl_and_refuses_other_types(r):
    r.set("n", "5", ex=100)
    assert r.incr("n") == 6 and r.ttl("n") == 100
    r.rpush("l", "a")
    with raises(ResponseError, WRONGTYPE):
        r.incr("l")
    with raises(ResponseError, WRONGTYPE):
        r.get("l")


def test_set_and_set_ex_replace_any_type_and_ttl(r):
    r.rpush("k", "a")
    assert r.set("k", "v") is True and r.type("k") == b"string" and r.ttl("k") == -1
    assert r.set("k", "w", ex=50) is True and r.ttl("k") == 50
    assert r.set("k", "x") is True and r.ttl("k") == -1
    assert r.set("k", 12, ex=1) is True and r.get("k") == b"12"


def test_exists_delete_expire_ttl_on_one_key(r):
    assert r.exists("k") == 0 and r.delete("k") == 0 and r.ttl("k") == -2
    assert r.expire("k", 10) is False
    r.set("k", "v")
    assert r.exists("k") == 1 and r.ttl("k") == -1
    assert r.expire("k", 10) is True and r.ttl("k") == 10
    assert r.delete("k") == 1 and r.exists("k") == 0


def test_hset_converts_a_listpack_hash_as_redis_does(r):
    saved = r.config_get("hash-max-listpack-*")
    r.config_set("hash-max-listpack-entries", 2)
    r.config_set("hash-max-listpack-value", 8)
    try:
        assert r.hset("h", "a", "1") == 1 and r.hset("h", "a", "2") == 0
        assert r.object("encoding", "h") == b"listpack"
        assert r.hset("h", "b", "123456789") == 1  # value longer than 8
        assert r.object("encoding", "h") == b"hashtable"
        r.hset("g", "a", "1")
        r.hset("g", "b", "2")
        assert r.object("encoding", "g") == b"listpack"
        assert r.hset("g", "c", "3") == 1  # a third entry
        assert r.object("encoding", "g") == b"hashtable"
        assert r.hget("g", "c") == b"3" and r.hget("g", "zz") is None
    finally:
        for name, value in saved.items():
            r.config_set(name, value)
    r.set("s", "v")
    with raises(ResponseError, WRONGTYPE):
        r.hset("s", "a", "1")
    with raises(ResponseError, WRONGTYPE):
        r.hget("s", "a")


def test_push_and_pop_create_and_delete_the_list(r):
    assert r.rpop("l") is None
    assert r.lpush("l", "a") == 1 and r.rpush("l", "b") == 2 and r.lpush("l", 3) == 3
    assert r.lrange("l", 0, -1) == [b"3", b"a", b"b"]
    assert r.rpop("l") == b"b" and r.lpop("l") == b"3" and r.lpop("l") == b"a"
    assert r.exists("l") == 0
    r.set("s", "v")
    for call in (lambda: r.lpush("s", "x"), lambda: r.rpop("s"), lambda: r.lpop("s")):
        with raises(ResponseError, WRONGTYPE):
            call()


def test_a_push_that_creates_the_list_serves_a_waiting_client(r, client_factory):
    other = client_factory(kind(r))
    if kind(r) == "minikv":
        other = type(r)(store=r.store)
    waiting = Call(other.blpop, "q", timeout=5)
    waiting.start()
    wait_blocked(r, 1)
    assert r.rpush("q", "job") == 1
    assert waiting.outcome() == (b"q", b"job")
    assert r.exists("q") == 0


@pytest.mark.parametrize("start, end", [(0, 9), (0, -1), (-3, -1), (2, 1), (5, 100),
                                        (-100, 2), (10, 20), (-1, -1), (3, 3)])
@pytest.mark.parametrize("withscores", [False, True])
def test_index_ranges_past_either_end(r, start, end, withscores):
    r.zadd("z", {f"m{i}": i * 1.5 for i in range(8)})
    assert r.zrevrange("z", start, end, withscores=withscores) == \
        list(reversed(r.zrange("z", 0, -1, withscores=withscores)))[
            _python_slice(8, start, end)]
    forward = r.zrange("z", start, end, withscores=withscores)
    assert forward == r.zrange("z", 0, -1, withscores=withscores)[_python_slice(8, start, end)]


def _python_slice(size, start, end):
    start = max(start + size if start < 0 else start, 0)
    end = end + size if end < 0 else end
    return slice(start, max(min(end, size - 1) + 1, start))


def test_zset_single_member_paths(r):
    assert r.zscore("z", "a") is None and r.zrank("z", "a") is None
    assert r.zadd("z", {"a": 1}) == 1 and r.zadd("z", {"b": 2.5}) == 1
    assert r.zadd("z", {"a": 1}) == 0 and r.zadd("z", {"a": 3}) == 0
    assert r.zscore("z", "a") == 3.0 and r.zrank("z", "a") == 1 and r.zrevrank("z", "a") == 0
    assert r.zincrby("z", 1, "b") == 3.5 and r.zincrby("z", -0.5, "new") == -0.5
    assert r.zrevrange("z", 0, -1, withscores=True) == [(b"b", 3.5), (b"a", 3.0),
                                                        (b"new", -0.5)]
    assert r.zrem("z", "a") == 1 and r.zrem("z", "a") == 0
    assert r.zrem("z", "b") == 1 and r.zrem("z", "new") == 1 and r.exists("z") == 0
    r.set("s", "v")
    for call in (lambda: r.zadd("s", {"a": 1}), lambda: r.zincrby("s", 1, "a"),
                 lambda: r.zscore("s", "a"), lambda: r.zrank("s", "a"),
                 lambda: r.zrevrange("s", 0, -1), lambda: r.zrem("s", "a")):
        with raises(ResponseError, WRONGTYPE):
            call()


def test_decoded_replies_of_the_fast_paths(rd):
    rd.set("k", "é")
    rd.hset("h", "f", "ü")
    rd.rpush("l", "ß")
    rd.zadd("z", {"ø": 1})
    assert rd.get("k") == "é" and rd.hget("h", "f") == "ü" and rd.lpop("l") == "ß"
    assert rd.zrevrange("z", 0, -1) == ["ø"]
    assert rd.zrange("z", 0, -1, withscores=True) == [("ø", 1.0)]


@pytest.mark.parametrize("ex, px, ttl", [(5, None, 5), (None, 5000, 5), (None, 400, 0),
                                         (None, 1800, 2)])
def test_set_with_a_relative_ttl(r, ex, px, ttl):
    assert r.set("k", "v", ex=ex, px=px) is True
    assert r.ttl("k") == ttl and r.get("k") == b"v"


@pytest.mark.parametrize("ex, px, error", [
    (0, None, "invalid expire time in 'set' command"),
    (None, 0, "invalid expire time in 'set' command"),
    (None, -5, "invalid expire time in 'set' command"),
    (-1, None, "invalid expire time in 'set' command"),
])
def test_set_with_an_invalid_ttl_changes_nothing(r, ex, px, error):
    r.set("k", "old")
    with raises(ResponseError, error):
        r.set("k", "v", ex=ex, px=px)
    assert r.get("k") == b"old" and r.ttl("k") == -1


def test_set_with_ex_and_px_is_refused_client_side(r):
    from redis.exceptions import DataError
    with pytest.raises(DataError):
        r.set("k", "v", ex=1, px=1000)
    assert r.exists("k") == 0
