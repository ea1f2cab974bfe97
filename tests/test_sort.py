"""SORT and SORT_RO, differential: every test runs on minikv and real Redis.

A note on the referee. Redis 7.0 reads numbers with strtod and checks
``errno == ERANGE`` without clearing errno first, so once a value overflows
or underflows, every later non-integer value fails until something in the
server resets errno (accepting a new connection does). Each test here gets
fresh connections, and every test that makes Redis hit ERANGE does so in
its last SORT.
"""
import os
import random
import threading
import time

import pytest
from helpers import kind, raises
from redis.exceptions import DataError, ResponseError

import minikv

NOT_DOUBLE = "One or more scores can't be converted into double"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "value is not an integer or out of range"
INT64_MAX = 2 ** 63 - 1
INT64_MIN = -2 ** 63


def collates_as_c():
    """True if a redis-server started by this test run collates like the C
    locale (C, POSIX, C.UTF-8): it inherits our environment, and Redis
    takes LC_COLLATE from it (LC_ALL, then LC_COLLATE, then LANG)."""
    for variable in ("LC_ALL", "LC_COLLATE", "LANG"):
        name = os.environ.get(variable)
        if name:
            return name in ("C", "POSIX") or name.startswith("C.")
    return True


def needs_c_collation(r):
    if kind(r) == "redis" and not collates_as_c():
        pytest.skip("the referee redis-server collates with a non-C locale")


# -- the basics ----------------------------------------------------------------
def test_numeric_sort_of_a_list(r):
    r.rpush("l", 3, 10, -1, 2.5, 0)
    assert r.sort("l") == [b"-1", b"0", b"2.5", b"3", b"10"]
    assert r.sort("l", desc=True) == [b"10", b"3", b"2.5", b"0", b"-1"]
    assert r.sort_ro("l") == [b"-1", b"0", b"2.5", b"3", b"10"]
    assert r.lrange("l", 0, -1) == [b"3", b"10", b"-1", b"2.5", b"0"]


def test_alpha_sort(r):
    r.rpush("l", "b", "10", "a", "9", "ab")
    assert r.sort("l", alpha=True) == [b"10", b"9", b"a", b"ab", b"b"]
    assert r.sort("l", alpha=True, desc=True) == [b"b", b"ab", b"a", b"9", b"10"]
    assert r.sort_ro("l", alpha=True, desc=True) == [b"b", b"ab", b"a", b"9", b"10"]


def test_keywords_are_case_insensitive_and_the_last_order_wins(r):
    r.rpush("l", 3, 1, 2)
    assert r.execute_command("SORT", "l", "desc", "asc") == [b"1", b"2", b"3"]
    assert r.execute_command("SORT", "l", "Desc", "alpha", "ALPHA") == [b"3", b"2", b"1"]
    assert r.execute_command("SORT_RO", "l", "dEsC") == [b"3", b"2", b"1"]


def test_equal_scores_order_by_the_elements_bytes(r):
    r.rpush("l", "1.0", "1", "01", "+1", "0.5")
    assert r.sort("l") == [b"0.5", b"+1", b"01", b"1", b"1.0"]
    assert r.sort("l", desc=True) == [b"1.0", b"1", b"01", b"+1", b"0.5"]
    r.rpush("z", "0", "-0.0", "-0")
    assert r.sort("z") == [b"-0", b"-0.0", b"0"]


def test_a_missing_key_sorts_as_empty(r):
    assert r.sort("nothing") == []
    assert r.sort_ro("nothing", by="nosort", get=["#", "x_*"], desc=True, alpha=True,
                     start=0, num=10) == []
    assert r.exists("nothing") == 0


def test_sorting_a_large_list_matches_a_numeric_sort(r):
    rng = random.Random(7)
    numbers = [rng.randint(-10 ** 6, 10 ** 6) for _ in range(1000)]
    numbers += [rng.uniform(-1000, 1000) for _ in range(200)]
    r.rpush("l", *numbers)
    elements = r.lrange("l", 0, -1)
    expected = sorted(elements, key=lambda item: (float(item), item))
    assert r.sort("l") == expected
    assert r.sort("l", desc=True) == expected[::-1]
    assert r.sort("l", start=100, num=50) == expected[100:150]


