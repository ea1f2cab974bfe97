"""Streams without consumer groups, and the CLIENT connection commands.

The ``r``/``rd`` tests run on minikv and on the real redis-server 7.0, so
every literal below is Redis's answer. Entry IDs are given explicitly
there (``*`` reads the clock); the ``mr`` tests cover ``*`` on the manual
clock, and XREAD BLOCK's timeouts without waiting. Blocked calls run in
threads on clients of their own (tests/helpers.py ``Call``), started once
the server shows them blocked (the ``block`` fixture of conftest.py). The
node layout that ``~`` trimming and XINFO depend on is also checked side by
side with the server, over seeded random writes on small nodes.
"""
import random

import pytest
from helpers import Call, blocked_clients, kind, queued_beside_redis_py, raises, wait_blocked
from redis.exceptions import DataError, ResponseError, WatchError

import minikv

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
INVALID_ID = "Invalid stream ID specified as stream command argument"
TOO_SMALL = "The ID specified in XADD is equal or smaller than the target stream top item"
MAX = 18446744073709551615  # the largest ms and seq


def fill(client, key, count, first=1, **fields):
    """XADD ``count`` entries <n>-1 (n from ``first``) with one field."""
    for n in range(first, first + count):
        client.xadd(key, fields or {"f": n}, id=f"{n}-1")


def ids(entries):
    return [entry_id for entry_id, _ in entries]


def info(client, key):
    """XINFO STREAM's counters (not the entries)."""
    reply = client.xinfo_stream(key)
    return {name: value for name, value in reply.items()
            if name not in ("first-entry", "last-entry")}


# -- XADD ----------------------------------------------------------------------------
def test_xadd_explicit_ids_and_the_replies(r):
    assert r.xadd("s", {"f": "v"}, id="1-1") == b"1-1"
    assert r.xadd("s", {"f": "v"}, id="1-*") == b"1-2"
    assert r.xadd("s", {"f": "v"}, id="2-*") == b"2-0"
    assert r.xadd("s", {"f": "v"}, id="3") == b"3-0"
    assert r.xadd("s", {"a": 1, "b": 2.5}, id=f"{MAX}-5") == f"{MAX}-5".encode()
    assert r.xadd("s", {"a": 1}, id=f"{MAX}-*") == f"{MAX}-6".encode()
    assert r.xlen("s") == 6
    assert r.xrange("s", count=3) == [(b"1-1", {b"f": b"v"}), (b"1-2", {b"f": b"v"}),
                                      (b"2-0", {b"f": b"v"})]
    assert r.xrevrange("s", count=2) == [(f"{MAX}-6".encode(), {b"a": b"1"}),
                                         (f"{MAX}-5".encode(), {b"a": b"1", b"b": b"2.5"})]


def test_xadd_reads_ids_as_redis_does(r):
    """string2ull: leading spaces, a sign, leading zeros; a negative seq wraps."""
    for given, made in [(" 5", "5-0"), ("\t7-1", "7-1"), ("8-1\x00junk", "8-1"),
                        ("9-00", "9-0"), ("10--0", "10-0"), (f"13- -{MAX}", "13-1"),
                        ("0000000000000000000000017", "17-0"), (" 20-*", "20-0")]:
        assert r.execute_command("XADD", "s", given, "f", "v") == made.encode(), given
    for bad in ["", "11-", "-1", "12-1-1", "0x10", "15-0x1", "16 ", "19-* ", "*-1", "-", "+",
                f"14- -{MAX + 1}", str(MAX + 1), "1" * 128, "1-" + "0" * 126]:
        with raises(ResponseError, INVALID_ID):
            r.execute_command("XADD", "s", bad, "f", "v")
    assert r.xlen("s") == 8


def test_xadd_id_errors(r):
    with raises(ResponseError, "The ID specified in XADD must be greater than 0-0"):
        r.xadd("s", {"f": "v"}, id="0-0")
    with raises(ResponseError, "The ID specified in XADD must be greater than 0-0"):
        r.xadd("s", {"f": "v"}, id="0")
    assert r.exists("s") == 0
    assert r.xadd("s", {"f": "v"}, id="0-*") == b"0-1"
    r.xadd("s", {"f": "v"}, id="5-5")
    for smaller in ["5-5", "5-4", "5", "4-*"]:
        with raises(ResponseError, TOO_SMALL):
            r.xadd("s", {"f": "v"}, id=smaller)
    r.set("str", "x")
    with raises(ResponseError, WRONGTYPE):
        r.xadd("str", {"f": "v"})
    # The 0-0 check comes before the key's type.
    with raises(ResponseError, "The ID specified in XADD must be greater than 0-0"):
        r.xadd("str", {"f": "v"}, id="0-0")
    assert r.xlen("s") == 2


def test_xadd_at_the_end_of_the_id_space(r):
    r.xadd("t", {"f": "v"}, id=f"{MAX}-{MAX - 1}")
    assert r.xadd("t", {"f": "v"}, id=f"{MAX}-*") == f"{MAX}-{MAX}".encode()
    exhausted = "The stream has exhausted the last possible ID, unable to add more items"
    for given in ["*", f"{MAX}-*", "1-1"]:
        with raises(ResponseError, exhausted):
            r.xadd("t", {"f": "v"}, id=given)
    # A full sequence in an ms below the last: Redis 7.0 fails without
    # setting errno, and reports the size error.
    r.xadd("u", {"f": "v"}, id=f"5-{MAX}")
    with raises(ResponseError, "Elements are too large to be stored"):
        r.xadd("u", {"f": "v"}, id="5-*")
    assert r.xadd("u", {"f": "v"}, id="6-*") == b"6-0"


def test_xadd_syntax_and_option_errors(r):
    arity = "wrong number of arguments for 'xadd' command"
    for argv in [("s", "3-5"), ("s", "3-5", "f"), ("s", "*", "f"), ("s", "nomkstream"),
                 ("s", "maxlen", "~"), ("s", "maxlen", "~", "5"), ("s", "maxlen", "5", "*"),
                 ("s", "*", "f", "v", "g"), ("s", "nomkstream", "maxlen", "5")]:
        with raises(ResponseError, arity):
            r.execute_command("XADD", *argv)
    cases = {
        ("maxlen", "-1"): "The MAXLEN argument must be >= 0.",
        ("maxlen", "x"): "value is not an integer or out of range",
        ("maxlen", "1.5"): "value is not an integer or out of range",
        ("limit", "5"): "syntax error, LIMIT cannot be used without specifying a trimming "
                        "strategy",
        ("limit", "0"): "syntax error, LIMIT cannot be used without the special ~ option",
        ("maxlen", "5", "limit", "5"): "syntax error, LIMIT cannot be used without the "
                                       "special ~ option",
        ("maxlen", "~", "5", "limit", "-1"): "The LIMIT argument must be >= 0.",
        ("maxlen", "5", "minid", "5"): "syntax error, MAXLEN and MINID options at the same "
                                       "time are not compatible",
        ("maxlen", "1", "maxlen", "2"): "syntax error, MAXLEN and MINID options at the same "
                                        "time are not compatible",
        ("minid", "x"): INVALID_ID,
        ("minid", "-"): INVALID_ID,
        ("minid", "~", "+"): INVALID_ID,
    }
    for options, message in cases.items():
        with raises(ResponseError, message):
            r.execute_command("XADD", "s", *options, "1-1", "f", "v")
    assert r.exists("s") == 0


