"""Sorted set commands, differential: every ``r``/``rd`` test runs on minikv
and on real Redis, so each literal expectation is Redis 7.0's answer.

Beyond replies these check what the keyspace holds afterwards (members,
scores as Redis prints them, encoding, TTL), error precedence, redis-py's
client-side DataErrors and reply shapes (``r`` is a default redis-py client:
RESP3 on the wire, legacy shapes; ``raw`` is a RESP2 client of the same kind,
for the exact score text Redis sends). Random replies (ZRANDMEMBER) are
checked by their properties. The blocking pops are tested with threads; the
last sections test minikv's ``ScoreIndex`` directly: its invariants under
random operations, and — by counting comparisons, not by timing — that its
operations stay logarithmic.
"""
import math
import random

import pytest
import redis
from helpers import Call, blocked_clients, kind, raises, wait_blocked
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.exceptions import DataError, ResponseError

import minikv
from minikv._pyzset import ScoreIndex
from minikv.engine.zsets import format_score, parse_score

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_FLOAT = "value is not a valid float"
NOT_INTEGER = "value is not an integer or out of range"
SCORE_BOUND = "min or max is not a float"
LEX_BOUND = "min or max not valid string range item"
SYNTAX = "syntax error"


def arity(name):
    return f"wrong number of arguments for '{name}' command"


def encoding(r, key):
    value = r.object("encoding", key)
    return value.decode() if isinstance(value, bytes) else value


def contents(r, key):
    return r.zrange(key, 0, -1, withscores=True)


@pytest.fixture
def raw(r):
    """A RESP2 client of the same kind as ``r`` (same server, or the same
    store): its raw replies carry scores as the text Redis sends."""
    if kind(r) == "redis":
        client = redis.Redis(port=r.connection_pool.connection_kwargs["port"], protocol=2)
    else:
        client = minikv.Redis(store=r.store, protocol=2)
    yield client
    client.close()


@pytest.fixture
def limits(r):
    """Set zset-max-listpack-entries/-value for one test; the real server
    is shared, so the defaults are put back afterwards."""
    def apply(entries=128, value=64):
        r.config_set("zset-max-listpack-entries", entries)
        r.config_set("zset-max-listpack-value", value)
    yield apply
    apply()


