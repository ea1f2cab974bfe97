"""List commands, differential: every ``r``/``rd`` test runs on minikv and real Redis.

Each command's replies, its errors (and which one wins when several
arguments are wrong), and what the keyspace holds afterwards. Blocking
commands are covered here for their immediate and timeout behaviour and
their argument errors; waking blocked clients is tests/test_blocking.py.
"""
from collections import deque

import pytest
import redis
from helpers import kind, raises
from redis.exceptions import DataError, ResponseError, WatchError

import minikv
from minikv.engine.values import List

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"
MUST_BE_POSITIVE = "value is out of range, must be positive"
RANK_ZERO = ("RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
             "or use negative to start from the end of the list")
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def arity(name):
    return f"wrong number of arguments for '{name}' command"


@pytest.fixture
def s(r):
    """``r`` with a string at "s", to provoke WRONGTYPE."""
    r.set("s", "x")
    return r


# -- pushing -----------------------------------------------------------------
def test_lpush_and_rpush_return_the_new_length_and_order_elements(r):
    assert r.rpush("l", "a", "b") == 2
    assert r.lpush("l", "x", "y", "z") == 5
    assert r.rpush("l", 1, 2.5, b"\x00\xff") == 8
    assert r.lrange("l", 0, -1) == [b"z", b"y", b"x", b"a", b"b", b"1", b"2.5", b"\x00\xff"]
    assert r.type("l") == b"list"
    assert r.object("encoding", "l") == b"quicklist"


def test_push_keeps_the_ttl(r):
    r.rpush("l", "a")
    r.expire("l", 100)
    r.lpush("l", "b")
    r.rpush("l", "c")
    assert 0 < r.ttl("l") <= 100


def test_pushx_only_pushes_onto_an_existing_list(r):
    assert r.lpushx("l", "a") == 0
    assert r.rpushx("l", "a", "b") == 0
    assert r.exists("l") == 0
    r.rpush("l", "m")
    assert r.lpushx("l", "a", "b") == 3
    assert r.rpushx("l", "y", "z") == 5
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"m", b"y", b"z"]


def test_push_onto_another_type_is_wrongtype_and_changes_nothing(s):
    for push in (s.lpush, s.rpush, s.lpushx, s.rpushx):
        with raises(ResponseError, WRONGTYPE):
            push("s", "a")
    assert s.get("s") == b"x"


def test_push_arity(r):
    for name in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        with raises(ResponseError, arity(name.lower())):
            r.execute_command(name, "l")
    with raises(ResponseError, arity("lpush")):
        r.lpush("l")
    with raises(ResponseError, arity("rpush")):
        r.rpush("l")
    assert r.exists("l") == 0


def test_push_refuses_values_redis_py_refuses(r):
    with raises(DataError, "Invalid input of type: 'NoneType'. "
                           "Convert to a bytes, string, int or float first."):
        r.lpush("l", "a", None)
    assert r.exists("l") == 0


def test_decoded_replies(rd):
    rd.rpush("l", "ü", "b")
    assert rd.lrange("l", 0, -1) == ["ü", "b"]
    assert rd.lpop("l") == "ü"
    assert rd.rpop("l", 1) == ["b"]
    rd.rpush("l", "x")
    assert rd.blpop("l", 1) == ("l", "x")
    rd.rpush("l", "x", "y")
    assert rd.lmpop(1, "l", direction="RIGHT", count=5) == ["l", ["y", "x"]]


# -- popping -----------------------------------------------------------------
def test_lpop_rpop_single(r):
    r.rpush("l", "a", "b", "c")
    assert r.lpop("l") == b"a"
    assert r.rpop("l") == b"c"
    assert r.lpop("l") == b"b"
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.rpop("l") is None


def test_pop_with_count_replies_with_a_list(r):
    r.rpush("l", "a", "b", "c", "d", "e")
    assert r.lpop("l", 2) == [b"a", b"b"]
    assert r.rpop("l", 10) == [b"e", b"d", b"c"]
    assert r.exists("l") == 0
    r.rpush("l", "a")
    assert r.lpop("l", 1) == [b"a"]
    r.rpush("l", "a")
    assert r.rpop("l", INT64_MAX) == [b"a"]