def test_xadd_nomkstream(r):
    assert r.xadd("s", {"f": "v"}, nomkstream=True) is None
    assert r.exists("s") == 0
    r.xadd("s", {"f": "v"}, id="1-1")
    assert r.xadd("s", {"f": "v"}, id="2-1", nomkstream=True) == b"2-1"
    assert r.xlen("s") == 2


def test_xadd_keeps_fields_in_order_with_repeats_and_empty_strings(r):
    r.execute_command("XADD", "s", "1-1", "b", "2", "a", "1", "b", "3")
    r.execute_command("XADD", "s", "1-2", "", "")
    assert r.execute_command("XRANGE", "s", "-", "+") == [(b"1-1", {b"b": b"3", b"a": b"1"}),
                                                          (b"1-2", {b"": b""})]
    assert r.xread({"s": 0})[0][1][0] == (b"1-1", {b"b": b"3", b"a": b"1"})


def test_option_words_are_read_up_to_a_nul_byte(r):
    """Redis compares them with strcasecmp."""
    fill(r, "s", 3)
    assert r.execute_command("XADD", "s", "MaxLen\x00x", "1", "9-1", "f", "v") == b"9-1"
    assert r.xlen("s") == 1
    auto = r.execute_command("XADD", "s", "*\x00x", "f", "v")  # the clock's ID
    assert int(auto.split(b"-")[0]) > 9
    assert r.execute_command("XTRIM", "s", "maxlen", "~\x00", "0") == 2  # whole nodes


def test_xadd_trims_exactly_or_by_whole_nodes(r):
    fill(r, "s", 5)
    assert r.xadd("s", {"f": 6}, id="6-1", maxlen=3, approximate=False) == b"6-1"
    assert ids(r.xrange("s")) == [b"4-1", b"5-1", b"6-1"]
    assert r.xadd("s", {"f": 7}, id="7-1", minid="6", approximate=False) == b"7-1"
    assert ids(r.xrange("s")) == [b"6-1", b"7-1"]
    # MAXLEN ~ only drops whole nodes (100 entries each): within one, nothing.
    for n in range(8, 20):
        r.xadd("s", {"f": n}, id=f"{n}-1", maxlen=10)
    assert r.xlen("s") == 14
    assert r.execute_command("XADD", "s", "MAXLEN", "=", "2", "20-1", "f", "v") == b"20-1"
    assert ids(r.xrange("s")) == [b"19-1", b"20-1"]
    assert r.execute_command("XADD", "s", "MAXLEN", "0", "21-1", "f", "v") == b"21-1"
    assert r.xlen("s") == 0 and r.exists("s") == 1


def test_approximate_trimming_with_more_than_a_node(r):
    fill(r, "s", 250)  # nodes of 100, 100 and 50 entries
    assert r.xtrim("s", maxlen=10) == 200  # the last node would leave fewer than 10
    assert r.xlen("s") == 50
    assert r.xrange("s", count=1) == [(b"201-1", {b"f": b"201"})]
    fill(r, "t", 250)
    assert r.xtrim("t", maxlen=120) == 100
    assert r.xtrim("t", maxlen=149) == 0
    assert r.xtrim("t", maxlen=0, limit=99) == 0  # the first node alone is 100
    assert r.xtrim("t", maxlen=0, limit=100) == 100
    fill(r, "u", 250)
    assert r.xtrim("u", minid="200") == 100  # the second node holds 200-1
    assert r.xtrim("u", minid="200", approximate=False) == 99
    assert r.xrange("u", count=1) == [(b"200-1", {b"f": b"200"})]
    # An exact MINID trim can empty a node without removing it: its last
    # entry, deleted, is not below the threshold.
    assert r.xdel("u", "250-1") == 1
    assert r.xtrim("u", minid="250-1", approximate=False) == 50  # 200-1, then 201-1..249-1
    assert (r.xlen("u"), info(r, "u")["radix-tree-keys"]) == (0, 1)
    assert r.xadd("u", {"f": "v"}, id="251-1") == b"251-1"
    assert info(r, "u")["radix-tree-keys"] == 1


def test_approximate_trimming_limit_defaults_to_100_nodes(r):
    r.config_set("stream-node-max-entries", 2)
    try:
        fill(r, "s", 1000, f="v")
        assert info(r, "s")["radix-tree-keys"] == 500
        assert r.xtrim("s", maxlen=0) == 200  # LIMIT is 100 * 2 entries
        assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0") == 800
    finally:
        r.config_set("stream-node-max-entries", 100)


def test_nodes_close_on_entries_or_bytes(r):
    fill(r, "s", 201)
    assert info(r, "s")["radix-tree-keys"] == 3
    assert info(r, "s")["radix-tree-nodes"] == 8
    # A listpack is closed once its size plus the new entry's reaches
    # stream-node-max-bytes (4096).
    for n in range(1, 11):
        r.xadd("big", {"f": "x" * 1000}, id=f"{n}-1")
    assert info(r, "big")["radix-tree-keys"] == 3  # 4 + 4 + 2
    for n in range(1, 60):
        r.xadd("ints", {"field": n * 1_000_003, "other": -n}, id=f"{n}-{n}")
    for n in range(1, 60):
        r.xadd("mixed", {f"f{n % 3}": "v" * 3 * n}, id=f"{n}-{n}")
    assert info(r, "ints")["radix-tree-keys"] == 1
    assert info(r, "mixed")["radix-tree-keys"] == 2
    r.config_set("stream-node-max-bytes", 60, "stream-node-max-entries", 0)
    try:
        fill(r, "tiny", 12, f="v")
        assert info(r, "tiny")["radix-tree-keys"] == 3
        assert r.xtrim("tiny", maxlen=5) == 4
        assert r.xlen("tiny") == 8
    finally:
        r.config_set("stream-node-max-bytes", 4096, "stream-node-max-entries", 100)