# -- LIMIT ---------------------------------------------------------------------
@pytest.mark.parametrize("offset, count, expected", [
    (1, 2, [b"2", b"3"]),
    (-1, 2, [b"1", b"2"]),
    (1, -1, [b"2", b"3", b"4", b"5"]),
    (5, 1, []),
    (4, 10, [b"5"]),
    (0, 0, []),
    (1, INT64_MAX, [b"2", b"3", b"4", b"5"]),
    (2, INT64_MAX, [b"3", b"4", b"5"]),
    (INT64_MAX, INT64_MAX, []),
    (INT64_MIN, INT64_MIN, [b"1", b"2", b"3", b"4", b"5"]),
    (1, INT64_MIN, [b"2", b"3", b"4", b"5"]),
])
def test_limit(r, offset, count, expected):
    r.rpush("l", 3, 1, 2, 5, 4)
    assert r.sort("l", start=offset, num=count) == expected
    assert r.sort_ro("l", start=offset, num=count) == expected


def test_the_last_limit_wins(r):
    r.rpush("l", 3, 1, 2)
    assert r.execute_command("SORT", "l", "LIMIT", 0, 1, "LIMIT", 1, 1) == [b"2"]


def test_limit_needs_two_integers(r):
    r.rpush("l", 1)
    with raises(ResponseError, NOT_INTEGER):
        r.sort("l", start="x", num=1)
    with raises(ResponseError, NOT_INTEGER):
        r.sort("l", start=0, num="1.5")
    with raises(ResponseError, NOT_INTEGER):
        r.sort("l", start=1, num=INT64_MAX + 1)
    with raises(ResponseError, "syntax error"):
        r.execute_command("SORT", "l", "LIMIT", 1)


def test_start_and_num_go_together(r):
    with raises(DataError, "``start`` and ``num`` must both be specified"):
        r.sort("l", start=1)
    with raises(DataError, "``start`` and ``num`` must both be specified"):
        r.sort("l", num=1)
    with raises(DataError, "``start`` and ``num`` must both be specified"):
        r.sort_ro("l", num=1)


# -- BY ------------------------------------------------------------------------
@pytest.fixture
def weighted(r):
    """A list a..d with weights (d has none), objects and hashes."""
    r.rpush("l", "a", "b", "c", "d")
    r.mset({"w_a": 3, "w_b": 1, "w_c": "2.5", "o_a": "A", "o_b": "B"})
    r.hset("h_a", mapping={"f": 9, "g": "x"})
    r.hset("h_c", mapping={"f": 1})
    return r


def test_by_weights_missing_weights_count_as_zero(weighted):
    r = weighted
    assert r.sort("l", by="w_*") == [b"d", b"b", b"c", b"a"]
    assert r.sort("l", by="w_*", desc=True) == [b"a", b"c", b"b", b"d"]
    assert r.sort("l", by="w_*", start=0, num=2) == [b"d", b"b"]
    assert r.sort("l", by="w_*", start=1, num=2, desc=True) == [b"c", b"b"]


def test_by_missing_keys_orders_by_element(r):
    r.rpush("l", "b", "10", "9", "a")
    assert r.sort("l", by="missing_*") == [b"10", b"9", b"a", b"b"]
    assert r.sort("l", by="missing_*", desc=True) == [b"b", b"a", b"9", b"10"]


def test_by_hash_field(weighted):
    r = weighted
    assert r.sort("l", by="h_*->f") == [b"b", b"d", b"c", b"a"]
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("l", by="h_*->g")


def test_alpha_by_missing_values_first_and_ties_keep_their_order(weighted):
    r = weighted
    assert r.sort("l", by="h_*->g", alpha=True) == [b"b", b"c", b"d", b"a"]
    assert r.sort("l", by="h_*->g", alpha=True, desc=True) == [b"a", b"b", b"c", b"d"]
    assert r.sort("l", by="w_*", alpha=True) == [b"d", b"b", b"c", b"a"]
    assert r.sort("l", by="o_*", alpha=True) == [b"c", b"d", b"a", b"b"]


def test_by_a_value_of_another_type_counts_as_missing(r):
    r.rpush("l", "a", "b")
    r.rpush("w_a", 5)
    r.set("w_b", 1)
    r.set("h_b", "not a hash")
    assert r.sort("l", by="w_*") == [b"a", b"b"]
    assert r.sort("l", by="h_*->f") == [b"a", b"b"]