def test_pop_count_zero_and_missing_key(r):
    r.rpush("l", "a")
    assert r.lpop("l", 0) == []
    assert r.rpop("l", 0) == []
    assert r.lrange("l", 0, -1) == [b"a"]
    assert r.lpop("missing", 0) is None
    assert r.rpop("missing", 3) is None


def test_pop_count_errors_come_before_the_key(s):
    for pop in (s.lpop, s.rpop):
        with raises(ResponseError, MUST_BE_POSITIVE):
            pop("l", -1)
        with raises(ResponseError, MUST_BE_POSITIVE):
            pop("s", -1)
        with raises(ResponseError, MUST_BE_POSITIVE):
            pop("l", "abc")
        with raises(ResponseError, WRONGTYPE):
            pop("s")
        with raises(ResponseError, WRONGTYPE):
            pop("s", 0)
    with raises(ResponseError, arity("lpop")):
        s.execute_command("LPOP", "l", 1, 2)
    with raises(ResponseError, arity("rpop")):
        s.execute_command("RPOP")


# -- reading -----------------------------------------------------------------
@pytest.fixture
def abcde(r):
    r.rpush("l", "a", "b", "c", "d", "e")
    return r


@pytest.mark.parametrize("start, end, expected", [
    (0, -1, "abcde"), (1, 3, "bcd"), (-2, -1, "de"), (-100, 100, "abcde"),
    (3, 1, ""), (5, 10, ""), (-1, -2, ""), (0, 0, "a"), (-5, -5, "a"), (4, 4, "e"),
    (INT64_MAX, INT64_MIN, ""), (INT64_MIN, INT64_MAX, "abcde"), (-3, 2, "c"),
])
def test_lrange(abcde, start, end, expected):
    assert abcde.lrange("l", start, end) == [c.encode() for c in expected]


def test_lrange_errors(s):
    with raises(ResponseError, NOT_INTEGER):
        s.lrange("l", 1, "a")
    with raises(ResponseError, NOT_INTEGER):
        s.lrange("missing", "a", 1)
    with raises(ResponseError, NOT_INTEGER):
        s.lrange("s", "a", 1)  # the indexes are read before the key
    with raises(ResponseError, WRONGTYPE):
        s.lrange("s", 0, 1)
    assert s.lrange("missing", 0, -1) == []


def test_lindex(abcde):
    r = abcde
    assert r.lindex("l", 0) == b"a"
    assert r.lindex("l", -1) == b"e"
    assert r.lindex("l", 2) == b"c"
    assert r.lindex("l", -5) == b"a"
    assert r.lindex("l", 5) is None
    assert r.lindex("l", -6) is None
    assert r.lindex("l", INT64_MIN) is None
    with raises(ResponseError, NOT_INTEGER):
        r.lindex("l", "a")
    # The key is looked at first: no key, no complaint about the index.
    assert r.lindex("missing", "a") is None
    r.set("s", "x")
    with raises(ResponseError, WRONGTYPE):
        r.lindex("s", "a")


def test_llen(s):
    assert s.llen("missing") == 0
    s.rpush("l", "a", "b")
    assert s.llen("l") == 2
    with raises(ResponseError, WRONGTYPE):
        s.llen("s")


@pytest.fixture
def a3(r):
    r.rpush("l", "a", "b", "c", "a", "b", "c", "a")
    return r


@pytest.mark.parametrize("options, expected", [
    ({}, 0),
    ({"rank": 2}, 3),
    ({"rank": -1}, 6),
    ({"rank": -2}, 3),
    ({"rank": 4}, None),
    ({"rank": INT64_MAX}, None),
    ({"rank": -INT64_MAX}, None),
    ({"count": 0}, [0, 3, 6]),
    ({"count": 2}, [0, 3]),
    ({"count": INT64_MAX}, [0, 3, 6]),
    ({"count": 0, "rank": -1}, [6, 3, 0]),
    ({"count": 1, "rank": -2}, [3]),
    ({"count": 0, "rank": 2, "maxlen": 4}, [3]),
    ({"rank": 2, "count": 5}, [3, 6]),
    ({"maxlen": 0}, 0),
    ({"maxlen": 1}, 0),
    ({"maxlen": 1, "count": 0}, [0]),
    ({"rank": -1, "maxlen": 2}, 6),
    ({"rank": 2, "maxlen": 3}, None),
    ({"rank": -1, "maxlen": 1, "count": 0}, [6]),
    ({"maxlen": INT64_MAX}, 0),
    # Redis 7.0 negates the rank in C: LLONG_MIN stays negative, every match
    # qualifies and COUNT never stops the scan.
    ({"rank": INT64_MIN}, 6),
    ({"rank": INT64_MIN, "count": 1}, [6, 3, 0]),
    ({"rank": INT64_MIN, "count": 1, "maxlen": 5}, [6, 3]),
])
def test_lpos(a3, options, expected):
    assert a3.lpos("l", "a", **options) == expected


