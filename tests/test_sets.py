"""Set commands, differential: every ``r``/``rd`` test runs on minikv and real Redis.

Set replies have no specified order, and redis-py turns SMEMBERS, SINTER,
SUNION and SDIFF into Python sets anyway; list replies (SPOP/SRANDMEMBER
with a count, SSCAN) are compared as sets, except where Redis does fix the
order: an intset lists its members in ascending numeric order. Random
replies are checked by their properties (sizes, membership, distinctness),
never by identity. The last tests look inside ``values.Set``'s random-pick
pool, which only minikv has.
"""
import collections

import pytest
from helpers import kind, raises, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.exceptions import DataError, ResponseError

import minikv
from minikv.engine.values import Set

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"
MUST_BE_POSITIVE = "value is out of range, must be positive"
LONG_RANGE = ("value is out of range, value must between -9223372036854775807 and "
              "9223372036854775807")


def arity(name):
    return f"wrong number of arguments for '{name}' command"


def encoding(r, key):
    value = r.object("encoding", key)
    return value.decode() if isinstance(value, bytes) else value


def members(*items):
    return {str(item).encode() for item in items}


@pytest.fixture
def intset_limit(r):
    """Set set-max-intset-entries for one test; the real server is shared,
    so the default is put back afterwards."""
    def apply(entries=512):
        r.config_set("set-max-intset-entries", entries)
    yield apply
    apply()


# -- SADD / SREM -------------------------------------------------------------
def test_sadd_counts_new_members_only(r):
    assert r.sadd("s", "a") == 1
    assert r.sadd("s", "a") == 0
    assert r.sadd("s", "a", "b", "c", "b") == 2
    assert r.smembers("s") == {b"a", b"b", b"c"}
    assert r.type("s") == b"set"
    assert r.scard("s") == 3


def test_sadd_encodes_arguments_like_redis_py(r):
    assert r.sadd("s", 1, 2.5, b"\x00\xff", "é") == 4
    assert r.smembers("s") == {b"1", b"2.5", b"\x00\xff", "é".encode()}
    assert r.sismember("s", 1) == 1
    assert r.sismember("s", 2.5) == 1
    with raises(DataError, "Invalid input of type: 'bool'. "
                           "Convert to a bytes, string, int or float first."):
        r.sadd("s", True)
    with raises(DataError, "Invalid input of type: 'NoneType'. "
                           "Convert to a bytes, string, int or float first."):
        r.sadd("s", "x", None)
    assert r.scard("s") == 4


def test_sadd_and_srem_arity(r):
    with raises(ResponseError, arity("sadd")):
        r.sadd("s")
    with raises(ResponseError, arity("srem")):
        r.srem("s")
    with raises(ResponseError, arity("sadd")):
        r.execute_command("SADD")
    assert r.exists("s") == 0


def test_srem_counts_and_deletes_the_emptied_key(r):
    r.sadd("s", "a", "b", "c")
    assert r.srem("s", "a", "a", "missing") == 1
    assert r.srem("s", "zz") == 0
    assert r.srem("nokey", "a") == 0
    assert r.smembers("s") == {b"b", b"c"}
    assert r.srem("s", "b") == 1
    assert r.srem("s", "c", "b") == 1
    assert r.exists("s") == 0
    assert r.keys() == []


def test_empty_member(r):
    assert r.sadd("s", "") == 1
    assert r.sismember("s", "") == 1
    assert r.smembers("s") == {b""}
    assert encoding(r, "s") == "hashtable"
    assert r.srem("s", "") == 1
    assert r.exists("s") == 0


# -- reads -------------------------------------------------------------------
def test_sismember_smismember_scard_smembers(r):
    r.sadd("s", "a", "b", 1)
    assert r.sismember("s", "a") == 1
    assert r.sismember("s", "z") == 0
    assert r.sismember("nokey", "a") == 0
    assert r.smismember("s", ["a", "z", "1", "a"]) == [1, 0, 1, 1]
    assert r.smismember("s", "b", "z") == [1, 0]
    assert r.smismember("nokey", ["a", "b"]) == [0, 0]
    assert r.scard("nokey") == 0
    assert r.smembers("nokey") == set()
    with raises(ResponseError, arity("smismember")):
        r.smismember("s", [])
    with raises(ResponseError, arity("sismember")):
        r.execute_command("SISMEMBER", "s")
    with raises(ResponseError, arity("scard")):
        r.execute_command("SCARD", "s", "t")
    with raises(ResponseError, arity("smembers")):
        r.execute_command("SMEMBERS")