# -- the node layout, against the real server ----------------------------------------------
def _random_command(rng, ids, top):
    """A random stream write or range read on key "s" (IDs near ``top``)."""
    def some_id():
        return rng.choice(ids) if ids and rng.random() < 0.7 else f"{rng.randint(0, top)}-1"

    def trim_options(argv):
        strategy = rng.choice(["MAXLEN", "MINID"])
        mark = rng.choice([None, "~", "="])
        argv += [strategy] + ([mark] if mark else [])
        argv.append(rng.randint(0, 40) if strategy == "MAXLEN" else some_id())
        if mark == "~" and rng.random() < 0.3:
            argv += ["LIMIT", rng.randint(0, 30)]
        return argv

    def value():
        return rng.choice([str(rng.randint(-10 ** 6, 10 ** 6)),
                           str(rng.randint(-2 ** 63, 2 ** 63 - 1)),
                           "x" * rng.choice([0, 1, 63, 64, 200, 4095, 4096]), "007", "-0", "a"])

    roll = rng.random()
    if roll < 0.55:
        argv = ["XADD", "s"]
        if rng.random() < 0.3:
            trim_options(argv)
        argv.append(rng.choice([f"{top}-*", f"{top + 1}-*", f"{top}-{rng.randint(0, 9)}",
                                some_id()]))
        names = rng.choice([["f"], ["f", "g"], None])
        for n in range(rng.choice([1, 1, 2, 3])):
            argv += [names[n % len(names)] if names else value(), value()]
        return argv
    if roll < 0.7:
        return ["XDEL", "s"] + [some_id() for _ in range(rng.randint(1, 4))]
    if roll < 0.85:
        return trim_options(["XTRIM", "s"])
    if roll < 0.9:  # may move the last ID below deleted entries
        return ["XSETID", "s", some_id()]
    argv = [rng.choice(["XRANGE", "XREVRANGE"]), "s", rng.choice(["(", ""]) + some_id(),
            rng.choice(["(", ""]) + some_id()]
    return argv + (["COUNT", rng.randint(1, 5)] if rng.random() < 0.5 else [])


def _outcome(client, argv, **options):
    try:
        return client.execute_command(*argv, **options)
    except ResponseError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("seed", range(8))
def test_random_writes_leave_the_nodes_redis_leaves(real_redis, seed):
    """Random XADD/XDEL/XTRIM/XSETID on small nodes: every reply, and the
    stream's whole XINFO STREAM FULL after each command, as Redis's."""
    rng = random.Random(seed)
    ours = minikv.Redis()
    node_limits = ["stream-node-max-entries", rng.choice([0, 2, 5, 100]),
                   "stream-node-max-bytes", rng.choice([0, 60, 300, 4096])]
    ids, top = [], 1
    try:
        for client in (ours, real_redis):
            client.config_set(*node_limits)
        for step in range(150):
            argv = _random_command(rng, ids, top)
            reply = _outcome(real_redis, argv)
            assert _outcome(ours, argv) == reply, (step, argv)
            if argv[0] == "XADD" and isinstance(reply, bytes):
                ids.append(reply.decode())
                top = int(reply.split(b"-")[0]) + rng.choice([0, 1, 1000])
            state = ["XINFO STREAM", "s", "FULL", "COUNT", "0"]
            assert _outcome(ours, state, full=True) == _outcome(real_redis, state, full=True), \
                (step, argv)
    finally:
        real_redis.config_set("stream-node-max-entries", 100, "stream-node-max-bytes", 4096)
        ours.close()


# -- XRANGE / XREVRANGE -------------------------------------------------------------------
def test_xrange_bounds(r):
    for n in range(1, 6):
        r.xadd("s", {"f": n}, id=f"{n}-{n}")
    r.set("str", "x")

    def xrange(*args):
        return [entry_id for entry_id, _ in r.execute_command("XRANGE", "s", *args) or []]

    assert xrange("-", "+") == [b"1-1", b"2-2", b"3-3", b"4-4", b"5-5"]
    assert xrange("(1-1", "+") == [b"2-2", b"3-3", b"4-4", b"5-5"]
    assert xrange("(1", "+") == [b"1-1", b"2-2", b"3-3", b"4-4", b"5-5"]  # above 1-0
    assert xrange("2", "(4") == [b"2-2", b"3-3", b"4-4"]  # 4 is 4-MAX: below it is 4-(MAX-1)
    assert xrange("3", "3") == [b"3-3"]
    assert xrange("3-3", "3-3") == [b"3-3"]
    assert xrange("(3-3", "(3-3") == []
    assert xrange("3", "2") == []
    assert xrange("-", "(0") == []
    assert xrange("(0-0", f"({MAX}-{MAX}") == [b"1-1", b"2-2", b"3-3", b"4-4", b"5-5"]
    assert xrange("-", "+", "COUNT", "2", "count", "1") == [b"1-1"]
    assert xrange("-", "+", "count", "-1") == []  # a null reply
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert r.execute_command("XREVRANGE", "s", "+", "-", "COUNT", "0") is None
    assert r.execute_command("XRANGE", "nokey", "-", "+", "COUNT", "0") == []
    # "(5" ends below 5-MAX: 5-5 is in.
    assert r.xrevrange("s", "(5", "(1", count=2) == [(b"5-5", {b"f": b"5"}),
                                                     (b"4-4", {b"f": b"4"})]
    assert r.xrevrange("s", "-", "+") == []
    assert r.xrange("nokey") == []


def test_xrange_errors(r):
    fill(r, "s", 2)
    r.set("str", "x")
    cases = [
        (("XRANGE", "s", "(-", "+"), INVALID_ID),
        (("XRANGE", "s", "-", "(+"), INVALID_ID),
        (("XRANGE", "s", "(", "+"), INVALID_ID),
        (("XRANGE", "s", "3-*", "+"), INVALID_ID),
        (("XRANGE", "s", "*", "+"), INVALID_ID),
        (("XRANGE", "nokey", "bad", "+"), INVALID_ID),
        (("XRANGE", "str", "bad", "+"), INVALID_ID),
        (("XRANGE", "s", f"({MAX}-{MAX}", "+"), "invalid start ID for the interval"),
        (("XRANGE", "s", f"({MAX}-{MAX}", "(0-0"), "invalid start ID for the interval"),
        (("XRANGE", "s", "(0-0", "(0-0"), "invalid end ID for the interval"),
        (("XRANGE", "s", "(0-0", "bad"), INVALID_ID),
        (("XREVRANGE", "s", "(0-0", "-"), "invalid end ID for the interval"),
        (("XREVRANGE", "s", "+", f"({MAX}-{MAX}"), "invalid start ID for the interval"),
        (("XRANGE", "s", "-", "+", "count"), "syntax error"),
        (("XRANGE", "s", "-", "+", "limit", "1"), "syntax error"),
        (("XRANGE", "s", "-", "+", "count", "1", "foo"), "syntax error"),
        (("XRANGE", "s", "-", "+", "count", "x"), "value is not an integer or out of range"),
        (("XRANGE", "s", "-", "+", "count", "9223372036854775808"),
         "value is not an integer or out of range"),
        (("XRANGE", "str", "-", "+"), WRONGTYPE),
        (("XRANGE", "str", "-", "+", "count", "0"), WRONGTYPE),
        (("XRANGE", "s", "-"), "wrong number of arguments for 'xrange' command"),
    ]
    for argv, message in cases:
        with raises(ResponseError, message):
            r.execute_command(*argv)