def test_lpos_missing_element_and_key(a3):
    assert a3.lpos("l", "z") is None
    assert a3.lpos("l", "z", count=0) == []
    assert a3.lpos("missing", "a") is None
    assert a3.lpos("missing", "a", count=3) == []


def test_lpos_last_repeated_option_wins(a3):
    assert a3.execute_command("LPOS", "l", "a", "RANK", 1, "RANK", 3) == 6
    assert a3.execute_command("LPOS", "l", "a", "count", 1, "COUNT", 0) == [0, 3, 6]
    assert a3.execute_command("LPOS", "l", "a", "RaNk", 1, "Count", 2, "maxLEN", 7) == [0, 3]


def test_lpos_errors_come_before_the_key(s):
    s.rpush("l", "a")
    for key in ("l", "missing", "s"):
        with raises(ResponseError, RANK_ZERO):
            s.lpos(key, "a", rank=0)
        with raises(ResponseError, "COUNT can't be negative"):
            s.lpos(key, "a", count=-1)
        with raises(ResponseError, "COUNT can't be negative"):
            s.lpos(key, "a", count="x")
        with raises(ResponseError, "MAXLEN can't be negative"):
            s.lpos(key, "a", maxlen=-1)
        with raises(ResponseError, "MAXLEN can't be negative"):
            s.lpos(key, "a", maxlen="x")
        with raises(ResponseError, NOT_INTEGER):
            s.lpos(key, "a", rank="x")
        with raises(ResponseError, "syntax error"):
            s.execute_command("LPOS", key, "a", "foo")
        with raises(ResponseError, "syntax error"):
            s.execute_command("LPOS", key, "a", "RANK")
        with raises(ResponseError, "syntax error"):
            s.execute_command("LPOS", key, "a", "foo", 1)
    with raises(ResponseError, WRONGTYPE):
        s.lpos("s", "a")
    with raises(ResponseError, WRONGTYPE):
        s.lpos("s", "a", count=1)
    with raises(ResponseError, arity("lpos")):
        s.execute_command("LPOS", "l")


# -- in-place edits ----------------------------------------------------------
def test_lset(abcde):
    r = abcde
    assert r.lset("l", 0, "z") is True
    assert r.lset("l", -1, "y") is True
    assert r.lset("l", 2, 7) is True
    assert r.lrange("l", 0, -1) == [b"z", b"b", b"7", b"d", b"y"]


def test_lset_errors(abcde):
    r = abcde
    r.set("s", "x")
    with raises(ResponseError, "index out of range"):
        r.lset("l", 5, "q")
    with raises(ResponseError, "index out of range"):
        r.lset("l", -6, "q")
    with raises(ResponseError, "index out of range"):
        r.lset("l", INT64_MAX, "q")
    with raises(ResponseError, NOT_INTEGER):
        r.lset("l", "a", "q")
    # The key is checked before the index.
    with raises(ResponseError, "no such key"):
        r.lset("missing", 0, "q")
    with raises(ResponseError, "no such key"):
        r.lset("missing", "a", "q")
    with raises(ResponseError, WRONGTYPE):
        r.lset("s", "a", "q")
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert r.exists("missing") == 0
    with raises(ResponseError, arity("lset")):
        r.execute_command("LSET", "l", 0)


def test_linsert(r):
    r.rpush("l", "a", "b", "c", "b")
    assert r.linsert("l", "before", "b", "X") == 5
    assert r.linsert("l", "AFTER", "b", "Y") == 6
    assert r.linsert("l", "after", "c", "Z") == 7
    assert r.lrange("l", 0, -1) == [b"a", b"X", b"b", b"Y", b"c", b"Z", b"b"]
    assert r.linsert("l", "before", "nope", "W") == -1
    assert r.linsert("missing", "before", "b", "W") == 0
    assert r.exists("missing") == 0


