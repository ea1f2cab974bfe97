"""Generic key commands, differential: every test runs on minikv and real Redis.

Expected values are literals; TTL checks leave room only for the few
milliseconds a test takes (never for wall-clock sleeps).
"""
import datetime

import pytest
from helpers import kind, raises
from redis.exceptions import DataError, ResponseError

import minikv

INT_RANGE = "value is out of range, value must between -2147483648 and 2147483647"
LFU_NOT_SELECTED = (
    "An LFU maxmemory policy is not selected, access frequency not tracked. "
    "Please note that when switching between policies at runtime LRU and LFU data "
    "will take some time to adjust.")
LFU_SELECTED = (
    "An LFU maxmemory policy is selected, idle time not tracked. "
    "Please note that when switching between policies at runtime LRU and LFU data "
    "will take some time to adjust.")


def other_db(r, client_factory, db):
    """A client of the same kind as ``r`` on database ``db`` of the same server.

    Build it before writing data: for real Redis the factory flushes the server.
    """
    if kind(r) == "minikv":
        return client_factory("minikv", db=db, store=r.store)
    return client_factory("redis", db=db)


def state(r):
    """key -> (value, has TTL) for the string keys of the current db."""
    return {key: (r.get(key), r.ttl(key) != -1) for key in r.keys()}


@pytest.fixture
def restore_config(r):
    """Put back the memory settings a test changes (the real server is shared)."""
    yield
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", 0)


# -- DEL / UNLINK / EXISTS / TOUCH / TYPE ------------------------------------
def test_delete_counts_removed_keys(r):
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.delete("a", "a", "missing") == 1
    assert r.unlink("b", "nope") == 1
    assert r.keys() == [b"c"]
    del r["c"]
    assert r.keys() == []


def test_delete_through_the_command_path_matches_the_method(r):
    r.mset({"a": 1, "b": 2})
    assert r.execute_command("DEL", "a", "b", "a") == 2
    assert r.delete("a") == 0


def test_delete_and_friends_need_a_key(r):
    with raises(ResponseError, "wrong number of arguments for 'del' command"):
        r.delete()
    with raises(ResponseError, "wrong number of arguments for 'unlink' command"):
        r.unlink()
    with raises(ResponseError, "wrong number of arguments for 'exists' command"):
        r.exists()
    with raises(ResponseError, "wrong number of arguments for 'touch' command"):
        r.touch()


def test_delete_rejects_what_redis_py_cannot_encode(r):
    r.set("k", "v")
    with raises(DataError, "Invalid input of type: 'NoneType'. "
                           "Convert to a bytes, string, int or float first."):
        r.delete("k", None)
    assert r.get("k") == b"v"


def test_exists_counts_every_occurrence(r):
    r.set("a", "1")
    assert r.exists("a") == 1
    assert r.exists("missing") == 0
    assert r.exists("a", "a", "missing", "a") == 3
    assert r.execute_command("EXISTS", "a", "a") == 2
    assert "a" in r
    assert "missing" not in r


def test_touch_counts_existing_keys(r):
    r.mset({"a": 1, "b": 2})
    assert r.touch("a", "b", "missing", "a") == 3


def test_type(r):
    r.set("s", "v")
    r.append("raw", "v")
    r.hset("h", "f", "v")
    assert r.type("s") == b"string"
    assert r.type("raw") == b"string"
    assert r.type("h") == b"hash"
    assert r.type("missing") == b"none"


def test_type_decoded(rd):
    rd.set("s", "v")
    assert rd.type("s") == "string"
    assert rd.type("missing") == "none"


# -- EXPIRE family ------------------------------------------------------------
def test_expire_sets_a_ttl(r):
    r.set("k", "v")
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.expire("missing", 100) is False
    assert r.keys() == [b"k"]


def test_expire_accepts_timedelta(r):
    r.set("k", "v")
    assert r.expire("k", datetime.timedelta(seconds=100)) is True
    assert r.ttl("k") == 100
    assert r.pexpire("k", datetime.timedelta(seconds=50)) is True
    assert r.ttl("k") == 50