def test_by_without_a_star_does_not_sort(r):
    r.rpush("l", "c", "a", "b")
    r.mset({"w_a": 3, "w_b": 1, "w_c": 2})
    assert r.sort("l", by="nosort") == [b"c", b"a", b"b"]
    assert r.sort("l", by="#") == [b"c", b"a", b"b"]
    assert r.sort("l", by="nosort", alpha=True) == [b"c", b"a", b"b"]
    # "Don't sort" sticks: a later BY with a star does not undo it.
    assert r.execute_command("SORT", "l", "BY", "nosort", "BY", "w_*") == [b"c", b"a", b"b"]
    assert r.execute_command("SORT", "l", "BY", "w_*", "BY", "nosort") == [b"c", b"a", b"b"]


def test_unsorted_list_keeps_its_order_and_desc_reverses_it(r):
    r.rpush("l", 3, 1, 2, 5, 4)
    assert r.sort("l", by="nosort", start=1, num=2) == [b"1", b"2"]
    assert r.sort("l", by="nosort", desc=True) == [b"4", b"5", b"2", b"1", b"3"]
    assert r.sort("l", by="nosort", desc=True, start=1, num=2) == [b"5", b"2"]
    assert r.sort("l", by="nosort", start=-5, num=2) == [b"3", b"1"]
    assert r.sort("l", by="nosort", start=3, num=0) == []
    assert r.sort("l", by="nosort", start=7, num=2) == []
    assert r.sort("l", by="nosort", start=2, num=INT64_MAX) == [b"2", b"5", b"4"]


def test_numeric_values_as_strtod_reads_them(r):
    values = [" 5", "\t3", "", "+2", ".5", "0x10", "inf", "-INFINITY", "1e1", "5.",
              "0X1P4", "\x0b7", "-.5e-1", "0x.8", "0x1.p1", "1E-2", "\n\n12.5", "0e-500",
              "0x1p-1074", "2.2250738585072013e-308", "0x0.fffffffffffffp-1022",
              "1.7976931348623158e308"]
    r.rpush("l", *values)
    assert r.sort("l") == [
        b"-INFINITY", b"-.5e-1", b"", b"0e-500", b"0x1p-1074", b"0x0.fffffffffffffp-1022",
        b"2.2250738585072013e-308", b"1E-2", b".5", b"0x.8", b"+2", b"0x1.p1", b"\t3",
        b" 5", b"5.", b"\x0b7", b"1e1", b"\n\n12.5", b"0X1P4", b"0x10",
        b"1.7976931348623158e308", b"inf"]


@pytest.mark.parametrize("value", [
    "5 ", "nan", "-nan", "nan(12)", "1e", "1e+", "0x", "1_0", "infin", "+-1", "  ", "+",
    "-", "abc", "1,5", "0x1g",
])
def test_values_strtod_does_not_read_whole_are_refused(r, value):
    r.rpush("l", "1", value)
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("l")
    r.mset({"w_1": 1, "w_2": value})
    r.rpush("k", 1, 2)
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("k", by="w_*")


@pytest.mark.parametrize("value", [
    "1e400", "-1e309", "1.7976931348623159e308", "1e-310", "4.9e-324", "1e-400",
    "2.2250738585072011e-308", "2.2250738585072012e-308", "0x0.fffffffffffff8p-1022",
    "0x1p-1075", "0x3p-1075", "0x1p99999", "0x1p-99999",
])
def test_values_out_of_double_range_are_refused(r, value):
    # glibc's strtod reports ERANGE on overflow, on underflow to zero and on
    # tiny inexact results (this must be the test's last SORT: see top).
    r.rpush("l", value)
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("l")


def test_a_bad_score_stores_nothing(r):
    r.rpush("l", 1, "x")
    r.rpush("dst", "keep")
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("l", store="dst")
    assert r.lrange("dst", 0, -1) == [b"keep"]
    r.delete("l")
    r.rpush("l", "a")
    r.set("w_a", "bad")
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("l", by="w_*", store="dst")
    assert r.lrange("dst", 0, -1) == [b"keep"]