def test_linsert_errors(s):
    s.rpush("l", "a")
    for key in ("l", "missing", "s"):
        with raises(ResponseError, "syntax error"):
            s.linsert(key, "middle", "a", "b")
    with raises(ResponseError, WRONGTYPE):
        s.linsert("s", "before", "a", "b")
    assert s.lrange("l", 0, -1) == [b"a"]


def test_lrem(r):
    r.rpush("l", "a", "b", "a", "c", "a", "d", "a")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d", b"a"]
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d"]
    assert r.lrem("l", 0, "a") == 1
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrem("l", -10, "b") == 1
    assert r.lrem("l", 5, "c") == 1
    assert r.lrange("l", 0, -1) == [b"d"]
    assert r.lrem("l", 0, "d") == 1
    assert r.exists("l") == 0
    assert r.lrem("l", 1, "d") == 0


def test_lrem_keeps_the_ttl(r):
    r.rpush("l", "a", "b", "a")
    r.expire("l", 100)
    assert r.lrem("l", 0, "a") == 2
    assert 0 < r.ttl("l") <= 100


def test_lrem_errors(s):
    for key in ("l", "missing", "s"):
        with raises(ResponseError, NOT_INTEGER):
            s.lrem(key, "a", "b")
    with raises(ResponseError, WRONGTYPE):
        s.lrem("s", 1, "b")


@pytest.mark.parametrize("start, end, expected", [
    (1, 1, "b"), (0, -1, "abcde"), (1, -2, "bcd"), (-2, 100, "de"), (-100, 1, "ab"),
    (0, 0, "a"), (4, 4, "e"), (3, 1, ""), (5, 10, ""), (-1, -2, ""),
    (INT64_MIN, INT64_MAX, "abcde"), (INT64_MAX, INT64_MIN, ""),
])
def test_ltrim(abcde, start, end, expected):
    r = abcde
    assert r.ltrim("l", start, end) is True
    assert r.lrange("l", 0, -1) == [c.encode() for c in expected]
    assert r.exists("l") == (1 if expected else 0)


def test_ltrim_errors(s):
    assert s.ltrim("missing", 0, 1) is True
    assert s.exists("missing") == 0
    with raises(ResponseError, NOT_INTEGER):
        s.ltrim("missing", "a", 1)
    with raises(ResponseError, NOT_INTEGER):
        s.ltrim("s", "a", 1)
    with raises(ResponseError, WRONGTYPE):
        s.ltrim("s", 0, 1)


def test_long_lists_trim_and_range_from_either_end(r):
    r.rpush("l", *range(1000))
    assert r.lrange("l", 990, 992) == [b"990", b"991", b"992"]
    assert r.lrange("l", -3, -1) == [b"997", b"998", b"999"]
    assert r.lrange("l", 500, 499 + 300)[-1] == b"799"
    assert r.ltrim("l", 10, -11) is True
    assert r.llen("l") == 980
    assert r.ltrim("l", 970, -1) is True
    assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(980, 990)]
    assert r.lindex("l", -10) == b"980"


# -- moving ------------------------------------------------------------------
def test_lmove(r):
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "d") == b"a"  # redis-py's defaults: LEFT RIGHT
    assert r.lmove("l", "d", "RIGHT", "LEFT") == b"c"
    assert r.lrange("d", 0, -1) == [b"c", b"a"]
    assert r.lmove("l", "d", "left", "right") == b"b"
    assert r.exists("l") == 0
    assert r.lmove("l", "d") is None
    assert r.lrange("d", 0, -1) == [b"c", b"a", b"b"]


def test_lmove_onto_itself_rotates(r):
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "l", "LEFT", "RIGHT") == b"a"
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a"]
    assert r.rpoplpush("l", "l") == b"a"
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    r.rpush("one", "x")
    assert r.lmove("one", "one", "RIGHT", "LEFT") == b"x"
    assert r.lrange("one", 0, -1) == [b"x"]