def test_decoded_replies(rd):
    rd.sadd("s", "a", "é")
    rd.sadd("t", "é", "b")
    assert rd.smembers("s") == {"a", "é"}
    assert rd.sinter("s", "t") == {"é"}
    assert rd.sunion(["s", "t"]) == {"a", "b", "é"}
    assert rd.sdiff("s", "t") == {"a"}
    assert rd.srandmember("s", -3)[0] in ("a", "é")
    assert sorted(rd.sscan("s")[1]) == ["a", "é"]
    assert sorted(rd.sscan_iter("s")) == ["a", "é"]
    assert rd.spop("t") in ("é", "b")
    assert rd.smove("s", "t", "é") is True


def test_keyspace_hits_and_misses(r):
    """Reads count hits and misses per key looked up (the STORE forms too);
    SPOP, SMOVE, SADD and SREM don't count."""
    r.sadd("a", "1", "2")
    r.sadd("b", "1")

    def counted(*command):
        before = r.info("stats")
        r.execute_command(*command)
        after = r.info("stats")
        return (after["keyspace_hits"] - before["keyspace_hits"],
                after["keyspace_misses"] - before["keyspace_misses"])

    assert counted("SINTERSTORE", "d", "a", "b", "nokey") == (2, 1)
    assert counted("SUNION", "a", "nokey") == (1, 1)
    assert counted("SDIFFSTORE", "d", "a", "nokey") == (1, 1)
    assert counted("SINTERCARD", "2", "a", "nokey") == (1, 1)
    assert counted("SMEMBERS", "nokey") == (0, 1)
    assert counted("SISMEMBER", "a", "1") == (1, 0)
    assert counted("SMISMEMBER", "nokey", "1") == (0, 1)
    assert counted("SCARD", "a") == (1, 0)
    assert counted("SRANDMEMBER", "nokey", "2") == (0, 1)
    assert counted("SSCAN", "a", "0") == (1, 0)
    assert counted("SMOVE", "a", "b", "2") == (0, 0)
    assert counted("SPOP", "nokey") == (0, 0)
    assert counted("SADD", "c", "1") == (0, 0)
    assert counted("SREM", "c", "1") == (0, 0)


# -- WRONGTYPE ---------------------------------------------------------------
@pytest.mark.parametrize("command", [
    ("SADD", "str", "a"), ("SREM", "str", "a"), ("SISMEMBER", "str", "a"),
    ("SMISMEMBER", "str", "a"), ("SCARD", "str"), ("SMEMBERS", "str"),
    ("SPOP", "str"), ("SPOP", "str", "0"), ("SPOP", "str", "2"),
    ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "0"), ("SRANDMEMBER", "str", "-2"),
    ("SMOVE", "str", "s", "1"), ("SMOVE", "s", "str", "1"), ("SMOVE", "str", "str", "x"),
    ("SMOVE", "s", "str", "absent"),
    ("SINTER", "nokey", "str"), ("SINTER", "str", "nokey"), ("SINTER", "s", "nokey", "str"),
    ("SUNION", "s", "str"), ("SDIFF", "nokey", "str"), ("SDIFF", "s", "str"),
    ("SINTERSTORE", "d", "nokey", "str"), ("SUNIONSTORE", "d", "s", "str"),
    ("SDIFFSTORE", "d", "nokey", "str"), ("SINTERCARD", "2", "nokey", "str"),
    ("SINTERCARD", "1", "str", "LIMIT", "1"),
    ("SSCAN", "str", "0"), ("SSCAN", "str", "0", "BADOPTION"),
])
def test_wrongtype(r, command):
    """Every key is type-checked, even after a missing key that already
    decides SINTER's (empty) result; nothing changes."""
    r.set("str", "string")
    r.sadd("s", "1", "2")
    r.set("d", "dest")
    before = snapshot(r)
    with raises(ResponseError, WRONGTYPE):
        r.execute_command(*command)
    assert snapshot(r) == before


def test_wrongtype_through_the_fast_paths(r):
    r.set("str", "string")
    for call in (lambda: r.sadd("str", "a"), lambda: r.srem("str", "a"),
                 lambda: r.sismember("str", "a")):
        with raises(ResponseError, WRONGTYPE):
            call()
    assert r.get("str") == b"string"


