"""Generic key commands on lists, sets and sorted sets, differential.

TYPE and OBJECT ENCODING (with the encoding conversions Redis makes), COPY,
RENAME, RENAMENX, MOVE, RANDOMKEY, SCAN's TYPE filter, DEL/EXISTS/EXPIRE,
and the rule that Redis never keeps an empty collection. Every test runs on
minikv and on the private real Redis.
"""
import pytest
from helpers import kind

# The defaults the tests below change on the shared real server.
ENCODING_DEFAULTS = {
    "set-max-intset-entries": 512,
    "zset-max-listpack-entries": 128,
    "zset-max-listpack-value": 64,
}


@pytest.fixture
def restore_encoding_config(r):
    yield
    for name, value in ENCODING_DEFAULTS.items():
        r.config_set(name, value)


def other_db(r, client_factory, db):
    """A client of the same kind as ``r`` on database ``db`` (build it before
    writing: for real Redis the factory flushes the server)."""
    if kind(r) == "minikv":
        return client_factory("minikv", db=db, store=r.store)
    return client_factory("redis", db=db)


def make_collections(r):
    r.rpush("list", "a", "b", "c")
    r.sadd("set", 1, 2, 3)
    r.zadd("zset", {"x": 1, "y": 2})


def contents(r, key):
    """The value at ``key`` in a comparable form, whatever its type."""
    type_name = r.type(key)
    if type_name == b"list":
        return type_name, r.lrange(key, 0, -1)
    if type_name == b"set":
        return type_name, sorted(r.smembers(key))
    if type_name == b"zset":
        return type_name, r.zrange(key, 0, -1, withscores=True)
    return type_name, None


# -- TYPE and OBJECT ENCODING ------------------------------------------------------
def test_type_of_collections(r):
    make_collections(r)
    assert [r.type(key) for key in ("list", "set", "zset", "none")] == [
        b"list", b"set", b"zset", b"none"]


def test_list_encoding_is_quicklist(r):
    r.rpush("small", 1)
    r.rpush("large", *range(1000))
    r.rpush("long", "x" * 10000)
    assert [r.object("encoding", key) for key in ("small", "large", "long")] == [
        b"quicklist", b"quicklist", b"quicklist"]


def test_set_of_integers_is_an_intset(r):
    r.sadd("s", 1, -5, 9223372036854775807, -9223372036854775808)
    assert r.object("encoding", "s") == b"intset"


@pytest.mark.parametrize("member", ["a", "01", "-0", " 1", "1.0", "9223372036854775808", ""])
def test_a_non_integer_member_makes_a_hashtable(r, member):
    r.sadd("s", 1, 2)
    r.sadd("s", member)
    assert r.object("encoding", "s") == b"hashtable"
    # Redis never converts back.
    r.srem("s", member)
    assert r.object("encoding", "s") == b"hashtable"
    assert sorted(r.smembers("s")) == [b"1", b"2"]


def test_an_intset_past_the_size_limit_becomes_a_hashtable(r, restore_encoding_config):
    r.config_set("set-max-intset-entries", 3)
    r.sadd("s", 1, 2, 3)
    assert r.object("encoding", "s") == b"intset"
    r.sadd("s", 4)
    assert r.object("encoding", "s") == b"hashtable"
    r.sadd("big", 1, 2, 3, 4)
    assert r.object("encoding", "big") == b"hashtable"


def test_the_default_intset_limit(r):
    r.sadd("s", *range(512))
    assert r.object("encoding", "s") == b"intset"
    r.sadd("s", 512)
    assert r.object("encoding", "s") == b"hashtable"


def test_zset_listpack_to_skiplist_by_member_length(r):
    r.zadd("z", {"a" * 64: 1})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"b" * 65: 2})
    assert r.object("encoding", "z") == b"skiplist"
    r.zrem("z", "b" * 65)
    assert r.object("encoding", "z") == b"skiplist"
    r.zadd("long", {"c" * 65: 1})
    assert r.object("encoding", "long") == b"skiplist"


def test_zset_listpack_to_skiplist_by_size(r):
    r.zadd("z", {str(i): i for i in range(128)})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"one more": 0})
    assert r.object("encoding", "z") == b"skiplist"


def test_zset_encoding_follows_the_configured_limits(r, restore_encoding_config):
    r.config_set("zset-max-listpack-entries", 2)
    r.config_set("zset-max-listpack-value", 3)
    r.zadd("z", {"a": 1, "b": 2})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"c": 3})
    assert r.object("encoding", "z") == b"skiplist"
    r.zadd("w", {"abc": 1})
    assert r.object("encoding", "w") == b"listpack"
    r.zadd("w", {"abcd": 1})
    assert r.object("encoding", "w") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 0)
    r.zadd("zero", {"a": 1})
    assert r.object("encoding", "zero") == b"skiplist"


