"""SELECT, SWAPDB, FLUSHDB and FLUSHALL, differentially against real Redis.

A "peer" is a second connection to the same data: another client on the
same store for minikv, another connection to the same server for Redis. The
state machine at the end drives two connections per side through random
database commands and compares every reply and the keyspace summary.
"""
import pytest
import redis
from helpers import kind, raises
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from redis.exceptions import ResponseError

import minikv

NOT_INTEGER = "value is not an integer or out of range"
INT_RANGE = "value is out of range, value must between -2147483648 and 2147483647"
DB_INDEX = "DB index is out of range"


@pytest.fixture
def peer(r, request):
    """Open another connection to ``r``'s data (same kind), closed after the test."""
    def connect(**kwargs):
        if kind(r) == "minikv":
            client = minikv.Redis(store=r.store, **kwargs)
        else:
            port = r.connection_pool.connection_kwargs["port"]
            client = redis.Redis(port=port, single_connection_client=True, **kwargs)
        request.addfinalizer(client.close)
        return client
    return connect


def keyspace(client):
    """INFO keyspace without avg_ttl, which Redis only estimates over time."""
    return {db: (line["keys"], line["expires"]) for db, line in client.info("keyspace").items()}


# -- SELECT -------------------------------------------------------------------
def test_select_switches_this_connection_only(r, peer):
    other = peer()
    r.set("k", "zero")
    assert r.select(1) is True
    assert r.get("k") is None
    r.set("k", "one")
    assert r.dbsize() == 1
    assert other.get("k") == b"zero"
    assert r.select("0") is True
    assert r.get("k") == b"zero"
    assert r.execute_command("SELECT", 15) is True
    assert r.dbsize() == 0
    assert keyspace(r) == {"db0": (1, 0), "db1": (1, 0)}


def test_constructor_db_argument(r, peer):
    r.select(3)
    r.set("k", "three")
    assert peer(db=3).get("k") == b"three"
    assert peer(db=0).get("k") is None


@pytest.mark.parametrize("index, message", [
    (16, DB_INDEX),
    (-1, DB_INDEX),
    (2 ** 31 - 1, DB_INDEX),
    (-(2 ** 31), DB_INDEX),
    (2 ** 31, INT_RANGE),
    (-(2 ** 31) - 1, INT_RANGE),
    (2 ** 32, INT_RANGE),
    (2 ** 63, NOT_INTEGER),
    ("x", NOT_INTEGER),
    ("1.5", NOT_INTEGER),
    (" 1", NOT_INTEGER),
    ("01", NOT_INTEGER),
    ("+1", NOT_INTEGER),
    ("", NOT_INTEGER),
])
def test_select_errors_keep_the_current_db(r, index, message):
    r.select(2)
    r.set("k", "two")
    with raises(ResponseError, message):
        r.select(index)
    assert r.get("k") == b"two"


def test_select_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'select' command"):
        r.execute_command("SELECT")
    with raises(ResponseError, "wrong number of arguments for 'select' command"):
        r.execute_command("SELECT", 1, 2)


# -- SWAPDB -------------------------------------------------------------------
def test_swapdb_exchanges_contents_and_connections_keep_their_index(r, peer):
    in_one = peer(db=1)
    r.set("zero", "0", ex=1000)
    in_one.set("one", "1")
    in_one.set("also-one", "1")
    assert r.swapdb(0, 1) is True
    assert r.get("zero") is None
    assert r.get("one") == b"1"
    assert r.dbsize() == 2
    assert in_one.get("zero") == b"0"
    assert 0 < in_one.ttl("zero") <= 1000
    assert keyspace(r) == {"db0": (2, 0), "db1": (1, 1)}
    assert in_one.swapdb("1", "0") is True
    assert r.get("zero") == b"0"
    assert r.pttl("zero") > 0


def test_swapdb_with_an_empty_db(r):
    r.set("k", "v")
    assert r.swapdb(0, 7) is True
    assert r.dbsize() == 0
    assert keyspace(r) == {"db7": (1, 0)}
    r.select(7)
    assert r.get("k") == b"v"


def test_swapdb_same_index_changes_nothing(r):
    r.set("k", "v", ex=100)
    assert r.swapdb(0, 0) is True
    assert r.get("k") == b"v"
    assert r.ttl("k") > 0


def test_swapdb_then_expiry_still_works(mr, clock):
    mr.set("k", "v", ex=10)
    mr.swapdb(0, 1)
    mr.select(1)
    clock.advance(5)
    assert mr.get("k") == b"v"
    clock.advance(6)
    assert mr.get("k") is None


@pytest.mark.parametrize("first, second, message", [
    (0, 16, DB_INDEX),
    (16, 0, DB_INDEX),
    (-1, 0, DB_INDEX),
    (0, -1, DB_INDEX),
    ("x", 1, "invalid first DB index"),
    (1, "x", "invalid second DB index"),
    ("x", 99, "invalid first DB index"),
    (99, "x", "invalid second DB index"),
    (16, "x", "invalid second DB index"),
    (2 ** 32, 0, "invalid first DB index"),
    (0, 2 ** 32, "invalid second DB index"),
    (2 ** 63, 0, "invalid first DB index"),
    ("01", 0, "invalid first DB index"),
    ("1.0", 0, "invalid first DB index"),
])
def test_swapdb_errors_change_nothing(r, first, second, message):
    r.set("k", "v")
    with raises(ResponseError, message):
        r.swapdb(first, second)
    assert keyspace(r) == {"db0": (1, 0)}


