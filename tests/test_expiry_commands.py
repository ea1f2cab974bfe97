"""Expiry as the key commands see it, on a manual clock (minikv only, no sleeping).

The clock starts at 1_700_000_000 s and moves only by ``clock.advance``. A
key expires once the clock is *past* its expiry time: at exactly that
millisecond it is still alive with a PTTL of 0. The active-expiry thread
may remove a key before a command looks at it; either way no command may
ever show an expired key, which is what these tests pin down.
"""
import pytest
from helpers import raises
from redis.exceptions import ResponseError

import minikv

START_MS = 1_700_000_000_000


@pytest.fixture
def db1(mr):
    """A second client on database 1 of the same store."""
    client = minikv.Redis(store=mr.store, db=1)
    yield client
    client.close()


# -- lazy expiry ----------------------------------------------------------------
def test_key_lives_until_the_clock_passes_its_expiry(mr, clock):
    mr.set("k", "v")
    mr.pexpire("k", 1000)
    clock.advance(1.0)
    assert mr.get("k") == b"v"
    assert mr.pttl("k") == 0
    assert mr.ttl("k") == 0
    clock.advance(0.001)
    assert mr.get("k") is None
    assert mr.exists("k") == 0
    assert mr.ttl("k") == -2
    assert mr.pttl("k") == -2


def test_every_reader_sees_an_expired_key_as_missing(mr, clock):
    mr.set("k", "v")
    mr.set("keep", "w")
    mr.expire("k", 1)
    clock.advance(2)
    assert mr.exists("k", "keep", "k") == 1
    assert mr.type("k") == b"none"
    assert mr.expiretime("k") == -2
    assert mr.pexpiretime("k") == -2
    assert mr.object("encoding", "k") is None
    assert mr.touch("k", "keep") == 1
    assert mr.persist("k") is False
    assert mr.expire("k", 100) is False
    assert mr.delete("k") == 0
    assert mr.keys() == [b"keep"]


def test_an_expired_key_is_counted_once(mr, clock):
    mr.set("k", "v")
    mr.expire("k", 1)
    clock.advance(2)
    assert mr.get("k") is None
    assert mr.exists("k") == 0
    assert mr.info("stats")["expired_keys"] == 1


# -- TTL precision -----------------------------------------------------------------
def test_ttl_and_pttl_follow_the_clock_to_the_millisecond(mr, clock):
    mr.set("k", "v")
    mr.pexpire("k", 10_000)
    assert (mr.pttl("k"), mr.ttl("k")) == (10_000, 10)
    clock.advance(0.3)
    assert (mr.pttl("k"), mr.ttl("k")) == (9_700, 10)
    clock.advance(0.2)
    assert (mr.pttl("k"), mr.ttl("k")) == (9_500, 10)  # 9.5 s rounds up
    clock.advance(0.001)
    assert (mr.pttl("k"), mr.ttl("k")) == (9_499, 9)
    clock.advance(9.0)
    assert (mr.pttl("k"), mr.ttl("k")) == (499, 0)
    clock.advance(0.499)
    assert (mr.pttl("k"), mr.ttl("k")) == (0, 0)
    clock.advance(0.001)
    assert (mr.pttl("k"), mr.ttl("k")) == (-2, -2)


@pytest.mark.parametrize("ms, seconds", [(1499, 1), (1500, 2), (1, 0), (500, 1), (499, 0)])
def test_ttl_rounds_to_the_nearest_second(mr, ms, seconds):
    mr.set("k", "v")
    mr.pexpire("k", ms)
    assert mr.ttl("k") == seconds
    assert mr.execute_command("TTL", "k") == seconds


def test_expiretime_is_absolute_and_does_not_move(mr, clock):
    mr.set("k", "v")
    mr.expire("k", 10)
    assert mr.expiretime("k") == 1_700_000_010
    assert mr.pexpiretime("k") == START_MS + 10_000
    clock.advance(7.25)
    assert mr.expiretime("k") == 1_700_000_010
    assert mr.pexpiretime("k") == START_MS + 10_000
    mr.pexpire("k", 1_500)
    assert mr.pexpiretime("k") == START_MS + 8_750
    assert mr.expiretime("k") == 1_700_000_009