# -- GET -----------------------------------------------------------------------
def test_get_patterns(weighted):
    r = weighted
    assert r.sort("l", by="w_*", get=["o_*", "#", "h_*->f", "h_*->"]) == [
        None, b"d", None, None,
        b"B", b"b", None, None,
        None, b"c", b"1", None,
        b"A", b"a", b"9", None]
    assert r.sort("l", by="w_*", get="#") == [b"d", b"b", b"c", b"a"]
    assert r.sort("l", alpha=True, get=["#", "nokey"]) == [
        b"a", None, b"b", None, b"c", None, b"d", None]


def test_get_only_for_the_limited_window(weighted):
    r = weighted
    assert r.execute_command("SORT", "l", "GET", "#", "LIMIT", 0, 1, "GET", "w_*",
                             "ALPHA") == [b"a", b"3"]


@pytest.mark.parametrize("pattern, expected", [
    ("*", [None, None, None, b"a-is-a-key"]),
    ("#x", [None, None, None, None]),
    ("w_*->f", [None, None, None, None]),  # w_a is a string, not a hash
    ("h_*", [None, None, None, None]),  # h_a is a hash, not a string
    ("l", [None, None, None, None]),  # no star: never found
    ("h_*->f->g", [None, None, None, None]),  # field "f->g"
    ("->*->f", [None, None, None, None]),
    ("w_**", [b"star", None, None, None]),  # only the first star is replaced
])
def test_get_pattern_forms(weighted, pattern, expected):
    r = weighted
    r.set("w_a*", "star")
    r.set("d", "a-is-a-key")
    assert r.sort("l", alpha=True, get=pattern) == expected


def test_get_with_an_empty_element(r):
    r.rpush("l", "")
    assert r.sort("l", get="w_*") == [None]
    r.set("w_", "empty")
    assert r.sort("l", get=["w_*", "*", "#"]) == [b"empty", None, b""]


def test_get_of_a_string_modified_in_place(r):
    r.rpush("l", "a")
    r.set("v_a", "x")
    r.append("v_a", "yz")
    assert r.sort("l", alpha=True, get="v_*") == [b"xyz"]
    assert r.sort("l", alpha=True, get="v_*", store="dst") == 1
    r.append("v_a", "!")
    assert r.lrange("dst", 0, -1) == [b"xyz"]


def test_patterns_are_c_strings_when_searched(r):
    # A NUL byte ends the pattern for finding "#", "*" and "->", but the key
    # and the field are built from every byte.
    r.rpush("l", "c", "a", "b")
    r.mset({"w_a": 3, "w_b": 1, "w_c": 2})
    assert r.sort("l", by="w_\x00*") == [b"c", b"a", b"b"]
    assert r.sort("l", by="w_*", get="#\x00x") == [b"b", b"c", b"a"]
    assert r.sort("l", by="w_*", get="w_*\x00x") == [None, None, None]
    r.set(b"w_a\x00x", "nul")
    assert r.sort("l", by="w_*", get="w_*\x00x") == [None, None, b"nul"]
    r.hset("h_a", mapping={"f\x00g": "full", "f": "short"})
    assert r.sort("l", by="w_*", get="h_*->f\x00g") == [None, None, b"full"]
    r.set("h_a->\x00g", "key")
    assert r.sort("l", by="w_*", get="h_*->\x00g") == [None, None, b"key"]


def test_groups(weighted):
    r = weighted
    assert r.sort("l", by="w_*", get=["#", "o_*"], groups=True) == [
        (b"d", None), (b"b", b"B"), (b"c", None), (b"a", b"A")]
    assert r.sort("l", by="w_*", get=("#", "o_*", "w_*"), groups=True, start=3, num=1) == [
        (b"a", b"A", b"3")]
    assert r.sort("nothing", get=["#", "o_*"], groups=True) == []


@pytest.mark.parametrize("get", [None, "#", ["#"], []])
def test_groups_needs_two_get_patterns(r, get):
    with raises(DataError, 'when using "groups" the "get" argument must be specified '
                           'and contain at least two keys'):
        r.sort("l", get=get, groups=True)


