"""Blocking list pops: who is woken, in which order, with what, and when.

The ``r`` tests run on minikv and on the real redis-server: each blocked
call runs in a thread on a client of its own (another connection to the
server, or another minikv client on the same store), and the test waits for
INFO's ``blocked_clients`` to show it blocked before going on, so the order
in which the clients blocked is known (the ``block`` fixture of
conftest.py). Timeouts are tested on the manual
clock (no waiting at all) and once, briefly, on the system clock. Only the
test harness polls (for "is it blocked yet"); the implementation never does,
which ``BlockedClients.wakeups`` lets the last tests check.
"""
import os
import time

import pytest
from helpers import Call, blocked_clients, raises, wait_blocked
from redis.exceptions import ResponseError

import minikv

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


# -- who is served, in which order -------------------------------------------
def test_first_blocked_first_served_one_push_wakes_one(r, block):
    calls = [block("blpop", "k", 0) for _ in range(3)]
    assert r.rpush("k", "a") == 1
    assert calls[0].outcome() == (b"k", b"a")
    assert blocked_clients(r) == 2
    assert calls[1].is_alive() and calls[2].is_alive()
    assert r.rpush("k", "b", "c") == 2  # the reply counts before the waiters pop
    assert calls[1].outcome() == (b"k", b"b")
    assert calls[2].outcome() == (b"k", b"c")
    assert r.exists("k") == 0


def test_one_push_of_three_serves_two_waiters_in_order(r, block):
    first, second = block("blpop", "k", 0), block("brpop", "k", 0)
    assert r.lpush("k", "a", "b", "c") == 3
    assert first.outcome() == (b"k", b"c")
    assert second.outcome() == (b"k", b"a")
    assert r.lrange("k", 0, -1) == [b"b"]


def test_a_waiter_on_several_keys_is_served_from_the_one_that_got_data(r, block):
    call = block("blpop", ["k1", "k2"], 0)
    r.rpush("k2", "x")
    assert call.outcome() == (b"k2", b"x")
    r.rpush("k1", "y")
    assert r.lrange("k1", 0, -1) == [b"y"]
    assert blocked_clients(r) == 0


def test_blmpop_waiters_take_their_count(r, block):
    first = block("blmpop", 0, 2, "x", "k", direction="RIGHT", count=2)
    second = block("blmpop", 0, 1, "k", direction="LEFT", count=5)
    r.rpush("k", "1", "2", "3")
    assert first.outcome() == [b"k", [b"3", b"2"]]
    assert second.outcome() == [b"k", [b"1"]]
    assert r.exists("k") == 0


def test_blmove_chain_serves_the_next_waiter_in_the_same_round(r, block):
    mover = block("blmove", "a", "b", 0, "LEFT", "RIGHT")
    popper = block("blpop", "b", 0)
    r.rpush("a", "1", "2", "3")
    assert mover.outcome() == b"1"
    assert popper.outcome() == (b"b", b"1")
    assert r.lrange("a", 0, -1) == [b"2", b"3"]
    assert r.exists("b") == 0


def test_blmove_onto_its_own_source(r, block):
    mover = block("blmove", "a", "a", 0, "LEFT", "RIGHT")
    popper = block("blpop", "a", 0)
    r.rpush("a", "1", "2")
    assert mover.outcome() == b"1"  # a is now [2, 1]
    assert popper.outcome() == (b"a", b"2")
    assert r.lrange("a", 0, -1) == [b"1"]


def test_brpoplpush_served(r, block):
    call = block("brpoplpush", "a", "b", 0)
    r.rpush("a", "1", "2")
    assert call.outcome() == b"2"
    assert r.lrange("a", 0, -1) == [b"1"]
    assert r.lrange("b", 0, -1) == [b"2"]


def test_a_wrong_type_destination_errors_that_waiter_and_serves_the_next(r, block):
    r.set("d", "str")
    mover = block("blmove", "a", "d", 0, "LEFT", "RIGHT")
    other = block("blmove", "a", "e", 0, "LEFT", "RIGHT")
    r.rpush("a", "1")
    with raises(ResponseError, WRONGTYPE):
        mover.outcome()
    assert other.outcome() == b"1"
    assert r.get("d") == b"str"
    assert r.lrange("e", 0, -1) == [b"1"]
    assert r.exists("a") == 0