def test_fast_path_and_command_path_set_the_same_expiry(mr, clock):
    mr.mset({"fast": 1, "slow": 1})
    clock.advance(0.123)
    assert mr.expire("fast", 5) is True
    assert mr.execute_command("EXPIRE", "slow", 5) == 1
    assert mr.pexpiretime("fast") == mr.pexpiretime("slow") == START_MS + 5_123
    assert mr.ttl("fast") == mr.execute_command("TTL", "slow") == 5


# -- setting expiry relative to the clock ---------------------------------------------
def test_pexpireat_now_deletes_and_one_ms_later_does_not(mr, clock):
    mr.mset({"now": 1, "later": 1})
    assert mr.pexpireat("now", START_MS) is True
    assert mr.exists("now") == 0
    assert mr.pexpireat("later", START_MS + 1) is True
    clock.advance(0.001)
    assert mr.get("later") == b"1"
    clock.advance(0.001)
    assert mr.get("later") is None


def test_expireat_in_the_past_deletes(mr):
    mr.set("k", "v")
    assert mr.expireat("k", 1_699_999_999) is True
    assert mr.keys() == []


def test_expire_gt_lt_compare_absolute_times(mr, clock):
    mr.set("k", "v")
    mr.expire("k", 100)
    clock.advance(50)
    assert mr.ttl("k") == 50
    assert mr.expire("k", 50, gt=True) is False  # the same instant is not greater
    assert mr.expire("k", 50, lt=True) is False  # nor less
    assert mr.expire("k", 60, gt=True) is True
    assert mr.pexpiretime("k") == START_MS + 110_000
    clock.advance(1)
    assert mr.expire("k", 60, lt=True) is False  # 59 s were left
    assert mr.expire("k", 58, lt=True) is True
    assert mr.pttl("k") == 58_000
    assert mr.pexpire("k", 58_001, gt=True) is True
    assert mr.pexpire("k", 58_001, gt=True) is False


def test_expire_nx_xx_over_time(mr, clock):
    mr.set("k", "v")
    assert mr.expire("k", 10, xx=True) is False
    assert mr.expire("k", 10, nx=True) is True
    clock.advance(5)
    assert mr.expire("k", 100, nx=True) is False
    assert mr.expire("k", 100, xx=True) is True
    assert mr.ttl("k") == 100
    clock.advance(101)
    # gone: neither flag applies to a missing key
    assert mr.expire("k", 10, xx=True) is False
    assert mr.expire("k", 10, nx=True) is False
    mr.set("k", "again")
    assert mr.expire("k", 10, nx=True) is True


def test_expire_replaces_an_earlier_ttl(mr, clock):
    mr.set("k", "v")
    mr.expire("k", 2)
    mr.expire("k", 10)
    clock.advance(5)
    assert mr.get("k") == b"v"
    assert mr.ttl("k") == 5


# -- PERSIST ------------------------------------------------------------------------
def test_persist_keeps_the_key_forever(mr, clock):
    mr.set("k", "v")
    mr.expire("k", 10)
    clock.advance(5)
    assert mr.persist("k") is True
    clock.advance(100)
    assert mr.get("k") == b"v"
    assert mr.ttl("k") == -1


def test_persist_on_an_expired_key(mr, clock):
    mr.set("k", "v")
    mr.expire("k", 1)
    clock.advance(1.001)
    assert mr.persist("k") is False
    assert mr.exists("k") == 0


# -- RENAME / COPY / MOVE carry the TTL ------------------------------------------------
def test_rename_keeps_the_remaining_ttl(mr, clock):
    mr.set("a", "v")
    mr.expire("a", 10)
    clock.advance(4)
    assert mr.rename("a", "b") is True
    assert mr.pttl("b") == 6_000
    clock.advance(6)
    assert mr.get("b") == b"v"
    clock.advance(0.001)
    assert mr.get("b") is None


def test_rename_of_an_expired_key(mr, clock):
    mr.mset({"a": 1, "b": 2})
    mr.expire("a", 1)
    clock.advance(2)
    with raises(ResponseError, "no such key"):
        mr.rename("a", "b")
    with raises(ResponseError, "no such key"):
        mr.renamenx("a", "c")
    assert mr.keys() == [b"b"]