# -- encodings ---------------------------------------------------------------
def test_intset_until_a_non_integer_member_and_never_back(r):
    r.sadd("s", 1, 2, -3)
    assert encoding(r, "s") == "intset"
    r.sadd("s", "a")
    assert encoding(r, "s") == "hashtable"
    r.srem("s", "a")
    assert encoding(r, "s") == "hashtable"
    r.sadd("t", "a", 1)
    assert encoding(r, "t") == "hashtable"


@pytest.mark.parametrize("member, expected", [
    ("0", "intset"), ("-1", "intset"), ("9223372036854775807", "intset"),
    ("-9223372036854775808", "intset"), ("9223372036854775808", "hashtable"),
    ("-9223372036854775809", "hashtable"), ("-0", "hashtable"), ("01", "hashtable"),
    ("+1", "hashtable"), (" 1", "hashtable"), ("1 ", "hashtable"), ("1.0", "hashtable"),
    ("0x10", "hashtable"), ("1e3", "hashtable"),
])
def test_which_members_an_intset_can_hold(r, member, expected):
    r.sadd("s", member)
    assert encoding(r, "s") == expected
    assert r.smembers("s") == {member.encode()}


def test_intset_size_limit(r, intset_limit):
    r.sadd("s", *range(512))
    assert encoding(r, "s") == "intset"
    r.sadd("s", 5)
    assert encoding(r, "s") == "intset"
    r.sadd("s", 512)
    assert encoding(r, "s") == "hashtable"
    r.srem("s", *range(100, 513))
    assert encoding(r, "s") == "hashtable"
    intset_limit(0)
    r.sadd("zero", 1)
    assert encoding(r, "zero") == "hashtable"


def test_lowering_the_limit_converts_at_the_next_new_member(r, intset_limit):
    r.sadd("s", 1, 2)
    intset_limit(1)
    r.sadd("s", 2)
    assert encoding(r, "s") == "intset"
    r.srem("s", 2)
    r.sadd("s", 5)
    assert encoding(r, "s") == "hashtable"


def test_store_forms_build_the_destination_afresh(r, intset_limit):
    """A hashtable set of integers stored again comes out as an intset, and
    the destination's encoding follows the result's size and members."""
    r.sadd("h", "x", 1, 2, 3)
    r.srem("h", "x")
    assert encoding(r, "h") == "hashtable"
    assert r.sunionstore("d1", "h") == 3
    assert r.sinterstore("d2", ["h", "h"]) == 3
    assert r.sdiffstore("d3", "h", "nokey") == 3
    assert [encoding(r, key) for key in ("d1", "d2", "d3")] == ["intset"] * 3
    r.sadd("w", "word", 4)
    assert r.sunionstore("d4", "h", "w") == 5
    assert encoding(r, "d4") == "hashtable"
    intset_limit(2)
    assert r.sunionstore("d5", "h") == 3
    assert encoding(r, "d5") == "hashtable"


def test_smove_creates_the_destination_with_its_member_encoding(r):
    r.sadd("src", 1, "word")
    r.smove("src", "ints", 1)
    r.smove("src", "words", "word")
    assert encoding(r, "ints") == "intset"
    assert encoding(r, "words") == "hashtable"
    r.sadd("src", "x")
    r.smove("src", "ints", "x")
    assert encoding(r, "ints") == "hashtable"


def test_spop_leaving_few_members_reencodes_them(r):
    """SPOP that takes most of a set moves the survivors to a new set: a
    hashtable set of integers becomes an intset again."""
    r.sadd("s", "x", *range(10))
    r.srem("s", "x")
    assert len(r.spop("s", 9)) == 9
    assert r.scard("s") == 1
    assert encoding(r, "s") == "intset"
    r.sadd("big", *range(600))
    assert encoding(r, "big") == "hashtable"
    assert len(r.spop("big", 500)) == 500
    assert encoding(r, "big") == "intset"
    r.sadd("few", "x", *range(10))
    r.srem("few", "x")
    assert len(r.spop("few", 2)) == 2
    assert encoding(r, "few") == "hashtable"


def test_copy_keeps_the_encoding(r):
    r.sadd("h", "x", 1)
    r.srem("h", "x")
    r.copy("h", "c")
    assert encoding(r, "c") == "hashtable"
    assert r.smembers("c") == {b"1"}
    r.sadd("c", 2)
    assert r.smembers("h") == {b"1"}