def test_lmove_errors(s):
    s.rpush("l", "a")
    for key in ("l", "missing", "s"):
        with raises(ResponseError, "syntax error"):
            s.lmove(key, "d", "up", "LEFT")
        with raises(ResponseError, "syntax error"):
            s.lmove(key, "d", "LEFT", "down")
    assert s.lmove("missing", "s") is None  # the source is looked at first
    with raises(ResponseError, WRONGTYPE):
        s.lmove("l", "s")
    with raises(ResponseError, WRONGTYPE):
        s.lmove("s", "l")
    with raises(ResponseError, WRONGTYPE):
        s.lmove("s", "missing")
    assert s.lrange("l", 0, -1) == [b"a"]
    assert s.exists("missing", "d") == 0


def test_lmove_keeps_the_destination_ttl_and_creates_it_without_one(r):
    r.rpush("l", "a", "b")
    r.rpush("d", "x")
    r.expire("d", 100)
    r.expire("l", 100)
    r.lmove("l", "d")
    assert 0 < r.ttl("d") <= 100
    r.lmove("l", "new")
    assert r.ttl("new") == -1
    assert r.exists("l") == 0


def test_rpoplpush(s):
    s.rpush("l", "a", "b")
    assert s.rpoplpush("l", "d") == b"b"
    assert s.rpoplpush("l", "d") == b"a"
    assert s.rpoplpush("l", "d") is None
    assert s.rpoplpush("l", "s") is None
    assert s.lrange("d", 0, -1) == [b"a", b"b"]
    with raises(ResponseError, WRONGTYPE):
        s.rpoplpush("s", "d")
    with raises(ResponseError, WRONGTYPE):
        s.rpoplpush("d", "s")
    assert s.lrange("d", 0, -1) == [b"a", b"b"]


def test_lmpop(r):
    r.rpush("b", "1", "2", "3", "4")
    assert r.lmpop(2, "a", "b", direction="LEFT") == [b"b", [b"1"]]
    assert r.lmpop(2, "a", "b", direction="right", count=2) == [b"b", [b"4", b"3"]]
    assert r.lmpop(1, "b", direction="RIGHT", count=100) == [b"b", [b"2"]]
    assert r.exists("b") == 0
    assert r.lmpop(2, "a", "b", direction="LEFT") is None
    r.rpush("a", "x")
    r.rpush("b", "y")
    assert r.lmpop(2, "a", "b", direction="LEFT") == [b"a", [b"x"]]


@pytest.mark.parametrize("args, message", [
    ((0, "l", "LEFT"), "numkeys should be greater than 0"),
    ((-1, "l", "LEFT"), "numkeys should be greater than 0"),
    (("x", "l", "LEFT"), "numkeys should be greater than 0"),
    ((9223372036854775808, "l", "LEFT"), "numkeys should be greater than 0"),
    ((3, "l", "LEFT"), "syntax error"),
    ((2, "l", "LEFT"), "syntax error"),
    ((INT64_MAX, "l", "LEFT"), "syntax error"),
    ((1, "l", "up"), "syntax error"),
    ((1, "l", "LEFT", "COUNT"), "syntax error"),
    ((1, "l", "LEFT", "COUNT", 1, "COUNT", 1), "syntax error"),
    ((1, "l", "LEFT", "foo"), "syntax error"),
    ((1, "l", "LEFT", "COUNT", 0), "count should be greater than 0"),
    ((1, "l", "LEFT", "COUNT", -1), "count should be greater than 0"),
    ((1, "l", "LEFT", "COUNT", "x"), "count should be greater than 0"),
    ((1, "l", "LEFT", "COUNT", 9223372036854775808), "count should be greater than 0"),
    ((2, "s", "l", "LEFT"), WRONGTYPE),
    ((2, "missing", "s", "LEFT"), WRONGTYPE),
])
def test_lmpop_errors(s, args, message):
    s.rpush("l", "a")
    with raises(ResponseError, message):
        s.execute_command("LMPOP", *args)
    assert s.lrange("l", 0, -1) == [b"a"]


def test_lmpop_finds_a_list_before_a_later_wrong_type(s):
    s.rpush("l", "a")
    assert s.lmpop(2, "l", "s", direction="LEFT") == [b"l", [b"a"]]


def test_lmpop_arity(r):
    with raises(ResponseError, arity("lmpop")):
        r.execute_command("LMPOP", 1, "l")