def test_xrange_client_side_checks(r):
    for method in ("xrange", "xrevrange"):
        with raises(DataError, f"{method.upper()} count must be a positive integer"):
            getattr(r, method)("s", count=0)


def test_ranges_across_nodes_and_deletions(r):
    fill(r, "s", 350)
    assert r.xdel("s", *[f"{n}-1" for n in range(90, 211)]) == 121
    assert ids(r.xrange("s", "88", "212")) == [b"88-1", b"89-1", b"211-1", b"212-1"]
    assert ids(r.xrevrange("s", "212", "88", count=3)) == [b"212-1", b"211-1", b"89-1"]
    assert ids(r.xrange("s", "(300-1", count=2)) == [b"301-1", b"302-1"]
    assert ids(r.xrevrange("s", "(101", count=1)) == [b"89-1"]
    assert r.xlen("s") == 229


# -- XLEN / XDEL ----------------------------------------------------------------------
def test_xlen_and_xdel(r):
    fill(r, "s", 5)
    r.set("str", "x")
    assert r.xlen("nokey") == 0
    assert r.xdel("s", "1-1", "9-9", "2", "1-1") == 1  # "2" is 2-0
    assert r.xdel("nokey", "bad") == 0  # the key is looked up first
    with raises(ResponseError, WRONGTYPE):
        r.xdel("str", "bad")
    with raises(ResponseError, WRONGTYPE):
        r.xlen("str")
    for bad in [("bad",), ("3-1", "bad"), ("-",), ("3-*",)]:
        with raises(ResponseError, INVALID_ID):
            r.xdel("s", *bad)
    assert r.xlen("s") == 4  # a bad ID deletes nothing
    assert r.xdel("s", "2-1", "3-1", "4-1", "5-1") == 4
    assert r.xlen("s") == 0 and r.exists("s") == 1 and r.type("s") == b"stream"
    assert r.xrange("s") == []


def test_stream_metadata_after_deletes_and_trims(r):
    fill(r, "s", 5)
    r.xtrim("s", maxlen=2, approximate=False)
    assert info(r, "s") == {
        "length": 2, "radix-tree-keys": 1, "radix-tree-nodes": 2,
        "last-generated-id": b"5-1", "max-deleted-entry-id": b"0-0", "entries-added": 5,
        "recorded-first-entry-id": b"4-1", "groups": 0}
    r.xdel("s", "5-1")
    assert info(r, "s")["max-deleted-entry-id"] == b"5-1"
    assert r.xinfo_stream("s")["last-entry"] == (b"4-1", {b"f": b"4"})
    r.xdel("s", "4-1")
    assert r.xinfo_stream("s") == {
        "length": 0, "radix-tree-keys": 0, "radix-tree-nodes": 1,
        "last-generated-id": b"5-1", "max-deleted-entry-id": b"5-1", "entries-added": 5,
        "recorded-first-entry-id": b"0-0", "groups": 0, "first-entry": None,
        "last-entry": None}


# -- XTRIM ------------------------------------------------------------------------------
def test_xtrim(r):
    fill(r, "s", 5)
    r.set("str", "x")
    assert r.xtrim("s", maxlen=4, approximate=False) == 1
    assert r.xtrim("s", minid="3", approximate=False) == 1
    assert r.execute_command("XTRIM", "s", "MINID", "~", "5", "LIMIT", "0") == 0
    assert r.execute_command("XTRIM", "s", "LIMIT", "1", "MAXLEN", "~", "0") == 0
    assert r.xtrim("nokey", maxlen=1) == 0
    assert ids(r.xrange("s")) == [b"3-1", b"4-1", b"5-1"]
    cases = [
        (("s", "maxlen", "~"), "value is not an integer or out of range"),
        (("s", "limit", "5"), "syntax error, LIMIT cannot be used without specifying a "
                              "trimming strategy"),
        (("s", "limit", "0"), "syntax error, XTRIM must be called with a trimming strategy"),
        (("s", "limit", "0", "limit", "0"), "syntax error, XTRIM must be called with a "
                                            "trimming strategy"),
        (("s", "nomkstream", "maxlen", "1"), "syntax error"),
        (("s", "maxlen", "1", "*"), "syntax error"),
        (("s", "maxlen", "1", "limit", "1"), "syntax error, LIMIT cannot be used without the "
                                             "special ~ option"),
        (("str", "maxlen", "1"), WRONGTYPE),
        (("str", "maxlen", "x"), "value is not an integer or out of range"),
        (("nokey", "minid", "bad"), INVALID_ID),
        (("s", "maxlen"), "wrong number of arguments for 'xtrim' command"),
    ]
    for argv, message in cases:
        with raises(ResponseError, message):
            r.execute_command("XTRIM", *argv)
    with raises(DataError, "One of ``maxlen`` or ``minid`` must be specified"):
        r.xtrim("s")
    with raises(DataError, "Only one of ``maxlen`` or ``minid`` may be specified"):
        r.xtrim("s", maxlen=1, minid="1")


# -- XINFO ---------------------------------------------------------------------------------
def test_xinfo_stream(r):
    fill(r, "s", 250)
    assert r.xinfo_stream("s") == {
        "length": 250, "radix-tree-keys": 3, "radix-tree-nodes": 8,
        "last-generated-id": b"250-1", "max-deleted-entry-id": b"0-0", "entries-added": 250,
        "recorded-first-entry-id": b"1-1", "groups": 0,
        "first-entry": (b"1-1", {b"f": b"1"}), "last-entry": (b"250-1", {b"f": b"250"})}
    full = r.xinfo_stream("s", full=True)
    assert list(full) == ["length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
                          "max-deleted-entry-id", "entries-added", "recorded-first-entry-id",
                          "entries", "groups"]
    assert list(full["entries"]) == [f"{n}-1".encode() for n in range(1, 11)]  # COUNT 10
    assert full["groups"] == []
    reply = r.execute_command("XINFO STREAM", "s", "FULL", "COUNT", "2", full=True)
    assert reply["entries"] == {b"1-1": {b"f": b"1"}, b"2-1": {b"f": b"2"}}
    for count, listed in (("0", 250), ("-1", 10), ("300", 250)):
        reply = r.execute_command("XINFO STREAM", "s", "full", "count", count, full=True)
        assert len(reply["entries"]) == listed