# -- SPOP --------------------------------------------------------------------
def test_spop_without_count(r):
    assert r.spop("nokey") is None
    r.sadd("s", "a", "b", "c")
    popped = {r.spop("s") for _ in range(3)}
    assert popped == {b"a", b"b", b"c"}
    assert r.exists("s") == 0


def test_spop_with_count(r):
    everything = members(*range(20))
    r.sadd("s", *range(20))
    first = r.spop("s", 3)
    assert len(first) == 3 == len(set(first))
    second = r.spop("s", 15)
    assert len(second) == 15 == len(set(second))
    rest = r.smembers("s")
    assert len(rest) == 2
    assert set(first) | set(second) | rest == everything
    assert r.spop("s", 0) == []
    assert r.scard("s") == 2
    assert set(r.spop("s", 5)) == rest
    assert r.exists("s") == 0
    assert r.spop("nokey", 3) == []
    assert r.spop("nokey", 0) == []


def test_spop_whole_intset_comes_in_numeric_order(r):
    r.sadd("s", 10, -3, 2, 100, 7)
    assert r.spop("s", 5) == [b"-3", b"2", b"7", b"10", b"100"]
    # Redis copies the whole set into a new one first, an intset again here.
    r.sadd("h", "x", 10, -3, 2, 100, 7)
    r.srem("h", "x")
    assert r.spop("h", 9) == [b"-3", b"2", b"7", b"10", b"100"]
    r.sadd("s", 10, -3, 2, 100, 7, 5, 6, 8, 9, 11)
    popped = r.spop("s", 9)
    assert popped == sorted(popped, key=int)
    assert set(popped) | r.smembers("s") == members(10, -3, 2, 100, 7, 5, 6, 8, 9, 11)


def test_spop_keeps_the_ttl(r):
    r.sadd("s", *range(100))
    r.expire("s", 100)
    r.spop("s")
    r.spop("s", 2)
    r.spop("s", 90)
    assert r.scard("s") == 7
    assert 0 < r.pttl("s") <= 100_000


@pytest.mark.parametrize("count", ["-1", "abc", "1.5", "", "9223372036854775808"])
def test_spop_count_errors_come_before_the_key(r, count):
    r.set("str", "v")
    r.sadd("s", 1)
    for key in ("s", "str", "nokey"):
        with raises(ResponseError, MUST_BE_POSITIVE):
            r.execute_command("SPOP", key, count)
    assert r.smembers("s") == {b"1"}


def test_spop_syntax_and_arity(r):
    r.sadd("s", 1, 2)
    with raises(ResponseError, "syntax error"):
        r.execute_command("SPOP", "s", "1", "2")
    with raises(ResponseError, "syntax error"):
        r.execute_command("SPOP", "s", "-1", "x")
    with raises(ResponseError, arity("spop")):
        r.execute_command("SPOP")
    assert r.scard("s") == 2


# -- SRANDMEMBER -------------------------------------------------------------
def test_srandmember_without_count(r):
    assert r.srandmember("nokey") is None
    r.sadd("s", "a", "b", "c")
    seen = {r.srandmember("s") for _ in range(300)}
    assert seen == {b"a", b"b", b"c"}
    assert r.scard("s") == 3


def test_srandmember_positive_count_gives_distinct_members(r):
    everything = {f"m{i}".encode() for i in range(30)}
    r.sadd("s", *everything)
    for count in (1, 5, 9, 10, 11, 20, 29):
        picked = r.srandmember("s", count)
        assert len(picked) == count == len(set(picked))
        assert set(picked) <= everything
    assert set(r.srandmember("s", 30)) == everything
    assert sorted(r.srandmember("s", 9223372036854775807)) == sorted(everything)
    assert r.scard("s") == 30


def test_srandmember_whole_intset_comes_in_numeric_order(r):
    r.sadd("s", 10, -3, 2, 100, 7)
    assert r.srandmember("s", 5) == [b"-3", b"2", b"7", b"10", b"100"]
    assert r.srandmember("s", 50) == [b"-3", b"2", b"7", b"10", b"100"]