@pytest.fixture
def abc(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    return r


# -- ZADD ---------------------------------------------------------------------
def test_zadd_counts_new_members(r):
    assert r.zadd("z", {"a": 1, "b": 2}) == 2
    assert r.zadd("z", {"a": 5, "c": 3}) == 1
    assert contents(r, "z") == [(b"b", 2.0), (b"c", 3.0), (b"a", 5.0)]
    assert r.type("z") == b"zset"
    assert r.zcard("z") == 3


def test_zadd_last_pair_wins_for_a_repeated_member(r):
    assert r.execute_command("ZADD", "z", 1, "m", 2, "m", 3, "n") == 2
    assert contents(r, "z") == [(b"m", 2.0), (b"n", 3.0)]


def test_zadd_nx_xx(r):
    r.zadd("z", {"a": 1})
    assert r.zadd("z", {"a": 10, "b": 2}, nx=True) == 1
    assert r.zadd("z", {"a": 10, "c": 3}, xx=True) == 0
    assert contents(r, "z") == [(b"b", 2.0), (b"a", 10.0)]
    assert r.zadd("missing", {"a": 1}, xx=True) == 0
    assert r.exists("missing") == 0


def test_zadd_gt_lt_only_move_scores_one_way_and_still_add(r):
    r.zadd("z", {"a": 5, "b": 5})
    assert r.zadd("z", {"a": 3, "b": 7, "c": 1}, gt=True) == 1
    assert contents(r, "z") == [(b"c", 1.0), (b"a", 5.0), (b"b", 7.0)]
    assert r.zadd("z", {"a": 3, "b": 9}, lt=True, ch=True) == 1
    assert contents(r, "z") == [(b"c", 1.0), (b"a", 3.0), (b"b", 7.0)]
    assert r.zadd("z", {"a": 30, "d": 4}, xx=True, gt=True, ch=True) == 1
    assert r.zscore("z", "a") == 30.0 and r.zscore("z", "d") is None


def test_zadd_ch_counts_changed_scores_not_unchanged_ones(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.zadd("z", {"a": 1, "b": 3, "c": 4}, ch=True) == 2


def test_zadd_incr(r):
    assert r.zadd("z", {"a": 1.5}, incr=True) == 1.5
    assert r.zadd("z", {"a": 2}, incr=True) == 3.5
    assert r.zadd("z", {"a": 2}, incr=True, nx=True) is None
    assert r.zadd("z", {"b": 2}, incr=True, xx=True) is None
    assert r.zadd("z", {"a": -1}, incr=True, gt=True) is None
    assert r.zadd("z", {"a": 1}, incr=True, gt=True) == 4.5
    assert r.zadd("z", {"a": 0}, incr=True, lt=True) is None
    assert r.zadd("z", {"a": 0}, incr=True) == 4.5
    assert r.zadd("missing", {"a": 1}, incr=True, xx=True) is None
    assert contents(r, "z") == [(b"a", 4.5)]


@pytest.mark.parametrize("args, message", [
    (["NX", "XX", 1, "a"], "XX and NX options at the same time are not compatible"),
    (["GT", "LT", 1, "a"], "GT, LT, and/or NX options at the same time are not compatible"),
    (["NX", "GT", 1, "a"], "GT, LT, and/or NX options at the same time are not compatible"),
    (["lt", "nx", 1, "a"], "GT, LT, and/or NX options at the same time are not compatible"),
    (["INCR", 1, "a", 2, "b"], "INCR option supports a single increment-element pair"),
    ([1, "a", 2], SYNTAX),
    (["NX", "XX"], SYNTAX),
    (["NX", "XX", 1], SYNTAX),  # the pairs are checked before the flags
    ([1, "a", "ch", 2], NOT_FLOAT),  # flags only come first
    (["abc", "a"], NOT_FLOAT),
    (["nan", "a"], NOT_FLOAT),
    ([1, "a", "nan", "b"], NOT_FLOAT),
    ([1], arity("zadd")),
])
def test_zadd_errors_leave_nothing_behind(r, args, message):
    with raises(ResponseError, message):
        r.execute_command("ZADD", "z", *args)
    assert r.exists("z") == 0


def test_zadd_checks_scores_before_the_type(r):
    r.set("s", "v")
    with raises(ResponseError, NOT_FLOAT):
        r.execute_command("ZADD", "s", "x", "a")
    with raises(ResponseError, "XX and NX options at the same time are not compatible"):
        r.execute_command("ZADD", "s", "NX", "XX", 1, "a")
    with raises(ResponseError, WRONGTYPE):
        r.zadd("s", {"a": 1})
    with raises(ResponseError, WRONGTYPE):
        r.zadd("s", {"a": 1}, xx=True)
    assert r.get("s") == b"v"


@pytest.mark.parametrize("kwargs, message", [
    ({"mapping": {}}, "ZADD requires at least one element/score pair"),
    ({"mapping": {"a": 1}, "nx": True, "xx": True}, "ZADD allows either 'nx' or 'xx', not both"),
    ({"mapping": {"a": 1}, "gt": True, "lt": True}, "ZADD allows either 'gt' or 'lt', not both"),
    ({"mapping": {"a": 1, "b": 2}, "incr": True},
     "ZADD option 'incr' only works when passing a single element/score pair"),
    ({"mapping": {"a": 1}, "nx": True, "gt": True},
     "Only one of 'nx', 'lt', or 'gr' may be defined."),
    ({"mapping": {"a": True}}, "Invalid input of type: 'bool'. Convert to a bytes, string, "
                               "int or float first."),
    ({"mapping": {None: 1}}, "Invalid input of type: 'NoneType'. Convert to a bytes, string, "
                             "int or float first."),
])
def test_zadd_client_side_errors(r, kwargs, message):
    with raises(DataError, message):
        r.zadd("z", **kwargs)
    assert r.exists("z") == 0


@pytest.mark.parametrize("score, expected", [
    ("1", b"1"), ("+1", b"1"), ("-1", b"-1"), ("1.5", b"1.5"), ("0.1", b"0.10000000000000001"),
    (".5", b"0.5"), ("1.", b"1"), ("1e20", b"1e+20"), ("1e16", b"10000000000000000"),
    ("1e17", b"1e+17"), ("123456789012345678", b"1.2345678901234568e+17"),
    ("2.5E-3", b"0.0025000000000000001"), ("0x10", b"16"), ("0x1p-3", b"0.125"), ("0X.8P1", b"1"),
    ("inf", b"inf"), ("+inf", b"inf"), ("-inf", b"-inf"), ("INFINITY", b"inf"),
    ("-Infinity", b"-inf"), ("4e-320", b"3.999955468730732e-320"),
    ("1.7976931348623157e308", b"1.7976931348623157e+308"), ("-0.0", b"0"),
])
def test_score_spellings_and_how_redis_prints_them(r, raw, score, expected):
    r.execute_command("ZADD", "z", score, "m")
    assert raw.execute_command("ZSCORE", "z", "m") == float(expected)
    assert raw.execute_command("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"m", expected]
    assert r.zrandmember("z", 1, withscores=True) == [b"m", expected]


@pytest.mark.parametrize("score", [
    "", " 1", "1 ", "\t1", "1\x002", "nan", "-nan", "NaN", "1e400", "-1e400", "1e-400",
    "0x1p2000", "0x1p-1080", "infin", "0x", "1e", "1_0", "1,5", "0b1", "(1", "--1",
])
def test_scores_redis_refuses(r, score):
    with raises(ResponseError, NOT_FLOAT):
        r.execute_command("ZADD", "z", score, "m")
    with raises(ResponseError, NOT_FLOAT):
        r.execute_command("ZINCRBY", "z", score, "m")
    assert r.exists("z") == 0


def test_zadd_python_numbers_encode_like_redis_py(r):
    r.zadd("z", {"a": 2 ** 70, "b": 0.1 + 0.2, "c": -0.0, "d": float("inf"), "e": 3})
    assert contents(r, "z") == [(b"c", 0.0), (b"b", 0.30000000000000004), (b"e", 3.0),
                                (b"a", 1.1805916207174113e+21), (b"d", math.inf)]
    with raises(ResponseError, NOT_FLOAT):
        r.zadd("z", {"f": float("nan")})
    with raises(ResponseError, NOT_FLOAT):
        r.zadd("z", {"f": 10 ** 400})
    with raises(ResponseError, NOT_FLOAT):
        r.zincrby("z", float("nan"), "a")
    assert r.zcard("z") == 5


def test_minus_zero_is_kept_by_a_skiplist_only(r, raw, limits):
    r.zadd("listpack", {"m": -0.0})
    assert raw.execute_command("ZRANGE", "listpack", 0, -1, "WITHSCORES") == [b"m", b"0"]
    replied = raw.execute_command("ZINCRBY", "listpack", "-0", "n")
    assert math.copysign(1, replied) == -1  # -0 replied, 0 stored
    assert raw.execute_command("ZSCORE", "listpack", "n") == 0.0
    assert raw.execute_command("ZRANGE", "listpack", 0, -1, "WITHSCORES") == [
        b"m", b"0", b"n", b"0"]
    limits(entries=0)
    r.zadd("skiplist", {"m": -0.0, "n": 0.0})
    assert encoding(r, "skiplist") == "skiplist"
    assert raw.execute_command("ZRANGE", "skiplist", 0, -1, "WITHSCORES") == [
        b"m", b"-0", b"n", b"0"]
    assert r.zadd("skiplist", {"m": 0.0, "n": -0.0}, ch=True) == 0  # -0 == 0: no change
    assert raw.execute_command("ZRANGE", "skiplist", 0, -1, "WITHSCORES") == [
        b"m", b"-0", b"n", b"0"]


# -- ZINCRBY --------------------------------------------------------------------
def test_zincrby(r):
    assert r.zincrby("z", 2.5, "a") == 2.5
    assert r.zincrby("z", -1, "a") == 1.5
    assert r.zincrby("z", "1e3", "b") == 1000.0
    assert r.zincrby("z", 0.1, "a") == 1.6
    assert contents(r, "z") == [(b"a", 1.6), (b"b", 1000.0)]


def test_zincrby_to_nan_is_an_error_and_changes_nothing(r):
    r.zadd("z", {"a": float("inf"), "b": 1})
    with raises(ResponseError, "resulting score is not a number (NaN)"):
        r.zincrby("z", "-inf", "a")
    with raises(ResponseError, "resulting score is not a number (NaN)"):
        r.zadd("z", {"a": "-inf"}, incr=True)
    assert r.zincrby("z", "inf", "a") == math.inf
    assert r.zincrby("z", "-inf", "b") == -math.inf
    assert contents(r, "z") == [(b"b", -math.inf), (b"a", math.inf)]


@pytest.mark.parametrize("increment", ["nx", "XX", "incr", "ch", "GT", "lt"])
def test_zincrby_an_option_word_as_increment_is_a_syntax_error(r, increment):
    """ZINCRBY is ZADD INCR underneath: the word is read as a flag."""
    with raises(ResponseError, SYNTAX):
        r.zincrby("z", increment, "a")
    assert r.zincrby("z", 1, "nx") == 1.0


def test_zincrby_wrongtype_and_arity(r):
    r.set("s", "v")
    with raises(ResponseError, WRONGTYPE):
        r.zincrby("s", 1, "a")
    with raises(ResponseError, NOT_FLOAT):
        r.zincrby("s", "x", "a")
    with raises(ResponseError, arity("zincrby")):
        r.execute_command("ZINCRBY", "z", 1)


# -- ZREM, ZSCORE, ZMSCORE, ZRANK, ZCARD ---------------------------------------
def test_zrem_counts_and_deletes_the_emptied_key(abc):
    r = abc
    r.expire("z", 100)
    assert r.zrem("z", "a", "x", "a") == 1
    assert r.ttl("z") > 0
    assert r.zrem("z", "b", "c", "d", "e") == 4
    assert r.exists("z") == 0
    assert r.zrem("z", "a") == 0
    with raises(ResponseError, arity("zrem")):
        r.zrem("z")


def test_zscore_zmscore(abc):
    r = abc
    assert r.zscore("z", "c") == 3.0
    assert r.zscore("z", "x") is None
    assert r.zscore("missing", "x") is None
    assert r.zmscore("z", ["a", "x", "e"]) == [1.0, None, 5.0]
    assert r.zmscore("missing", ["a", "b"]) == [None, None]
    with raises(DataError, "ZMSCORE members must be a non-empty list"):
        r.zmscore("z", [])
    with raises(ResponseError, arity("zmscore")):
        r.execute_command("ZMSCORE", "z")


def test_zrank_zrevrank(abc):
    r = abc
    assert [r.zrank("z", m) for m in "abcde"] == [0, 1, 2, 3, 4]
    assert [r.zrevrank("z", m) for m in "abcde"] == [4, 3, 2, 1, 0]
    assert r.zrank("z", "x") is None and r.zrevrank("missing", "a") is None


def test_zrank_withscore_does_not_exist_in_redis_7_0(abc):
    with raises(ResponseError, arity("zrank")):
        abc.zrank("z", "a", withscore=True)
    with raises(ResponseError, arity("zrevrank")):
        abc.zrevrank("z", "a", withscore=True)


def test_equal_scores_order_by_member_bytes(r):
    r.zadd("z", {"b": 1, "a": 1, "ab": 1, "B": 1, "": 1, "\xff": 1, "a\x00": 1, "é": 0})
    assert r.zrange("z", 0, -1) == [b"\xc3\xa9", b"", b"B", b"a", b"a\x00", b"ab", b"b",
                                    b"\xc3\xbf"]
    assert r.zrank("z", "a\x00") == 4


def test_zcard(abc):
    assert abc.zcard("z") == 5
    assert abc.zcard("missing") == 0


@pytest.mark.parametrize("call", [
    lambda r: r.zscore("s", "a"), lambda r: r.zmscore("s", ["a"]), lambda r: r.zrank("s", "a"),
    lambda r: r.zrevrank("s", "a"), lambda r: r.zcard("s"), lambda r: r.zrem("s", "a"),
    lambda r: r.zincrby("s", 1, "a"), lambda r: r.zadd("s", {"a": 1}),
    lambda r: r.zcount("s", 0, 1), lambda r: r.zlexcount("s", "-", "+"),
    lambda r: r.zrange("s", 0, -1), lambda r: r.zrevrange("s", 0, -1, withscores=True),
    lambda r: r.zrangebyscore("s", 0, 1), lambda r: r.zrangebylex("s", "-", "+"),
    lambda r: r.zremrangebyrank("s", 0, 1), lambda r: r.zremrangebyscore("s", 0, 1),
    lambda r: r.zremrangebylex("s", "-", "+"), lambda r: r.zpopmin("s"),
    lambda r: r.zpopmax("s", 0), lambda r: r.zrandmember("s"), lambda r: r.zrandmember("s", 0),
    lambda r: r.zscan("s"), lambda r: r.zrangestore("d", "s", 0, 1),
    lambda r: r.zmpop(1, ["s"], min=True), lambda r: r.bzpopmin("s", 1),
    lambda r: r.bzmpop(1, 1, ["s"], max=True),
])
def test_wrongtype(r, call):
    r.set("s", "v")
    with raises(ResponseError, WRONGTYPE):
        call(r)
    assert r.get("s") == b"v"


# -- ZCOUNT and ZLEXCOUNT -------------------------------------------------------
@pytest.mark.parametrize("low, high, expected", [
    ("-inf", "+inf", 5), (1, 5, 5), ("(1", 5, 4), ("(1", "(5", 3), (2, 2, 1), ("(2", 2, 0),
    (5, 1, 0), ("-inf", "(1", 0), ("(5", "inf", 0), ("(-inf", "(+inf", 5), ("(", "(3", 2),
    ("", "3", 3), (" 2", "\t4", 3), ("0x2", "0x4", 3), ("1e400", "inf", 0),
    ("-1e400", "1e-400", 0), ("4\x00junk", 5, 2), ("(4", "5\x00", 1),
])
def test_zcount_bounds(r, low, high, expected):
    r.zadd("z", {"zero": 0, "a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    r.zrem("z", "zero")
    assert r.zcount("z", low, high) == expected


@pytest.mark.parametrize("low, high", [
    ("nan", 1), (1, "(nan"), ("x", 1), ("1 ", 2), (" ", 2), ("( ", 2), ("((1", 2), ("[1", 2),
])
def test_bad_score_bounds(abc, low, high):
    r = abc
    for call in (lambda: r.zcount("z", low, high), lambda: r.zrangebyscore("z", low, high),
                 lambda: r.zrevrangebyscore("z", high, low),
                 lambda: r.zremrangebyscore("z", low, high),
                 lambda: r.zrange("z", low, high, byscore=True),
                 lambda: r.zcount("missing", low, high)):
        with raises(ResponseError, SCORE_BOUND):
            call()
    assert r.zcard("z") == 5


@pytest.mark.parametrize("low, high, expected", [
    ("-", "+", 6), ("[b", "[d", 3), ("(b", "[d", 2), ("(b", "(d", 1), ("[b", "(b", 0),
    ("[e", "[a", 0), ("+", "-", 0), ("-", "-", 0), ("+", "+", 0), ("[", "+", 6), ("(", "+", 5),
    ("[a", "+", 5), ("-", "(a", 1), ("[aa", "[c", 2), ("-\x00", "+\x00x", 6),
])
def test_zlexcount_bounds(r, low, high, expected):
    r.zadd("z", {"": 0, "a": 0, "b": 0, "c": 0, "d": 0, "e": 0})
    assert r.zlexcount("z", low, high) == expected
    assert len(r.zrangebylex("z", low, high)) == expected
    assert r.zrevrangebylex("z", high, low) == r.zrangebylex("z", low, high)[::-1]


@pytest.mark.parametrize("low, high", [("a", "+"), ("-", "b"), ("", "+"), ("-x", "+"),
                                       ("+a", "[b"), ("{a", "[b")])
def test_bad_lex_bounds(abc, low, high):
    r = abc
    for call in (lambda: r.zlexcount("z", low, high), lambda: r.zrangebylex("z", low, high),
                 lambda: r.zrevrangebylex("z", high, low),
                 lambda: r.zremrangebylex("z", low, high),
                 lambda: r.zrange("z", low, high, bylex=True),
                 lambda: r.zlexcount("missing", low, high)):
        with raises(ResponseError, LEX_BOUND):
            call()


def test_lex_ranges_are_bytewise(r):
    r.zadd("z", {m: 0 for m in ["a", "B", "é", "\x01", "aa", "a\x00b"]})
    assert r.zrangebylex("z", "[a", "[b") == [b"a", b"a\x00b", b"aa"]
    assert r.zrangebylex("z", "(\x7f", "+") == [b"\xc3\xa9"]
    assert r.zrangebylex("z", "-", "(B") == [b"\x01"]


def test_lex_walk_of_a_listpack_with_different_scores(r):
    """Undefined by Redis's docs, exactly defined by its listpack walk: the
    walk starts at the first member at or above the minimum (scanning from
    the start; from the end for the reverse forms) and stops at the first
    member outside the other bound."""
    r.zadd("z", {"ab": -1.5, "a": 1, "b": 2, "c": 2, "é": 10, "z": 11})
    assert r.zrange("z", 0, -1) == [b"ab", b"a", b"b", b"c", b"\xc3\xa9", b"z"]
    assert r.zrangebylex("z", "-", "[b") == [b"ab", b"a", b"b"]
    assert r.zrangebylex("z", "[b", "+") == [b"b", b"c", b"\xc3\xa9", b"z"]
    assert r.zrangebylex("z", "(a", "[c") == [b"ab", b"a", b"b", b"c"]  # "a" is walked over
    assert r.zrangebylex("z", "(a", "[c", 2, 5) == [b"b", b"c"]
    assert r.zrevrangebylex("z", "[c", "(a") == [b"c", b"b"]
    assert r.zrevrangebylex("z", "+", "[b") == [b"z", b"\xc3\xa9", b"c", b"b"]
    assert r.zlexcount("z", "(a", "[c") == 4
    assert r.zrangebylex("z", "-", "+", 1, 2) == [b"a", b"b"]
    assert r.zremrangebylex("z", "[a", "[c") == 4
    assert r.zrange("z", 0, -1) == [b"\xc3\xa9", b"z"]
    r.zadd("z", {"B": 12})  # "B" sorts before "a": the last member is below "[a"
    assert r.zrangebylex("z", "[a", "+") == []
    assert r.zremrangebylex("z", "[a", "+") == 0


def test_lex_ranges_of_a_skiplist(r, limits):
    limits(entries=2)
    r.zadd("z", {m: 7 for m in ["a", "b", "c", "d", "e", "f"]})
    assert encoding(r, "z") == "skiplist"
    assert r.zrangebylex("z", "(b", "[e") == [b"c", b"d", b"e"]
    assert r.zrevrangebylex("z", "[e", "(b", 1, 5) == [b"d", b"c"]
    assert r.zlexcount("z", "(b", "[e") == 3
    assert r.zlexcount("z", "[x", "+") == 0
    assert r.zremrangebylex("z", "-", "(c") == 2
    assert r.zremrangebylex("z", "[e", "[c") == 0
    assert r.zrange("z", 0, -1) == [b"c", b"d", b"e", b"f"]


# -- ZRANGE and its family --------------------------------------------------------
@pytest.mark.parametrize("start, end, expected", [
    (0, -1, "abcde"), (1, 3, "bcd"), (-2, -1, "de"), (-100, 1, "ab"), (3, 100, "de"),
    (3, 2, ""), (5, 10, ""), (-1, -2, ""), (0, 0, "a"), (-5, -5, "a"), (-6, -6, ""),
])
def test_zrange_by_index(abc, start, end, expected):
    r = abc
    members = [m.encode() for m in expected]
    assert r.zrange("z", start, end) == members
    reverse = [m.encode() for m in expected.translate(str.maketrans("abcde", "edcba"))]
    assert r.zrevrange("z", start, end) == reverse
    assert r.zrange("z", start, end, desc=True) == reverse


def test_zrange_withscores_and_score_cast_func(abc):
    r = abc
    assert r.zrange("z", 0, 1, withscores=True) == [(b"a", 1.0), (b"b", 2.0)]
    assert r.zrevrange("z", 0, 1, withscores=True) == [(b"e", 5.0), (b"d", 4.0)]
    assert r.zrange("z", 0, 1, withscores=True, score_cast_func=int) == [(b"a", 1), (b"b", 2)]
    assert r.zrange("z", 0, 0, withscores=True, score_cast_func=bytes) == [(b"a", b"1")]
    r.zadd("z", {"big": 1e20, "tenth": 0.1})
    assert r.zrange("z", -1, -1, withscores=True, score_cast_func=int) == [
        (b"big", 100000000000000000000)]
    assert r.zrange("z", 0, 0, withscores=True, score_cast_func=lambda s: s) == [
        (b"tenth", b"0.10000000000000001")]
    assert r.zrange("z", 0, 1, score_cast_func=int) == [b"tenth", b"a"]
    assert r.zrevrange("missing", 0, -1, withscores=True) == []


def test_zrange_index_arguments_as_strings_and_errors(abc):
    r = abc
    assert r.zrange("z", "1", "-2") == [b"b", b"c", b"d"]
    assert r.zrevrange("z", "0", "0") == [b"e"]
    for start, end in (("x", 1), (0, 1.5), (2 ** 63, 1), (0, "1e2")):
        with raises(ResponseError, NOT_INTEGER):
            r.zrange("z", start, end)
        with raises(ResponseError, NOT_INTEGER):
            r.zrevrange("z", start, end, withscores=True)
        with raises(ResponseError, NOT_INTEGER):
            r.zrange("missing", start, end)


def test_zrange_byscore(abc):
    r = abc
    assert r.zrange("z", 2, 4, byscore=True) == [b"b", b"c", b"d"]
    assert r.zrange("z", "(2", "+inf", byscore=True, withscores=True) == [
        (b"c", 3.0), (b"d", 4.0), (b"e", 5.0)]
    assert r.zrange("z", 4, "(1", byscore=True, desc=True) == [b"d", b"c", b"b"]
    assert r.zrange("z", "-inf", "inf", byscore=True, offset=1, num=2) == [b"b", b"c"]
    assert r.zrange("z", "+inf", "-inf", byscore=True, desc=True, offset=1, num=2) == [
        b"d", b"c"]
    assert r.zrange("z", 1, 4, byscore=True, offset=3, num=-1) == [b"d"]
    assert r.zrange("z", 4, 1, byscore=True) == []


def test_zrangebyscore_and_zrevrangebyscore(abc):
    r = abc
    assert r.zrangebyscore("z", 2, "(4") == [b"b", b"c"]
    assert r.zrangebyscore("z", "-inf", "+inf", 1, 2, withscores=True) == [
        (b"b", 2.0), (b"c", 3.0)]
    assert r.zrevrangebyscore("z", "+inf", "-inf", 1, 2, withscores=True,
                              score_cast_func=int) == [(b"d", 4), (b"c", 3)]
    assert r.zrevrangebyscore("z", "(5", 2) == [b"d", b"c", b"b"]
    assert r.zrevrangebyscore("z", 2, 5) == []


@pytest.mark.parametrize("offset, count, expected", [
    (0, 2, "ab"), (1, -1, "bcde"), (1, 0, ""), (4, 5, "e"), (5, 1, ""), (-1, 2, ""),
    (0, -5, "abcde"), (100, -1, ""),
])
def test_limit_offsets_and_counts(abc, offset, count, expected):
    r = abc
    members = [m.encode() for m in expected]
    assert r.zrangebyscore("z", "-inf", "+inf", offset, count) == members
    assert r.zrangebylex("z", "-", "+", offset, count) == members
    reverse = [m.encode() for m in expected.translate(str.maketrans("abcde", "edcba"))]
    assert r.zrevrangebyscore("z", "+inf", "-inf", offset, count) == reverse
    assert r.zrevrangebylex("z", "+", "-", offset, count) == reverse


def test_zrange_bylex(abc):
    r = abc
    assert r.zrange("z", "[b", "(d", bylex=True) == [b"b", b"c"]
    assert r.zrange("z", "+", "[c", bylex=True, desc=True) == [b"e", b"d", b"c"]
    assert r.zrange("z", "-", "+", bylex=True, offset=2, num=2) == [b"c", b"d"]
    assert r.zrangebylex("z", "[c", "+") == [b"c", b"d", b"e"]
    assert r.zrevrangebylex("z", "(c", "-", 0, 1) == [b"b"]


@pytest.mark.parametrize("args, message", [
    (["LIMIT", 0, 1], "syntax error, LIMIT is only supported in combination with either "
                      "BYSCORE or BYLEX"),
    (["BYLEX", "WITHSCORES"], "syntax error, WITHSCORES not supported in combination with "
                              "BYLEX"),
    (["BYSCORE", "BYLEX"], SYNTAX), (["BYSCORE", "BYSCORE"], SYNTAX), (["REV", "REV"], SYNTAX),
    (["BYSCORE", "LIMIT", 1], SYNTAX), (["BYSCORE", "LIMIT", "x", 1], NOT_INTEGER),
    (["WITHSCORE"], SYNTAX), (["LIMIT", 0, 1, "BYLEX"], LEX_BOUND),
])
def test_zrange_option_errors(abc, args, message):
    with raises(ResponseError, message):
        abc.execute_command("ZRANGE", "z", 0, -1, *args)
    with raises(ResponseError, message):
        abc.execute_command("ZRANGE", "missing", 0, -1, *args)


def test_zrange_limit_minus_one_is_no_limit_even_by_index(abc):
    assert abc.execute_command("ZRANGE", "z", 0, 1, "LIMIT", 3, -1) == [b"a", b"b"]


@pytest.mark.parametrize("command, args", [
    ("ZREVRANGE", ["REV"]), ("ZREVRANGE", ["BYSCORE"]), ("ZRANGEBYSCORE", ["REV"]),
    ("ZRANGEBYSCORE", ["BYLEX"]), ("ZRANGEBYLEX", ["BYSCORE"]), ("ZREVRANGEBYSCORE", ["REV"]),
])
def test_the_fixed_forms_refuse_zranges_options(abc, command, args):
    low, high = ("-", "+") if "LEX" in command else (0, 10)
    with raises(ResponseError, SYNTAX):
        abc.execute_command(command, "z", low, high, *args)


def test_zrevrange_limit_is_the_limit_error(abc):
    with raises(ResponseError, "syntax error, LIMIT is only supported in combination with "
                               "either BYSCORE or BYLEX"):
        abc.execute_command("ZREVRANGE", "z", 0, -1, "LIMIT", 0, 1)
    with raises(ResponseError, "syntax error, WITHSCORES not supported in combination with "
                               "BYLEX"):
        abc.execute_command("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES")


def test_zrange_client_side_errors(abc):
    r = abc
    with raises(DataError, "``byscore`` and ``bylex`` can not be specified together."):
        r.zrange("z", 0, 1, byscore=True, bylex=True)
    with raises(DataError, "``offset`` and ``num`` must both be specified."):
        r.zrange("z", 0, 1, byscore=True, offset=1)
    with raises(DataError, "``withscores`` not supported in combination with ``bylex``."):
        r.zrange("z", "-", "+", bylex=True, withscores=True)
    for method in (r.zrangebyscore, r.zrevrangebyscore, r.zrangebylex, r.zrevrangebylex):
        with raises(DataError, "``start`` and ``num`` must both be specified"):
            method("z", 0, 1, start=1)


@pytest.mark.parametrize("command, arity_", [
    ("ZRANGE", -4), ("ZREVRANGE", -4), ("ZRANGEBYSCORE", -4), ("ZREVRANGEBYSCORE", -4),
    ("ZRANGEBYLEX", -4), ("ZREVRANGEBYLEX", -4), ("ZRANGESTORE", -5), ("ZCOUNT", 4),
    ("ZLEXCOUNT", 4), ("ZREMRANGEBYRANK", 4), ("ZREMRANGEBYSCORE", 4), ("ZREMRANGEBYLEX", 4),
    ("ZSCORE", 3), ("ZRANK", 3), ("ZREVRANK", 3), ("ZCARD", 2), ("ZPOPMIN", -2),
    ("ZMPOP", -4), ("BZPOPMAX", -3), ("BZMPOP", -5), ("ZRANDMEMBER", -2), ("ZUNION", -3),
    ("ZINTERSTORE", -4), ("ZINTERCARD", -3), ("ZSCAN", -3),
])
def test_arity(r, command, arity_):
    too_few = ["k"] * (abs(arity_) - 2)
    with raises(ResponseError, arity(command.lower())):
        r.execute_command(command, *too_few)
    if arity_ > 0:
        with raises(ResponseError, arity(command.lower())):
            r.execute_command(command, *(["k"] * arity_))


# -- ZRANGESTORE -------------------------------------------------------------------
def test_zrangestore(abc):
    r = abc
    assert r.zrangestore("dst", "z", 1, 2) == 2
    assert contents(r, "dst") == [(b"b", 2.0), (b"c", 3.0)]
    assert r.zrangestore("dst", "z", "(3", "+inf", byscore=True) == 2
    assert contents(r, "dst") == [(b"d", 4.0), (b"e", 5.0)]
    assert r.zrangestore("dst", "z", "[e", "-", bylex=True, desc=True, offset=1, num=2) == 2
    assert contents(r, "dst") == [(b"c", 3.0), (b"d", 4.0)]
    assert r.zrangestore("z", "z", 0, 0) == 1
    assert contents(r, "z") == [(b"a", 1.0)]


def test_zrangestore_replaces_any_type_drops_the_ttl_or_deletes(abc):
    r = abc
    r.set("dst", "v", ex=100)
    assert r.zrangestore("dst", "z", 0, 0) == 1
    assert r.type("dst") == b"zset" and r.ttl("dst") == -1
    assert r.zrangestore("dst", "z", 10, 20) == 0
    assert r.exists("dst") == 0
    r.set("dst", "v")
    assert r.zrangestore("dst", "missing", 0, -1) == 0
    assert r.exists("dst") == 0
    r.set("s", "v")
    with raises(ResponseError, WRONGTYPE):
        r.zrangestore("dst", "s", 0, -1)
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES")


def test_zrangestore_encoding(abc, limits):
    r = abc
    limits(entries=3)
    r.zrangestore("known", "z", 0, 2)
    r.zrangestore("known_over", "z", 0, 3)
    r.zrangestore("unknown", "z", "-inf", "+inf", byscore=True, offset=0, num=3)
    r.zrangestore("unknown_over", "z", "-inf", "+inf", byscore=True)
    assert [encoding(r, key) for key in ("known", "known_over", "unknown", "unknown_over")] == [
        "listpack", "skiplist", "listpack", "skiplist"]
    limits(entries=0)
    r.zrangestore("zero_known", "z", 0, 0)
    r.zrangestore("zero_unknown", "z", 1, 1, byscore=True)
    assert [encoding(r, key) for key in ("zero_known", "zero_unknown")] == ["skiplist"] * 2
    limits(value=1)
    r.zadd("long", {"a": 1, "bb": 2})
    r.zrangestore("short", "long", 0, 0)
    r.zrangestore("both", "long", 0, 1)
    assert [encoding(r, key) for key in ("long", "short", "both")] == [
        "skiplist", "listpack", "skiplist"]


# -- ZREMRANGEBY* --------------------------------------------------------------------
@pytest.mark.parametrize("start, end, removed, left", [
    (0, 1, 2, "cde"), (-2, -1, 2, "abc"), (1, -2, 3, "ae"), (3, 1, 0, "abcde"),
    (5, 9, 0, "abcde"), (-100, 100, 5, ""),
])
def test_zremrangebyrank(abc, start, end, removed, left):
    r = abc
    assert r.zremrangebyrank("z", start, end) == removed
    assert r.zrange("z", 0, -1) == [m.encode() for m in left]
    assert r.exists("z") == (1 if left else 0)


def test_zremrange_by_score_and_lex(abc):
    r = abc
    r.expire("z", 100)
    assert r.zremrangebyscore("z", "(1", 3) == 2
    assert r.zremrangebyscore("z", 10, 20) == 0
    assert r.zremrangebylex("z", "[d", "+") == 2
    assert r.zrange("z", 0, -1) == [b"a"] and r.ttl("z") > 0
    assert r.zremrangebyscore("z", "-inf", "+inf") == 1
    assert r.exists("z") == 0
    assert r.zremrangebyrank("missing", 0, -1) == 0
    with raises(ResponseError, NOT_INTEGER):
        r.zremrangebyrank("missing", "a", 1)


# -- popping ---------------------------------------------------------------------------
def test_zpopmin_zpopmax(abc):
    r = abc
    assert r.zpopmin("z") == [(b"a", 1.0)]
    assert r.zpopmax("z", 2) == [(b"e", 5.0), (b"d", 4.0)]
    assert r.zpopmin("z", 0) == []
    assert r.zpopmin("z", 10) == [(b"b", 2.0), (b"c", 3.0)]
    assert r.exists("z") == 0
    assert r.zpopmin("z") == [] and r.zpopmax("z", 3) == []


def test_zpop_count_errors_come_before_the_key(r):
    r.set("s", "v")
    for count in (-1, "x", 2 ** 63):
        with raises(ResponseError, "value is out of range, must be positive"):
            r.zpopmin("s", count)
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZPOPMAX", "s", 1, 2)
    with raises(ResponseError, WRONGTYPE):
        r.zpopmax("s", 0)


def test_zpop_keeps_the_ttl(abc):
    abc.expire("z", 100)
    abc.zpopmax("z")
    assert abc.ttl("z") > 0


def test_zmpop(abc):
    r = abc
    r.zadd("y", {"x": 10})
    assert r.zmpop(2, ["missing", "z"], min=True) == [b"z", [[b"a", b"1"]]]
    assert r.zmpop(2, ["z", "y"], max=True, count=2) == [b"z", [[b"e", b"5"], [b"d", b"4"]]]
    assert r.zmpop(1, ["y"], max=True, count=5) == [b"y", [[b"x", b"10"]]]
    assert r.exists("y") == 0
    assert r.zmpop(2, ["missing", "y"], min=True) is None
    r.set("s", "v")
    assert r.zmpop(2, ["z", "s"], min=True) == [b"z", [[b"b", b"2"]]]
    with raises(ResponseError, WRONGTYPE):
        r.zmpop(2, ["missing", "s"], min=True)
    with raises(DataError, ""):
        r.zmpop(1, ["z"])
    with raises(DataError, ""):
        r.zmpop(1, ["z"], min=True, max=True)


@pytest.mark.parametrize("args, message", [
    ([0, "z", "MIN"], "numkeys should be greater than 0"),
    (["x", "z", "MIN"], "numkeys should be greater than 0"),
    ([-1, "z", "MIN"], "numkeys should be greater than 0"),
    ([2, "z", "MIN"], SYNTAX),
    ([2 ** 63 - 1, "z", "MIN"], SYNTAX),
    ([1, "z", "LEFT"], SYNTAX),
    ([1, "z", "MIN", "COUNT"], SYNTAX),
    ([1, "z", "MIN", "COUNT", 0], "count should be greater than 0"),
    ([1, "z", "MIN", "COUNT", "x"], "count should be greater than 0"),
    ([1, "z", "MIN", "COUNT", 1, "COUNT", 1], SYNTAX),
    ([1, "z", "MIN", "extra"], SYNTAX),
])
def test_zmpop_errors(r, args, message):
    r.set("z", "not a zset")
    with raises(ResponseError, message):
        r.execute_command("ZMPOP", *args)


def test_bzpop_pops_at_once_when_it_can(abc):
    r = abc
    assert r.bzpopmin(["missing", "z"], 1) == (b"z", b"a", 1.0)
    assert r.bzpopmax("z") == (b"z", b"e", 5.0)
    assert r.bzmpop(1, 2, ["missing", "z"], min=True, count=2) == [
        b"z", [[b"b", b"2"], [b"c", b"3"]]]
    assert r.bzmpop(0, 1, ["z"], max=True) == [b"z", [[b"d", b"4"]]]
    assert r.exists("z") == 0
    with raises(DataError, "Either min or max, but not both must be set"):
        r.bzmpop(1, 1, ["z"])


@pytest.mark.parametrize("command, args, message", [
    ("BZPOPMIN", ["z", "x"], "timeout is not a float or out of range"),
    ("BZPOPMAX", ["z", "-1"], "timeout is negative"),
    ("BZPOPMIN", ["z", "nan"], "timeout is not a float or out of range"),
    ("BZMPOP", ["x", 1, "z", "MIN"], "timeout is not a float or out of range"),
    ("BZMPOP", ["x", 0, "z", "MIN"], "numkeys should be greater than 0"),  # timeout read last
    ("BZMPOP", [-1, 1, "z", "MIN", "COUNT", 0], "count should be greater than 0"),
])
def test_blocking_pop_argument_errors(r, command, args, message):
    r.set("z", "v")
    with raises(ResponseError, message):
        r.execute_command(command, *args)


def test_a_short_timeout_on_the_system_clock(r):
    assert r.bzpopmin("k", 0.05) is None
    assert r.bzpopmax(["k", "j"], 0.05) is None
    assert r.bzmpop(0.05, 1, ["k"], min=True) is None


def test_blocking_pops_inside_a_transaction_do_not_block(r):
    pipe = r.pipeline(transaction=True)
    pipe.bzpopmin("k", 0).bzmpop(0, 1, ["k"], max=True).zadd("k", {"a": 1}).bzpopmax("k", 0)
    assert pipe.execute() == [None, None, 1, (b"k", b"a", 1.0)]


# -- blocking: who is served, in which order, and when ----------------------------------
# (``block``: the fixture in conftest.py)
def test_bzpopmin_first_blocked_first_served(r, block):
    calls = [block("bzpopmin", "k", 0) for _ in range(3)]
    assert r.zadd("k", {"a": 1}) == 1
    assert calls[0].outcome() == (b"k", b"a", 1.0)
    assert blocked_clients(r) == 2 and calls[1].is_alive() and calls[2].is_alive()
    assert r.zadd("k", {"x": 3, "y": 2}) == 2
    assert calls[1].outcome() == (b"k", b"y", 2.0)
    assert calls[2].outcome() == (b"k", b"x", 3.0)
    assert r.exists("k") == 0


def test_mixed_waiters_take_from_their_end(r, block):
    low = block("bzpopmin", ["j", "k"], 0)
    high = block("bzpopmax", "k", 0)
    many = block("bzmpop", 0, 1, ["k"], min=True, count=5)
    r.zadd("k", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert low.outcome() == (b"k", b"a", 1.0)
    assert high.outcome() == (b"k", b"d", 4.0)
    assert many.outcome() == [b"k", [[b"b", b"2"], [b"c", b"3"]]]
    assert r.exists("k") == 0


def test_zincrby_and_the_store_forms_serve_waiters(r, block):
    first = block("bzpopmax", "k", 0)
    assert r.zincrby("k", 2, "a") == 2.0
    assert first.outcome() == (b"k", b"a", 2.0)
    second = block("bzpopmin", ["d1", "d2"], 0)
    r.zadd("src", {"m": 7})
    assert r.zunionstore("d2", ["src"]) == 1
    assert second.outcome() == (b"d2", b"m", 7.0)
    third = block("bzmpop", 0, 1, ["d3"], max=True)
    assert r.zrangestore("d3", "src", 0, -1) == 1
    assert third.outcome() == [b"d3", [[b"m", b"7"]]]


def test_a_key_of_another_type_keeps_zset_waiters_waiting(r, block):
    call = block("bzpopmin", "k", 0)
    r.rpush("k", "x")
    assert blocked_clients(r) == 1
    r.delete("k")
    r.zadd("k", {"m": 1})
    assert call.outcome() == (b"k", b"m", 1.0)


def test_overwriting_the_waited_key_is_not_adding_it(r, block):
    """A STORE form onto an existing key overwrites it: in Redis 7.0 that
    does not wake the client waiting there."""
    call = block("bzpopmin", "k", 0)
    r.set("k", "v")
    r.zadd("src", {"m": 1})
    assert r.zunionstore("k", ["src"]) == 1
    assert blocked_clients(r) == 1
    r.rename("k", "k2")
    r.rename("k2", "k")
    assert call.outcome() == (b"k", b"m", 1.0)


@pytest.fixture
def mblock(mr):
    """``mblock("bzpopmin", "k", 5)`` on the manual-clock store of ``mr``."""
    def start(method, *args, **kwargs):
        client = minikv.Redis(store=mr.store)
        already = len(mr.store.blocked)
        call = Call(getattr(client, method), *args, **kwargs)
        call.start()
        wait_blocked(mr, already + 1)
        return call
    return start


@pytest.mark.parametrize("method, args, kwargs", [
    ("bzpopmin", ("k", 1.5), {}),
    ("bzpopmax", (["k", "j"], 1.5), {}),
    ("bzmpop", (1.5, 2, ["k", "j"]), {"max": True, "count": 3}),
])
def test_manual_clock_timeouts(mr, clock, mblock, method, args, kwargs):
    call = mblock(method, *args, **kwargs)
    clock.advance(1.5)
    assert call.is_alive()
    clock.advance(0.001)
    assert call.outcome() is None
    mr.zadd("k", {"a": 1})
    assert mr.zcard("k") == 1  # nobody waits for it any more


def test_manual_clock_waiters_time_out_in_deadline_order_and_fifo_is_kept(mr, clock, mblock):
    short = mblock("bzpopmin", "k", 1)
    forever = mblock("bzpopmin", "k", 0)
    long = mblock("bzpopmin", "k", 3)
    clock.advance(2)
    assert short.outcome() is None
    assert forever.is_alive() and long.is_alive()
    mr.zadd("k", {"a": 1, "b": 2})
    assert forever.outcome() == (b"k", b"a", 1.0)
    assert long.outcome() == (b"k", b"b", 2.0)
    assert mr.exists("k") == 0


def test_a_client_of_another_db_is_not_served(mr, mblock):
    call = mblock("bzpopmin", "k", 0)
    other = minikv.Redis(store=mr.store, db=1)
    other.zadd("k", {"a": 1})
    assert call.is_alive()
    mr.zadd("k", {"b": 2})
    assert call.outcome() == (b"k", b"b", 2.0)
    assert other.zcard("k") == 1


# -- ZRANDMEMBER ---------------------------------------------------------------------------
def test_zrandmember_without_count(abc):
    assert abc.zrandmember("z") in {b"a", b"b", b"c", b"d", b"e"}
    assert abc.zrandmember("missing") is None


def test_zrandmember_whole_set_comes_from_the_top(abc):
    """A count covering the set returns it all, highest score first."""
    assert abc.zrandmember("z", 5) == [b"e", b"d", b"c", b"b", b"a"]
    assert abc.zrandmember("z", 100, withscores=True) == [
        b"e", b"5", b"d", b"4", b"c", b"3", b"b", b"2", b"a", b"1"]


def test_zrandmember_positive_count_gives_distinct_members(abc):
    for count in (1, 2, 4):
        reply = abc.zrandmember("z", count)
        assert len(reply) == len(set(reply)) == count
        assert set(reply) <= {b"a", b"b", b"c", b"d", b"e"}
    reply = abc.zrandmember("z", 3, withscores=True)
    assert len(reply) == 6
    assert all(abc.zscore("z", member) == float(score)
               for member, score in zip(reply[::2], reply[1::2]))


def test_zrandmember_negative_count_repeats(abc):
    reply = abc.zrandmember("z", -50)
    assert len(reply) == 50 and set(reply) <= {b"a", b"b", b"c", b"d", b"e"}
    assert len(set(reply)) > 1
    assert len(abc.zrandmember("z", -3, withscores=True)) == 6


def test_zrandmember_zero_missing_and_errors(r):
    r.zadd("z", {"a": 1})
    assert r.zrandmember("z", 0) == [] and r.zrandmember("missing", 5) == []
    with raises(ResponseError, NOT_INTEGER):
        r.zrandmember("z", "x")
    with raises(ResponseError, "value is out of range, value must between "
                               "-9223372036854775807 and 9223372036854775807"):
        r.zrandmember("z", -2 ** 63)
    with raises(ResponseError, "value is out of range"):
        r.zrandmember("z", 2 ** 62, withscores=True)
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZRANDMEMBER", "z", 1, "WITHSCORE")
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZRANDMEMBER", "z", 1, "WITHSCORES", "x")


def test_zrandmember_is_uniform(r):
    r.zadd("z", {str(i): i for i in range(4)})
    counts = {m: 0 for m in (b"0", b"1", b"2", b"3")}
    for member in r.zrandmember("z", -4000):
        counts[member] += 1
    assert all(800 < count < 1200 for count in counts.values()), counts


# -- ZUNION / ZINTER / ZDIFF -----------------------------------------------------------------
@pytest.fixture
def xyz(r):
    r.zadd("x", {"a": 1, "b": 2, "c": 3})
    r.zadd("y", {"b": 10, "c": 20, "d": 30})
    r.sadd("s", "c", "d", "e")
    return r


def test_zunion(xyz):
    r = xyz
    assert r.zunion(["x", "y"]) == [b"a", b"b", b"c", b"d"]
    assert r.zunion(["x", "y"], withscores=True) == [
        (b"a", 1.0), (b"b", 12.0), (b"c", 23.0), (b"d", 30.0)]
    assert r.zunion({"x": 2, "y": 0.5}, aggregate="MAX", withscores=True) == [
        (b"a", 2.0), (b"b", 5.0), (b"c", 10.0), (b"d", 15.0)]
    assert r.zunion(["x", "s", "missing"], aggregate="min", withscores=True) == [
        (b"a", 1.0), (b"c", 1.0), (b"d", 1.0), (b"e", 1.0), (b"b", 2.0)]
    assert r.zunion(["x"], withscores=True, score_cast_func=int) == [
        (b"a", 1), (b"b", 2), (b"c", 3)]


def test_zinter(xyz):
    r = xyz
    assert r.zinter(["x", "y"], withscores=True) == [(b"b", 12.0), (b"c", 23.0)]
    assert r.zinter({"x": 1, "y": -1}, aggregate="min", withscores=True) == [
        (b"c", -20.0), (b"b", -10.0)]
    assert r.zinter(["y", "s"], withscores=True) == [(b"c", 21.0), (b"d", 31.0)]
    assert r.zinter(["x", "missing"]) == []
    assert r.zinter(["x", "x"], withscores=True) == [(b"a", 2.0), (b"b", 4.0), (b"c", 6.0)]


def test_zdiff(xyz):
    r = xyz
    assert r.zdiff(["x", "y"]) == [b"a"]
    assert r.zdiff(["y", "x", "s"], withscores=True) == []
    assert r.zdiff(["s", "x"], withscores=True) == [b"d", b"1", b"e", b"1"]
    assert r.zdiff(["y", "missing"], withscores=True) == [
        b"b", b"10", b"c", b"20", b"d", b"30"]
    assert r.zdiff(["x", "x"]) == [] and r.zdiff(["missing", "x"]) == []


def test_nan_from_weights_and_sums_counts_as_zero(r, raw):
    r.zadd("i", {"x": 1, "y": float("inf"), "z": float("-inf")})
    assert r.zunion({"i": 0}, withscores=True) == [(b"x", 0.0), (b"y", 0.0), (b"z", 0.0)]
    assert r.zinter({"i": 1, "j": 1}) == []
    r.zadd("j", {"y": float("-inf"), "x": 2})
    assert r.zinter(["i", "j"], withscores=True) == [(b"y", 0.0), (b"x", 3.0)]
    assert r.zinter({"i": 1, "j": 0}, aggregate="MAX", withscores=True) == [
        (b"x", 1.0), (b"y", math.inf)]
    assert raw.execute_command("ZUNION", 1, "i", "WEIGHTS", "-0", "WITHSCORES") == [
        b"x", b"-0", b"y", b"0", b"z", b"0"]


def test_sums_add_in_order_of_size_then_of_arguments(r):
    """Floating-point addition is not associative: Redis adds the inputs
    smallest first (a stable sort), and so does minikv."""
    r.zadd("big", {"m": 1e16})
    r.zadd("one", {"m": 1})
    r.zadd("neg", {"m": -1e16})
    assert r.zunion(["big", "one", "neg"], withscores=True) == [(b"m", 0.0)]
    assert r.zunion(["big", "neg", "one"], withscores=True) == [(b"m", 1.0)]
    r.zadd("one", {"n": 0})
    assert r.zunion(["one", "big", "neg"], withscores=True) == [(b"n", 0.0), (b"m", 1.0)]
    assert r.zinter(["one", "big", "neg"], withscores=True) == [(b"m", 1.0)]


def test_store_forms(xyz):
    r = xyz
    assert r.zunionstore("u", ["x", "y", "s"]) == 5
    assert contents(r, "u") == [(b"a", 1.0), (b"e", 1.0), (b"b", 12.0), (b"c", 24.0),
                                (b"d", 31.0)]
    assert r.zinterstore("i", {"x": 3, "y": 1}, aggregate="SUM") == 2
    assert contents(r, "i") == [(b"b", 16.0), (b"c", 29.0)]
    assert r.zdiffstore("d", ["y", "x"]) == 1
    assert contents(r, "d") == [(b"d", 30.0)]
    assert r.zunionstore("x", ["x", "y"]) == 4  # a source may be the destination


def test_store_forms_replace_any_type_drop_the_ttl_or_delete(xyz):
    r = xyz
    r.set("dst", "v", ex=100)
    assert r.zinterstore("dst", ["x", "y"]) == 2
    assert r.type("dst") == b"zset" and r.ttl("dst") == -1
    r.expire("dst", 100)
    assert r.zinterstore("dst", ["x", "missing"]) == 0
    assert r.exists("dst") == 0
    r.set("dst", "v")
    assert r.zdiffstore("dst", ["x", "x"]) == 0
    assert r.exists("dst") == 0


def test_store_forms_encode_the_result_as_redis_does(r, raw, limits):
    r.zadd("long", {"m" * 65: 1, "a": -0.0})
    r.zadd("short", {"a": 2})
    limits(entries=0)
    r.zadd("skip", {"a": 1, "b": 2})
    limits()
    r.zunionstore("u1", {"short": -0.0})
    r.zunionstore("u2", ["long"])
    r.zunionstore("u3", ["skip"])
    r.zdiffstore("u4", ["long", "short"])
    assert [encoding(r, k) for k in ("u1", "u2", "u3", "u4")] == [
        "listpack", "skiplist", "listpack", "skiplist"]
    assert raw.execute_command("ZRANGE", "u1", 0, -1, "WITHSCORES") == [b"a", b"0"]
    r.zunionstore("u5", {"long": -0.0})
    assert raw.execute_command("ZRANGE", "u5", 0, -1, "WITHSCORES") == [
        b"a", b"0", b"m" * 65, b"-0"]  # -0 * -0 is 0
    limits(entries=2)
    r.zadd("three", {"a": 1, "b": 2, "c": 3})
    assert r.zunionstore("u6", ["three"]) == 3 and encoding(r, "u6") == "skiplist"
    assert r.zinterstore("u7", ["three", "short"]) == 1 and encoding(r, "u7") == "listpack"


@pytest.mark.parametrize("args, message", [
    ([0, "x"], "at least 1 input key is needed for 'zunion' command"),
    ([-1, "x"], "at least 1 input key is needed for 'zunion' command"),
    (["x", "x"], NOT_INTEGER),
    ([2, "x"], SYNTAX),
    ([1, "x", "WEIGHTS"], SYNTAX),
    ([1, "x", "WEIGHTS", "w"], "weight value is not a float"),
    ([1, "x", "WEIGHTS", "nan"], "weight value is not a float"),
    ([1, "x", "WEIGHTS", 1, 2], SYNTAX),
    ([1, "x", "AGGREGATE"], SYNTAX),
    ([1, "x", "AGGREGATE", "avg"], SYNTAX),
    ([1, "x", "WITHSCORES", "x"], SYNTAX),
    ([1, "x", "LIMIT", 1], SYNTAX),
])
def test_zunion_errors(xyz, args, message):
    with raises(ResponseError, message):
        xyz.execute_command("ZUNION", *args)


def test_set_operation_error_precedence(xyz):
    """Every key is looked up and type-checked before the options are read."""
    r = xyz
    r.set("str", "v")
    with raises(ResponseError, WRONGTYPE):
        r.execute_command("ZINTER", 2, "missing", "str", "WEIGHTS", "x", "y")
    with raises(ResponseError, WRONGTYPE):
        r.execute_command("ZDIFF", 2, "x", "str", "junk")
    with raises(ResponseError, WRONGTYPE):
        r.zunionstore("dst", ["str"])
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZDIFF", 1, "x", "WEIGHTS", 1)
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZDIFFSTORE", "dst", 1, "x", "AGGREGATE", "MIN")
    with raises(ResponseError, SYNTAX):
        r.execute_command("ZUNIONSTORE", "dst", 1, "x", "WITHSCORES")
    with raises(ResponseError, "at least 1 input key is needed for 'zinterstore' command"):
        r.execute_command("ZINTERSTORE", "dst", 0, "x")
    with raises(DataError, "aggregate can be sum, min, max or count."):
        r.zunion(["x"], aggregate="avg")
    with raises(ResponseError, SYNTAX):
        r.zunion(["x"], aggregate="count")
    assert r.exists("dst") == 0


def test_zintercard(xyz):
    r = xyz
    r.zadd("w", {"b": 0, "c": 0, "d": 0})
    assert r.zintercard(2, ["x", "y"]) == 2
    assert r.zintercard(3, ["x", "y", "w"]) == 2
    assert r.zintercard(2, ["y", "s"], limit=1) == 1
    assert r.zintercard(2, ["y", "missing"]) == 0
    assert r.zintercard(1, ["y"], limit=0) == 3


@pytest.mark.parametrize("args, message", [
    ([0, "x"], "at least 1 input key is needed for 'zintercard' command"),
    (["x", "x"], NOT_INTEGER),
    ([2, "x"], SYNTAX),
    ([1, "x", "LIMIT", -1], "LIMIT can't be negative"),
    ([1, "x", "LIMIT", "x"], "LIMIT can't be negative"),
    ([1, "x", "LIMIT"], SYNTAX),
    ([1, "x", "WITHSCORES"], SYNTAX),
    ([1, "x", "WEIGHTS", 1], SYNTAX),
])
def test_zintercard_errors(xyz, args, message):
    with raises(ResponseError, message):
        xyz.execute_command("ZINTERCARD", *args)


# -- ZSCAN ----------------------------------------------------------------------------------
def test_zscan_listpack_returns_everything_in_order_with_cursor_0(r):
    r.zadd("z", {"b": 2, "a": 1, "c": 0.1})
    assert r.zscan("z") == (0, [(b"c", 0.1), (b"a", 1.0), (b"b", 2.0)])
    assert r.zscan("z", cursor=123, count=1, match="[ab]") == (0, [(b"a", 1.0), (b"b", 2.0)])
    assert r.zscan("z", score_cast_func=int) == (0, [(b"c", 0), (b"a", 1), (b"b", 2)])
    assert r.zscan("missing") == (0, [])
    assert list(r.zscan_iter("z", match="c")) == [(b"c", 0.1)]


def test_zscan_skiplist_pages_through_everything(r, limits):
    limits(entries=0)
    members = {f"m{i}": i / 4 for i in range(300)}
    r.zadd("z", members)
    cursor, page = r.zscan("z", count=20)
    assert cursor != 0 and 10 <= len(page) <= 60
    scanned = dict(r.zscan_iter("z", count=7))
    assert scanned == {name.encode(): score for name, score in members.items()}
    assert dict(r.zscan_iter("z", match="m1?")) == {
        f"m1{i}".encode(): (10 + i) / 4 for i in range(10)}


def test_zscan_errors(r):
    r.zadd("z", {"a": 1})
    with raises(ResponseError, "invalid cursor"):
        r.zscan("z", cursor="x")
    for options in (["COUNT", 0], ["COUNT"], ["NOVALUES"], ["TYPE", "zset"], ["MATCH"]):
        with raises(ResponseError, SYNTAX):
            r.execute_command("ZSCAN", "z", 0, *options)
    assert r.execute_command("ZSCAN", "missing", 0, "COUNT", 0) == (0, [])


# -- encodings, generic commands, shapes ----------------------------------------------------
def test_listpack_until_a_limit_is_crossed_and_never_back(r, limits):
    r.zadd("z", {str(i): i for i in range(128)})
    assert encoding(r, "z") == "listpack"
    r.zadd("z", {"128": 128})
    assert encoding(r, "z") == "skiplist"
    r.zremrangebyrank("z", 0, -2)
    assert encoding(r, "z") == "skiplist"
    r.zadd("long", {"m" * 64: 1})
    assert encoding(r, "long") == "listpack"
    r.zadd("long", {"m" * 65: 1})
    assert encoding(r, "long") == "skiplist"
    r.zadd("first", {"m" * 65: 1})
    assert encoding(r, "first") == "skiplist"
    limits(entries=2, value=3)
    r.zadd("small", {"a": 1, "b": 2})
    r.zadd("small", {"a": 5}, incr=True)
    assert encoding(r, "small") == "listpack"
    r.zadd("small", {"c": 3}, xx=True)
    assert encoding(r, "small") == "listpack"
    r.zadd("small", {"c": 3})
    assert encoding(r, "small") == "skiplist"
    r.zincrby("fresh", 1, "abcd")
    assert encoding(r, "fresh") == "skiplist"


def test_copy_rename_move_keep_the_sorted_set(abc, limits):
    r = abc
    assert r.copy("z", "c") is True
    r.zadd("c", {"a": 100})
    assert r.zscore("z", "a") == 1.0 and r.zscore("c", "a") == 100.0
    r.rename("c", "d")
    assert contents(r, "d")[-1] == (b"a", 100.0)
    limits(entries=0)
    r.zadd("s", {"x": 1})
    r.copy("s", "s2")
    assert encoding(r, "s2") == "skiplist" and encoding(r, "d") == "listpack"
    assert r.move("s2", 1) is True
    r.execute_command("SELECT", 1)
    assert contents(r, "s2") == [(b"x", 1.0)] and r.type("s2") == b"zset"
    r.execute_command("SELECT", 0)


@pytest.mark.parametrize("change, modifies", [
    (lambda r: r.zadd("z", {"f": 6}), True),
    (lambda r: r.zadd("z", {"a": 1.5}), True),
    (lambda r: r.zadd("z", {"a": 1}), False),  # same score: nothing changed
    (lambda r: r.zadd("z", {"a": 0}, gt=True), False),
    (lambda r: r.zadd("z", {"a": 9}, nx=True), False),
    (lambda r: r.zincrby("z", 1, "a"), True),
    (lambda r: r.zincrby("z", 0, "a"), False),
    (lambda r: r.zrem("z", "a"), True),
    (lambda r: r.zrem("z", "x"), False),
    (lambda r: r.zremrangebyrank("z", 0, 0), True),
    (lambda r: r.zremrangebyscore("z", 10, 20), False),
    (lambda r: r.zremrangebylex("z", "[a", "[b"), True),
    (lambda r: r.zpopmax("z"), True),
    (lambda r: r.zpopmin("z", 0), False),
    (lambda r: r.zmpop(1, ["z"], min=True), True),
    (lambda r: r.bzpopmin("z", 1), True),
    (lambda r: r.zunionstore("z", ["z"]), True),
    (lambda r: r.zrangestore("other", "z", 0, -1), False),
    (lambda r: r.zscore("z", "a"), False),
])
def test_watch_sees_in_place_changes(abc, change, modifies):
    """WATCH is told of every change Redis signals: an in-place change of
    the set, and nothing when a command leaves it as it was."""
    r = abc
    with r.pipeline() as pipe:
        pipe.watch("z")
        change(r)
        pipe.multi()
        pipe.zcard("z")
        if modifies:
            with raises(redis.exceptions.WatchError, "Watched variable changed."):
                pipe.execute()
        else:
            assert pipe.execute() == [5]


def test_scan_type_filter_finds_sorted_sets(abc):
    abc.set("str", "v")
    assert abc.scan(0, _type="zset") == (0, [b"z"])


def test_decoded_replies(rd):
    """A default redis-py client hands scores on as bytes in the flat and
    nested raw shapes, even when decoding — minikv matches it."""
    rd.zadd("z", {"a": 1.5, "b": 2})
    assert rd.zrange("z", 0, -1, withscores=True) == [("a", 1.5), ("b", 2.0)]
    assert rd.zrange("z", 0, 0, withscores=True, score_cast_func=lambda s: s) == [("a", b"1.5")]
    assert rd.zrangebyscore("z", 0, 5, withscores=True, score_cast_func=str) == [
        ("a", "b'1.5'"), ("b", "b'2'")]
    assert rd.zrandmember("z", 5, withscores=True) == ["b", b"2", "a", b"1.5"]
    assert rd.zdiff(["z"], withscores=True) == ["a", b"1.5", "b", b"2"]
    assert rd.zscan("z", score_cast_func=str) == (0, [("a", "1.5"), ("b", "2")])
    assert rd.zpopmin("z") == [("a", 1.5)]
    assert rd.zmpop(1, ["z"], max=True) == ["z", [["b", b"2"]]]
    rd.zadd("z", {"c": 3})
    assert rd.bzpopmax("z", 1) == ("z", "c", 3.0)
    assert rd.zrandmember("missing") is None


def test_raw_replies(abc, raw):
    r = raw
    assert r.execute_command("ZRANGE", "z", 0, 1, "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert r.execute_command("ZPOPMIN", "z") == [(b"a", 1.0)]
    assert r.execute_command("BZPOPMIN", "z", 0) == (b"z", b"b", 2.0)
    assert r.execute_command("ZMPOP", 1, "z", "MAX") == [b"z", [[b"e", b"5"]]]
    assert r.execute_command("ZSCAN", "z", 0) == (0, [(b"c", 3.0), (b"d", 4.0)])
    assert r.execute_command("ZMSCORE", "z", "c", "x") == [3.0, None]
    assert r.execute_command("ZINCRBY", "z", "0.5", "c") == 3.5
    assert r.execute_command("ZADD", "z", "INCR", 1, "c", as_score=True) == 4.5


def test_keyspace_hits_and_misses(r):
    r.zadd("z", {"a": 1})
    r.config_resetstat()

    def stats():
        info = r.info("stats")
        return info["keyspace_hits"], info["keyspace_misses"]

    r.zscore("z", "a")
    r.zrange("z", 0, -1)
    r.zrangestore("d", "missing", 0, -1)
    r.zunion(["z", "missing"])
    assert stats() == (3, 2)
    r.zadd("z", {"b": 1})
    r.zincrby("z", 1, "b")
    r.zpopmin("z")
    r.zrem("z", "x")
    assert stats() == (3, 2)


# -- the index, directly -----------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["insert", "remove", "pop_first", "pop_last",
                                           "delete", "move"]),
                          st.sampled_from([-math.inf, -1.5, -0.0, 0.0, 1.0, 2.0, math.inf]),
                          st.binary(max_size=3)), max_size=120))
def test_score_index_matches_a_sorted_list_model(operations):
    index = ScoreIndex()
    model = {}
    for operation, score, member in operations:
        if operation == "insert":
            if member in model:
                index.remove(model[member], member)
            index.insert(score, member)
            model[member] = score
        elif operation == "move" and member in model:
            index.move(model[member], member, score)
            model[member] = score
        elif operation == "remove" and member in model:
            index.remove(model.pop(member), member)
        elif operation in ("pop_first", "pop_last") and model:
            popped = index.pop_first() if operation == "pop_first" else index.pop_last()
            assert model.pop(popped[1]) == popped[0]
        elif operation == "delete" and model:
            start = len(member) % (len(model) + 1)
            for _, gone in index.delete_ranks(start, len(model)):
                del model[gone]
        index._check()
        expected = sorted((s, m) for m, s in model.items())
        assert list(index) == expected and len(index) == len(expected)
        assert list(reversed(index)) == expected[::-1]
        for rank, (s, m) in enumerate(expected):
            assert index.rank(s, m) == rank
        assert index.by_rank(1, 3) == expected[1:3]
        assert index.by_rank(0, len(expected), reverse=True) == expected[::-1]
        assert list(index.iter_from(1)) == expected[1:]
        if expected:
            assert list(index.iter_from(len(expected) - 1, reverse=True)) == expected[::-1]
        low, high = sorted([score, -score])
        for low_open in (False, True):
            for high_open in (False, True):
                first, end = index.score_span(low, low_open, high, high_open)
                inside = [pair for pair in expected
                          if (pair[0] > low if low_open else pair[0] >= low)
                          and (pair[0] < high if high_open else pair[0] <= high)]
                assert expected[first:end] == inside


def test_score_index_across_many_sublists():
    """Thousands of pairs span several of SortedList's sublists: moves that
    stay inside one and moves that cross, ranges at both ends and inside."""
    rng = random.Random(7)
    model = {b"m%d" % i: float(i) for i in range(6000)}
    index = ScoreIndex((score, member) for member, score in model.items())
    members = list(model)
    for step in range(4000):
        member = rng.choice(members)
        action = rng.random()
        if action < 0.4:
            new = model[member] + rng.choice([0.25, -0.25, 3.0, 2500.0, -4000.0])
            index.move(model[member], member, new)
            model[member] = new
        elif action < 0.7 and member in model:
            index.remove(model.pop(member), member)
            members.remove(member)
        else:
            fresh = b"n%d" % step
            model[fresh] = rng.uniform(-100, 7000)
            index.insert(model[fresh], fresh)
            members.append(fresh)
        if step % 500 == 0:
            index._check()
            expected = sorted((score, m) for m, score in model.items())
            size = len(expected)
            for start, stop in ((0, 10), (size - 10, size), (size // 2, size // 2 + 25),
                                (5, size - 5), (size - 1, size)):
                assert index.by_rank(start, stop) == expected[start:stop]
                assert index.by_rank(start, stop, True) == expected[start:stop][::-1]
            score, m = expected[size // 3]
            assert index.rank(score, m) == size // 3
    index._check()
    assert list(index) == sorted((score, m) for m, score in model.items())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=3), unique=True, max_size=30), st.binary(max_size=3))
def test_score_index_lex_rank_with_equal_scores(members, bound):
    index = ScoreIndex((7.0, member) for member in members)
    ordered = sorted(members)
    assert index.lex_rank(bound, False) == sum(member < bound for member in ordered)
    assert index.lex_rank(bound, True) == sum(member <= bound for member in ordered)


class CountingScore(float):
    """A score that counts its comparisons (tuple order compares scores)."""

    comparisons = 0

    def __eq__(self, other):
        CountingScore.comparisons += 1
        return float.__eq__(self, other)

    def __lt__(self, other):
        CountingScore.comparisons += 1
        return float.__lt__(self, other)

    __hash__ = float.__hash__


def _comparisons_per_operation(size):
    """Mean comparisons for insert + rank + remove of random pairs in an
    index of ``size`` pairs."""
    rng = random.Random(size)
    index = ScoreIndex((CountingScore(i), b"m%d" % i) for i in range(size))
    probes = [(CountingScore(rng.random() * size), b"p%d" % i) for i in range(200)]
    CountingScore.comparisons = 0
    for score, member in probes:
        index.insert(score, member)
        index.rank(score, member)
        index.remove(score, member)
    return CountingScore.comparisons / len(probes)


def test_score_index_operations_are_logarithmic():
    """Counted, not timed: at 128x the size, an insert + rank + remove costs
    about log2(128) = 7 more comparisons each, far from 128x."""
    small, large = _comparisons_per_operation(1_000), _comparisons_per_operation(128_000)
    assert large < small + 3 * 7 * 3
    assert large < 2 * small


def test_parse_and_format_helpers():
    assert parse_score(b"1e-320") == 1e-320
    assert parse_score(b"0x1P-1074") == 5e-324
    assert parse_score(b"1e-400") is None and parse_score(b"-1e400") is None
    assert format_score(-0.0) == b"-0" and format_score(math.inf) == b"inf"
    assert format_score(2 ** 53) == b"9007199254740992"