def test_brpoplpush_wrong_type_destination_moves_nothing(r, block):
    r.set("d", "str")
    call = block("brpoplpush", "a", "d", 0)
    r.rpush("a", "1", "2")
    with raises(ResponseError, WRONGTYPE):
        call.outcome()
    assert r.lrange("a", 0, -1) == [b"1", b"2"]


# -- the waited key changes ----------------------------------------------------
def test_key_retyped_while_waiting_keeps_the_client_waiting(r, block):
    call = block("blpop", "k", 0)
    r.set("k", "str")
    r.hset("k2", "f", "v")
    r.rename("k2", "k")  # a hash arrives under the waited name
    assert r.type("k") == b"hash"
    assert blocked_clients(r) == 1
    r.delete("k")
    assert blocked_clients(r) == 1
    r.rpush("k", "v")
    assert call.outcome() == (b"k", b"v")
    assert r.exists("k") == 0


def test_a_transaction_serves_waiters_once_after_exec(r, block):
    """Keys a transaction made ready are served after EXEC, from what the
    whole transaction left: a list pushed and popped again serves nobody,
    and a waiter on two keys is served from the one made ready first."""
    lone = block("blpop", "k", 0)
    pipe = r.pipeline(transaction=True)
    pipe.lpush("k", "a").lpop("k")
    assert pipe.execute() == [1, b"a"]
    assert blocked_clients(r) == 1
    both = block("blpop", ["k1", "k2"], 0)
    second = block("blpop", "k2", 0)
    pipe = r.pipeline(transaction=True)
    pipe.rpush("k2", "x").rpush("k1", "y").rpush("k", "z")
    assert pipe.execute() == [1, 1, 1]
    assert both.outcome() == (b"k2", b"x")
    assert lone.outcome() == (b"k", b"z")
    assert second.is_alive() and blocked_clients(r) == 1
    assert r.lrange("k1", 0, -1) == [b"y"]
    r.rpush("k2", "w")
    assert second.outcome() == (b"k2", b"w")


def test_blocking_commands_inside_a_transaction_do_not_block(r):
    pipe = r.pipeline(transaction=True)
    pipe.blpop("k", 0).brpop(["k", "j"], 0).blmove("k", "d", 0).brpoplpush("k", "d", 0)
    pipe.blmpop(0, 1, "k", direction="LEFT").rpush("k", "a").blpop("k", 0)
    assert pipe.execute() == [None, None, None, None, None, 1, (b"k", b"a")]
    assert r.exists("k", "d") == 0


def test_only_adding_a_key_signals_it_not_growing_it(r, block):
    """Redis 7.0 signals waiters when a key is added to the keyspace. SORT
    ... STORE over a string overwrites a key, so a client blocked before the
    key turned into a list keeps waiting, even through later pushes, until
    the key is added again."""
    call = block("blpop", "k", 0)
    r.set("k", "str")
    r.rpush("src", "2", "1")
    assert r.sort("src", store="k") == 2
    r.rpush("k", "x")
    r.lpush("k", "y")
    r.lmove("src", "k", "RIGHT", "LEFT")
    assert blocked_clients(r) == 1
    assert r.lrange("k", 0, -1) == [b"1", b"y", b"1", b"2", b"x"]
    r.rename("k", "k2")
    r.rename("k2", "k")
    assert call.outcome() == (b"k", b"1")
    assert r.lrange("k", 0, -1) == [b"y", b"1", b"2", b"x"]


@pytest.mark.parametrize("how", ["rename", "renamenx", "copy"])
def test_a_list_renamed_or_copied_onto_the_waited_key_serves_it(r, block, how):
    r.rpush("src", "a", "b")
    call = block("blpop", "k", 0)
    getattr(r, how)("src", "k")
    assert call.outcome() == (b"k", b"a")
    assert r.lrange("k", 0, -1) == [b"b"]


def test_renaming_another_key_does_not_serve(r, block):
    r.rpush("src", "a")
    call = block("blpop", "k", 0)
    r.rename("src", "other")
    assert blocked_clients(r) == 1
    r.rename("other", "k")
    assert call.outcome() == (b"k", b"a")


