"""PING, ECHO, TIME, INFO and CONFIG, differentially against real Redis.

INFO values that differ by nature (pid, memory, uptime) are compared by
presence and type; counters and keyspace lines that a test controls are
compared exactly. CONFIG tests restore every parameter they may touch, on
both implementations, so later tests see Redis's defaults.
"""
import os
import re
import tracemalloc

import pytest
from helpers import kind, raises
from redis.exceptions import ResponseError

import minikv

# Redis 7.0's defaults for the parameters minikv knows (aliases included).
DEFAULTS = {
    "maxmemory": "0",
    "maxmemory-policy": "noeviction",
    "maxmemory-samples": "5",
    "hz": "10",
    "notify-keyspace-events": "",
    "hash-max-listpack-entries": "512",
    "hash-max-listpack-value": "64",
    "list-max-listpack-size": "-2",
    "set-max-intset-entries": "512",
    "zset-max-listpack-entries": "128",
    "zset-max-listpack-value": "64",
    "proto-max-bulk-len": "536870912",
    "databases": "16",
    "hash-max-ziplist-entries": "512",
    "hash-max-ziplist-value": "64",
    "list-max-ziplist-size": "-2",
    "zset-max-ziplist-entries": "128",
    "zset-max-ziplist-value": "64",
}
CANONICAL = [name for name in DEFAULTS if "ziplist" not in name and name != "databases"]


@pytest.fixture
def cr(rd):
    """``rd`` whose configuration is put back to the defaults afterwards."""
    yield rd
    pairs = []
    for name in CANONICAL:
        pairs += [name, DEFAULTS[name]]
    rd.config_set(*pairs)


def raw_info(client, *sections):
    """INFO's reply text, before redis-py's parser (which stays off afterwards)."""
    client.set_response_callback("INFO", lambda reply, **options: reply)
    text = client.info(*sections) if sections else client.info()
    return text.decode() if isinstance(text, bytes) else text


# -- PING, ECHO ---------------------------------------------------------------
def test_ping(r):
    assert r.ping() is True
    assert r.execute_command("PING") is True


def test_ping_with_message_replies_the_message(r):
    # redis-py's PING callback compares the reply with "PONG".
    assert r.execute_command("PING", "hello") is False
    assert r.execute_command("PING", "PONG") is True
    r.set_response_callback("PING", lambda reply, **options: reply)
    assert r.execute_command("PING", "hello") == b"hello"
    assert r.execute_command("PING", b"\x00\xff") == b"\x00\xff"
    assert r.execute_command("PING") == b"PONG"


def test_ping_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'ping' command"):
        r.execute_command("PING", "a", "b")


def test_echo(r):
    assert r.echo("hi") == b"hi"
    assert r.echo(b"\x00\xff") == b"\x00\xff"
    assert r.echo("") == b""
    assert r.echo(12) == b"12"
    assert r.echo(1.5) == b"1.5"


def test_echo_decoded(rd):
    assert rd.echo("héllo") == "héllo"


@pytest.mark.parametrize("args", [(), ("a", "b")])
def test_echo_arity(r, args):
    with raises(ResponseError, "wrong number of arguments for 'echo' command"):
        r.execute_command("ECHO", *args)


# -- TIME ---------------------------------------------------------------------
def test_time_shape(r):
    seconds, micros = r.time()
    assert type(seconds) is int and type(micros) is int
    assert seconds > 1_600_000_000
    assert 0 <= micros < 1_000_000
    with raises(ResponseError, "wrong number of arguments for 'time' command"):
        r.execute_command("TIME", "x")


def test_time_raw_reply_is_two_bulk_strings(r):
    r.set_response_callback("TIME", lambda reply, **options: reply)
    seconds, micros = r.time()
    assert seconds.isdigit() and micros.isdigit()


def test_time_follows_the_manual_clock(mr, clock):
    assert mr.time() == (1_700_000_000, 0)
    clock.advance(1.5)
    assert mr.time() == (1_700_000_001, 500_000)
    clock.advance(0.000001)
    assert mr.time() == (1_700_000_001, 500_001)
    clock.set(1_800_000_000.999999)
    assert mr.time() == (1_800_000_000, 999_999)
    assert mr.info("server")["server_time_usec"] == 1_800_000_000_999_999


