"""Hash commands, differential: every ``r``/``rd`` test runs on minikv and real Redis.

Small hashes are listpack-encoded in Redis and keep insertion order, so
their replies are compared literally, order included. Hashtable-encoded
hashes have Redis's own hash order, so those are compared as sets. Random
replies (HRANDFIELD) are checked by their properties.
"""
import pytest
from helpers import raises, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import DataError, ResponseError

import minikv

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
LONG_RANGE = ("value is out of range, value must between -9223372036854775807 and "
              "9223372036854775807")


def arity(name):
    return f"wrong number of arguments for '{name}' command"


@pytest.fixture
def hash_limits(r):
    """Set the listpack limits for one test; the real server is shared, so the
    defaults are put back afterwards."""
    def apply(entries=512, value=64):
        r.config_set("hash-max-listpack-entries", entries)
        r.config_set("hash-max-listpack-value", value)
    yield apply
    apply()


# -- HSET / HMSET / HSETNX ---------------------------------------------------
def test_hset_counts_new_fields_only(r):
    assert r.hset("h", "a", "1") == 1
    assert r.hset("h", "a", "2") == 0
    assert r.hset("h", mapping={"a": "3", "b": "4", "c": "5"}) == 2
    assert r.hgetall("h") == {b"a": b"3", b"b": b"4", b"c": b"5"}
    assert r.type("h") == b"hash"


def test_hset_repeated_field_in_one_call_counts_once_last_value_wins(r):
    assert r.execute_command("HSET", "h", "f", "1", "f", "2", "g", "3") == 2
    assert r.hgetall("h") == {b"f": b"2", b"g": b"3"}


def test_hset_sends_items_then_key_then_mapping(r):
    assert r.hset("h", "f", "key", mapping={"f": "mapping", "m": "1"},
                  items=["f", "items", "i", "2"]) == 3
    assert list(r.hgetall("h").items()) == [(b"f", b"mapping"), (b"i", b"2"), (b"m", b"1")]


def test_hset_encodes_numbers_like_redis_py(r):
    assert r.hset("h", 1, 2.5) == 1
    assert r.hset("h", b"\x00\xff", 7) == 1
    assert r.hgetall("h") == {b"1": b"2.5", b"\x00\xff": b"7"}
    assert r.hget("h", 1) == b"2.5"


def test_hset_without_pairs_is_a_data_error(r):
    with raises(DataError, "'hset' with no key value pairs"):
        r.hset("h")
    with raises(DataError, "'hset' with no key value pairs"):
        r.hset("h", mapping={}, items=[])
    with raises(DataError, "Invalid input of type: 'NoneType'. "
                           "Convert to a bytes, string, int or float first."):
        r.hset("h", "f")
    assert r.exists("h") == 0


def test_hset_incomplete_pairs_is_an_arity_error(r):
    with raises(ResponseError, arity("hset")):
        r.hset("h", items=["a", "1", "b"])
    with raises(ResponseError, arity("hset")):
        r.execute_command("HSET", "h", "f")
    with raises(ResponseError, arity("hset")):
        r.execute_command("HSET", "h")
    assert r.exists("h") == 0


def test_hmset_is_deprecated_but_works(r):
    with pytest.warns(DeprecationWarning, match="Call to deprecated hmset"):
        assert r.hmset("h", {"a": "1", "b": "2"}) is True
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}
    with pytest.warns(DeprecationWarning):
        with raises(DataError, "'hmset' with 'mapping' of length 0"):
            r.hmset("h", {})
    with raises(ResponseError, arity("hmset")):
        r.execute_command("HMSET", "h", "a", "1", "b")
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}


def test_hsetnx_sets_only_missing_fields(r):
    assert r.hsetnx("h", "f", "1") == 1
    assert r.hsetnx("h", "f", "2") == 0
    assert r.hsetnx("h", "g", "3") == 1
    assert r.hgetall("h") == {b"f": b"1", b"g": b"3"}
    with raises(ResponseError, arity("hsetnx")):
        r.execute_command("HSETNX", "h", "f")