def test_pexpire_sets_a_ttl_in_milliseconds(r):
    r.set("k", "v")
    assert r.pexpire("k", 5800) is True
    assert 5000 < r.pttl("k") <= 5800
    assert r.ttl("k") == 6  # rounded to the nearest second
    assert r.pexpire("missing", 5800) is False


def test_expireat_and_pexpireat_set_absolute_times(r):
    r.set("k", "v")
    assert r.expireat("k", 4_000_000_000) is True
    assert r.expiretime("k") == 4_000_000_000
    assert r.pexpiretime("k") == 4_000_000_000_000
    assert r.pexpireat("k", 4_000_000_000_123) is True
    assert r.pexpiretime("k") == 4_000_000_000_123
    assert r.expiretime("k") == 4_000_000_000
    assert r.expireat("missing", 4_000_000_000) is False


def test_expireat_accepts_datetime(r):
    r.set("k", "v")
    when = datetime.datetime(2096, 10, 2, 7, 6, 40, 250_000, tzinfo=datetime.timezone.utc)
    assert r.expireat("k", when) is True
    assert r.expiretime("k") == 4_000_000_000
    assert r.pexpireat("k", when) is True
    assert r.pexpiretime("k") == 4_000_000_000_250


def test_expiretime_rounds_to_the_nearest_second(r):
    r.set("k", "v")
    r.pexpireat("k", 4_000_000_000_499)
    assert r.expiretime("k") == 4_000_000_000
    r.pexpireat("k", 4_000_000_000_500)
    assert r.expiretime("k") == 4_000_000_001


def test_ttl_of_missing_and_persistent_keys(r):
    r.set("k", "v")
    for method in (r.ttl, r.pttl, r.expiretime, r.pexpiretime):
        assert method("k") == -1
        assert method("missing") == -2


@pytest.mark.parametrize("command", ["EXPIRE", "PEXPIRE"])
@pytest.mark.parametrize("amount", [0, -1, -100_000])
def test_relative_time_not_in_the_future_deletes_the_key(r, command, amount):
    r.mset({"k": "v", "other": "w"})
    assert r.execute_command(command, "k", amount) == 1
    assert r.keys() == [b"other"]
    assert r.execute_command(command, "k", amount) == 0


def test_expire_fast_path_deletes_on_zero_like_the_command(r):
    r.mset({"k": "v", "other": "w"})
    assert r.expire("k", 0) is True
    assert r.expire("other", -5) is True
    assert r.keys() == []


@pytest.mark.parametrize("command, when", [("EXPIREAT", 1), ("PEXPIREAT", 1),
                                          ("EXPIREAT", 0), ("PEXPIREAT", -7)])
def test_absolute_time_in_the_past_deletes_the_key(r, command, when):
    r.mset({"k": "v", "other": "w"})
    assert r.execute_command(command, "k", when) == 1
    assert r.keys() == [b"other"]


def test_expire_nx_only_without_a_ttl(r):
    r.set("k", "v")
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.ttl("k") == 100


def test_expire_xx_only_with_a_ttl(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 200, xx=True) is True
    assert r.ttl("k") == 200


def test_expire_gt_treats_no_ttl_as_infinite(r):
    r.set("k", "v")
    assert r.expire("k", 100, gt=True) is False
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.ttl("k") == 200


def test_expire_lt_treats_no_ttl_as_infinite(r):
    r.set("k", "v")
    assert r.expire("k", 100, lt=True) is True
    assert r.ttl("k") == 100
    assert r.expire("k", 200, lt=True) is False
    assert r.expire("k", 50, lt=True) is True
    assert r.ttl("k") == 50


def test_expire_lt_in_the_past_deletes_the_key(r):
    r.set("k", "v")
    assert r.expire("k", -1, lt=True) is True
    assert r.exists("k") == 0


def test_expire_gt_never_deletes_a_key_without_ttl(r):
    r.set("k", "v")
    assert r.expire("k", -1, gt=True) is False
    assert r.get("k") == b"v"