def test_srandmember_negative_count_repeats(r):
    r.sadd("one", "only")
    assert r.srandmember("one", -3) == [b"only", b"only", b"only"]
    r.sadd("s", "a", "b")
    picked = r.srandmember("s", -100)
    assert len(picked) == 100 and set(picked) == {b"a", b"b"}


def test_srandmember_is_uniform(r):
    """7 standard deviations of slack: a fair implementation never fails."""
    r.sadd("s", "a", "b", "c")
    counts = collections.Counter(r.srandmember("s", -30000))
    assert all(abs(counts[member] - 10000) < 600 for member in (b"a", b"b", b"c"))
    counts = collections.Counter()
    for _ in range(1500):
        counts.update(r.srandmember("s", 2))
    assert all(abs(counts[member] - 1000) < 130 for member in (b"a", b"b", b"c"))


def test_srandmember_zero_and_missing(r):
    r.sadd("s", "a")
    assert r.srandmember("s", 0) == []
    assert r.srandmember("nokey", 5) == []
    assert r.srandmember("nokey", -5) == []
    assert r.srandmember("nokey", 0) == []


def test_srandmember_count_errors_come_before_the_key(r):
    r.set("str", "v")
    r.sadd("s", 1)
    for key in ("s", "str", "nokey"):
        for bad in ("x", "9223372036854775808", "1.5", ""):
            with raises(ResponseError, NOT_INTEGER):
                r.execute_command("SRANDMEMBER", key, bad)
        with raises(ResponseError, LONG_RANGE):
            r.srandmember(key, -9223372036854775808)
        with raises(ResponseError, "syntax error"):
            r.execute_command("SRANDMEMBER", key, "1", "2")
    with raises(ResponseError, arity("srandmember")):
        r.execute_command("SRANDMEMBER")


# -- SMOVE -------------------------------------------------------------------
def test_smove(r):
    r.sadd("src", "a", "b")
    r.sadd("dst", "b", "c")
    assert r.smove("src", "dst", "a") is True
    assert r.smembers("src") == {b"b"}
    assert r.smembers("dst") == {b"a", b"b", b"c"}
    assert r.smove("src", "dst", "zz") is False
    assert r.smove("src", "dst", "b") is True
    assert r.exists("src") == 0
    assert r.smembers("dst") == {b"a", b"b", b"c"}
    assert r.smove("dst", "new", "c") is True
    assert r.smembers("new") == {b"c"}
    assert r.smove("nokey", "dst", "a") is False


def test_smove_same_source_and_destination(r):
    r.sadd("s", "a")
    assert r.smove("s", "s", "a") is True
    assert r.smove("s", "s", "zz") is False
    assert r.smembers("s") == {b"a"}


def test_smove_type_checks(r):
    r.set("str", "v")
    r.sadd("s", "a")
    # A missing source answers 0 before the destination's type is looked at.
    assert r.smove("nokey", "str", "a") is False
    with raises(ResponseError, WRONGTYPE):
        r.smove("s", "str", "a")
    with raises(ResponseError, WRONGTYPE):
        r.smove("str", "nokey", "a")
    assert r.smembers("s") == {b"a"}
    assert r.exists("nokey") == 0
    with raises(ResponseError, arity("smove")):
        r.execute_command("SMOVE", "s", "t")


def test_smove_keeps_both_ttls(r):
    r.sadd("src", "a", "b")
    r.sadd("dst", "c")
    r.expire("src", 100)
    r.expire("dst", 200)
    r.smove("src", "dst", "a")
    assert 0 < r.ttl("src") <= 100
    assert 100 < r.ttl("dst") <= 200


# -- SINTER / SUNION / SDIFF -------------------------------------------------
@pytest.fixture
def abc(r):
    r.sadd("a", 1, 2, 3, "x")
    r.sadd("b", 2, 3, 4, "x", "y")
    r.sadd("c", 3, "x", "z")
    return r


def test_sinter(abc):
    r = abc
    assert r.sinter("a", "b", "c") == {b"3", b"x"}
    assert r.sinter(["a", "b"]) == {b"2", b"3", b"x"}
    assert r.sinter("a") == members(1, 2, 3, "x")
    assert r.sinter("a", "nokey") == set()
    assert r.sinter("nokey") == set()
    assert r.sinter("a", "a") == members(1, 2, 3, "x")
    with raises(ResponseError, arity("sinter")):
        r.sinter([])