def test_a_waiter_waits_in_its_own_db(r, block):
    r.rpush("src", "a")
    call = block("blpop", "k", 0)
    r.copy("src", "k", destination_db=1)
    assert blocked_clients(r) == 1  # a db-0 waiter is not served from db 1
    r.rpush("k", "b")
    assert call.outcome() == (b"k", b"b")


def test_move_and_swapdb_serve_waiters_of_the_target_db(r, block):
    call = block("blpop", "k", 0)
    r.execute_command("SELECT", 1)
    r.rpush("k", "moved")
    assert r.move("k", 0) is True
    r.execute_command("SELECT", 0)
    assert call.outcome() == (b"k", b"moved")

    call = block("blpop", "k", 0)
    r.execute_command("SELECT", 1)
    r.rpush("k", "swapped", "rest")
    r.execute_command("SELECT", 0)
    assert r.swapdb(0, 1) is True
    assert call.outcome() == (b"k", b"swapped")
    assert r.lrange("k", 0, -1) == [b"rest"]


def test_linsert_and_pushx_never_create_a_key_for_waiters(r, block):
    call = block("blpop", "k", 0)
    assert r.linsert("k", "BEFORE", "x", "y") == 0
    assert r.lpushx("k", "y") == 0
    assert blocked_clients(r) == 1
    r.lpush("k", "z")
    assert call.outcome() == (b"k", b"z")


# -- timeouts ----------------------------------------------------------------
def test_a_short_timeout_on_the_system_clock(r):
    assert r.blpop("k", 0.05) is None
    assert r.blmpop(0.05, 1, "k", direction="LEFT") is None
    assert blocked_clients(r) == 0


@pytest.fixture
def mblock(mr):
    """``mblock("blpop", "k", 5)`` on the manual-clock store of ``mr``."""
    def start(method, *args, **kwargs):
        client = minikv.Redis(store=mr.store)
        already = len(mr.store.blocked)
        call = Call(getattr(client, method), *args, **kwargs)
        call.start()
        wait_blocked(mr, already + 1)
        return call
    return start


def test_manual_clock_timeout_fires_only_past_the_deadline(mr, clock, mblock):
    call = mblock("blpop", "k", 5)
    clock.advance(4.999)
    clock.advance(0.001)  # exactly at the deadline: Redis times out once now > deadline
    assert call.is_alive() and len(mr.store.blocked) == 1
    clock.advance(0.001)
    assert call.outcome() is None
    assert len(mr.store.blocked) == 0
    mr.rpush("k", "a")  # nobody takes it any more
    assert mr.lrange("k", 0, -1) == [b"a"]


@pytest.mark.parametrize("method, args, kwargs", [
    ("brpop", (["a", "b"], 1.5), {}),
    ("blmove", ("a", "b", 1.5), {}),
    ("brpoplpush", ("a", "b", 1.5), {}),
    ("blmpop", (1.5, 2, "a", "b"), {"direction": "LEFT", "count": 3}),
])
def test_manual_clock_timeouts_return_none(mr, clock, mblock, method, args, kwargs):
    call = mblock(method, *args, **kwargs)
    clock.advance(1.5)
    assert call.is_alive()
    clock.advance(0.001)
    assert call.outcome() is None
    assert mr.keys("*") == []


def test_timeouts_round_up_to_whole_milliseconds(mr, clock, mblock):
    call = mblock("blpop", "k", 0.0001)  # 1 ms, not 0 (forever)
    clock.advance(0.001)
    assert call.is_alive()
    clock.advance(0.001)
    assert call.outcome() is None


def test_timeout_zero_waits_forever_on_the_manual_clock(mr, clock, mblock):
    call = mblock("blpop", "k", 0)
    clock.advance(10 * 365 * 86400)
    assert call.is_alive()
    mr.rpush("k", "a")
    assert call.outcome() == (b"k", b"a")


def test_only_the_expired_waiter_times_out(mr, clock, mblock):
    short = mblock("blpop", "k", 1)
    long_ = mblock("blpop", "k", 10)
    forever = mblock("blpop", "k", 0)
    clock.advance(2)
    assert short.outcome() is None
    assert long_.is_alive() and forever.is_alive()
    mr.rpush("k", "a", "b")
    assert long_.outcome() == (b"k", b"a")
    assert forever.outcome() == (b"k", b"b")