# -- COPY ----------------------------------------------------------------------
@pytest.mark.parametrize("source, mutate", [
    ("list", lambda r: r.rpush("copy", "d")),
    ("set", lambda r: r.sadd("copy", 4)),
    ("zset", lambda r: r.zadd("copy", {"z": 3})),
])
def test_copy_is_independent(r, source, mutate):
    make_collections(r)
    before = contents(r, source)
    assert r.copy(source, "copy") is True
    assert contents(r, "copy") == before
    mutate(r)
    assert contents(r, source) == before
    assert contents(r, "copy") != before
    assert r.object("encoding", "copy") == r.object("encoding", source)


def test_copy_keeps_the_encoding(r):
    r.sadd("hs", "a", 1)
    r.srem("hs", "a")
    r.zadd("big", {"m" * 100: 1, "a": 1})
    r.zrem("big", "m" * 100)
    r.copy("hs", "hs2")
    r.copy("big", "big2")
    assert r.object("encoding", "hs2") == b"hashtable"
    assert r.object("encoding", "big2") == b"skiplist"


def test_copy_of_collections_keeps_the_ttl(r):
    make_collections(r)
    for key in ("list", "set", "zset"):
        r.expire(key, 100)
        assert r.copy(key, key + "-copy") is True
        assert 99 <= r.ttl(key + "-copy") <= 100


def test_copy_onto_an_existing_key(r):
    make_collections(r)
    assert r.copy("list", "set") is False
    assert r.type("set") == b"set"
    r.expire("set", 100)
    assert r.copy("list", "set", replace=True) is True
    assert r.lrange("set", 0, -1) == [b"a", b"b", b"c"]
    assert r.ttl("set") == -1


def test_copy_to_another_database(r, client_factory):
    db3 = other_db(r, client_factory, 3)
    make_collections(r)
    r.expire("zset", 100)
    assert r.copy("zset", "zset", destination_db=3) is True
    assert r.copy("list", "list", destination_db=3) is True
    db3.zadd("zset", {"w": 0})
    assert db3.zrange("zset", 0, -1, withscores=True) == [(b"w", 0.0), (b"x", 1.0), (b"y", 2.0)]
    assert r.zrange("zset", 0, -1) == [b"x", b"y"]
    assert 99 <= db3.ttl("zset") <= 100
    db3.lpop("list")
    assert r.lrange("list", 0, -1) == [b"a", b"b", b"c"]
    assert r.copy("set", "list", destination_db=3) is False


# -- RENAME / RENAMENX / MOVE ------------------------------------------------------
def test_rename_moves_the_collection_and_its_ttl(r):
    make_collections(r)
    r.expire("set", 100)
    assert r.rename("set", "renamed") is True
    assert r.exists("set") == 0
    assert sorted(r.smembers("renamed")) == [b"1", b"2", b"3"]
    assert 99 <= r.ttl("renamed") <= 100
    r.sadd("renamed", 4)
    assert r.scard("renamed") == 4


def test_rename_over_another_type(r):
    make_collections(r)
    r.expire("list", 100)
    assert r.rename("zset", "list") is True
    assert r.type("list") == b"zset"
    assert r.ttl("list") == -1
    assert sorted(r.keys("*")) == [b"list", b"set"]


def test_renamenx_of_collections(r):
    make_collections(r)
    assert r.renamenx("list", "set") is False
    assert contents(r, "list") == (b"list", [b"a", b"b", b"c"])
    assert r.renamenx("list", "fresh") is True
    assert r.lrange("fresh", 0, -1) == [b"a", b"b", b"c"]
    assert r.exists("list") == 0


def test_move_collections(r, client_factory):
    db5 = other_db(r, client_factory, 5)
    make_collections(r)
    r.expire("zset", 100)
    assert r.move("zset", 5) is True
    assert r.move("list", 5) is True
    assert r.exists("zset", "list") == 0
    assert db5.zrange("zset", 0, -1, withscores=True) == [(b"x", 1.0), (b"y", 2.0)]
    assert 99 <= db5.ttl("zset") <= 100
    db5.sadd("set", "there")
    assert r.move("set", 5) is False
    assert sorted(r.smembers("set")) == [b"1", b"2", b"3"]
    assert db5.smembers("set") == {b"there"}


# -- walking the keyspace ----------------------------------------------------------
def test_randomkey_finds_collections(r):
    r.rpush("only", 1)
    assert r.randomkey() == b"only"
    r.delete("only")
    r.zadd("z", {"a": 1})
    assert r.randomkey() == b"z"
    r.sadd("s", 1)
    assert r.randomkey() in (b"z", b"s")


def test_scan_type_filters(r):
    make_collections(r)
    r.rpush("list2", 1)
    r.set("string", 1)
    r.hset("hash", "f", 1)
    for type_name, expected in [
        ("list", [b"list", b"list2"]), ("set", [b"set"]), ("zset", [b"zset"]),
        ("LIST", [b"list", b"list2"]), ("ZSet", [b"zset"]), ("string", [b"string"]),
        ("hash", [b"hash"]), ("stream", []), ("bogus", []),
    ]:
        assert sorted(r.scan_iter(_type=type_name)) == expected
        assert sorted(r.scan_iter(match="*2", _type=type_name)) == [
            key for key in expected if key.endswith(b"2")]