# -- DBSIZE -------------------------------------------------------------------
def test_dbsize(r):
    assert r.dbsize() == 0
    r.set("a", "1")
    r.set("b", "2", ex=100)
    assert r.dbsize() == 2
    r.execute_command("SELECT", 1)
    assert r.dbsize() == 0
    with raises(ResponseError, "wrong number of arguments for 'dbsize' command"):
        r.execute_command("DBSIZE", "x")


# -- INFO ---------------------------------------------------------------------
FIELD_TYPES = {
    "server": {"redis_version": str, "redis_mode": str, "os": str, "arch_bits": int,
               "process_id": int, "run_id": str, "server_time_usec": int,
               "uptime_in_seconds": int, "uptime_in_days": int, "hz": int,
               "configured_hz": int},
    "memory": {"used_memory": int, "used_memory_human": str, "maxmemory": int,
               "maxmemory_human": str, "maxmemory_policy": str},
    "stats": {"expired_keys": int, "evicted_keys": int, "keyspace_hits": int,
              "keyspace_misses": int},
}


@pytest.mark.parametrize("section", sorted(FIELD_TYPES))
def test_info_section_fields_and_types(r, section):
    info = r.info(section)
    for field, field_type in FIELD_TYPES[section].items():
        assert type(info[field]) is field_type, field
    others = set().union(*(FIELD_TYPES[s] for s in FIELD_TYPES if s != section))
    assert not others & set(info)


@pytest.mark.parametrize("selector", [(), ("default",), ("all",), ("everything",),
                                      ("DEFAULT",), ("server", "memory", "stats")])
def test_info_groups_contain_every_section(r, selector):
    info = r.info(*selector)
    for fields in FIELD_TYPES.values():
        assert set(fields) <= set(info)


def test_info_fixed_values(r):
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["redis_mode"] == "standalone"
    assert info["arch_bits"] == 64
    assert info["maxmemory"] == 0
    assert info["maxmemory_human"] == "0B"
    assert info["maxmemory_policy"] == "noeviction"
    assert info["evicted_keys"] == 0
    assert info["used_memory_human"] == human(info["used_memory"])
    assert re.fullmatch(r"[0-9a-f]{40}", info["run_id"])


def human(n):
    """Redis's bytesToHuman for the sizes a test server reaches."""
    if n < 1024:
        return f"{n}B"
    if n < 1024 ** 2:
        return f"{n / 1024:.2f}K"
    return f"{n / 1024 ** 2:.2f}M"


def test_info_process_id_and_backend(r):
    if kind(r) == "minikv":
        assert r.info("server")["process_id"] == os.getpid()
        assert r.info("server")["minikv_backend"] == minikv.BACKEND
    else:
        assert r.info("server")["process_id"] != os.getpid()


def test_info_unknown_section_is_empty(r):
    assert r.info("nosuch") == {}
    assert r.info("a", "b", "c") == {}
    assert raw_info(r, "nosuch") == ""


def test_info_text_layout(r):
    r.set("k", "v")
    text = raw_info(r)
    assert text.startswith("# Server\r\nredis_version:7.0.15\r\n")
    assert text.endswith("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n")
    blocks = text.split("\r\n\r\n")
    for block in blocks:
        header, *lines = block.rstrip("\r\n").split("\r\n")
        assert re.fullmatch(r"# [A-Z][A-Za-z]*", header)
        for line in lines:
            assert re.fullmatch(r"[A-Za-z0-9_]+:[^\r\n]*", line), line


def test_info_sections_come_in_redis_order(r):
    r.set("k", "v")
    text = raw_info(r, "keyspace", "MEMORY", "server")
    headers = [line for line in text.split("\r\n") if line.startswith("#")]
    assert headers == ["# Server", "# Memory", "# Keyspace"]


def test_info_keyspace_empty(r):
    assert r.info("keyspace") == {}
    assert raw_info(r, "keyspace") == "# Keyspace\r\n"