def test_expire_xx_with_gt_and_lt(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True, gt=True) is False
    r.expire("k", 100)
    assert r.expire("k", 300, xx=True, gt=True) is True
    assert r.expire("k", 200, xx=True, lt=True) is True
    assert r.ttl("k") == 200


def test_pexpireat_flags(r):
    r.set("k", "v")
    assert r.pexpireat("k", 4_000_000_000_000, nx=True) is True
    assert r.pexpireat("k", 4_000_000_001_000, lt=True) is False
    assert r.pexpireat("k", 4_000_000_001_000, gt=True) is True
    assert r.expireat("k", 3_999_999_999, lt=True) is True
    assert r.pexpiretime("k") == 3_999_999_999_000


def test_expire_flags_may_repeat(r):
    r.set("k", "v")
    assert r.execute_command("EXPIRE", "k", 100, "nx", "NX") == 1
    assert r.execute_command("EXPIRE", "k", 200, "gt", "xx", "GT") == 1
    assert r.ttl("k") == 200


@pytest.mark.parametrize("flags, message", [
    ({"nx": True, "xx": True}, "NX and XX, GT or LT options at the same time are not compatible"),
    ({"nx": True, "gt": True}, "NX and XX, GT or LT options at the same time are not compatible"),
    ({"nx": True, "lt": True}, "NX and XX, GT or LT options at the same time are not compatible"),
    ({"gt": True, "lt": True}, "GT and LT options at the same time are not compatible"),
    ({"xx": True, "gt": True, "lt": True}, "GT and LT options at the same time are not compatible"),
])
@pytest.mark.parametrize("method", ["expire", "pexpire", "expireat", "pexpireat"])
def test_incompatible_expire_flags(r, flags, message, method):
    r.set("k", "v")
    with raises(ResponseError, message):
        getattr(r, method)("k", 0, **flags)
    with raises(ResponseError, message):
        getattr(r, method)("missing", 100, **flags)
    assert state(r) == {b"k": (b"v", False)}


def test_unknown_expire_option(r):
    r.set("k", "v")
    with raises(ResponseError, "Unsupported option foo"):
        r.execute_command("EXPIRE", "k", 0, "foo")
    # options are checked before the number
    with raises(ResponseError, "Unsupported option Bar"):
        r.execute_command("PEXPIRE", "k", "notanumber", "NX", "Bar")
    assert state(r) == {b"k": (b"v", False)}