# -- blocking forms: immediate answers, timeouts and argument errors ---------
def test_blocking_pops_answer_at_once_from_the_first_non_empty_key(r):
    r.rpush("b", "1", "2", "3")
    assert r.blpop(["a", "b"], 1) == (b"b", b"1")
    assert r.brpop(["a", "b"], 1) == (b"b", b"3")
    assert r.blpop("b") == (b"b", b"2")
    assert r.exists("b") == 0
    r.rpush("b", "1", "2")
    assert r.blmove("b", "c", 1, "RIGHT", "LEFT") == b"2"
    assert r.brpoplpush("b", "c", 1) == b"1"
    assert r.lrange("c", 0, -1) == [b"1", b"2"]
    assert r.blmpop(1, 2, "a", "c", direction="RIGHT", count=5) == [b"c", [b"2", b"1"]]
    assert r.exists("a", "b", "c") == 0


def test_blocking_pops_time_out_with_none(r):
    assert r.blpop("a", 0.01) is None
    assert r.brpop(["a", "b"], 0.01) is None
    assert r.blmove("a", "b", 0.01) is None
    assert r.brpoplpush("a", "b", 0.01) is None
    assert r.blmpop(0.01, 2, "a", "b", direction="LEFT") is None
    assert r.exists("a", "b") == 0


def test_a_tiny_timeout_rounds_up_to_a_millisecond_not_forever(r):
    assert r.blpop("a", 0.0001) is None
    assert r.execute_command("BLPOP", "a", "1e-400") is None


def test_blocking_timeouts_are_checked_first(s):
    s.rpush("l", "a")
    for timeout, message in (("x", "timeout is not a float or out of range"),
                             ("nan", "timeout is not a float or out of range"),
                             (" 1", "timeout is not a float or out of range"),
                             (-1, "timeout is negative"),
                             ("inf", "timeout is negative"),
                             ("-inf", "timeout is negative"),
                             ("1e30", "timeout is negative"),
                             (9223372036854776, "timeout is negative")):
        for command in (["BLPOP", "s", timeout], ["BRPOP", "missing", "s", timeout],
                        ["BLMOVE", "s", "d", "LEFT", "RIGHT", timeout],
                        ["BLMOVE", "l", "s", "LEFT", "RIGHT", timeout],
                        ["BRPOPLPUSH", "s", "d", timeout],
                        ["BLMPOP", timeout, 1, "s", "LEFT"]):
            with raises(ResponseError, message):
                s.execute_command(*command)
    assert s.lrange("l", 0, -1) == [b"a"]


def test_blocking_pop_wrongtype(s):
    s.rpush("l", "a")
    with raises(ResponseError, WRONGTYPE):
        s.blpop(["missing", "s", "l"], 1)
    # A non-empty list met first is served; the string after it is not looked at.
    assert s.brpop(["l", "s"], 1) == (b"l", b"a")
    with raises(ResponseError, WRONGTYPE):
        s.blmove("s", "d", 1)
    s.rpush("l", "a")
    with raises(ResponseError, WRONGTYPE):
        s.blmove("l", "s", 0)
    with raises(ResponseError, WRONGTYPE):
        s.brpoplpush("s", "d", 0)
    with raises(ResponseError, WRONGTYPE):
        s.blmpop(1, 2, "missing", "s", direction="LEFT")
    assert s.lrange("l", 0, -1) == [b"a"]
    # A missing source blocks even when the destination has the wrong type.
    assert s.blmove("missing", "s", 0.01) is None


def test_blmove_and_blmpop_check_their_words_before_the_timeout(r):
    with raises(ResponseError, "syntax error"):
        r.execute_command("BLMOVE", "a", "b", "up", "RIGHT", "x")
    for args, message in (((0, "a", "LEFT"), "numkeys should be greater than 0"),
                          ((1, "a", "up"), "syntax error"),
                          ((1, "a", "LEFT", "COUNT", 0), "count should be greater than 0")):
        with raises(ResponseError, message):
            r.execute_command("BLMPOP", "x", *args)


def test_blocking_arity(r):
    for command, args in (("BLPOP", ["k"]), ("BRPOP", ["k"]),
                          ("BLMOVE", ["a", "b", "LEFT", "RIGHT"]),
                          ("BRPOPLPUSH", ["a", "b"]), ("BLMPOP", [0, 1, "k"])):
        with raises(ResponseError, arity(command.lower())):
            r.execute_command(command, *args)