def test_sunion(abc):
    r = abc
    assert r.sunion("a", "b", "c") == members(1, 2, 3, 4, "x", "y", "z")
    assert r.sunion("a", "nokey") == members(1, 2, 3, "x")
    assert r.sunion("nokey", "nokey2") == set()
    with raises(ResponseError, arity("sunion")):
        r.sunion([])


def test_sdiff(abc):
    r = abc
    assert r.sdiff("a", "b") == {b"1"}
    assert r.sdiff("b", "a", "c") == {b"4", b"y"}
    assert r.sdiff("a", "nokey") == members(1, 2, 3, "x")
    assert r.sdiff("nokey", "a") == set()
    assert r.sdiff("a", "a") == set()
    assert r.sdiff("a") == members(1, 2, 3, "x")
    with raises(ResponseError, arity("sdiff")):
        r.sdiff([])


def test_store_forms(abc):
    r = abc
    assert r.sinterstore("d", "a", "b") == 3
    assert r.smembers("d") == {b"2", b"3", b"x"}
    assert r.sunionstore("d", ["a", "c"]) == 5
    assert r.smembers("d") == members(1, 2, 3, "x", "z")
    assert r.sdiffstore("d", "b", "a") == 2
    assert r.smembers("d") == {b"4", b"y"}
    # the destination may be one of the sources
    assert r.sinterstore("a", "a", "c") == 2
    assert r.smembers("a") == {b"3", b"x"}
    for name in ("sinterstore", "sunionstore", "sdiffstore"):
        with raises(ResponseError, arity(name)):
            r.execute_command(name.upper(), "d")


def test_store_forms_overwrite_any_type_and_drop_the_ttl(abc):
    r = abc
    r.set("d", "string", ex=100)
    assert r.sunionstore("d", "a") == 4
    assert r.type("d") == b"set"
    assert r.ttl("d") == -1
    r.hset("h", "f", "v")
    assert r.sinterstore("h", "a", "b") == 3
    assert r.smembers("h") == {b"2", b"3", b"x"}


@pytest.mark.parametrize("command", [
    ("SINTERSTORE", "d", "a", "nokey"), ("SINTERSTORE", "d", "a", "z"),
    ("SUNIONSTORE", "d", "nokey"), ("SDIFFSTORE", "d", "a", "a"),
    ("SDIFFSTORE", "d", "nokey", "a"),
])
def test_empty_result_deletes_the_destination(abc, command):
    r = abc
    r.sadd("z", "nothing in common")
    r.set("d", "string")
    assert r.execute_command(*command) == 0
    assert r.exists("d") == 0
    r.sadd("d", "old")
    assert r.execute_command(*command) == 0
    assert r.exists("d") == 0


# -- SINTERCARD --------------------------------------------------------------
def test_sintercard(abc):
    r = abc
    assert r.sintercard(3, ["a", "b", "c"]) == 2
    assert r.sintercard(2, ["a", "b"]) == 3
    assert r.sintercard(2, ["a", "b"], limit=2) == 2
    assert r.sintercard(2, ["a", "b"], limit=1) == 1
    assert r.sintercard(2, ["a", "b"], limit=10) == 3
    assert r.sintercard(1, ["a"], limit=0) == 4
    assert r.sintercard(2, ["a", "nokey"]) == 0
    assert r.execute_command("SINTERCARD", "2", "a", "b") == 3
    assert r.execute_command("SINTERCARD", "2", "a", "b", "limit", "1", "LIMIT", "0") == 3
    assert r.execute_command("SINTERCARD", "2", "a", "b", "LIMIT", "0", "LIMIT", "2") == 2


@pytest.mark.parametrize("args, message", [
    (("0", "a"), "numkeys should be greater than 0"),
    (("-1", "a"), "numkeys should be greater than 0"),
    (("abc", "a"), "numkeys should be greater than 0"),
    (("9223372036854775808", "a"), "numkeys should be greater than 0"),
    (("3", "a", "b"), "Number of keys can't be greater than number of args"),
    (("2", "a"), "Number of keys can't be greater than number of args"),
    (("1", "a", "LIMIT"), "syntax error"),
    (("1", "a", "LIMITS", "1"), "syntax error"),
    (("1", "a", "b"), "syntax error"),
    (("1", "a", "LIMIT", "-1"), "LIMIT can't be negative"),
    (("1", "a", "LIMIT", "abc"), "LIMIT can't be negative"),
    (("1", "str", "LIMIT", "-1"), "LIMIT can't be negative"),
    (("1", "nokey", "LIMIT", "1", "x"), "syntax error"),
])
def test_sintercard_errors_come_before_the_keys(abc, args, message):
    abc.set("str", "v")
    with raises(ResponseError, message):
        abc.execute_command("SINTERCARD", *args)