def test_xinfo_errors_and_help(r):
    fill(r, "s", 1)
    r.set("str", "x")
    syntax = "unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."
    cases = [
        (("STREAM", "nokey"), "no such key"),
        (("STREAM", "nokey", "bad"), "no such key"),
        (("STREAM", "str"), WRONGTYPE),
        (("STREAM", "str", "bad"), WRONGTYPE),
        (("STREAM", "s", "bad"), syntax),
        (("STREAM", "s", "full", "bad"), syntax),
        (("STREAM", "s", "full", "count"), syntax),
        (("STREAM", "s", "full", "x", "1"), syntax),
        (("STREAM", "s", "full", "count", "1", "count", "2"), syntax),
        (("STREAM", "s", "full", "count", "x"), "value is not an integer or out of range"),
        (("STREAM",), "wrong number of arguments for 'xinfo|stream' command"),
        (("HELP", "x"), "wrong number of arguments for 'xinfo|help' command"),
        (("FOO",), "unknown subcommand 'FOO'. Try XINFO HELP."),
        ((), "wrong number of arguments for 'xinfo' command"),
    ]
    for argv, message in cases:
        with raises(ResponseError, message):
            r.execute_command("XINFO", *argv)
    assert r.execute_command("XINFO", "HELP") == [
        b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"CONSUMERS <key> <groupname>",
        b"    Show consumers of <groupname>.",
        b"GROUPS <key>",
        b"    Show the stream consumer groups.",
        b"STREAM <key> [FULL [COUNT <count>]",
        b"    Show information about the stream.",
        b"HELP",
        b"    Prints this help."]


# -- XSETID --------------------------------------------------------------------------------
def test_xsetid(r):
    fill(r, "s", 3)
    r.set("str", "x")
    cases = [
        (("nokey", "5-5"), "no such key"),
        (("str", "5-5"), WRONGTYPE),
        (("s", "bad"), INVALID_ID),
        (("s", "-"), INVALID_ID),
        (("s", "5-*"), INVALID_ID),
        (("s", "2-2"), "The ID specified in XSETID is smaller than the target stream top item"),
        (("s", "3"), "The ID specified in XSETID is smaller than the target stream top item"),
        (("s", "9-9", "entriesadded", "2"),
         "The entries_added specified in XSETID is smaller than the target stream length"),
        (("s", "9-9", "entriesadded", "-1"), "entries_added must be positive"),
        (("s", "9-9", "entriesadded", "x"), "value is not an integer or out of range"),
        (("s", "9-9", "maxdeletedid", "10-0"),
         "The ID specified in XSETID is smaller than the provided max_deleted_entry_id"),
        (("nokey", "9-9", "maxdeletedid", "10-0"),
         "The ID specified in XSETID is smaller than the provided max_deleted_entry_id"),
        (("s", "9-9", "maxdeletedid", "bad"), INVALID_ID),
        (("s", "9-9", "foo"), "syntax error"),
        (("s", "9-9", "entriesadded"), "syntax error"),
        (("nokey", "9", "maxdeletedid", "9"), "no such key"),
        (("s",), "wrong number of arguments for 'xsetid' command"),
    ]
    for argv, message in cases:
        with raises(ResponseError, message):
            r.execute_command("XSETID", *argv)
    assert r.execute_command("XSETID", "s", "3-1") == b"OK"
    assert r.execute_command("XSETID", "s", "9-9", "ENTRIESADDED", "3",
                             "MAXDELETEDID", "9-9") == b"OK"
    assert r.execute_command("XSETID", "s", "9-8", "maxdeletedid", "0-0") == b"OK"
    assert info(r, "s") == {
        "length": 3, "radix-tree-keys": 1, "radix-tree-nodes": 2,
        "last-generated-id": b"9-8", "max-deleted-entry-id": b"9-9", "entries-added": 3,
        "recorded-first-entry-id": b"1-1", "groups": 0}
    with raises(ResponseError, TOO_SMALL):
        r.xadd("s", {"f": "v"}, id="9-8")
    assert r.xadd("s", {"f": "v"}, id="9-*") == b"9-9"


def test_xsetid_on_an_empty_stream_accepts_any_id(r):
    fill(r, "s", 2)
    r.xdel("s", "1-1", "2-1")
    assert r.execute_command("XSETID", "s", "0-1", "ENTRIESADDED", "0") == b"OK"
    assert info(r, "s")["last-generated-id"] == b"0-1"
    assert info(r, "s")["max-deleted-entry-id"] == b"2-1"
    assert r.xadd("s", {"f": "v"}, id="0-*") == b"0-2"


def test_ids_below_deleted_entries_after_xsetid(r):
    """XSETID may move the last ID below deleted entries; Redis then keeps
    appending to the same listpack, out of order, and its iterator reads
    the listpack in order."""
    fill(r, "s", 5)
    r.xdel("s", "4-1", "5-1")
    assert r.execute_command("XSETID", "s", "3-1") == b"OK"
    assert r.xadd("s", {"f": "low"}, id="3-*") == b"3-2"
    assert r.xadd("s", {"f": "lower"}, id="4-0") == b"4-0"
    assert ids(r.xrange("s")) == [b"1-1", b"2-1", b"3-1", b"3-2", b"4-0"]
    assert ids(r.xrevrange("s")) == [b"4-0", b"3-2", b"3-1", b"2-1", b"1-1"]
    assert ids(r.xrange("s", "3-2", "4")) == [b"3-2", b"4-0"]
    assert r.xdel("s", "3-2") == 1
    assert r.xread({"s": "3-1"}) == [[b"s", [(b"4-0", {b"f": b"lower"})]]]
    assert r.xtrim("s", minid="4", approximate=False) == 3
    assert info(r, "s") == {
        "length": 1, "radix-tree-keys": 1, "radix-tree-nodes": 2,
        "last-generated-id": b"4-0", "max-deleted-entry-id": b"5-1", "entries-added": 7,
        "recorded-first-entry-id": b"4-0", "groups": 0}


# -- XREAD ------------------------------------------------------------------------------------
def test_xread(r):
    for n in range(1, 6):
        r.xadd("s", {"f": n}, id=f"{n}-{n}")
    r.xadd("t", {"a": "b"}, id="1-0")
    assert r.xread({"s": "3-3", "t": 0}) == [
        [b"s", [(b"4-4", {b"f": b"4"}), (b"5-5", {b"f": b"5"})]],
        [b"t", [(b"1-0", {b"a": b"b"})]]]
    assert r.xread({"s": 0, "t": 0}, count=1) == [[b"s", [(b"1-1", {b"f": b"1"})]],
                                                  [b"t", [(b"1-0", {b"a": b"b"})]]]
    assert r.xread({"s": "$", "t": "$", "nokey": 0}) == []
    assert r.xread({"t": "1"}) == []  # 1-0
    assert r.xread({"t": f"0-{MAX}"}) == [[b"t", [(b"1-0", {b"a": b"b"})]]]
    assert r.xread({"s": f"{MAX}-{MAX}"}) == []
    assert r.execute_command("XREAD", "COUNT", "-5", "STREAMS", "s", "4-4") == [
        [b"s", [(b"5-5", {b"f": b"5"})]]]
    assert r.execute_command("XREAD", "COUNT", "0", "STREAMS", "s", "3-3") == [
        [b"s", [(b"4-4", {b"f": b"4"}), (b"5-5", {b"f": b"5"})]]]
    # A key named twice is read twice: redis-py 8 keeps the last reading.
    # A key named "streams" is a key.
    assert r.execute_command("XREAD", "STREAMS", "s", "s", "3-3", "4-4") == [
        [b"s", [(b"5-5", {b"f": b"5"})]]]
    assert r.execute_command("XREAD", "streams", "t", "streams", "0", "0") == [
        [b"t", [(b"1-0", {b"a": b"b"})]]]
    # Entries are there only if a live one is above the ID.
    r.xdel("s", "5-5")
    assert r.xread({"s": "4-4"}) == []