def test_info_keyspace_lines(r):
    r.set("a", "1")
    r.set("b", "2")
    r.execute_command("SELECT", 5)
    r.set("c", "3", ex=1000)
    r.set("d", "4")
    info = r.info("keyspace")
    assert set(info) == {"db0", "db5"}
    assert info["db0"] == {"keys": 2, "expires": 0, "avg_ttl": 0}
    assert info["db5"]["keys"] == 2 and info["db5"]["expires"] == 1
    # Redis estimates avg_ttl in its expiry cycle: 0 until sampled, then ~1000000.
    assert type(info["db5"]["avg_ttl"]) is int and 0 <= info["db5"]["avg_ttl"] <= 1_000_000
    assert raw_info(r, "keyspace").startswith(
        "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb5:keys=2,expires=1,avg_ttl=")


def test_info_keyspace_decoded(rd):
    rd.set("a", "1")
    assert rd.info("keyspace") == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}}


def test_info_avg_ttl_on_manual_clock(mr, clock):
    mr.set("a", "1", ex=100)
    assert mr.info("keyspace")["db0"] == {"keys": 1, "expires": 1, "avg_ttl": 100_000}
    mr.set("b", "1", px=50_000)
    mr.set("c", "1")
    assert mr.info("keyspace")["db0"] == {"keys": 3, "expires": 2, "avg_ttl": 75_000}
    clock.advance(10)
    assert mr.info("keyspace")["db0"]["avg_ttl"] == 65_000


def test_info_hits_and_misses(r):
    r.config_resetstat()
    r.set("k", "v")
    assert r.get("k") == b"v"
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    stats = r.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (2, 1)
    r.set("n", "not a number")
    with raises(ResponseError, "value is not an integer or out of range"):
        r.incr("n")  # a write lookup counts neither
    stats = r.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (2, 1)


def test_info_expired_keys(r):
    r.config_resetstat()
    r.set("k", "v", pxat=1)  # already in the past: gone at the next look
    assert r.get("k") is None
    stats = r.info("stats")
    assert (stats["expired_keys"], stats["keyspace_misses"]) == (1, 1)


def test_info_expired_keys_on_manual_clock(mr, clock):
    mr.set("a", "1", ex=10)
    mr.set("b", "1", ex=10)
    assert mr.info("stats")["expired_keys"] == 0
    clock.advance(11)
    assert mr.get("a") is None
    assert mr.get("b") is None
    stats = mr.info("stats")
    assert (stats["expired_keys"], stats["keyspace_misses"]) == (2, 2)


def test_config_resetstat(r):
    r.set("k", "v", pxat=1)
    r.get("k")
    r.get("other")
    assert r.config_resetstat() is True
    stats = r.info("stats")
    assert (stats["expired_keys"], stats["keyspace_hits"], stats["keyspace_misses"]) == (0, 0, 0)
    with raises(ResponseError, "wrong number of arguments for 'config|resetstat' command"):
        r.execute_command("CONFIG RESETSTAT", "x")


def test_used_memory_grows_with_data(r):
    before = r.info("memory")["used_memory"]
    for i in range(200):
        r.set(f"key:{i}", "x" * 5000)
    after = r.info("memory")["used_memory"]
    assert after - before > 200 * 5000
    r.flushall()
    assert r.info("memory")["used_memory"] < after - 200 * 5000


def test_used_memory_is_close_to_what_python_allocates():
    r = minikv.Redis()
    before = r.info("memory")["used_memory"]
    tracemalloc.start()
    try:
        for i in range(20_000):
            r.set(f"key:{i}", "v" * (i % 50), ex=1000 if i % 2 else None)
        allocated, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown = r.info("memory")["used_memory"] - before
    assert 0.8 * allocated < grown < 1.2 * allocated


def test_used_memory_counts_hash_fields(r):
    before = r.info("memory")["used_memory"]
    r.hset("h", mapping={f"field:{i}": "y" * 1000 for i in range(300)})
    assert r.info("memory")["used_memory"] - before > 300 * 1000