def test_scan_type_pages(r):
    for i in range(30):
        r.rpush(f"l{i}", i)
        r.sadd(f"s{i}", i)
        r.zadd(f"z{i}", {"m": i})
    keys = set(r.scan_iter(count=7, _type="zset"))
    assert keys == {f"z{i}".encode() for i in range(30)}
    cursor, page = r.scan(0, count=1000, _type="set")
    assert cursor == 0
    assert sorted(page) == sorted(f"s{i}".encode() for i in range(30))


# -- DEL / EXISTS / EXPIRE -------------------------------------------------------
def test_del_and_exists_on_collections(r):
    make_collections(r)
    assert r.exists("list", "set", "zset", "none", "list") == 4
    assert r.delete("list", "zset", "none") == 2
    assert r.exists("list", "set", "zset") == 1
    assert r.keys("*") == [b"set"]
    r.rpush("list", "new")
    assert r.lrange("list", 0, -1) == [b"new"]


def test_expire_on_collections(r):
    make_collections(r)
    assert r.expire("list", 100) is True
    assert r.pexpire("set", 100000) is True
    assert 99 <= r.ttl("list") <= 100
    assert 99 <= r.ttl("set") <= 100
    assert r.persist("set") is True
    assert r.ttl("set") == -1
    assert r.pexpire("zset", -1) is True
    assert r.exists("zset") == 0
    assert r.type("zset") == b"none"


def test_writes_keep_a_collections_ttl(r):
    make_collections(r)
    for key in ("list", "set", "zset"):
        r.expire(key, 100)
    r.rpush("list", "d")
    r.lpop("list")
    r.sadd("set", 9)
    r.srem("set", 1)
    r.zadd("zset", {"z": 3})
    r.zincrby("zset", 1, "x")
    r.zrem("zset", "y")
    for key in ("list", "set", "zset"):
        assert 99 <= r.ttl(key) <= 100


def test_expired_collections_are_gone(mr, clock):
    mr.rpush("list", 1)
    mr.sadd("set", 1)
    mr.zadd("zset", {"a": 1})
    for key in ("list", "set", "zset"):
        mr.expire(key, 10)
    clock.advance(10)
    assert mr.exists("list", "set", "zset") == 3
    clock.advance(0.001)
    assert mr.exists("list", "set", "zset") == 0
    assert mr.llen("list") == 0
    assert mr.scard("set") == 0
    assert mr.zcard("zset") == 0
    assert mr.keys("*") == []


# -- empty collections vanish --------------------------------------------------------
# A one-element collection of each type: "a" in "list", "m" in "set" and "zset".
CREATE_ONE = {
    "list": lambda r: r.rpush("list", "a"),
    "set": lambda r: r.sadd("set", "m"),
    "zset": lambda r: r.zadd("zset", {"m": 1}),
}


@pytest.mark.parametrize("key, emptying", [
    ("list", lambda r: r.lpop("list")),
    ("list", lambda r: r.rpop("list")),
    ("list", lambda r: r.lpop("list", 5)),
    ("list", lambda r: r.ltrim("list", 1, 0)),
    ("list", lambda r: r.ltrim("list", 5, -1)),
    ("list", lambda r: r.lrem("list", 0, "a")),
    ("list", lambda r: r.lmove("list", "elsewhere")),
    ("list", lambda r: r.rpoplpush("list", "elsewhere")),
    ("list", lambda r: r.lmpop(1, "list", direction="LEFT", count=3)),
    ("set", lambda r: r.srem("set", "m")),
    ("set", lambda r: r.spop("set")),
    ("set", lambda r: r.spop("set", 10)),
    ("set", lambda r: r.smove("set", "elsewhere", "m")),
    ("set", lambda r: r.sinterstore("set", ["set", "nothing"])),
    ("set", lambda r: r.sdiffstore("set", ["set", "set"])),
    ("zset", lambda r: r.zrem("zset", "m")),
    ("zset", lambda r: r.zpopmin("zset")),
    ("zset", lambda r: r.zpopmax("zset", 5)),
    ("zset", lambda r: r.zremrangebyrank("zset", 0, -1)),
    ("zset", lambda r: r.zremrangebyscore("zset", "-inf", "+inf")),
    ("zset", lambda r: r.zremrangebylex("zset", "-", "+")),
    ("zset", lambda r: r.zmpop(1, ["zset"], min=True, count=2)),
    ("zset", lambda r: r.zinterstore("zset", ["zset", "nothing"])),
])
def test_empty_collections_vanish(r, key, emptying):
    CREATE_ONE[key](r)
    r.expire(key, 100)
    emptying(r)
    assert r.exists(key) == 0
    assert r.type(key) == b"none"
    assert key.encode() not in r.keys("*")
    # A new value under the name starts afresh: no TTL left over.
    r.rpush(key, "new")
    assert r.ttl(key) == -1


def test_sort_store_of_nothing_vanishes_too(r):
    r.rpush("dst", "x")
    assert r.sort("missing", store="dst") == 0
    assert r.exists("dst") == 0