def test_sintercard_arity(r):
    with raises(ResponseError, arity("sintercard")):
        r.execute_command("SINTERCARD", "1")


def test_redis_8_commands_are_unknown_to_7_0(r):
    r.sadd("a", 1)
    with raises(ResponseError, "unknown command 'SDIFFCARD', with args beginning with: "
                               "'1' 'a' 'LIMIT' '0' "):
        r.sdiffcard(1, ["a"])
    with raises(ResponseError, "unknown command 'SUNIONCARD', with args beginning with: "
                               "'1' 'a' 'APPROX' 'LIMIT' '5' "):
        r.sunioncard(1, ["a"], limit=5, approx=True)


# -- SSCAN -------------------------------------------------------------------
def test_sscan_intset_returns_everything_in_order_with_cursor_0(r):
    r.sadd("s", 10, -3, 2, 100, 7)
    ordered = [b"-3", b"2", b"7", b"10", b"100"]
    assert r.sscan("s") == (0, ordered)
    assert r.sscan("s", cursor=12345, count=1) == (0, ordered)
    assert r.sscan("s", match="1*") == (0, [b"10", b"100"])
    assert r.sscan("s", match="-*") == (0, [b"-3"])
    assert list(r.sscan_iter("s", count=2)) == ordered


def test_sscan_hashtable_pages_through_everything(r):
    everything = {f"member:{i}".encode() for i in range(300)}
    r.sadd("s", *everything)
    seen = []
    cursor, page = r.sscan("s", 0, count=20)
    seen += page
    pages = 1
    while cursor:
        cursor, page = r.sscan("s", cursor, count=20)
        seen += page
        pages += 1
    assert set(seen) == everything
    assert pages > 5
    assert set(r.sscan_iter("s", match="member:1?")) == {f"member:1{i}".encode()
                                                         for i in range(10)}
    assert set(r.sscan_iter("s", count=1000)) == everything


def test_sscan_small_hashtable_fits_one_page(r):
    r.sadd("s", "a", "b", "")
    cursor, page = r.sscan("s")
    assert cursor == 0
    assert sorted(page) == [b"", b"a", b"b"]
    assert sorted(r.sscan("s", match="*")[1]) == [b"", b"a", b"b"]
    assert r.sscan("s", match="?")[1] in ([b"a", b"b"], [b"b", b"a"])


def test_sscan_returns_every_member_present_throughout(r):
    """Redis's guarantee holds while the set changes between calls."""
    stable = {f"stable:{i}".encode() for i in range(500)}
    r.sadd("s", *stable)
    r.sadd("s", *[f"doomed:{i}" for i in range(200)])
    seen = set()
    cursor, page = r.sscan("s", 0, count=25)
    seen.update(page)
    step = 0
    while cursor:
        r.sadd("s", f"new:{step}")
        r.srem("s", f"doomed:{step}")
        step += 1
        cursor, page = r.sscan("s", cursor, count=25)
        seen.update(page)
    assert stable <= seen
    assert {member for member in seen if member.startswith(b"doomed:")} >= {
        f"doomed:{i}".encode() for i in range(step, 200)}


def test_sscan_option_errors(r):
    r.sadd("s", 1, 2)
    r.sadd("h", "a", "b")
    for key in ("s", "h"):
        with raises(ResponseError, "syntax error"):
            r.sscan(key, count=0)
        with raises(ResponseError, "syntax error"):
            r.execute_command("SSCAN", key, "0", "TYPE", "set")
        with raises(ResponseError, "syntax error"):
            r.execute_command("SSCAN", key, "0", "NOVALUES")
        with raises(ResponseError, "syntax error"):
            r.execute_command("SSCAN", key, "0", "MATCH")
        with raises(ResponseError, NOT_INTEGER):
            r.execute_command("SSCAN", key, "0", "COUNT", "x")
        with raises(ResponseError, "invalid cursor"):
            r.sscan(key, cursor="abc")
    # A missing key answers before the options are read.
    assert r.execute_command("SSCAN", "nokey", "0", "BAD") == (0, [])
    assert r.sscan("nokey") == (0, [])
    with raises(ResponseError, "invalid cursor"):
        r.sscan("nokey", cursor="-x")
    with raises(ResponseError, arity("sscan")):
        r.execute_command("SSCAN", "s")