def test_info_follows_config(cr):
    assert (cr.info("server")["hz"], cr.info("server")["configured_hz"]) == (10, 10)
    cr.config_set("maxmemory", "1mb", "maxmemory-policy", "allkeys-lru", "hz", "25")
    info = cr.info()
    assert (info["maxmemory"], info["maxmemory_human"], info["maxmemory_policy"]) == (
        1048576, "1.00M", "allkeys-lru")
    assert (info["hz"], info["configured_hz"]) == (25, 25)


# -- CONFIG GET ---------------------------------------------------------------
def test_config_get_defaults(rd):
    for name, value in DEFAULTS.items():
        assert rd.config_get(name) == {name: value}


def test_config_get_bytes_client(r):
    assert r.config_get("maxmemory") == {"maxmemory": "0"}


def test_config_get_exact_name_keeps_the_callers_spelling(rd):
    assert rd.config_get("HZ") == {"HZ": "10"}
    assert rd.config_get("HZ", "hz") == {"HZ": "10"}
    assert rd.config_get("hz", "H?") == {"hz": "10"}
    assert rd.config_get("Hash-Max-Ziplist-Value") == {"Hash-Max-Ziplist-Value": "64"}


@pytest.mark.parametrize("patterns, names", [
    (("hash-max-*",), ["hash-max-listpack-entries", "hash-max-listpack-value",
                       "hash-max-ziplist-entries", "hash-max-ziplist-value"]),
    (("*max-*-entries",), ["set-max-intset-entries", "hash-max-listpack-entries",
                           "hash-max-ziplist-entries", "zset-max-listpack-entries",
                           "zset-max-ziplist-entries"]),
    (("LIST-MAX-*",), ["list-max-listpack-size", "list-max-ziplist-size"]),
    (("notify-*", "h[z]"), ["notify-keyspace-events", "hz"]),
    (("proto-max-bulk-le?", "proto-*"), ["proto-max-bulk-len"]),
    (("nosuch",), []),
    (("no-such-*",), []),
])
def test_config_get_patterns(rd, patterns, names):
    assert rd.config_get(*patterns) == {name: DEFAULTS[name] for name in names}


def test_config_get_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'config|get' command"):
        r.execute_command("CONFIG GET")
    with raises(ResponseError, "wrong number of arguments for 'config' command"):
        r.execute_command("CONFIG")
    with raises(ResponseError, "unknown subcommand 'FOO'. Try CONFIG HELP."):
        r.execute_command("CONFIG", "FOO")


# -- CONFIG SET ---------------------------------------------------------------
def failed(name, why):
    return f"CONFIG SET failed (possibly related to argument '{name}') - {why}"


NOT_INT = "argument couldn't be parsed into an integer"
NOT_MEMORY = "argument must be a memory value"
U64_MAX = "18446744073709551615"
BULK_LEN_RANGE = "argument must be between 1048576 and 9223372036854775807 inclusive"