def test_decoded_replies(rd):
    rd.rpush("l", "b", "a", "c")
    rd.set("o_a", "A")
    assert rd.sort("l", alpha=True) == ["a", "b", "c"]
    assert rd.sort("l", alpha=True, get=["#", "o_*"], groups=True) == [
        ("a", "A"), ("b", None), ("c", None)]
    assert rd.sort("l", alpha=True, store="dst") == 3
    assert rd.lrange("dst", 0, -1) == ["a", "b", "c"]


# -- collation -----------------------------------------------------------------
def test_alpha_collates_bytes_up_to_a_nul(r):
    needs_c_collation(r)
    r.rpush("l", b"\xc3\xa9", b"z", b"\xff", b"a\x00c", b"a\x00b", b"a", b"A", b"\xc3\x83")
    assert r.sort("l", alpha=True) == [
        b"A", b"a\x00c", b"a\x00b", b"a", b"z", b"\xc3\x83", b"\xc3\xa9", b"\xff"]
    # STORE compares every byte.
    assert r.sort("l", alpha=True, store="dst") == 8
    assert r.lrange("dst", 0, -1) == [
        b"A", b"a", b"a\x00b", b"a\x00c", b"z", b"\xc3\x83", b"\xc3\xa9", b"\xff"]


def test_alpha_by_collates_the_by_values(r):
    needs_c_collation(r)
    r.rpush("l", 1, 2, 3)
    r.mset({"w_1": b"a\x00z", "w_2": b"a\x00b", "w_3": b"a"})
    assert r.sort("l", by="w_*", alpha=True) == [b"1", b"2", b"3"]
    assert r.sort("l", by="w_*", alpha=True, store="dst") == 3
    assert r.lrange("dst", 0, -1) == [b"3", b"2", b"1"]


# -- sets and sorted sets ------------------------------------------------------
def test_sort_a_set(r):
    needs_c_collation(r)  # "-2" sorts first only bytewise
    r.sadd("s", 10, 3, 7, -2, 100)
    assert r.sort("s") == [b"-2", b"3", b"7", b"10", b"100"]
    assert r.sort("s", alpha=True) == [b"-2", b"10", b"100", b"3", b"7"]
    assert r.sort("s", by="missing_*") == [b"-2", b"10", b"100", b"3", b"7"]
    assert r.sort("s", by="missing_*", desc=True) == [b"7", b"3", b"100", b"10", b"-2"]
    r.sadd("t", "x", "b", "a")
    assert r.sort("t", alpha=True, desc=True) == [b"x", b"b", b"a"]


def test_unsorted_intset_keeps_ascending_order_and_ignores_desc(r):
    r.sadd("s", 10, 3, 7, -2, 100)
    assert r.object("encoding", "s") == b"intset"
    assert r.sort("s", by="nosort") == [b"-2", b"3", b"7", b"10", b"100"]
    assert r.sort("s", by="nosort", desc=True) == [b"-2", b"3", b"7", b"10", b"100"]
    assert r.sort("s", by="nosort", start=1, num=2) == [b"3", b"7"]
    # Ties under ALPHA BY keep the set's own order.
    assert r.sort("s", by="missing_*", alpha=True) == [b"-2", b"3", b"7", b"10", b"100"]


def test_unsorted_hashtable_set_returns_every_member(r):
    r.sadd("s", "x", "b", "a", "10")
    assert sorted(r.sort("s", by="nosort")) == [b"10", b"a", b"b", b"x"]
    assert len(r.sort("s", by="nosort", start=1, num=2)) == 2


def test_storing_an_unsorted_set_sorts_it_alpha(r):
    r.sadd("s", 10, 3, 7, -2, 100)
    r.mset({"x_3": "three", "w_3": 100})
    assert r.sort("s", by="nosort", store="d") == 5
    assert r.lrange("d", 0, -1) == [b"-2", b"10", b"100", b"3", b"7"]
    assert r.sort("s", by="nosort", desc=True, store="d") == 5
    assert r.lrange("d", 0, -1) == [b"7", b"3", b"100", b"10", b"-2"]
    assert r.sort("s", by="nosort", desc=True, start=1, num=2, store="d") == 2
    assert r.lrange("d", 0, -1) == [b"3", b"100"]
    assert r.sort("s", by="nosort", get=["#", "x_*"], start=3, num=5, store="d") == 4
    assert r.lrange("d", 0, -1) == [b"3", b"three", b"7", b""]
    r.sadd("h", "b", "c", "a")
    assert r.sort("h", by="nosort", store="d") == 3
    assert r.lrange("d", 0, -1) == [b"a", b"b", b"c"]