# -- keyspace state after errors, TTLs ---------------------------------------
def test_errors_leave_the_keyspace_as_it_was(r):
    r.sadd("s", 1, 2, 3)
    r.set("str", "v")
    before = snapshot(r)
    attempts = [
        ("SPOP", "s", "-1"), ("SPOP", "s", "1", "2"), ("SRANDMEMBER", "s", "x"),
        ("SINTERSTORE", "new", "s", "str"), ("SUNIONSTORE", "s", "s", "str"),
        ("SDIFFSTORE", "str", "s", "str"), ("SMOVE", "s", "str", "1"),
        ("SADD", "str", "x"), ("SINTERCARD", "1", "s", "LIMIT", "-1"),
    ]
    for command in attempts:
        with pytest.raises(ResponseError):
            r.execute_command(*command)
    assert snapshot(r) == before
    assert r.smembers("s") == members(1, 2, 3)


def test_set_writes_keep_the_ttl(r):
    r.sadd("s", "a", "b", "c")
    r.expire("s", 100)
    r.sadd("s", "d")
    r.sadd("s", "e", "f")
    r.srem("s", "a")
    r.srem("s", "b", "c")
    r.smove("s", "other", "d")
    assert 0 < r.pttl("s") <= 100_000
    r.srem("s", "e", "f")
    assert r.exists("s") == 0
    r.sadd("s", "a")
    assert r.ttl("s") == -1


def test_set_expires_with_its_key(mr, clock):
    mr.sadd("s", "a")
    mr.expire("s", 10)
    clock.advance(11)
    assert mr.smembers("s") == set()
    assert mr.sismember("s", "a") == 0
    assert mr.sadd("s", "a") == 1
    assert mr.ttl("s") == -1


# -- minikv only: the random-pick pool of values.Set -------------------------
def test_random_picks_are_uniform_over_live_members(r):
    if kind(r) == "redis":
        pytest.skip("looks inside minikv's Set")
    s = Set(f"m{i}".encode() for i in range(10))
    s.random_member()  # builds the pool
    for i in range(4):
        s.discard(f"m{i}".encode())
    s.add(b"m0")
    s.add(b"new")
    live = {b"m0", b"new"} | {f"m{i}".encode() for i in range(4, 10)}
    counts = collections.Counter(s.random_member() for _ in range(40000))
    assert set(counts) == live
    assert all(abs(count - 5000) < 460 for count in counts.values())  # 7 sigma
    s._check()


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(["add", "discard", "pick", "pop", "sample",
                                           "choices"]),
                          st.integers(0, 15)), max_size=80))
def test_set_pool_matches_a_plain_set(operations):
    model = set()
    s = Set()
    for operation, number in operations:
        member = b"%d" % number
        if operation == "add":
            assert s.add(member) == (member not in model)
            model.add(member)
        elif operation == "discard":
            assert s.discard(member) == (member in model)
            model.discard(member)
        elif not model:
            continue
        elif operation == "pick":
            assert s.random_member() in model
        elif operation == "pop":
            popped = s.pop_random()
            assert popped in model
            model.remove(popped)
        elif operation == "sample" and 0 < number < len(model):
            sample = s.random_sample(number)
            assert len(sample) == number == len(set(sample)) and set(sample) <= model
        elif operation == "choices":
            assert set(s.random_choices(number)) <= model
        assert set(s) == model
        s._check()


def test_random_picks_build_the_pool_once():
    """SPOP/SRANDMEMBER without a count are O(1): after the first pick,
    picks, pops and additions reuse the pool instead of copying the set."""
    client = minikv.Redis()
    client.sadd("s", *range(10_000))
    value = client.store.dbs[0].data[b"s"]
    client.srandmember("s")
    pool = value._pool
    removed = 0
    for i in range(2_000):
        client.spop("s")
        client.sadd("s", f"new:{i}")
        client.srandmember("s")
        removed += client.srem("s", f"{i}")
    assert value._pool is pool
    assert client.scard("s") == 10_000 - removed
    value._check()
    client.close()