def test_xread_errors(r):
    fill(r, "s", 2)
    r.set("str", "x")
    cases = [
        (("STREAMS", "s", "t", "0"), "Unbalanced XREAD list of streams: for each stream key "
                                     "an ID or '$' must be specified."),
        (("STREAMS", "str", "0"), WRONGTYPE),
        (("STREAMS", "str", "$"), WRONGTYPE),
        (("STREAMS", "s", "str", "0", "$"), WRONGTYPE),
        (("STREAMS", "s", "str", "bad", "0"), INVALID_ID),  # keys and IDs in turn
        (("STREAMS", "str", "s", "0", "bad"), WRONGTYPE),
        (("STREAMS", "s", ">"), "The > ID can be specified only when calling XREADGROUP "
                                "using the GROUP <group> <consumer> option."),
        (("STREAMS", "s", "-"), INVALID_ID),
        (("STREAMS", "s", "+"), INVALID_ID),
        (("STREAMS", "s", "0-*"), INVALID_ID),
        (("STREAMS", "nokey", "bad"), INVALID_ID),
        (("COUNT", "x", "STREAMS", "s", "0"), "value is not an integer or out of range"),
        (("BLOCK", "x", "STREAMS", "s", "0"), "timeout is not an integer or out of range"),
        (("BLOCK", "1.5", "STREAMS", "s", "0"), "timeout is not an integer or out of range"),
        (("BLOCK", "-1", "STREAMS", "s", "0"), "timeout is negative"),
        (("BLOCK", "-1", "STREAMS", "s", "bad"), "timeout is negative"),
        (("BLOCK", "100", "STREAMS", "s", "bad"), INVALID_ID),
        (("BLOCK", "1", "STREAMS", "str", "0"), WRONGTYPE),
        (("FOO", "STREAMS", "s", "0"), "syntax error"),
        (("COUNT", "1", "s", "0", "1"), "syntax error"),
        (("GROUP", "g", "c", "STREAMS", "s", "0"),
         "The GROUP option is only supported by XREADGROUP. You called XREAD instead."),
        (("NOACK", "STREAMS", "s", "0"),
         "The NOACK option is only supported by XREADGROUP. You called XREAD instead."),
        (("STREAMS", "s"), "wrong number of arguments for 'xread' command"),
    ]
    for argv, message in cases:
        with raises(ResponseError, message):
            r.execute_command("XREAD", *argv)
    with raises(DataError, "XREAD block must be a non-negative integer"):
        r.xread({"s": 0}, block=-1)
    with raises(DataError, "XREAD count must be a positive integer"):
        r.xread({"s": 0}, count=0)
    with raises(DataError, "XREAD streams must be a non empty dict"):
        r.xread({})


def test_xread_looks_every_key_up_twice(r):
    """Redis's XREAD reads each key when parsing its ID and again to serve it."""
    fill(r, "s", 1)
    r.config_resetstat()
    r.xread({"nokey": 0, "s": 0})
    stats = r.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (2, 2)


def test_xread_with_decoded_responses(rd):
    rd.xadd("s", {"f": "v"}, id="1-1")
    assert rd.xread({"s": 0}) == [["s", [("1-1", {"f": "v"})]]]
    assert rd.xrange("s") == [("1-1", {"f": "v"})]
    assert rd.xinfo_stream("s")["first-entry"] == ("1-1", {"f": "v"})


# -- XREAD BLOCK ----------------------------------------------------------------------
def test_xread_block_is_served_by_an_xadd_from_another_client(r, block):
    fill(r, "s", 2)
    waiting = block("xread", {"s": "$"}, block=0)
    other = block("xread", {"nokey": 0, "s": "$"}, count=1, block=0)
    assert r.xadd("s", {"f": "new"}, id="3-1") == b"3-1"
    assert waiting.outcome() == [[b"s", [(b"3-1", {b"f": b"new"})]]]
    assert other.outcome() == [[b"s", [(b"3-1", {b"f": b"new"})]]]
    assert blocked_clients(r) == 0


def test_xread_block_on_a_missing_key_is_served_when_it_is_created(r, block):
    waiting = block("xread", {"k": "$", "s": "0"}, block=0)
    r.xadd("s", {"a": 1}, id="5-5")
    assert waiting.outcome() == [[b"s", [(b"5-5", {b"a": b"1"})]]]


def test_xread_block_is_served_only_with_its_stream(r, block):
    """A served waiter gets the one stream that was written, with up to
    COUNT entries above the ID it waits after."""
    fill(r, "s", 2)
    waiting = block("xread", {"a": "$", "s": "$"}, count=2, block=0)
    pipe = r.pipeline()
    for n in range(3, 6):
        pipe.xadd("s", {"f": n}, id=f"{n}-1")
    pipe.xadd("a", {"f": 1}, id="1-1")
    pipe.execute()
    assert waiting.outcome() == [[b"s", [(b"3-1", {b"f": b"3"}), (b"4-1", {b"f": b"4"})]]]


def test_a_waiter_is_served_even_if_the_new_entries_were_deleted(r, block):
    fill(r, "s", 2)
    waiting = block("xread", {"s": "$"}, block=0)
    pipe = r.pipeline()
    pipe.xadd("s", {"f": "v"}, id="100-1").xdel("s", "100-1")
    assert pipe.execute() == [b"100-1", 1]
    assert waiting.outcome() == [[b"s", []]]


def test_what_does_not_serve_a_stream_waiter(r, block):
    r.xadd("z", {"a": "b"}, id="1-1")
    waiting = block("xread", {"z": "$", "k": "$"}, block=0)
    r.execute_command("XSETID", "z", "50-0")
    r.delete("z")
    r.xadd("z", {"a": "b"}, id="1-0")  # a new stream below the ID waited after
    r.rpush("k", "x")
    assert waiting.is_alive() and blocked_clients(r) == 1
    r.delete("k")
    r.xadd("k", {"a": "b"}, id="5-5")
    assert waiting.outcome() == [[b"k", [(b"5-5", {b"a": b"b"})]]]