def test_served_before_its_deadline_it_keeps_the_element(mr, clock, mblock):
    call = mblock("blpop", "k", 1)
    mr.rpush("k", "a")
    assert call.outcome() == (b"k", b"a")
    clock.advance(5)
    assert mr.exists("k") == 0


# -- no polling: a waiter wakes only when its wait is over -------------------
def test_waiters_are_not_woken_by_unrelated_commands_or_other_waiters_pushes(mr, clock, mblock):
    blocked = mr.store.blocked
    waiters = [mblock("blpop", "k", 0), mblock("blpop", "k", 100), mblock("blpop", "k", 0)]
    for i in range(200):
        mr.rpush("other", i)
        mr.set("k", "string")  # a retyped key is ready for nobody
        mr.delete("k")
    clock.advance(50)
    assert blocked.wakeups == 0
    assert all(call.is_alive() for call in waiters)
    mr.rpush("k", "a")
    assert waiters[0].outcome() == (b"k", b"a")
    assert blocked.wakeups == 1  # only the served one woke
    mr.rpush("k", "b", "c")
    assert [waiters[1].outcome(), waiters[2].outcome()] == [(b"k", b"b"), (b"k", b"c")]
    assert blocked.wakeups == 3


def test_a_blocked_thread_does_not_hold_the_store():
    r = minikv.Redis()
    call = Call(minikv.Redis(store=r.store).blpop, "k", 0)
    call.start()
    wait_blocked(r, 1)
    for i in range(1000):  # the other thread's wait lets every command run
        r.set(f"s{i}", i)
    assert r.dbsize() == 1000
    r.rpush("k", "a")
    assert call.outcome() == (b"k", b"a")


# -- many threads ------------------------------------------------------------
def test_four_producers_four_consumers_deliver_each_item_exactly_once():
    """100,000 items pushed one RPUSH at a time by 4 threads sharing one
    client, popped by 4 consumer threads with clients of their own (BLPOP
    with no timeout); each consumer stops at its stop marker. Producers
    yield the GIL after each push, so the consumers keep draining the queue
    and most items are handed over to a blocked consumer, not found waiting
    in the list: the run exercises the blocking path, not just LPOP."""
    producers, consumers, total = 4, 4, 100_000
    shared = minikv.Redis()
    per_producer = total // producers
    received = [[] for _ in range(consumers)]

    def produce(index):
        base = index * per_producer
        for item in range(base, base + per_producer):
            shared.rpush("queue", item)
            time.sleep(0)

    def consume(index):
        client = minikv.Redis(store=shared.store)
        got = received[index]
        while True:
            _, item = client.blpop("queue", 0)
            if item == b"stop":
                return
            got.append(int(item))

    consumer_threads = [Call(consume, i) for i in range(consumers)]
    producer_threads = [Call(produce, i) for i in range(producers)]
    for thread in consumer_threads + producer_threads:
        thread.start()
    for thread in producer_threads:
        thread.outcome()
    shared.rpush("queue", *["stop"] * consumers)
    for thread in consumer_threads:
        thread.outcome()
    delivered = [item for got in received for item in got]
    assert len(delivered) == total
    assert sorted(delivered) == list(range(total))
    assert shared.exists("queue") == 0
    assert len(shared.store.blocked) == 0
    assert shared.store.blocked.wakeups > total // 100
    # Each producer's items reach any one consumer in the order they were pushed.
    for got in received:
        for producer in range(producers):
            mine = [item for item in got if item // per_producer == producer]
            assert mine == sorted(mine)


# -- fork ----------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_forgets_the_parents_waiters():
    r = minikv.Redis()
    call = Call(minikv.Redis(store=r.store).blpop, "k", 0)
    call.start()
    wait_blocked(r, 1)
    pid = os.fork()
    if pid == 0:  # child: the waiting thread does not exist here
        status = 1
        try:
            assert len(r.store.blocked) == 0
            r.rpush("k", "child")
            assert r.lrange("k", 0, -1) == [b"child"]
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(r.store.blocked) == 1
    r.rpush("k", "parent")
    assert call.outcome() == (b"k", b"parent")