@pytest.mark.parametrize("amount", ["1.5", "abc", "", "9223372036854775808", " 1"])
@pytest.mark.parametrize("command", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_needs_an_integer(r, command, amount):
    r.set("k", "v")
    with raises(ResponseError, "value is not an integer or out of range"):
        r.execute_command(command, "k", amount)
    assert state(r) == {b"k": (b"v", False)}


def test_expire_fast_path_falls_back_for_non_integers(r):
    r.set("k", "v")
    with raises(ResponseError, "value is not an integer or out of range"):
        r.expire("k", 1.5)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.expire("k", 2 ** 63)
    with raises(DataError, "Invalid input of type: 'bool'. "
                           "Convert to a bytes, string, int or float first."):
        r.expire("k", True)
    assert state(r) == {b"k": (b"v", False)}


@pytest.mark.parametrize("command, amount", [
    ("EXPIRE", 9223372036854775807),
    ("EXPIRE", 9223372036854775),  # fits after * 1000, overflows once now is added
    ("EXPIRE", 9223372036854776),
    ("EXPIRE", -9223372036854776),
    ("EXPIRE", -9223372036854775808),
    ("PEXPIRE", 9223372036854775807),
    ("EXPIREAT", 9223372036854775807),
    ("EXPIREAT", 9223372036854776),
    ("EXPIREAT", -9223372036854776),
])
def test_expire_overflow(r, command, amount):
    r.set("k", "v")
    name = command.lower()
    with raises(ResponseError, f"invalid expire time in '{name}' command"):
        r.execute_command(command, "k", amount)
    with raises(ResponseError, f"invalid expire time in '{name}' command"):
        r.execute_command(command, "missing", amount)
    assert state(r) == {b"k": (b"v", False)}


def test_expire_fast_path_overflow(r):
    r.set("k", "v")
    with raises(ResponseError, "invalid expire time in 'expire' command"):
        r.expire("k", 9223372036854775)
    assert state(r) == {b"k": (b"v", False)}


def test_largest_expiry_times_are_accepted(r):
    r.set("k", "v")
    assert r.pexpireat("k", 9223372036854775807) is True
    assert r.pexpiretime("k") == 9223372036854775807
    assert r.expireat("k", 9223372036854775) is True
    assert r.expiretime("k") == 9223372036854775
    # the largest negative seconds still convert: the key is deleted
    assert r.expire("k", -9223372036854775) is True
    assert r.exists("k") == 0


def test_expire_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'expire' command"):
        r.execute_command("EXPIRE", "k")
    with raises(ResponseError, "wrong number of arguments for 'ttl' command"):
        r.execute_command("TTL", "k", "x")


def test_persist(r):
    r.set("k", "v")
    r.set("plain", "w")
    r.expire("k", 100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.persist("k") is False
    assert r.persist("plain") is False
    assert r.persist("missing") is False


def test_set_without_keepttl_drops_the_ttl_expire_gave(r):
    r.set("k", "v")
    r.expire("k", 100)
    r.set("k", "w")
    assert r.ttl("k") == -1


# -- KEYS ---------------------------------------------------------------------
def test_keys_patterns(r):
    r.mset({"hello": 1, "hallo": 2, "hxllo": 3, "hllo": 4, "heeeello": 5,
            "h*llo": 6, "a[b": 7, "": 8})
    assert sorted(r.keys()) == [b"", b"a[b", b"h*llo", b"hallo", b"heeeello",
                                b"hello", b"hllo", b"hxllo"]
    assert sorted(r.keys("h?llo")) == [b"h*llo", b"hallo", b"hello", b"hxllo"]
    assert sorted(r.keys("h*llo")) == [b"h*llo", b"hallo", b"heeeello", b"hello",
                                       b"hllo", b"hxllo"]
    assert sorted(r.keys("h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(r.keys("h[^e]llo")) == [b"h*llo", b"hallo", b"hxllo"]
    assert sorted(r.keys("h[a-b]llo")) == [b"hallo"]
    assert r.keys("h\\*llo") == [b"h*llo"]
    assert r.keys("a\\[b") == [b"a[b"]
    assert r.keys("") == [b""]
    assert sorted(r.keys("**")) == [b"a[b", b"h*llo", b"hallo", b"heeeello", b"hello",
                                    b"hllo", b"hxllo"]
    assert r.keys("nomatch*") == []


def test_lone_star_matches_the_empty_key_but_double_star_does_not(r):
    r.set("", "empty")
    assert r.keys("*") == [b""]
    assert r.keys("**") == []
    assert r.keys("?") == []


def test_keys_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'keys' command"):
        r.execute_command("KEYS")


def test_keys_decoded(rd):
    rd.set("ключ", "v")
    assert rd.keys("*") == ["ключ"]


# -- SCAN ---------------------------------------------------------------------
def full_scan(r, **options):
    seen = []
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, **options)
        seen += keys
        if cursor == 0:
            return seen


def test_scan_returns_every_key(r):
    names = {f"key:{i}".encode() for i in range(100)}
    r.mset({name: 1 for name in names})
    assert set(full_scan(r, count=7)) == names
    assert set(full_scan(r)) == names
    assert set(r.scan_iter(count=3)) == names


def test_scan_small_keyspace_in_one_call(r):
    r.mset({"a": 1, "b": 2})
    cursor, keys = r.scan(0)
    assert cursor == 0
    assert sorted(keys) == [b"a", b"b"]
    assert r.scan(0) == (0, keys)


def test_scan_empty_db(r):
    assert r.scan(0) == (0, [])
    assert list(r.scan_iter()) == []


def test_scan_match(r):
    r.mset({f"user:{i}": 1 for i in range(30)})
    r.mset({f"item:{i}": 1 for i in range(30)})
    r.set("", "empty")
    assert sorted(full_scan(r, match="user:1*", count=5)) == sorted(
        [b"user:1"] + [f"user:1{i}".encode() for i in range(10)])
    assert sorted(r.scan_iter(match="item:2?")) == [f"item:2{i}".encode() for i in range(10)]
    assert len(full_scan(r, match="*", count=4)) == 61  # the empty key included
    assert full_scan(r, match="", count=100) == [b""]


def test_scan_type(r):
    r.mset({"s1": 1, "s2": 2})
    r.hset("h1", "f", "v")
    r.hset("h2", "f", "v")
    assert sorted(full_scan(r, _type="string", count=1)) == [b"s1", b"s2"]
    assert sorted(full_scan(r, _type="HASH")) == [b"h1", b"h2"]
    assert sorted(r.scan_iter(match="*1", _type="Hash")) == [b"h1"]
    assert full_scan(r, _type="list") == []
    assert full_scan(r, _type="nosuchtype") == []


def test_scan_option_errors(r):
    r.set("k", "v")
    with raises(ResponseError, "syntax error"):
        r.scan(0, count=0)
    with raises(ResponseError, "syntax error"):
        r.scan(0, count=-1)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.scan(0, count="x")
    with raises(ResponseError, "syntax error"):
        r.execute_command("SCAN", 0, "MATCH")
    with raises(ResponseError, "syntax error"):
        r.execute_command("SCAN", 0, "COUNT")
    with raises(ResponseError, "syntax error"):
        r.execute_command("SCAN", 0, "TYPE")
    with raises(ResponseError, "syntax error"):
        r.execute_command("SCAN", 0, "FOO", "bar")
    with raises(ResponseError, "invalid cursor"):
        r.scan("x")
    with raises(ResponseError, "invalid cursor"):
        r.scan("x", count=0)  # the cursor is checked first
    with raises(ResponseError, "wrong number of arguments for 'scan' command"):
        r.execute_command("SCAN")


def test_scan_options_repeat_and_last_wins(r):
    r.mset({"a": 1, "b": 2})
    assert r.execute_command("SCAN", 0, "MATCH", "b", "MATCH", "a", "COUNT", 5, "COUNT", 100) == \
        (0, [b"a"])
    with raises(ResponseError, "syntax error"):
        r.execute_command("SCAN", 0, "COUNT", 5, "COUNT", 0)


def test_scan_decoded(rd):
    rd.set("ключ", "v")
    assert rd.scan(0) == (0, ["ключ"])


def test_scan_full_iteration_guarantee_while_keys_come_and_go(r):
    """Keys present for the whole scan are all returned; deleted keys never reappear."""
    stable = {f"stable:{i}".encode() for i in range(200)}
    doomed = [f"doomed:{i}".encode() for i in range(60)]
    r.mset({key: 1 for key in stable})
    r.mset({key: 1 for key in doomed})
    seen = set()
    deleted = set()
    cursor = 0
    page = 0
    while True:
        cursor, keys = r.scan(cursor, count=9)
        assert not deleted & set(keys)
        seen.update(keys)
        if doomed:
            gone = doomed.pop()
            r.delete(gone)
            deleted.add(gone)
        r.set(f"new:{page}", 1)
        page += 1
        if cursor == 0:
            break
    assert stable <= seen
    assert seen <= stable | set(doomed) | deleted | {f"new:{i}".encode() for i in range(page)}


# -- RENAME / RENAMENX ----------------------------------------------------------
def test_rename(r):
    r.set("a", "1")
    assert r.rename("a", "b") is True
    assert state(r) == {b"b": (b"1", False)}


def test_rename_keeps_the_ttl(r):
    r.set("a", "1")
    r.expire("a", 100)
    r.rename("a", "b")
    assert r.ttl("b") == 100
    assert r.exists("a") == 0


def test_rename_overwrites_the_destination_and_its_ttl(r):
    r.set("a", "1")
    r.set("b", "2")
    r.expire("b", 100)
    r.rename("a", "b")
    assert state(r) == {b"b": (b"1", False)}


def test_rename_overwrites_a_value_of_another_type(r):
    r.set("a", "1")
    r.hset("b", "f", "v")
    r.rename("a", "b")
    assert r.type("b") == b"string"
    r.hset("h", "f", "v")
    r.rename("h", "b")
    assert r.hgetall("b") == {b"f": b"v"}
    assert r.keys() == [b"b"]


def test_rename_to_itself(r):
    r.set("a", "1")
    r.expire("a", 100)
    assert r.rename("a", "a") is True
    assert r.ttl("a") == 100
    assert r.renamenx("a", "a") is False
    assert r.get("a") == b"1"


def test_rename_missing_source(r):
    r.set("b", "2")
    for src, dst in (("missing", "b"), ("missing", "missing"), ("missing", "new")):
        with raises(ResponseError, "no such key"):
            r.rename(src, dst)
        with raises(ResponseError, "no such key"):
            r.renamenx(src, dst)
    assert state(r) == {b"b": (b"2", False)}


def test_renamenx(r):
    r.mset({"a": "1", "b": "2"})
    r.expire("a", 100)
    assert r.renamenx("a", "b") is False
    assert state(r) == {b"a": (b"1", True), b"b": (b"2", False)}
    assert r.renamenx("a", "c") is True
    assert r.ttl("c") == 100
    assert sorted(r.keys()) == [b"b", b"c"]


# -- COPY / MOVE ----------------------------------------------------------------
def test_copy(r):
    r.set("a", "1")
    assert r.copy("a", "b") is True
    assert state(r) == {b"a": (b"1", False), b"b": (b"1", False)}
    assert r.copy("missing", "c") is False
    assert r.exists("c") == 0


def test_copy_copies_the_ttl(r):
    r.set("a", "1")
    r.expire("a", 100)
    r.copy("a", "b")
    assert r.ttl("b") == 100
    assert r.pexpiretime("b") == r.pexpiretime("a")


def test_copy_does_not_overwrite_without_replace(r):
    r.mset({"a": "1", "b": "2"})
    r.expire("b", 100)
    assert r.copy("a", "b") is False
    assert state(r) == {b"a": (b"1", False), b"b": (b"2", True)}
    assert r.copy("a", "b", replace=True) is True
    assert state(r) == {b"a": (b"1", False), b"b": (b"1", False)}


def test_copy_is_independent_of_its_source(r):
    r.set("s", "abc")
    r.append("s", "def")
    r.copy("s", "t")
    r.append("s", "ghi")
    r.setrange("t", 0, "X")
    assert r.get("s") == b"abcdefghi"
    assert r.get("t") == b"Xbcdef"
    assert r.object("encoding", "t") == b"raw"


def test_copy_of_a_hash_is_deep(r):
    r.hset("h", mapping={"f1": "v1", "f2": "v2"})
    r.copy("h", "h2")
    r.hset("h", "f1", "changed")
    r.hdel("h2", "f2")
    assert r.hgetall("h") == {b"f1": b"changed", b"f2": b"v2"}
    assert r.hgetall("h2") == {b"f1": b"v1"}
    assert r.object("encoding", "h2") == b"listpack"


def test_copy_keeps_the_hashtable_encoding(r):
    r.hset("h", "f", "x" * 100)
    r.copy("h", "h2")
    assert r.object("encoding", "h2") == b"hashtable"


def test_copy_to_another_db(r, client_factory):
    db1 = other_db(r, client_factory, 1)
    r.set("a", "1")
    r.expire("a", 100)
    assert r.copy("a", "a", destination_db=1) is True
    assert db1.get("a") == b"1"
    assert db1.ttl("a") == 100
    assert r.get("a") == b"1"
    db1.set("b", "other")
    assert r.copy("a", "b", destination_db=1) is False
    assert db1.get("b") == b"other"
    assert r.copy("a", "b", destination_db=1, replace=True) is True
    assert db1.get("b") == b"1"
    assert r.exists("b") == 0


def test_copy_db_option_repeats_and_last_wins(r, client_factory):
    db1 = other_db(r, client_factory, 1)
    r.set("a", "1")
    assert r.execute_command("COPY", "a", "b", "DB", 0, "DB", 1, "REPLACE", "REPLACE") == 1
    assert r.exists("b") == 0
    assert db1.get("b") == b"1"


def test_copy_to_itself(r):
    r.set("a", "1")
    with raises(ResponseError, "source and destination objects are the same"):
        r.copy("a", "a")
    with raises(ResponseError, "source and destination objects are the same"):
        r.copy("missing", "missing")
    with raises(ResponseError, "source and destination objects are the same"):
        r.copy("a", "a", destination_db=0, replace=True)
    assert state(r) == {b"a": (b"1", False)}


def test_copy_errors(r):
    r.set("a", "1")
    with raises(ResponseError, "DB index is out of range"):
        r.copy("a", "b", destination_db=16)
    with raises(ResponseError, "DB index is out of range"):
        r.copy("a", "b", destination_db=-1)
    with raises(ResponseError, INT_RANGE):
        r.copy("a", "b", destination_db=2 ** 31)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.copy("a", "b", destination_db="x")
    with raises(ResponseError, "DB index is out of range"):
        r.execute_command("COPY", "a", "b", "DB", 99, "DB", 1)
    with raises(ResponseError, "syntax error"):
        r.execute_command("COPY", "a", "b", "DB", 1, "FOO")
    with raises(ResponseError, "syntax error"):
        r.execute_command("COPY", "a", "b", "DB")
    with raises(ResponseError, "wrong number of arguments for 'copy' command"):
        r.execute_command("COPY", "a")
    assert state(r) == {b"a": (b"1", False)}


def test_move(r, client_factory):
    db1 = other_db(r, client_factory, 1)
    r.set("a", "1")
    r.expire("a", 100)
    assert r.move("a", 1) is True
    assert r.exists("a") == 0
    assert db1.get("a") == b"1"
    assert db1.ttl("a") == 100
    assert r.move("missing", 1) is False


def test_move_does_not_overwrite(r, client_factory):
    db1 = other_db(r, client_factory, 1)
    db1.set("a", "there")
    r.set("a", "here")
    assert r.move("a", 1) is False
    assert r.get("a") == b"here"
    assert db1.get("a") == b"there"


def test_move_errors(r):
    r.set("a", "1")
    with raises(ResponseError, "source and destination objects are the same"):
        r.move("a", 0)
    with raises(ResponseError, "source and destination objects are the same"):
        r.move("missing", 0)
    with raises(ResponseError, "DB index is out of range"):
        r.move("a", 16)
    with raises(ResponseError, "DB index is out of range"):
        r.move("a", -1)
    with raises(ResponseError, INT_RANGE):
        r.move("a", 4294967296)
    with raises(ResponseError, "value is not an integer or out of range"):
        r.move("a", "x")
    assert state(r) == {b"a": (b"1", False)}


def test_move_from_another_db(r, client_factory):
    db1 = other_db(r, client_factory, 1)
    db1.set("k", "v")
    assert db1.move("k", 0) is True
    assert r.get("k") == b"v"
    assert db1.keys() == []


# -- RANDOMKEY ------------------------------------------------------------------
def test_randomkey(r):
    assert r.randomkey() is None
    r.mset({"a": 1, "b": 2, "c": 3})
    drawn = {r.randomkey() for _ in range(200)}
    assert drawn <= {b"a", b"b", b"c"}
    assert len(drawn) > 1
    r.delete("a", "b")
    assert r.randomkey() == b"c"


def test_randomkey_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'randomkey' command"):
        r.execute_command("RANDOMKEY", "x")


# -- OBJECT ---------------------------------------------------------------------
def test_object_encoding_of_strings(r):
    r.mset({"int": "12345", "neg": "-12", "lead0": "012", "short": "abc",
            "44": "x" * 44, "45": "x" * 45, "big": "123456789012345678901"})
    r.append("appended", "abc")
    assert r.object("encoding", "int") == b"int"
    assert r.object("encoding", "neg") == b"int"
    assert r.object("encoding", "lead0") == b"embstr"
    assert r.object("encoding", "short") == b"embstr"
    assert r.object("encoding", "44") == b"embstr"
    assert r.object("encoding", "45") == b"raw"
    assert r.object("encoding", "big") == b"embstr"
    r.append("short", "d")
    assert r.object("encoding", "short") == b"raw"
    assert r.object("encoding", "missing") is None


def test_object_encoding_of_hashes(r):
    r.hset("small", "f", "v")
    r.hset("wide", "f", "v" * 65)
    assert r.object("encoding", "small") == b"listpack"
    assert r.object("encoding", "wide") == b"hashtable"


def test_object_refcount(r):
    r.mset({"zero": "0", "small": "9999", "large": "10000", "neg": "-1", "text": "abc"})
    r.hset("h", "f", "v")
    assert r.object("refcount", "zero") == 2147483647
    assert r.object("refcount", "small") == 2147483647
    assert r.object("refcount", "large") == 1
    assert r.object("refcount", "neg") == 1
    assert r.object("refcount", "text") == 1
    assert r.object("refcount", "h") == 1
    assert r.object("refcount", "missing") is None


def test_object_refcount_without_shared_integers(r, restore_config):
    r.config_set("maxmemory", "1gb")
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.set("small", "5")
    assert r.object("refcount", "small") == 1
    assert r.object("encoding", "small") == b"int"


def test_object_freq_needs_an_lfu_policy(r):
    r.set("k", "v")
    with raises(ResponseError, LFU_NOT_SELECTED):
        r.object("freq", "k")
    assert r.object("freq", "missing") is None


def test_object_idletime_under_an_lfu_policy(r, restore_config):
    r.set("k", "v")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    with raises(ResponseError, LFU_SELECTED):
        r.object("idletime", "k")
    assert r.object("idletime", "missing") is None


def test_object_idletime_and_freq_are_not_invented():
    """Without maxmemory minikv tracks no access times/frequencies: it says
    so, never a made-up number (tests/test_eviction.py covers the tracking)."""
    client = minikv.Redis()
    client.set("k", "v")
    with raises(ResponseError, "OBJECT IDLETIME is not available while maxmemory is 0: "
                               "minikv tracks key accesses only under a memory limit"):
        client.object("idletime", "k")
    client.config_set("maxmemory-policy", "volatile-lfu")
    with raises(ResponseError, "OBJECT FREQ is not available while maxmemory is 0: "
                               "minikv tracks key accesses only under a memory limit"):
        client.object("freq", "k")
    client.close()


def test_object_help(r):
    assert r.execute_command("OBJECT", "HELP") == [
        b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"ENCODING <key>",
        b"    Return the kind of internal representation used in order to store the value",
        b"    associated with a <key>.",
        b"FREQ <key>",
        b"    Return the access frequency index of the <key>. The returned integer is",
        b"    proportional to the logarithm of the recent access frequency of the key.",
        b"IDLETIME <key>",
        b"    Return the idle time of the <key>, that is the approximated number of",
        b"    seconds elapsed since the last access to the key.",
        b"REFCOUNT <key>",
        b"    Return the number of references of the value associated with the specified",
        b"    <key>.",
        b"HELP",
        b"    Prints this help.",
    ]


def test_object_errors(r):
    r.set("k", "v")
    with raises(ResponseError, "unknown subcommand 'foo'. Try OBJECT HELP."):
        r.object("foo", "k")
    with raises(ResponseError, "unknown subcommand 'foo'. Try OBJECT HELP."):
        r.execute_command("OBJECT", "foo")
    with raises(ResponseError, "wrong number of arguments for 'object' command"):
        r.execute_command("OBJECT")
    with raises(ResponseError, "wrong number of arguments for 'object|encoding' command"):
        r.execute_command("OBJECT", "ENCODING")
    with raises(ResponseError, "wrong number of arguments for 'object|refcount' command"):
        r.execute_command("OBJECT", "refcount", "k", "x")
    with raises(ResponseError, "wrong number of arguments for 'object|help' command"):
        r.execute_command("OBJECT", "HELP", "x")