# -- reads -------------------------------------------------------------------
def test_hget_hmget_missing_fields_and_keys(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hget("h", "a") == b"1"
    assert r.hget("h", "zz") is None
    assert r.hget("nokey", "a") is None
    assert r.hmget("h", ["a", "zz", "b"]) == [b"1", None, b"2"]
    assert r.hmget("h", "b", "a") == [b"2", b"1"]
    assert r.hmget("h", ("a",), "b") == [b"1", b"2"]
    assert r.hmget("nokey", "a", "b") == [None, None]
    with raises(ResponseError, arity("hmget")):
        r.hmget("h", [])
    with raises(ResponseError, arity("hget")):
        r.execute_command("HGET", "h")


def test_hgetall_hkeys_hvals_keep_listpack_order(r):
    r.hset("h", mapping={"z": "1", "a": "2", "m": "3"})
    r.hset("h", "a", "updated")
    r.hdel("h", "z")
    r.hset("h", "z", "back")
    assert list(r.hgetall("h").items()) == [(b"a", b"updated"), (b"m", b"3"), (b"z", b"back")]
    assert r.hkeys("h") == [b"a", b"m", b"z"]
    assert r.hvals("h") == [b"updated", b"3", b"back"]
    assert r.hgetall("nokey") == {}
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []


def test_hexists_hlen_hstrlen(r):
    r.hset("h", mapping={"a": "hello", "n": 12345, "e": ""})
    assert r.hexists("h", "a") is True
    assert r.hexists("h", "zz") is False
    assert r.hexists("nokey", "a") is False
    assert r.hlen("h") == 3
    assert r.hlen("nokey") == 0
    assert r.hstrlen("h", "a") == 5
    assert r.hstrlen("h", "n") == 5
    assert r.hstrlen("h", "e") == 0
    assert r.hstrlen("h", "zz") == 0
    assert r.hstrlen("nokey", "a") == 0
    with raises(ResponseError, arity("hlen")):
        r.execute_command("HLEN", "h", "x")
    with raises(ResponseError, arity("hstrlen")):
        r.execute_command("HSTRLEN", "h")


def test_decoded_replies(rd):
    rd.hset("h", mapping={"a": "1", "b": "é"})
    assert rd.hget("h", "b") == "é"
    assert rd.hgetall("h") == {"a": "1", "b": "é"}
    assert rd.hkeys("h") == ["a", "b"]
    assert rd.hvals("h") == ["1", "é"]
    assert rd.hmget("h", "a", "x") == ["1", None]
    assert rd.hscan("h") == (0, {"a": "1", "b": "é"})
    assert rd.hrandfield("h", 5, withvalues=True) == ["a", "1", "b", "é"]
    assert rd.hincrbyfloat("h", "a", "0.5") == 1.5
    assert rd.hget("h", "a") == "1.5"


# -- HDEL --------------------------------------------------------------------
def test_hdel_counts_and_deletes_the_emptied_key(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "a", "a", "missing") == 1
    assert r.hdel("nokey", "a") == 0
    assert r.hdel("h", "b", "c", "b") == 2
    assert r.exists("h") == 0
    assert r.keys() == []
    with raises(ResponseError, arity("hdel")):
        r.hdel("h")


# -- HINCRBY -----------------------------------------------------------------
def test_hincrby(r):
    assert r.hincrby("h", "n") == 1
    assert r.hincrby("h", "n", 41) == 42
    assert r.hincrby("h", "n", -50) == -8
    assert r.hget("h", "n") == b"-8"
    r.hset("h", "max", "9223372036854775806")
    assert r.hincrby("h", "max", 1) == 9223372036854775807
    r.hset("h", "min", "-9223372036854775807")
    assert r.hincrby("h", "min", -1) == -9223372036854775808


@pytest.mark.parametrize("stored", ["abc", "", "01", " 1", "1.5", "12345678901234567890"])
def test_hincrby_refuses_non_integer_values(r, stored):
    r.hset("h", "f", stored)
    with raises(ResponseError, "hash value is not an integer"):
        r.hincrby("h", "f", 1)
    assert r.hget("h", "f") == stored.encode()


@pytest.mark.parametrize("start, delta", [
    ("9223372036854775807", 1), ("-9223372036854775808", -1),
    ("1", 9223372036854775807), ("-2", -9223372036854775807),
])
def test_hincrby_overflow_leaves_the_hash_unchanged(r, start, delta):
    r.hset("h", mapping={"f": start, "other": "x"})
    with raises(ResponseError, "increment or decrement would overflow"):
        r.hincrby("h", "f", delta)
    assert r.hgetall("h") == {b"f": start.encode(), b"other": b"x"}


@pytest.mark.parametrize("increment", ["x", "1.5", " 1", "01", "9223372036854775808", ""])
def test_hincrby_bad_increment_is_checked_before_the_key(r, increment):
    r.set("s", "string")
    with raises(ResponseError, NOT_INTEGER):
        r.hincrby("h", "f", increment)
    with raises(ResponseError, NOT_INTEGER):
        r.hincrby("s", "f", increment)
    assert r.keys() == [b"s"]
    with raises(ResponseError, arity("hincrby")):
        r.execute_command("HINCRBY", "h", "f")


# -- HINCRBYFLOAT ------------------------------------------------------------
def test_hincrbyfloat_computes_in_long_double(r):
    assert r.hincrbyfloat("h", "f", "10.5") == 10.5
    assert r.hincrbyfloat("h", "f", "0.1") == 10.6
    assert r.hget("h", "f") == b"10.6"
    assert r.hincrbyfloat("h", "f", -5) == 5.6
    assert r.hincrbyfloat("h", "new") == 1.0
    assert r.hget("h", "new") == b"1"
    r.hset("h", mapping={"int": 3, "exp": "1e5", "hex": "0x10"})
    assert r.hincrbyfloat("h", "int", 1.5) == 4.5
    assert r.hincrbyfloat("h", "exp", 0) == 100000.0
    assert r.hget("h", "exp") == b"100000"
    assert r.hincrbyfloat("h", "hex", "0x10") == 32.0
    assert r.hget("h", "hex") == b"32"
    assert r.hincrbyfloat("h", "big", "1e70") == 1e70
    assert r.hget("h", "big") == (b"100000000000000000002224794895861482590259954106011"
                                  b"57579323600873193472")


@pytest.mark.parametrize("stored", ["abc", "", " 1", "1 ", "nan"])
def test_hincrbyfloat_refuses_non_float_values(r, stored):
    r.hset("h", "f", stored)
    with raises(ResponseError, "hash value is not a float"):
        r.hincrbyfloat("h", "f", 1)
    assert r.hgetall("h") == {b"f": stored.encode()}


def test_hincrbyfloat_to_infinity_leaves_the_hash_unchanged(r):
    r.hset("h", "f", "inf")
    with raises(ResponseError, "increment would produce NaN or Infinity"):
        r.hincrbyfloat("h", "f", 1)
    assert r.hgetall("h") == {b"f": b"inf"}


@pytest.mark.parametrize("increment", ["x", "nan", "", " 1", "1 ", "1,5"])
def test_hincrbyfloat_bad_increment(r, increment):
    r.set("s", "string")
    with raises(ResponseError, NOT_FLOAT):
        r.hincrbyfloat("h", "f", increment)
    with raises(ResponseError, NOT_FLOAT):
        r.hincrbyfloat("s", "f", increment)
    assert r.keys() == [b"s"]


@pytest.mark.parametrize("increment", ["inf", "-inf", "+Infinity"])
def test_hincrbyfloat_refuses_an_infinite_increment_before_the_key(r, increment):
    r.set("s", "string")
    for key in ("h", "s"):
        with raises(ResponseError, "value is NaN or Infinity"):
            r.hincrbyfloat(key, "f", increment)
    assert r.keys() == [b"s"]
    with raises(ResponseError, arity("hincrbyfloat")):
        r.execute_command("HINCRBYFLOAT", "h", "f")


# -- WRONGTYPE ---------------------------------------------------------------
@pytest.mark.parametrize("command", [
    ("HSET", "s", "f", "v"), ("HMSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"),
    ("HGET", "s", "f"), ("HMGET", "s", "f"), ("HGETALL", "s"), ("HDEL", "s", "f"),
    ("HEXISTS", "s", "f"), ("HLEN", "s"), ("HKEYS", "s"), ("HVALS", "s"),
    ("HSTRLEN", "s", "f"), ("HINCRBY", "s", "f", "1"), ("HINCRBYFLOAT", "s", "f", "1"),
    ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "0"), ("HRANDFIELD", "s", "-2", "WITHVALUES"),
    ("HSCAN", "s", "0"), ("HSCAN", "s", "0", "COUNT", "0"),
])
def test_wrongtype(r, command):
    r.set("s", "string")
    with raises(ResponseError, WRONGTYPE):
        r.execute_command(*command)
    assert r.get("s") == b"string"