def test_renamenx_onto_an_expired_key(mr, clock):
    mr.mset({"a": 1, "b": 2})
    mr.expire("b", 1)
    clock.advance(2)
    assert mr.renamenx("a", "b") is True
    assert mr.get("b") == b"1"
    assert mr.ttl("b") == -1


def test_copy_copies_the_remaining_ttl(mr, clock):
    mr.set("a", "v")
    mr.expire("a", 10)
    clock.advance(3)
    assert mr.copy("a", "b") is True
    assert mr.pttl("b") == 7_000
    mr.persist("a")
    clock.advance(7.001)
    assert mr.get("b") is None
    assert mr.get("a") == b"v"


def test_copy_from_and_onto_expired_keys(mr, clock):
    mr.mset({"src": 1, "dst": 2, "live": 3})
    mr.expire("src", 1)
    mr.expire("dst", 1)
    clock.advance(2)
    assert mr.copy("src", "new") is False
    assert mr.copy("live", "dst") is True  # an expired destination is no obstacle
    assert mr.get("dst") == b"3"
    assert mr.ttl("dst") == -1


def test_move_carries_the_ttl(mr, clock, db1):
    mr.set("k", "v")
    mr.expire("k", 10)
    clock.advance(2)
    assert mr.move("k", 1) is True
    assert db1.pttl("k") == 8_000
    clock.advance(8.001)
    assert db1.get("k") is None


def test_move_onto_an_expired_key(mr, clock, db1):
    db1.set("k", "old")
    db1.expire("k", 1)
    mr.set("k", "new")
    clock.advance(2)
    assert mr.move("k", 1) is True
    assert db1.get("k") == b"new"
    assert db1.ttl("k") == -1


def test_copy_to_another_db_carries_the_ttl(mr, clock, db1):
    mr.set("k", "v")
    mr.pexpire("k", 2_500)
    assert mr.copy("k", "k", destination_db=1) is True
    assert db1.pexpiretime("k") == START_MS + 2_500


# -- iteration never shows expired keys ---------------------------------------------------
def test_keys_scan_randomkey_exists_skip_expired_keys(mr, clock):
    mr.mset({f"short:{i}": i for i in range(50)})
    mr.mset({f"long:{i}": i for i in range(5)})
    mr.set("forever", "x")
    for i in range(50):
        mr.expire(f"short:{i}", 1)
    for i in range(5):
        mr.expire(f"long:{i}", 100)
    live = {b"forever"} | {f"long:{i}".encode() for i in range(5)}
    clock.advance(2)
    assert set(mr.keys()) == live
    assert len(mr.keys("*")) == 6
    assert mr.keys("short:*") == []
    assert set(mr.scan_iter(count=3)) == live
    assert set(mr.scan_iter(_type="string")) == live
    assert set(mr.scan_iter(match="short:*")) == set()
    assert {mr.randomkey() for _ in range(30)} <= live
    assert mr.exists(*[f"short:{i}" for i in range(50)], "forever") == 1


def test_randomkey_when_every_key_has_expired(mr, clock):
    mr.mset({"a": 1, "b": 2})
    mr.expire("a", 1)
    mr.expire("b", 1)
    clock.advance(2)
    assert mr.randomkey() is None
    assert mr.keys() == []


def test_scan_skips_keys_that_expire_during_the_iteration(mr, clock):
    mr.mset({f"k:{i:02}": i for i in range(40)})
    for i in range(0, 40, 2):
        mr.pexpire(f"k:{i:02}", 10)
    seen, after_expiry = [], []
    cursor, page = 0, 0
    while True:
        cursor, keys = mr.scan(cursor, count=5)
        (after_expiry if page >= 2 else seen).extend(keys)
        page += 1
        if page == 2:
            clock.advance(0.011)  # the even keys are gone from now on
        if cursor == 0:
            break
    odd = {f"k:{i:02}".encode() for i in range(1, 40, 2)}
    assert odd <= set(seen + after_expiry)
    assert after_expiry
    assert [key for key in after_expiry if int(key[2:]) % 2 == 0] == []