# (name, value to set, value CONFIG GET shows then) — each checked against Redis.
ACCEPTED = [
    ("maxmemory", "100", "100"),
    ("maxmemory", "0100", "100"),
    ("maxmemory", "1gb", "1073741824"),
    ("maxmemory", "1G", "1000000000"),
    ("maxmemory", "1Gb", "1073741824"),
    ("maxmemory", "5b", "5"),
    ("maxmemory", "2k", "2000"),
    ("maxmemory", "2KB", "2048"),
    ("maxmemory", "3m", "3000000"),
    ("maxmemory", "3mb", "3145728"),
    ("maxmemory", "", "0"),
    ("maxmemory", "kb", "0"),
    ("maxmemory", U64_MAX, U64_MAX),
    ("maxmemory", "18446744073709551616", U64_MAX),  # strtoull saturates
    ("maxmemory", "9" * 60, U64_MAX),
    ("maxmemory", "17179869184gb", "0"),  # 2**64 wraps, as in C
    ("maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"),
    ("maxmemory-policy", "volatile-ttl", "volatile-ttl"),
    ("maxmemory-samples", "1048575", "1048575"),
    ("hz", "1000", "500"),
    ("hz", "0", "1"),
    ("hz", "42", "42"),
    ("HZ", "15", "15"),
    ("notify-keyspace-events", "KEA", "AKE"),
    ("notify-keyspace-events", "Kx", "xK"),
    ("notify-keyspace-events", "g$lshzxetd", "A"),
    ("notify-keyspace-events", "AKEn", "AKE"),
    ("notify-keyspace-events", "Km", "Km"),
    ("notify-keyspace-events", "KEAmn", "AKEm"),
    ("notify-keyspace-events", "En$", "$nE"),
    ("hash-max-listpack-entries", "2147483648", "2147483648"),
    ("hash-max-listpack-entries", "0", "0"),
    ("hash-max-listpack-value", "1kb", "1024"),
    ("hash-max-listpack-value", "", "0"),
    ("hash-max-ziplist-value", "100", "100"),
    ("list-max-listpack-size", "-6", "-6"),
    ("list-max-listpack-size", "-2147483648", "-2147483648"),
    ("set-max-intset-entries", "9223372036854775807", "9223372036854775807"),
    ("zset-max-listpack-value", "2k", "2000"),
    ("zset-max-ziplist-entries", "7", "7"),
    ("proto-max-bulk-len", "2mb", "2097152"),
    ("proto-max-bulk-len", "1048576", "1048576"),
]


@pytest.mark.parametrize("name, value, shown", ACCEPTED)
def test_config_set_accepted(cr, name, value, shown):
    assert cr.config_set(name, value) is True
    assert cr.config_get(name.lower()) == {name.lower(): shown}