def test_blmpop_sends_count_always_and_refuses_none_like_redis_py(r):
    with raises(DataError, "Invalid input of type: 'NoneType'. "
                           "Convert to a bytes, string, int or float first."):
        r.blmpop(0.01, 1, "a", direction="LEFT", count=None)


# -- the keyspace afterwards -------------------------------------------------
def test_keys_and_types_after_a_sequence(r):
    r.rpush("a", "1", "2", "3")
    r.lmove("a", "b", "LEFT", "LEFT")
    r.lpop("a", 2)
    r.rpush("c", "x")
    r.ltrim("c", 1, 0)
    assert sorted(r.keys("*")) == [b"b"]
    assert r.lrange("b", 0, -1) == [b"1"]
    r.copy("b", "b2")
    r.rename("b", "b3")
    assert sorted(r.keys("*")) == [b"b2", b"b3"]
    assert r.type("b2") == b"list"
    assert r.lrange("b2", 0, -1) == r.lrange("b3", 0, -1) == [b"1"]


def test_copy_is_independent(r):
    r.rpush("a", "1", "2")
    r.copy("a", "b")
    r.rpush("a", "3")
    r.lset("b", 0, "x")
    assert r.lrange("a", 0, -1) == [b"1", b"2", b"3"]
    assert r.lrange("b", 0, -1) == [b"x", b"2"]


def test_scan_type_list(r):
    r.rpush("l", "a")
    r.set("s", "x")
    assert r.scan(0, _type="list") == (0, [b"l"])


# -- WATCH sees in-place changes exactly when Redis signals them ---------------
@pytest.mark.parametrize("command, aborts", [
    (("LPUSH", "l", "q"), True),
    (("RPUSHX", "l", "q"), True),
    (("LPOP", "l"), True),
    (("RPOP", "l", 2), True),
    (("LPOP", "l", 0), False),
    (("LSET", "l", 0, "z"), True),
    (("LINSERT", "l", "BEFORE", "a", "q"), True),
    (("LINSERT", "l", "BEFORE", "zz", "q"), False),
    (("LREM", "l", 0, "a"), True),
    (("LREM", "l", 0, "zz"), False),
    (("LTRIM", "l", 0, -1), True),  # Redis signals LTRIM even when it keeps all
    (("LTRIM", "l", 5, 10), True),
    (("LMOVE", "l", "d", "LEFT", "LEFT"), True),
    (("LMOVE", "s1", "l", "LEFT", "LEFT"), True),
    (("LMOVE", "l", "l", "LEFT", "RIGHT"), True),
    (("RPOPLPUSH", "s1", "l"), True),
    (("LMPOP", 1, "l", "LEFT"), True),
    (("BLPOP", "l", 0), True),
    (("LRANGE", "l", 0, -1), False),
    (("LPOS", "l", "a"), False),
])
def test_watch_sees_list_writes(r, command, aborts):
    r.rpush("s1", "1")
    r.rpush("l", "a", "b", "c")
    if kind(r) == "minikv":
        other = minikv.Redis(store=r.store)
    else:
        other = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    with r.pipeline(transaction=True) as pipe:
        pipe.watch("l")
        other.execute_command(*command)
        pipe.multi()
        pipe.get("x")
        if aborts:
            with pytest.raises(WatchError):
                pipe.execute()
        else:
            assert pipe.execute() == [None]
    other.close()


# -- structure: the value is a deque, O(1) at both ends ----------------------
def test_a_list_value_is_a_deque_mutated_in_place():
    """A million-element list: LPUSH and LPOP work on the same deque object
    in place (no copy: the identity is unchanged), which is what makes them
    O(1); the per-call cost at 1k and 1M is compared in benchmarks/."""
    r = minikv.Redis()
    r.rpush("l", *range(1_000_000))
    value = r.store.dbs[0].data[b"l"]
    assert isinstance(value, List) and isinstance(value, deque)
    r.lpush("l", "head")
    r.rpush("l", "tail")
    assert r.lpop("l") == b"head"
    assert r.rpop("l") == b"tail"
    r.lmove("l", "l", "LEFT", "RIGHT")
    assert r.store.dbs[0].data[b"l"] is value
    assert len(value) == 1_000_000
    assert value[0] == b"1" and value[-1] == b"0"