def test_a_stream_renamed_onto_the_waited_key_serves_it(r, block):
    waiting = block("xread", {"w": "0"}, block=0)
    r.xadd("src", {"a": "b"}, id="3-3")
    r.rename("src", "w")
    assert waiting.outcome() == [[b"w", [(b"3-3", {b"a": b"b"})]]]


def test_xread_block_inside_a_transaction_answers_at_once(r):
    fill(r, "s", 1)
    pipe = r.pipeline()
    pipe.xread({"s": "$"}, block=0).xread({"s": 0}, block=0)
    assert pipe.execute() == [[], [[b"s", [(b"1-1", {b"f": b"1"})]]]]


def test_xread_block_with_data_answers_at_once(r):
    fill(r, "s", 1)
    assert r.xread({"s": 0}, block=0) == [[b"s", [(b"1-1", {b"f": b"1"})]]]


def test_xread_block_timeout_on_the_manual_clock(mr, clock):
    client = minikv.Redis(store=mr.store)
    call = Call(client.xread, {"s": "$"}, block=5000)
    call.start()
    wait_blocked(mr, 1)
    clock.advance(5)  # exactly at the deadline: still waiting
    assert call.is_alive() and len(mr.store.blocked) == 1
    clock.advance(0.001)
    assert call.outcome() == []
    assert len(mr.store.blocked) == 0


def test_xread_block_zero_waits_past_any_clock_move(mr, clock):
    client = minikv.Redis(store=mr.store)
    call = Call(client.xread, {"s": 0}, block=0)
    call.start()
    wait_blocked(mr, 1)
    clock.advance(10 ** 6)
    assert call.is_alive()
    mr.xadd("s", {"f": "v"}, id="1-1")
    assert call.outcome() == [[b"s", [(b"1-1", {b"f": b"v"})]]]


def test_xread_block_short_timeout_on_the_system_clock(r):
    assert r.xread({"s": "$"}, block=1) == []


# -- auto IDs on the manual clock -----------------------------------------------------------
def test_auto_ids_follow_the_store_clock(mr, clock):
    now = 1_700_000_000_000
    assert mr.xadd("s", {"f": "v"}) == b"%d-0" % now
    assert mr.xadd("s", {"f": "v"}) == b"%d-1" % now
    clock.advance(0.002)
    assert mr.xadd("s", {"f": "v"}) == b"%d-0" % (now + 2)
    assert mr.xadd("s", {"f": "v"}, id=f"{now + 10}-7") == b"%d-7" % (now + 10)
    assert mr.xadd("s", {"f": "v"}) == b"%d-8" % (now + 10)  # the clock is behind
    assert mr.xadd("s", {"f": "v"}, id=f"{now + 10}-*") == b"%d-9" % (now + 10)


# -- transactions, WATCH, scripts -------------------------------------------------------------
def test_rq_style_result_pipeline(r):
    """rq 3 stores a result with XADD ... MAXLEN ~ 10 inside MULTI."""
    pipe = r.pipeline()
    pipe.xadd("rq:results:1", {"type": 1, "worker_name": "w"}, id="1-1", maxlen=10)
    pipe.expire("rq:results:1", 500)
    assert pipe.execute() == [b"1-1", True]
    assert r.xrevrange("rq:results:1", "+", "-", count=1) == [
        (b"1-1", {b"type": b"1", b"worker_name": b"w"})]
    assert r.ttl("rq:results:1") == 500


def test_stream_writes_touch_watched_keys(r):
    fill(r, "s", 3)
    for write in (lambda: r.xadd("s", {"f": "v"}, id="9-1"),
                  lambda: r.xdel("s", "1-1"),
                  lambda: r.xtrim("s", maxlen=1, approximate=False)):
        with r.pipeline() as pipe:
            pipe.watch("s")
            write()
            pipe.multi()
            pipe.xlen("s")
            with pytest.raises(WatchError):
                pipe.execute()
    # Writes that change nothing do not (a refused XADD neither), nor does
    # XSETID in Redis 7.0.
    def refused_xadd():
        with raises(ResponseError, TOO_SMALL):
            r.xadd("s", {"f": "v"}, id="1-1")

    for no_op in (lambda: r.execute_command("XSETID", "s", "99-0"),
                  lambda: r.xdel("s", "1-1"), lambda: r.xtrim("s", maxlen=5),
                  lambda: r.xread({"s": 0}), refused_xadd):
        with r.pipeline() as pipe:
            pipe.watch("s")
            no_op()
            pipe.multi()
            pipe.xlen("s")
            assert pipe.execute() == [1]


def test_stream_commands_in_lua(r):
    script = """
        redis.call('XADD', KEYS[1], '1-1', 'f', 'v')
        return {redis.call('XLEN', KEYS[1]), redis.call('XRANGE', KEYS[1], '-', '+'),
                redis.call('XREAD', 'COUNT', '1', 'STREAMS', KEYS[1], '$')}
    """
    assert r.eval(script, 1, "s") == [1, [[b"1-1", [b"f", b"v"]]], None]
    with pytest.raises(ResponseError, match="^XREAD command is not allowed with BLOCK option "
                                            "from scripts script: "):
        r.eval("return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$')", 0)


# -- the value: TYPE, OBJECT, COPY, RENAME, SCAN ----------------------------------------------
def test_a_stream_is_a_key_like_the_others(r):
    fill(r, "s", 3)
    r.xdel("s", "2-1")
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"
    assert r.copy("s", "c") is True
    r.xadd("s", {"f": "v"}, id="9-1")
    assert ids(r.xrange("c")) == [b"1-1", b"3-1"]
    assert r.xinfo_stream("c") == {
        "length": 2, "radix-tree-keys": 1, "radix-tree-nodes": 2,
        "last-generated-id": b"3-1", "max-deleted-entry-id": b"2-1", "entries-added": 3,
        "recorded-first-entry-id": b"1-1", "groups": 0,
        "first-entry": (b"1-1", {b"f": b"1"}), "last-entry": (b"3-1", {b"f": b"3"})}
    r.rename("c", "d")
    assert r.xlen("d") == 2
    r.set("str", "x")
    assert sorted(r.scan(0, _type="stream")[1]) == [b"d", b"s"]
    assert r.delete("s", "d") == 2
    with raises(ResponseError, WRONGTYPE):
        r.xlen("str")


def test_memory_usage_grows_with_the_stream(r):
    r.xadd("s", {"f": "v"}, id="1-1")
    small = r.memory_usage("s")
    fill(r, "s", 200, first=2, f="x" * 100)
    assert r.memory_usage("s") > small + 200 * 100