def test_wrongtype_through_the_fast_paths(r):
    r.set("s", "string")
    with raises(ResponseError, WRONGTYPE):
        r.hget("s", "f")
    with raises(ResponseError, WRONGTYPE):
        r.hset("s", "f", "v")
    assert r.get("s") == b"string"


def test_errors_leave_the_keyspace_as_it_was(r):
    r.hset("h", mapping={"n": "9223372036854775807", "s": "abc"})
    r.set("str", "v")
    before = snapshot(r)
    attempts = [
        ("HINCRBY", "h", "n", "1"), ("HINCRBY", "h", "s", "1"), ("HINCRBYFLOAT", "h", "s", "1"),
        ("HSET", "h", "a", "1", "b"), ("HSET", "new", "a"), ("HINCRBY", "new", "f", "x"),
        ("HINCRBYFLOAT", "new", "f", "inf"), ("HSET", "str", "f", "v"), ("HDEL", "str", "f"),
    ]
    for command in attempts:
        with pytest.raises(ResponseError):
            r.execute_command(*command)
    assert snapshot(r) == before


# -- TTL ---------------------------------------------------------------------
def test_hash_writes_keep_the_ttl(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.expire("h", 100)
    r.hset("h", "c", "3")
    r.hset("h", mapping={"d": "4"})
    r.hsetnx("h", "e", "5")
    r.hincrby("h", "a", 1)
    r.hincrbyfloat("h", "b", 1.5)
    r.hdel("h", "c")
    assert 0 < r.pttl("h") <= 100_000
    r.hdel("h", "a", "b", "d", "e")
    assert r.exists("h") == 0
    r.hset("h", "a", "1")
    assert r.ttl("h") == -1


def test_hash_expires_with_its_key(mr, clock):
    mr.hset("h", "a", "1")
    mr.expire("h", 10)
    mr.hset("h", "b", "2")
    assert mr.ttl("h") == 10
    clock.advance(11)
    assert mr.hget("h", "a") is None
    assert mr.hgetall("h") == {}
    assert mr.hset("h", "a", "1") == 1
    assert mr.ttl("h") == -1


# -- HRANDFIELD --------------------------------------------------------------
def test_hrandfield_without_count(r):
    assert r.hrandfield("nokey") is None
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hrandfield("h") in (b"a", b"b", b"c")
    seen = {r.hrandfield("h") for _ in range(300)}
    assert seen == {b"a", b"b", b"c"}


def test_hrandfield_count_covering_the_hash_returns_it_in_order(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hrandfield("h", 3) == [b"a", b"b", b"c"]
    assert r.hrandfield("h", 9223372036854775807) == [b"a", b"b", b"c"]
    assert r.hrandfield("h", 4, withvalues=True) == [b"a", b"1", b"b", b"2", b"c", b"3"]
    assert r.hrandfield("h", 4611686018427387903, withvalues=True) == [
        b"a", b"1", b"b", b"2", b"c", b"3"]


def test_hrandfield_positive_count_gives_distinct_fields(r):
    fields = {f"f{i}".encode(): str(i).encode() for i in range(10)}
    r.hset("h", mapping=fields)
    picked = r.hrandfield("h", 4)
    assert len(picked) == 4 == len(set(picked))
    assert set(picked) <= set(fields)
    flat = r.hrandfield("h", 6, withvalues=True)
    pairs = dict(zip(flat[::2], flat[1::2]))
    assert len(flat) == 12 and len(pairs) == 6
    assert all(fields[field] == value for field, value in pairs.items())
    assert len(r.hrandfield("h", 1)) == 1


def test_hrandfield_negative_count_may_repeat(r):
    r.hset("one", "only", "v")
    assert r.hrandfield("one", -3) == [b"only", b"only", b"only"]
    assert r.hrandfield("one", -2, withvalues=True) == [b"only", b"v", b"only", b"v"]
    r.hset("h", mapping={"a": "1", "b": "2"})
    picked = r.hrandfield("h", -50)
    assert len(picked) == 50 and set(picked) == {b"a", b"b"}
    flat = r.hrandfield("h", -5, withvalues=True)
    assert len(flat) == 10
    assert all({b"a": b"1", b"b": b"2"}[f] == v for f, v in zip(flat[::2], flat[1::2]))


def test_hrandfield_zero_and_missing(r):
    r.hset("h", "a", "1")
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("h", 0, withvalues=True) == []
    assert r.hrandfield("nokey", 5) == []
    assert r.hrandfield("nokey", -5, withvalues=True) == []


def test_hrandfield_errors_come_before_the_key(r):
    r.hset("h", "a", "1")
    r.set("s", "string")
    for key in ("h", "s", "nokey"):
        with raises(ResponseError, NOT_INTEGER):
            r.execute_command("HRANDFIELD", key, "x")
        with raises(ResponseError, NOT_INTEGER):
            r.execute_command("HRANDFIELD", key, "9223372036854775808")
        with raises(ResponseError, LONG_RANGE):
            r.hrandfield(key, -9223372036854775808)
        with raises(ResponseError, "syntax error"):
            r.execute_command("HRANDFIELD", key, "1", "WITHSCORES")
        with raises(ResponseError, "syntax error"):
            r.execute_command("HRANDFIELD", key, "1", "WITHVALUES", "x")
        with raises(ResponseError, "value is out of range"):
            r.hrandfield(key, 4611686018427387904, withvalues=True)
        with raises(ResponseError, "value is out of range"):
            r.hrandfield(key, -4611686018427387904, withvalues=True)


def test_hrandfield_withvalues_is_case_insensitive(r):
    r.hset("one", "only", "v")
    reply = r.execute_command("HRANDFIELD", "one", "1", "withValues")
    # A RESP3 connection (redis-py's default) nests the pair; RESP2 is flat.
    flat = reply[0] if reply and isinstance(reply[0], list) else reply
    assert flat == [b"only", b"v"]


# -- HSCAN -------------------------------------------------------------------
def test_hscan_listpack_returns_everything_at_once(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3", "d": "4"})
    assert r.hscan("h") == (0, {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"})
    assert r.hscan("h", count=1) == (0, {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"})
    # Redis ignores the cursor of a listpack hash.
    assert r.hscan("h", cursor=12345, count=1) == (0, {b"a": b"1", b"b": b"2", b"c": b"3",
                                                      b"d": b"4"})
    assert r.hscan("h", match="[ab]") == (0, {b"a": b"1", b"b": b"2"})
    assert list(r.hscan_iter("h", match="*c*")) == [(b"c", b"3")]


def test_hscan_match_and_the_empty_field(r):
    r.hset("h", mapping={"": "empty", "a": "1"})
    assert r.hscan("h", match="*") == (0, {b"": b"empty", b"a": b"1"})
    assert r.hscan("h", match="**") == (0, {b"a": b"1"})
    assert r.hscan("h", match="") == (0, {b"": b"empty"})
    assert r.hscan("h", match="?") == (0, {b"a": b"1"})
    assert r.execute_command("HSCAN", "h", "0", "MATCH", "a", "MATCH", "") == (0, {b"": b"empty"})


def test_hscan_cursor_parsing(r):
    r.hset("h", "a", "1")
    for cursor in ("-1", "18446744073709551615", "", "+5"):
        assert r.execute_command("HSCAN", "h", cursor) == (0, {b"a": b"1"})
    r.set("s", "string")
    for key in ("h", "s", "nokey"):
        for cursor in ("x", " 1", "1x", "18446744073709551616"):
            with raises(ResponseError, "invalid cursor"):
                r.execute_command("HSCAN", key, cursor)


def test_hscan_option_errors(r):
    r.hset("h", "a", "1")
    for options in (("COUNT", "0"), ("COUNT", "-1"), ("MATCH",), ("COUNT", "1", "MATCH"),
                    ("TYPE", "string"), ("NOVALUES",), ("BOGUS", "x")):
        with raises(ResponseError, "syntax error"):
            r.execute_command("HSCAN", "h", "0", *options)
    with raises(ResponseError, NOT_INTEGER):
        r.execute_command("HSCAN", "h", "0", "COUNT", "x")
    with raises(ResponseError, NOT_INTEGER):
        r.execute_command("HSCAN", "h", "0", "COUNT", "9223372036854775808")
    assert r.execute_command("HSCAN", "h", "0", "COUNT", "9223372036854775807") == (
        0, {b"a": b"1"})
    # A missing key answers before its options are read.
    assert r.execute_command("HSCAN", "nokey", "0", "BOGUS") == (0, {})
    with raises(ResponseError, arity("hscan")):
        r.execute_command("HSCAN", "h")


def test_hscan_no_values_is_not_in_redis_7_0(r):
    # redis-py sends NOVALUES whenever no_values is given, even False.
    r.hset("h", "a", "1")
    for no_values in (True, False):
        with raises(ResponseError, "syntax error"):
            r.hscan("h", no_values=no_values)
        with raises(ResponseError, "syntax error"):
            list(r.hscan_iter("h", no_values=no_values))
    assert r.hscan("nokey", no_values=True) == (0, [])
    assert r.hscan("nokey", no_values=False) == (0, {})
    assert list(r.hscan_iter("nokey", no_values=True)) == []
    assert r.hscan("nokey") == (0, {})


def test_hscan_hashtable_pages_and_completes(r):
    fields = {f"f{i}".encode(): str(i).encode() for i in range(1000)}
    r.hset("big", mapping=fields)
    assert r.object("encoding", "big") == b"hashtable"
    cursor, page = r.hscan("big", count=10)
    assert cursor != 0
    assert 0 < len(page) < 1000
    assert all(fields[field] == value for field, value in page.items())
    assert dict(r.hscan_iter("big", count=37)) == fields
    assert r.hscan("big", count=2000) == (0, fields)
    assert dict(r.hscan_iter("big", match="f99*")) == {
        field: value for field, value in fields.items() if field.startswith(b"f99")}


def test_hscan_hashtable_full_iteration_guarantee_under_changes(r):
    kept = {f"keep{i}".encode() for i in range(600)}
    dropped = [f"drop{i}".encode() for i in range(300)]
    r.hset("big", mapping=dict.fromkeys(kept, 1))
    r.hset("big", mapping=dict.fromkeys(dropped, 1))
    seen = set()
    cursor, step = 0, 0
    while True:
        cursor, page = r.hscan("big", cursor=cursor, count=40)
        seen.update(page)
        doomed = dropped[step * 20:step * 20 + 20]
        if doomed:
            r.hdel("big", *doomed)
        r.hset("big", mapping={f"new{step}_{j}": 1 for j in range(20)})
        step += 1
        if cursor == 0:
            break
    assert kept <= seen
    assert all(field in kept or field.startswith((b"drop", b"new")) for field in seen)


# -- encoding ----------------------------------------------------------------
def test_encoding_by_size(r):
    r.hset("h", mapping={f"f{i}": i for i in range(512)})
    assert r.object("encoding", "h") == b"listpack"
    r.hset("h", "one-more", 1)
    assert r.object("encoding", "h") == b"hashtable"
    r.hdel("h", *[f"f{i}" for i in range(512)])
    assert r.object("encoding", "h") == b"hashtable"
    assert r.hgetall("h") == {b"one-more": b"1"}


def test_encoding_by_length(r):
    r.hset("at", "f", "v" * 64)
    r.hset("value", "f", "v" * 65)
    r.hset("field", "f" * 65, "v")
    assert [r.object("encoding", key) for key in ("at", "value", "field")] == [
        b"listpack", b"hashtable", b"hashtable"]
    r.hset("h", "f", "1")
    assert r.hsetnx("h", "f", "x" * 100) == 0
    assert r.object("encoding", "h") == b"listpack"
    r.hget("h", "y" * 100)
    r.hdel("h", "y" * 100)
    assert r.object("encoding", "h") == b"listpack"
    assert r.hsetnx("h", "g", "x" * 100) == 1
    assert r.object("encoding", "h") == b"hashtable"


def test_encoding_of_increments(r):
    r.hincrby("long-field", "f" * 65, 1)
    r.hincrbyfloat("long-value", "f", "1e65")  # 66 digits once printed
    r.hincrbyfloat("fits", "f", "1e64")  # 64: just fits
    assert [r.object("encoding", key) for key in ("long-field", "long-value", "fits")] == [
        b"hashtable", b"hashtable", b"listpack"]


def test_encoding_follows_the_configured_limits(r, hash_limits):
    hash_limits(entries=2, value=5)
    r.hset("h", mapping={"a": "12345", "b": "1"})
    r.hincrby("h", "b", 122)
    assert r.object("encoding", "h") == b"listpack"
    r.hincrbyfloat("h", "a", "0.5")  # "12345.5": seven bytes
    assert r.object("encoding", "h") == b"hashtable"
    r.hset("three", mapping={"a": 1, "b": 2})
    assert r.object("encoding", "three") == b"listpack"
    r.hsetnx("three", "c", 3)
    assert r.object("encoding", "three") == b"hashtable"
    r.hset("counter", "n", "99999")
    r.hincrby("counter", "n", 1)  # "100000": six bytes
    assert r.object("encoding", "counter") == b"hashtable"


def test_encoding_failed_increment_does_not_convert(r, hash_limits):
    hash_limits(value=5)
    r.hset("h", "s", "abc")
    with raises(ResponseError, "hash value is not an integer"):
        r.hincrby("h", "s", 1)
    with raises(ResponseError, NOT_INTEGER):
        r.hincrby("h", "a-long-field", "x")
    assert r.object("encoding", "h") == b"listpack"


def test_encoding_with_zero_limits(r, hash_limits):
    hash_limits(entries=0)
    r.hset("h", "a", "1")
    assert r.object("encoding", "h") == b"hashtable"
    hash_limits(value=0)
    r.hset("empty", "", "")
    r.hset("byte", "a", "")
    assert [r.object("encoding", key) for key in ("empty", "byte")] == [
        b"listpack", b"hashtable"]


def test_hashtable_flag_directly():
    client = minikv.Redis()
    client.hset("h", "f", "x" * 65)
    assert client.store.dbs[0].data[b"h"].hashtable is True
    client.hset("small", "f", "x")
    assert client.store.dbs[0].data[b"small"].hashtable is False
    client.close()


# -- differential state machine ---------------------------------------------
_FIELDS = st.sampled_from([b"a", b"b", b"c", b"", b"n", b"f" * 70])
_VALUES = st.sampled_from([b"0", b"1", b"-7", b"01", b"x", b"1.5", b"", b"v" * 70,
                           b"9223372036854775807"])
_OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("HSET"), _FIELDS, _VALUES),
    st.tuples(st.just("HSETNX"), _FIELDS, _VALUES),
    st.tuples(st.just("HDEL"), _FIELDS, _FIELDS),
    st.tuples(st.just("HINCRBY"), _FIELDS, st.sampled_from([b"1", b"-3", b"9223372036854775807"])),
    st.tuples(st.just("HINCRBYFLOAT"), _FIELDS, st.sampled_from([b"0.1", b"-2.5", b"1e3"])),
    st.tuples(st.just("HMGET"), _FIELDS, _FIELDS),
    st.tuples(st.just("HSTRLEN"), _FIELDS),
    st.tuples(st.just("HEXISTS"), _FIELDS),
), max_size=25)


def _outcome(client, command):
    try:
        return client.execute_command(command[0], "h", *command[1:])
    except ResponseError as exc:
        return ("error", str(exc))


def _state(client):
    encoding = client.object("encoding", "h")
    items = list(client.hgetall("h").items())
    # Only a listpack hash has an order both sides must agree on.
    return encoding, items if encoding == b"listpack" else sorted(items), client.hlen("h")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=_OPERATIONS)
def test_random_operations_agree_with_redis(real_redis, operations):
    real_redis.flushall()
    embedded = minikv.Redis()
    try:
        for command in operations:
            assert _outcome(embedded, command) == _outcome(real_redis, command), command
            assert _state(embedded) == _state(real_redis)
        assert embedded.exists("h") == real_redis.exists("h")
    finally:
        embedded.close()