REJECTED = [
    ("maxmemory", " 100", NOT_MEMORY),
    ("maxmemory", "100 ", NOT_MEMORY),
    ("maxmemory", "-1", NOT_MEMORY),
    ("maxmemory", "1.5", NOT_MEMORY),
    ("maxmemory", "1t", NOT_MEMORY),
    ("maxmemory", "1%", NOT_MEMORY),
    ("maxmemory", "+1", NOT_MEMORY),
    ("maxmemory", "9" * 128, NOT_MEMORY),
    ("maxmemory-policy", "foo", "argument(s) must be one of the following: volatile-lru, "
     "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
     "noeviction"),
    ("maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive"),
    ("maxmemory-samples", "2147483648", "argument must be between 1 and 2147483647 inclusive"),
    ("maxmemory-samples", "1kb", NOT_INT),
    ("maxmemory-samples", "9223372036854775808", NOT_INT),
    ("hz", "-5", "argument must be between 0 and 2147483647 inclusive"),
    ("hz", "1_0", NOT_INT),
    ("hz", " 1", NOT_INT),
    ("hz", "1 ", NOT_INT),
    ("hz", "+1", NOT_INT),
    ("hz", "01", NOT_INT),
    ("hz", "", NOT_INT),
    ("hz", "1.0", NOT_INT),
    ("HZ", "abc", NOT_INT),
    ("notify-keyspace-events", "q", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
    ("hash-max-listpack-entries", "-1",
     "argument must be between 0 and 9223372036854775807 inclusive"),
    ("hash-max-listpack-value", "-1", NOT_MEMORY),
    ("hash-max-listpack-value", "9223372036854775808",
     "argument must be between 0 and 9223372036854775807 inclusive"),
    ("Hash-Max-Ziplist-Value", "x", NOT_MEMORY),
    ("list-max-listpack-size", "-2147483649",
     "argument must be between -2147483648 and 2147483647 inclusive"),
    ("zset-max-listpack-entries", "x", NOT_INT),
    ("proto-max-bulk-len", "1kb", BULK_LEN_RANGE),
    ("proto-max-bulk-len", "1048575", BULK_LEN_RANGE),
    ("proto-max-bulk-len", "x", NOT_MEMORY),
    ("proto-max-bulk-len", U64_MAX, BULK_LEN_RANGE),
]


@pytest.mark.parametrize("name, value, why", REJECTED)
def test_config_set_rejected(cr, name, value, why):
    with raises(ResponseError, failed(name.lower(), why)):
        cr.config_set(name, value)
    assert cr.config_get(name.lower()) == {name.lower(): DEFAULTS[name.lower()]}


@pytest.mark.parametrize("args, message", [
    (("NOSUCH", "1"), "Unknown option or number of arguments for CONFIG SET - 'NOSUCH'"),
    (("hz", "x", "nosuch", "1"), "Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
    (("nosuch", "1", "databases", "3"),
     "Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
    (("databases", "3", "nosuch", "1"), failed("databases", "can't set immutable config")),
    (("DATABASES", "3"), failed("DATABASES", "can't set immutable config")),
    (("hz", "11", "databases", "3"), failed("databases", "can't set immutable config")),
    (("hz", "1", "HZ", "2"), failed("HZ", "duplicate parameter")),
    (("hz", "x", "hz", "1"), failed("hz", "duplicate parameter")),
    (("hz", "1", "hz", "2", "nosuch", "1"), failed("hz", "duplicate parameter")),
    (("maxmemory-policy", "allkeys-lru", "hz", "x"), failed("hz", NOT_INT)),
    (("hz", "20", "maxmemory", "x", "maxmemory-samples", "0"), failed("maxmemory", NOT_MEMORY)),
])
def test_config_set_errors_are_all_or_nothing(cr, args, message):
    with raises(ResponseError, message):
        cr.config_set(*args)
    assert cr.config_get("hz", "maxmemory-policy", "maxmemory") == {
        "hz": "10", "maxmemory-policy": "noeviction", "maxmemory": "0"}


def test_config_set_several(cr):
    assert cr.config_set("hz", "20", "maxmemory", "1mb", "maxmemory-policy", "allkeys-lfu") is True
    assert cr.config_get("hz", "maxmemory", "maxmemory-policy") == {
        "hz": "20", "maxmemory": "1048576", "maxmemory-policy": "allkeys-lfu"}


def test_config_set_name_and_alias_in_one_call_is_not_a_duplicate(cr):
    assert cr.config_set("hash-max-ziplist-value", "1", "hash-max-listpack-value", "2") is True
    assert cr.config_get("hash-max-listpack-value") == {"hash-max-listpack-value": "2"}
    assert cr.config_set("hash-max-listpack-value", "3", "hash-max-ziplist-value", "4") is True
    assert cr.config_get("hash-max-*") == {
        "hash-max-listpack-value": "4", "hash-max-ziplist-value": "4",
        "hash-max-listpack-entries": "512", "hash-max-ziplist-entries": "512"}


def test_config_set_argument_errors(cr):
    with raises(ResponseError, "syntax error"):
        cr.execute_command("CONFIG SET", "hz", "1", "maxmemory")
    with raises(ResponseError, "wrong number of arguments for 'config|set' command"):
        cr.execute_command("CONFIG SET", "hz")
    assert cr.config_get("hz") == {"hz": "10"}


def test_config_set_applies_to_the_store(cr):
    """proto-max-bulk-len is honoured by the string commands."""
    cr.config_set("proto-max-bulk-len", "1mb")
    with raises(ResponseError, "string exceeds maximum allowed size (proto-max-bulk-len)"):
        cr.setrange("k", 1024 * 1024, "x")


def test_connected_clients_counts_live_clients():
    import gc

    import minikv

    first = minikv.Redis()
    assert first.info("clients")["connected_clients"] == 1
    others = [minikv.Redis(store=first.store) for _ in range(3)]
    assert first.info("clients")["connected_clients"] == 4
    del others
    gc.collect()
    assert first.info("clients")["connected_clients"] == 1


def test_store_database_count_shows_in_config():
    import minikv

    r = minikv.Redis(store=minikv.Store(databases=4))
    assert r.config_get("databases") == {"databases": "4"}


def test_time_truncates_to_the_microsecond_in_step_with_ms():
    clock = minikv.ManualClock(start=1_700_000_000.001)
    client = minikv.Redis(clock=clock)
    assert clock.ms() == 1700000000001
    assert client.time() == (1700000000, 1000)
    clock.advance(0.0000009)
    assert client.time() == (1700000000, 1000)
    clock.advance(0.0000001)
    assert client.time() == (1700000000, 1001)