@pytest.fixture
def ranked(r):
    r.zadd("z", {"x": 3, "y": 1, "z": 2, "10": 5, "9": 4})
    return r


def test_unsorted_zset_keeps_rank_order(ranked):
    r = ranked
    assert r.sort("z", by="nosort") == [b"y", b"z", b"x", b"9", b"10"]
    assert r.sort("z", by="nosort", desc=True) == [b"10", b"9", b"x", b"z", b"y"]
    assert r.sort("z", by="nosort", start=1, num=3) == [b"z", b"x", b"9"]
    assert r.sort("z", by="nosort", desc=True, start=1, num=3) == [b"9", b"x", b"z"]
    assert r.sort("z", by="nosort", start=4, num=INT64_MAX) == [b"10"]
    assert r.sort("z", by="nosort", start=5, num=1) == []
    assert r.sort("z", by="nosort", desc=True, start=1, num=3, store="d") == 3
    assert r.lrange("d", 0, -1) == [b"9", b"x", b"z"]


def test_sort_a_zset(ranked):
    r = ranked
    assert r.sort("z", alpha=True) == [b"10", b"9", b"x", b"y", b"z"]
    with raises(ResponseError, NOT_DOUBLE):
        r.sort("z")
    r.zadd("n", {"3": 0, "1": 1, "2.5": 2})
    assert r.sort("n") == [b"1", b"2.5", b"3"]
    assert r.sort("n", by="missing_*", get=["#", "missing_*"]) == [
        b"1", None, b"2.5", None, b"3", None]


def test_sorting_a_zset_converts_it_to_a_skiplist(ranked):
    r = ranked
    r.zadd("other", {"a": 1})
    assert r.object("encoding", "z") == b"listpack"
    with raises(ResponseError, "syntax error"):
        r.execute_command("SORT_RO", "z", "BOGUS")
    assert r.object("encoding", "z") == b"listpack"
    with raises(ResponseError, NOT_DOUBLE):
        r.sort_ro("z")
    assert r.object("encoding", "z") == b"skiplist"
    r.sort_ro("other", by="nosort")
    assert r.object("encoding", "other") == b"skiplist"


# -- STORE ---------------------------------------------------------------------
def test_store_writes_a_list_and_drops_the_ttl(r):
    r.rpush("l", 3, 1, 2)
    r.set("dst", "x", ex=100)
    assert r.sort("l", store="dst") == 3
    assert r.type("dst") == b"list"
    assert r.ttl("dst") == -1
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3"]
    r.sadd("set", "m")
    assert r.sort("l", desc=True, get=["#", "w_*"], store="set") == 6
    assert r.lrange("set", 0, -1) == [b"3", b"", b"2", b"", b"1", b""]


def test_store_of_an_empty_result_deletes_the_destination(r):
    r.rpush("l", 3, 1, 2)
    r.set("dst", "x", ex=100)
    assert r.sort("nope", store="dst") == 0
    assert r.exists("dst") == 0
    r.rpush("dst", "a")
    assert r.sort("l", start=0, num=0, store="dst") == 0
    assert r.exists("dst") == 0
    assert r.sort("l", start=3, num=1, store="dst") == 0
    assert r.keys() == [b"l"]


def test_store_into_the_source(r):
    r.rpush("l", 3, 1, 2)
    r.expire("l", 100)
    assert r.sort("l", store="l") == 3
    assert r.lrange("l", 0, -1) == [b"1", b"2", b"3"]
    assert r.ttl("l") == -1


# -- errors --------------------------------------------------------------------
def test_wrong_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'sort' command"):
        r.execute_command("SORT")
    with raises(ResponseError, "wrong number of arguments for 'sort_ro' command"):
        r.execute_command("SORT_RO")


@pytest.mark.parametrize("args", [
    ["foo"], ["STORE"], ["BY"], ["GET"], ["LIMIT", 1], ["DESC", "STORE"],
    ["GET", "#", "BY"], ["ASC", "ALPHA", "x"],
])
def test_syntax_errors(r, args):
    r.rpush("l", 1)
    with raises(ResponseError, "syntax error"):
        r.execute_command("SORT", "l", *args)
    with raises(ResponseError, "syntax error"):
        r.execute_command("SORT_RO", "l", *args)