def test_keyspace_notifications(r):
    r.config_set("notify-keyspace-events", "KEAn")
    pubsub = r.pubsub()
    pubsub.psubscribe("__keyspace@0__:*")
    pubsub.subscribe("done")
    assert [pubsub.get_message(timeout=5)["type"] for _ in range(2)] == ["psubscribe",
                                                                         "subscribe"]
    try:
        r.xadd("s", {"f": "v"}, id="1-1")
        r.xadd("s", {"f": "v"}, id="2-1", maxlen=1, approximate=False)
        r.xadd("s", {"f": "v"}, id="3-1", maxlen=5, approximate=False)
        r.xadd("nokey", {"f": "v"}, nomkstream=True)
        r.xdel("s", "3-1")
        r.xdel("s", "3-1")
        r.xtrim("s", maxlen=0, approximate=False)
        r.xtrim("s", maxlen=0, approximate=False)
        r.execute_command("XSETID", "s", "10-0")
        r.xadd("s", {"f": "v"}, id="11-1", maxlen=0)
        r.publish("done", "")
        events = []
        while True:
            message = pubsub.get_message(timeout=5)
            if message["channel"] == b"done":
                break
            events.append(message["data"])
    finally:
        pubsub.close()
        r.config_set("notify-keyspace-events", "")
    assert events == [b"new", b"xadd", b"xadd", b"xtrim", b"xadd", b"xdel", b"xtrim",
                      b"xsetid", b"xadd", b"xtrim"]


# -- redis-py's arguments ---------------------------------------------------------------------
STREAM_CALLS = [
    ("xadd", ("s", {"a": 1}), {}),
    ("xadd", ("s", {"a": 1, "b": "x"}), {"id": "1-*", "maxlen": 10}),
    ("xadd", ("s", {"a": 1}), {"maxlen": 0, "approximate": False, "limit": 5}),
    ("xadd", ("s", {"a": 1}), {"minid": "5-0", "nomkstream": True}),
    ("xadd", ("s", {"a": 1}), {"ref_policy": "KEEPREF"}),
    ("xadd", ("s", {"a": 1}), {"idmpauto": "p1"}),
    ("xadd", ("s", {"a": 1}), {"idmp": ("p1", b"i1")}),
    ("xtrim", ("s",), {"maxlen": 5}),
    ("xtrim", ("s",), {"minid": "5", "approximate": False, "limit": 3, "ref_policy": "ACKED"}),
    ("xlen", ("s",), {}),
    ("xdel", ("s", "1-1", "2-2"), {}),
    ("xrange", ("s",), {}),
    ("xrange", ("s", "1", "(5"), {"count": 3}),
    ("xrevrange", ("s",), {"count": 1}),
    ("xread", ({"a": 0, "b": "$"},), {}),
    ("xread", ({"a": "1-1"},), {"count": 2, "block": 100}),
    ("xread", ({"a": "1-1"},), {"count": 2, "max_count": 3, "max_size": 100}),
    ("xinfo_stream", ("s",), {}),
    ("xinfo_stream", ("s",), {"full": True}),
    ("client_setname", ("worker",), {}),
    ("client_getname", (), {}),
    ("client_id", (), {}),
    ("client_info", (), {}),
]


@pytest.mark.parametrize("method, args, kwargs", STREAM_CALLS,
                         ids=[f"{call[0]}-{i}" for i, call in enumerate(STREAM_CALLS)])
def test_stream_methods_send_what_redis_py_sends(method, args, kwargs):
    queued_options, expected_options = queued_beside_redis_py(method, args, kwargs)
    expected_options.pop("keys", None)
    queued_options.pop("keys", None)
    assert queued_options == expected_options


def test_redis_py_client_side_errors(r):
    checks = [
        (dict(fields={}), "XADD fields must be a non-empty dict"),
        (dict(fields={"a": 1}, maxlen=1, minid="1"),
         "Only one of ```maxlen``` or ```minid``` may be specified"),
        (dict(fields={"a": 1}, maxlen=-1), "XADD maxlen must be non-negative integer"),
        (dict(fields={"a": 1}, ref_policy="NO"),
         "XADD ref_policy must be one of: KEEPREF, DELREF, ACKED"),
        (dict(fields={"a": 1}, idmp=("a", "b"), idmpauto="c"),
         "Only one of ```idmpauto``` or ```idmp``` may be specified"),
        (dict(fields={"a": 1}, idmp="x"),
         "XADD idmp must be a tuple of (producer_id, idempotent_id)"),
        (dict(fields={"a": 1}, id="1-1", idmpauto="c"),
         "IDMPAUTO and IDMP can only be used with id='*'"),
    ]
    for kwargs, message in checks:
        with raises(DataError, message):
            r.xadd("s", **kwargs)
    assert r.exists("s") == 0


def test_options_of_later_servers_are_refused_as_redis_7_refuses_them(r):
    with raises(ResponseError, INVALID_ID):
        r.xadd("s", {"a": 1}, ref_policy="KEEPREF")
    with raises(ResponseError, "syntax error"):
        r.xtrim("s", maxlen=1, ref_policy="ACKED")
    with raises(ResponseError, "syntax error"):
        r.xread({"s": 0}, max_count=2)


# -- CLIENT -----------------------------------------------------------------------------------
def test_client_setname_and_getname(r):
    assert r.client_getname() is None
    assert r.client_setname("worker-1") is True
    assert r.client_getname() == "worker-1"
    for bad in ["my name", "a\nb", "é", "\x7f", "tab\tbed"]:
        with raises(ResponseError, "Client names cannot contain spaces, newlines or special "
                                   "characters."):
            r.client_setname(bad)
    assert r.client_getname() == "worker-1"
    assert r.client_setname("~!") is True and r.client_getname() == "~!"
    assert r.client_setname("") is True
    assert r.client_getname() is None


def test_client_command_errors(r):
    cases = [
        (("SETNAME",), "wrong number of arguments for 'client|setname' command"),
        (("GETNAME", "x"), "wrong number of arguments for 'client|getname' command"),
        (("ID", "x"), "wrong number of arguments for 'client|id' command"),
        (("INFO", "x"), "wrong number of arguments for 'client|info' command"),
        (("FOO",), "unknown subcommand 'FOO'. Try CLIENT HELP."),
        ((), "wrong number of arguments for 'client' command"),
    ]
    for argv, message in cases:
        with raises(ResponseError, message):
            r.execute_command("CLIENT", *argv)


def test_client_id_and_info(r, client_factory):
    r.client_setname("me")
    r.select(3)
    try:
        client_info = r.client_info()
        assert list(client_info) == [
            "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
            "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl",
            "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp"]
        assert client_info["id"] == r.client_id()
        assert (client_info["name"], client_info["db"], client_info["cmd"],
                client_info["flags"], client_info["multi"], client_info["user"]) == (
            "me", 3, "client|info", "N", -1, "default")
        other = client_factory(kind(r))
        assert other.client_id() > r.client_id()
        assert other.client_info()["name"] == ""
    finally:
        r.select(0)


def test_client_info_age_on_the_manual_clock(mr, clock):
    clock.advance(90.5)
    assert mr.client_info()["age"] == 90
    assert minikv.Redis(store=mr.store).client_info()["age"] == 0