def test_swapdb_arity(r):
    with raises(ResponseError, "wrong number of arguments for 'swapdb' command"):
        r.execute_command("SWAPDB", 0)
    with raises(ResponseError, "wrong number of arguments for 'swapdb' command"):
        r.execute_command("SWAPDB", 0, 1, 2)


# -- FLUSHDB / FLUSHALL -------------------------------------------------------
def fill(client):
    client.set("a", "1")
    client.set("b", "2", ex=1000)
    client.select(4)
    client.set("c", "3", px=500_000)
    client.select(0)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_flushdb_empties_only_the_selected_db(r, asynchronous):
    fill(r)
    assert r.flushdb(asynchronous=asynchronous) is True
    assert r.dbsize() == 0
    assert keyspace(r) == {"db4": (1, 1)}


@pytest.mark.parametrize("asynchronous", [False, True])
def test_flushall_empties_every_db(r, asynchronous):
    fill(r)
    assert r.flushall(asynchronous=asynchronous) is True
    assert keyspace(r) == {}


@pytest.mark.parametrize("command", ["FLUSHDB", "FLUSHALL"])
@pytest.mark.parametrize("option", ["SYNC", "sync", "ASYNC", "Async"])
def test_flush_options(r, command, option):
    fill(r)
    assert r.execute_command(command, option) is True
    assert r.dbsize() == 0


@pytest.mark.parametrize("command", ["FLUSHDB", "FLUSHALL"])
@pytest.mark.parametrize("args", [("x",), ("ASYNC", "SYNC"), ("SYNC", "SYNC"), ("",)])
def test_flush_syntax_errors_change_nothing(r, command, args):
    fill(r)
    with raises(ResponseError, "syntax error"):
        r.execute_command(command, *args)
    assert keyspace(r) == {"db0": (2, 1), "db4": (1, 1)}


def test_keys_written_after_a_flush_behave(mr, clock):
    mr.set("k", "v", ex=10)
    mr.flushall()
    mr.set("k", "v", ex=20)
    clock.advance(15)
    assert mr.get("k") == b"v"
    clock.advance(10)
    assert mr.get("k") is None


# -- random sequences ---------------------------------------------------------
DBS = st.sampled_from(["0", "1", "2", "3", "16", "-1", "x"])
KEYS = st.sampled_from(["a", "b", "c"])


class DatabasesMachine(RuleBasedStateMachine):
    """Two connections per side; every reply and the keyspace summary compared."""

    port = None

    def __init__(self):
        super().__init__()
        self.mini = [minikv.Redis()]
        self.mini.append(minikv.Redis(store=self.mini[0].store))
        self.real = [redis.Redis(port=self.port, single_connection_client=True) for _ in range(2)]
        self.real[0].flushall()

    def teardown(self):
        for client in self.mini + self.real:
            client.close()

    def same(self, which, *args):
        replies = []
        for client in (self.mini[which], self.real[which]):
            try:
                replies.append(("ok", client.execute_command(*args)))
            except ResponseError as exc:
                replies.append(("error", str(exc)))
        assert replies[0] == replies[1], (args, replies)

    @rule(which=st.integers(0, 1), db=DBS)
    def select(self, which, db):
        self.same(which, "SELECT", db)

    @rule(which=st.integers(0, 1), key=KEYS, value=st.sampled_from(["1", "v"]),
          ttl=st.sampled_from([[], ["EX", "1000"]]))
    def set(self, which, key, value, ttl):
        self.same(which, "SET", key, value, *ttl)

    @rule(which=st.integers(0, 1), key=KEYS)
    def get(self, which, key):
        self.same(which, "GET", key)

    @rule(which=st.integers(0, 1))
    def dbsize(self, which):
        self.same(which, "DBSIZE")

    @rule(which=st.integers(0, 1), first=DBS, second=DBS)
    def swapdb(self, which, first, second):
        self.same(which, "SWAPDB", first, second)

    @rule(which=st.integers(0, 1), command=st.sampled_from(["FLUSHDB", "FLUSHALL"]),
          option=st.sampled_from([[], ["ASYNC"], ["SYNC"], ["NOW"]]))
    def flush(self, which, command, option):
        self.same(which, command, *option)

    @invariant()
    def same_keyspace(self):
        assert keyspace(self.mini[0]) == keyspace(self.real[0])


def test_database_commands_state_machine(redis_port):
    DatabasesMachine.port = redis_port
    run_state_machine_as_test(DatabasesMachine)


@pytest.mark.slow
def test_database_commands_soak(redis_port):
    """Long sequences: the nightly run pairs this with Hypothesis's "nightly" profile."""
    DatabasesMachine.port = redis_port
    run_state_machine_as_test(DatabasesMachine, settings=settings(stateful_step_count=200))