def test_sort_ro_has_no_store(r):
    r.rpush("l", 1)
    with raises(ResponseError, "syntax error"):
        r.execute_command("SORT_RO", "l", "STORE", "dst")
    assert r.exists("dst") == 0


def test_wrong_type(r):
    r.set("s", "str")
    r.hset("h", "a", 1)
    with raises(ResponseError, WRONGTYPE):
        r.sort("s")
    with raises(ResponseError, WRONGTYPE):
        r.sort_ro("h")
    with raises(ResponseError, WRONGTYPE):
        r.sort("h", store="dst", by="nosort")
    assert r.exists("dst") == 0


def test_option_errors_come_before_the_type_check(r):
    r.set("s", "str")
    with raises(ResponseError, "syntax error"):
        r.execute_command("SORT", "s", "foo")
    with raises(ResponseError, NOT_INTEGER):
        r.sort("s", start="x", num=1)


def test_lookups_count_keyspace_hits_and_misses(r):
    r.rpush("l", "a", "b", "c")
    r.mset({"w_a": 1, "w_b": 2})
    r.config_resetstat()
    r.sort("l", by="w_*", get=["#", "w_*", "nostar"], start=0, num=1)
    stats = r.info("stats")
    # source (hit), BY for every element (2 hits, 1 miss), GET w_* for the
    # one element output (miss: "c" sorts first with weight 0).
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (3, 2)


# -- STORE and blocked clients -------------------------------------------------
def blocked_count(client):
    if kind(client) == "minikv":
        with client.store.lock:
            return len(client.store.blocked)
    return client.info("clients")["blocked_clients"]


def wait_until_blocked(client, count=1):
    deadline = time.monotonic() + 10
    while blocked_count(client) < count:
        assert time.monotonic() < deadline, "the other client never blocked"
        time.sleep(0.005)


def blpop_in_thread(client, key, timeout):
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("reply", client.blpop([key], timeout)))
    thread.start()
    return thread, result


def other_client(r, client_factory):
    if kind(r) == "minikv":
        return client_factory("minikv", store=r.store)
    return client_factory("redis")


def test_store_creating_a_list_serves_a_blocked_client(r, client_factory):
    waiter = other_client(r, client_factory)
    r.rpush("l", 3, 1, 2)
    thread, result = blpop_in_thread(waiter, "dst", 0)
    wait_until_blocked(r)
    assert r.sort("l", store="dst") == 3
    thread.join(10)
    assert result == {"reply": (b"dst", b"1")}
    assert r.lrange("dst", 0, -1) == [b"2", b"3"]


def test_store_overwriting_a_key_does_not_serve_blocked_clients(r, client_factory):
    # Redis's setKey signals blocked clients only when it adds a new key.
    waiter = other_client(r, client_factory)
    r.rpush("l", 3, 1, 2)
    thread, result = blpop_in_thread(waiter, "dst", 0.5)
    wait_until_blocked(r)
    r.set("dst", "a string")
    assert r.sort("l", store="dst") == 3
    thread.join(10)
    assert result == {"reply": None}
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3"]


def test_store_overwriting_a_key_on_the_manual_clock(mr, clock):
    waiter = minikv.Redis(store=mr.store)
    mr.rpush("l", 3, 1, 2)
    thread, result = blpop_in_thread(waiter, "dst", 5)
    wait_until_blocked(mr)
    mr.set("dst", "a string")
    assert mr.sort("l", store="dst") == 3
    assert blocked_count(mr) == 1
    clock.advance(6)
    thread.join(10)
    assert result == {"reply": None}
    assert mr.lrange("dst", 0, -1) == [b"1", b"2", b"3"]
    # A push signals the key as usual.
    thread, result = blpop_in_thread(waiter, "dst2", 0)
    wait_until_blocked(mr)
    mr.set("dst2", "x")
    mr.delete("dst2")
    assert mr.sort("l", desc=True, store="dst2") == 3
    thread.join(10)
    assert result == {"reply": (b"dst2", b"3")}
