"""String commands, run against minikv and real Redis with the same bodies."""
import datetime

import pytest
from redis.exceptions import DataError, ResponseError

from helpers import raises, snapshot

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_set_get_basic(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    assert r.set("k", b"\x00\xff") is True
    assert r.get("k") == b"\x00\xff"


def test_argument_encoding(r):
    r.set("int", 42)
    r.set("float", 1.5)
    r.set("big", 10 ** 20)
    r.set("exp", 1e20)
    r.set(b"bytes", bytearray(b"ba"))
    r.set("mem", memoryview(b"mv"))
    assert r.mget("int", "float", "big", "exp", "bytes", "mem") == [
        b"42", b"1.5", b"100000000000000000000", b"1e+20", b"ba", b"mv"]
    assert r.get(42) is None


@pytest.mark.parametrize("bad", [True, None, object(), [1], {"a": 1}])
def test_unencodable_argument_is_data_error(r, bad):
    with pytest.raises(DataError):
        r.set("k", bad)
    assert r.get("k") is None


def test_decode_responses(rd):
    rd.set("k", "välue")
    assert rd.get("k") == "välue"
    assert rd.mget("k", "nope") == ["välue", None]
    assert rd.getset("k", "x") == "välue"


def test_set_nx_xx(r):
    assert r.set("k", "1", nx=True) is True
    assert r.set("k", "2", nx=True) is None
    assert r.get("k") == b"1"
    assert r.set("k", "3", xx=True) is True
    assert r.set("other", "3", xx=True) is None
    assert r.get("other") is None
    with pytest.raises(DataError):
        r.set("k", "v", nx=True, xx=True)
    with raises(ResponseError, "syntax error"):
        r.execute_command("SET", "k", "v", "NX", "XX")


def test_set_get_option(r):
    assert r.set("k", "1", get=True) is None
    assert r.set("k", "2", get=True) == b"1"
    assert r.set("k", "3", nx=True, get=True) == b"2"
    assert r.get("k") == b"2"
    assert r.set("k", "4", xx=True, get=True) == b"2"
    assert r.get("k") == b"4"
    r.hset("h", "f", "v")
    with raises(ResponseError, WRONGTYPE):
        r.set("h", "x", get=True)
    assert r.type("h") == b"hash"


def test_set_expiry_options(r):
    assert r.set("k", "v", ex=100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "v", px=100000) is True
    assert 99000 <= r.pttl("k") <= 100000
    assert r.set("k", "v", ex=datetime.timedelta(seconds=50)) is True
    assert 49 <= r.ttl("k") <= 50
    assert r.set("k", "v") is True
    assert r.ttl("k") == -1
    r.set("k", "v", ex=100)
    assert r.set("k", "w", keepttl=True) is True
    assert 99 <= r.ttl("k") <= 100
    future = int(datetime.datetime.now().timestamp()) + 1000
    r.set("k", "v", exat=future)
    assert 990 <= r.ttl("k") <= 1000
    r.set("k", "v", pxat=future * 1000)
    assert 990 <= r.ttl("k") <= 1000
    r.set("k", "v", exat=1)
    assert r.get("k") is None


@pytest.mark.parametrize("args, message", [
    (("EX", "0"), "invalid expire time in 'set' command"),
    (("EX", "-5"), "invalid expire time in 'set' command"),
    (("PX", "0"), "invalid expire time in 'set' command"),
    (("EXAT", "0"), "invalid expire time in 'set' command"),
    (("EX", "9223372036854775807"), "invalid expire time in 'set' command"),
    (("PX", "9223372036854775807"), "invalid expire time in 'set' command"),
    (("EX", "1.5"), "value is not an integer or out of range"),
    (("EX", "abc"), "value is not an integer or out of range"),
    (("EX",), "syntax error"),
    (("EX", "10", "PX", "10"), "syntax error"),
    (("EX", "10", "KEEPTTL"), "syntax error"),
    (("KEEPTTL", "EX", "10"), "syntax error"),
    (("FOO",), "syntax error"),
    (("IFEQ", "x"), "syntax error"),
])
def test_set_option_errors_leave_key_alone(r, args, message):
    r.set("k", "orig")
    with raises(ResponseError, message):
        r.execute_command("SET", "k", "new", *args)
    assert r.get("k") == b"orig"
    assert r.ttl("k") == -1


def test_set_client_side_errors(r):
    with pytest.raises(DataError):
        r.set("k", "v", ex=1, px=1)
    with pytest.raises(DataError):
        r.set("k", "v", ex=1.5)
    with pytest.raises(DataError):
        r.set("k", "v", ex=1, keepttl=True)
    assert r.get("k") is None


def test_set_options_case_insensitive(r):
    assert r.execute_command("SET", "k", "v", "nx", "ex", "10") is True
    assert r.execute_command("SET", "k", "v", "Xx", "Get", get=True) == b"v"
    assert r.execute_command("SET", "k", "w", "Xx", "Get") is False  # redis-py: not "OK"


def test_set_overwrites_other_types(r):
    r.hset("h", "f", "v")
    assert r.set("h", "s") is True
    assert r.type("h") == b"string"


def test_getdel_getset(r):
    r.set("k", "v", ex=100)
    assert r.getset("k", "w") == b"v"
    assert r.ttl("k") == -1
    assert r.getdel("k") == b"w"
    assert r.getdel("k") is None
    assert r.exists("k") == 0
    assert r.getset("new", "x") is None
    r.hset("h", "f", "v")
    with raises(ResponseError, WRONGTYPE):
        r.getdel("h")
    with raises(ResponseError, WRONGTYPE):
        r.getset("h", "v")
    assert r.type("h") == b"hash"


def test_getex(r):
    assert r.getex("missing", ex=10) is None
    r.set("k", "v")
    assert r.getex("k") == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", ex=100) == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.getex("k", px=50000) == b"v"
    assert 49 <= r.ttl("k") <= 50
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", exat=1) == b"v"
    assert r.exists("k") == 0
    with pytest.raises(DataError):
        r.getex("k", ex=1, persist=True)


@pytest.mark.parametrize("args, message", [
    (("EX", "0"), "invalid expire time in 'getex' command"),
    (("EX", "x"), "value is not an integer or out of range"),
    (("PERSIST", "EX", "10"), "syntax error"),
    (("EX", "10", "PERSIST"), "syntax error"),
    (("EX",), "syntax error"),
    (("FOO",), "syntax error"),
])
def test_getex_errors(r, args, message):
    r.set("k", "v", ex=100)
    with raises(ResponseError, message):
        r.execute_command("GETEX", "k", *args)
    assert 99 <= r.ttl("k") <= 100


def test_getex_wrongtype(r):
    r.hset("h", "f", "v")
    with raises(ResponseError, WRONGTYPE):
        r.getex("h", ex=10)
    assert r.ttl("h") == -1


def test_mget_mset_msetnx(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    assert r.mget(["a", "b"]) == [b"1", b"2"]
    assert r.mget([]) == []
    r.hset("h", "f", "v")
    assert r.mget("a", "h") == [b"1", None]
    assert r.msetnx({"c": "3", "a": "x"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert r.mget("c", "d") == [b"3", b"4"]
    with raises(ResponseError, "wrong number of arguments for 'mset' command"):
        r.execute_command("MSET", "a", "1", "b")
    with raises(ResponseError, "wrong number of arguments for 'msetnx' command"):
        r.execute_command("MSETNX", "a")
    assert r.get("a") == b"1"


def test_mset_drops_ttl(r):
    r.set("a", "1", ex=100)
    r.mset({"a": "2"})
    assert r.ttl("a") == -1


def test_setnx_setex_psetex(r):
    assert r.setnx("k", "1") is True
    assert r.setnx("k", "2") is False
    assert r.get("k") == b"1"
    deprecated = "Call to deprecated setex. \\(Use 'set' instead.\\) -- Deprecated since version 2.6.12."
    with pytest.warns(DeprecationWarning, match=deprecated):
        assert r.setex("k", 100, "v") is True
    assert 99 <= r.ttl("k") <= 100
    with pytest.warns(DeprecationWarning, match=deprecated):
        assert r.setex("k", datetime.timedelta(seconds=30), "v") is True
    assert 29 <= r.ttl("k") <= 30
    assert r.psetex("k", 5000, "v") is True
    assert 4000 <= r.pttl("k") <= 5000
    assert r.psetex("k", datetime.timedelta(seconds=7), "v") is True
    assert 6000 <= r.pttl("k") <= 7000
    with raises(ResponseError, "invalid expire time in 'setex' command"), \
            pytest.warns(DeprecationWarning, match=deprecated):
        r.setex("k", 0, "v")
    with raises(ResponseError, "invalid expire time in 'psetex' command"):
        r.psetex("k", -1, "v")
    with raises(ResponseError, "value is not an integer or out of range"), \
            pytest.warns(DeprecationWarning, match=deprecated):
        r.setex("k", "x", "v")
    assert r.get("k") == b"v"


def test_incr_family(r):
    assert r.incr("n") == 1
    assert r.incr("n", 10) == 11
    assert r.incrby("n", -20) == -9
    assert r.decr("n") == -10
    assert r.decrby("n", 5) == -15
    assert r.get("n") == b"-15"
    assert r.execute_command("INCR", "m") == 1
    assert r.execute_command("DECR", "m") == 0


def test_incr_keeps_ttl(r):
    r.set("n", "5", ex=100)
    r.incr("n")
    assert 99 <= r.ttl("n") <= 100


@pytest.mark.parametrize("value", ["abc", "1.5", " 1", "1 ", "01", "+1", "-0", "",
                                   "9223372036854775808", "0x10"])
def test_incr_rejects_non_integers(r, value):
    r.set("n", value)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.incr("n")
    assert r.get("n") == value.encode()


def test_incr_overflow(r):
    r.set("n", "9223372036854775807")
    with raises(ResponseError, "increment or decrement would overflow"):
        r.incr("n")
    r.set("n", "-9223372036854775808")
    with raises(ResponseError, "increment or decrement would overflow"):
        r.decr("n")
    assert r.get("n") == b"-9223372036854775808"
    r.set("n", "0")
    with raises(ResponseError, "decrement would overflow"):
        r.decrby("n", -9223372036854775808)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.incrby("n", 9223372036854775808)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.incrby("n", "x")
    with raises(ResponseError, "value is not an integer or out of range"):
        r.incrby("n", 1.5)
    assert r.get("n") == b"0"


def test_incr_wrongtype(r):
    r.hset("h", "f", "1")
    with raises(ResponseError, WRONGTYPE):
        r.incr("h")
    with raises(ResponseError, WRONGTYPE):
        r.incrbyfloat("h", 1)


@pytest.mark.parametrize("start, increment, expected", [
    ("10.5", 0.1, b"10.6"),
    ("10.6", 1e20, b"100000000000000000008"),
    ("0", -0.0, b"0"),
    ("3.0e3", 2.0e2, b"3200"),
    ("5", "1e-5", b"5.00001"),
    ("1", "0x10", b"17"),
    ("0.1", 0.2, b"0.3"),
    ("-1", 0.5, b"-0.5"),
    ("1", "-1", b"0"),
    ("7", "1e-17", b"7.00000000000000001"),
    ("1e300", 1, None),
])
def test_incrbyfloat_formats_like_redis(r, start, increment, expected):
    r.set("f", start)
    result = r.incrbyfloat("f", increment)
    stored = r.get("f")
    if expected is not None:
        assert stored == expected
    assert result == float(stored)


def test_incrbyfloat_missing_and_ttl(r):
    assert r.incrbyfloat("f") == 1.0
    assert r.get("f") == b"1"
    r.expire("f", 100)
    r.incrbyfloat("f", 2.5)
    assert r.get("f") == b"3.5"
    assert 99 <= r.ttl("f") <= 100


@pytest.mark.parametrize("start, increment, message", [
    ("abc", "1", "value is not a valid float"),
    ("1", "abc", "value is not a valid float"),
    ("1", " 1", "value is not a valid float"),
    ("1", "nan", "value is not a valid float"),
    ("1", "inf", "increment would produce NaN or Infinity"),
    ("1", "", "value is not a valid float"),
])
def test_incrbyfloat_errors(r, start, increment, message):
    r.set("f", start)
    with raises(ResponseError, message):
        r.incrbyfloat("f", increment)
    assert r.get("f") == start.encode()


def test_append_strlen(r):
    assert r.append("k", "ab") == 2
    assert r.append("k", "cd") == 4
    assert r.get("k") == b"abcd"
    assert r.strlen("k") == 4
    assert r.strlen("missing") == 0
    r.set("n", 12)
    assert r.append("n", 3) == 3
    assert r.incr("n") == 124
    r.hset("h", "f", "v")
    with raises(ResponseError, WRONGTYPE):
        r.append("h", "x")
    with raises(ResponseError, WRONGTYPE):
        r.strlen("h")


def test_append_keeps_ttl_and_copies_are_independent(r):
    r.set("k", "a", ex=100)
    r.append("k", "b")
    assert 99 <= r.ttl("k") <= 100
    r.copy("k", "k2")
    r.append("k", "c")
    assert r.get("k2") == b"ab"
    assert r.get("k") == b"abc"


@pytest.mark.parametrize("start, end, expected", [
    (0, 3, b"This"), (-3, -1, b"ing"), (0, -1, b"This is a string"),
    (10, 100, b"string"), (5, 3, b""), (-100, 3, b"This"), (-1, -5, b""),
    (100, 200, b""), (-5, -100, b""), (0, 0, b"T"),
])
def test_getrange(r, start, end, expected):
    r.set("k", "This is a string")
    assert r.getrange("k", start, end) == expected
    assert r.substr("k", start, end) == expected


def test_getrange_edges(r):
    assert r.getrange("missing", 0, -1) == b""
    r.set("empty", "")
    assert r.getrange("empty", 0, -1) == b""
    with raises(ResponseError, "value is not an integer or out of range"):
        r.getrange("k", "a", 1)
    assert r.substr("missing", 1) == b""


def test_setrange(r):
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"\x00" * 6 + b"Redis"
    r.set("k", "Hello World")
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"Hello Redis"
    assert r.setrange("k", 0, "") == 11
    assert r.setrange("missing", 5, "") == 0
    assert r.exists("missing") == 0
    with raises(ResponseError, "offset is out of range"):
        r.setrange("k", -1, "x")
    with raises(ResponseError, "string exceeds maximum allowed size (proto-max-bulk-len)"):
        r.setrange("k", 536870912, "x")
    assert r.get("k") == b"Hello Redis"


def test_lcs(r):
    r.mset({"k1": "ohmytext", "k2": "mynewtext"})
    assert r.lcs("k1", "k2") == b"mytext"
    assert r.lcs("k1", "k2", len=True) == 6
    assert r.lcs("k1", "k2", idx=True) == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.lcs("k1", "k2", idx=True, minmatchlen=4, withmatchlen=True) == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.lcs("k1", "missing") == b""
    r.hset("h", "f", "v")
    with raises(ResponseError, "The specified keys must contain string values"):
        r.lcs("k1", "h")
    with raises(ResponseError, "If you want both the length and indexes, please just use IDX."):
        r.lcs("k1", "k2", len=True, idx=True)
    with raises(ResponseError, "syntax error"):
        r.execute_command("LCS", "k1", "k2", "FOO")


@pytest.mark.parametrize("a, b", [
    ("abcabc", "abc"), ("aaaa", "aa"), ("abcdef", "acf"), ("xyz", "abc"),
    ("GTCGTTCGGAATGCCGTTGCTCTGTAAA", "ACCGGTCGAGTGCGCGGAAGCCGGCCGAA"),
])
def test_lcs_matches_redis_backtrack(r, a, b):
    r.mset({"a": a, "b": b})
    assert r.lcs("a", "b", idx=True, withmatchlen=True) == r.execute_command(
        "LCS", "a", "b", "IDX", "WITHMATCHLEN")
    result = r.lcs("a", "b", idx=True, withmatchlen=True)
    assert result[3] == len(r.lcs("a", "b"))


@pytest.mark.parametrize("command, args", [
    ("GET", ()), ("GET", ("a", "b")), ("SET", ("k",)), ("GETDEL", ()),
    ("INCR", ()), ("INCRBY", ("k",)), ("APPEND", ("k",)), ("GETRANGE", ("k", 1)),
    ("SETRANGE", ("k", 1)), ("MGET", ()), ("SETEX", ("k", 1)), ("STRLEN", ()),
])
def test_arity_errors(r, command, args):
    with raises(ResponseError, f"wrong number of arguments for '{command.lower()}' command"):
        r.execute_command(command, *args)


def test_unknown_command(r):
    with raises(ResponseError, "unknown command 'NOPE', with args beginning with: 'a' 'b' "):
        r.execute_command("NOPE", "a", "b")


def test_object_encoding_of_strings(r):
    r.set("int", "12345")
    r.set("short", "hello")
    r.set("long", "x" * 45)
    r.set("app", "1")
    r.append("app", "2")
    assert r.object("encoding", "int") == b"int"
    assert r.object("encoding", "short") == b"embstr"
    assert r.object("encoding", "long") == b"raw"
    assert r.object("encoding", "app") == b"raw"
    r.incr("app")
    assert r.object("encoding", "app") == b"int"


def test_state_after_mixed_string_commands(r):
    r.mset({"a": "1", "b": "two"})
    r.incrbyfloat("a", 1.5)
    r.append("b", "!")
    r.set("c", "v", ex=100)
    with pytest.raises(ResponseError):
        r.incr("b")
    assert snapshot(r) == {0: {
        b"a": ("string", b"2.5", False),
        b"b": ("string", b"two!", False),
        b"c": ("string", b"v", True),
    }}


def test_mapping_protocol(r):
    r["k"] = "v"
    assert r["k"] == b"v"
    assert "k" in r
    del r["k"]
    assert "k" not in r
    with pytest.raises(KeyError):
        r["k"]
