"""Blocking commands on the asyncio client: waits, wake-ups, timeouts, cancellation.

The ``ar`` tests run on minikv.asyncio and on redis.asyncio against the real
server: every blocking command, served by another connection, by a plain
thread, and by a client on another event loop in another thread; timeouts;
and the loop keeps running while a call is blocked. The test side waits for
INFO's blocked_clients before pushing, so who blocked first is known.

The minikv-only tests cover the manual clock (timeouts with no waiting at
all), two loops sharing one store, FIFO between threads and coroutines, and
cancellation: a cancelled call leaves no waiter behind, and a call served
just before its cancellation took effect gives back exactly what it took
(minikv/asyncio/waiting.py states the guarantee). That race is driven by
hand: the push serves the waiter, and the task is cancelled in the same
loop step, before the wake-up reaches it.
"""
import asyncio
import threading

import pytest
from asyncio_support import blocked_count, is_minikv, settle, sync_twin, wait_blocked
from helpers import Call, raises
from redis.exceptions import ResponseError

import minikv
import minikv.asyncio

# the ar, ard, another and loop_thread fixtures
pytest_plugins = ["asyncio_fixtures"]

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


async def start_blocked(client, observer, method, *args, **kwargs):
    """Start ``client.method(*args)`` as a task; return once it is blocked."""
    already = await blocked_count(observer)
    task = asyncio.create_task(getattr(client, method)(*args, **kwargs))
    await wait_blocked(observer, already + 1)
    return task


async def start_blocked_thread(client, key):
    """BLPOP ``key`` on a plain minikv client of ``client``'s store, in a
    thread of its own (a started helpers.Call); return once it is blocked."""
    already = await blocked_count(client)
    call = Call(minikv.Redis(store=client.store).blpop, key, 0)
    call.start()
    await wait_blocked(client, already + 1)
    return call


# -- every blocking command, served by another connection ---------------------------
BLOCKING_CASES = [
    # (method, args, kwargs, the feeding command, its args, reply, then the state)
    ("blpop", (["a", "b"], 0), {}, "rpush", ("b", "x", "y"), (b"b", b"x"),
     ("lrange", ("b", 0, -1), [b"y"])),
    ("brpop", (["a", "b"], 0), {}, "rpush", ("a", "x", "y"), (b"a", b"y"),
     ("lrange", ("a", 0, -1), [b"x"])),
    ("blmove", ("src", "dst", 0, "RIGHT", "LEFT"), {}, "rpush", ("src", "x", "y"), b"y",
     ("lrange", ("dst", 0, -1), [b"y"])),
    ("brpoplpush", ("src", "dst", 0), {}, "rpush", ("src", "x", "y"), b"y",
     ("lrange", ("src", 0, -1), [b"x"])),
    ("blmpop", (0, 2, "a", "b"), {"direction": "LEFT", "count": 2}, "rpush",
     ("b", "x", "y", "z"), [b"b", [b"x", b"y"]], ("lrange", ("b", 0, -1), [b"z"])),
    ("bzpopmin", (["z", "y"], 0), {}, "zadd", ("y", {"m": 1, "n": 2}), (b"y", b"m", 1.0),
     ("zrange", ("y", 0, -1), [b"n"])),
    ("bzpopmax", ("z", 0), {}, "zadd", ("z", {"m": 1, "n": 2}), (b"z", b"n", 2.0),
     ("zrange", ("z", 0, -1), [b"m"])),
    ("bzmpop", (0, 1, ["z"]), {"max": True, "count": 5}, "zadd", ("z", {"m": 1, "n": 2}),
     [b"z", [[b"n", b"2"], [b"m", b"1"]]], ("exists", ("z",), 0)),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("case", BLOCKING_CASES, ids=[case[0] for case in BLOCKING_CASES])
async def test_blocking_command_served_by_another_connection(ar, another, case):
    method, args, kwargs, feed, feed_args, reply, (check, check_args, state) = case
    pusher = another()
    task = await start_blocked(another(), ar, method, *args, **kwargs)
    await getattr(pusher, feed)(*feed_args)
    assert await asyncio.wait_for(task, 10) == reply
    assert await getattr(ar, check)(*check_args) == state
    assert await blocked_count(ar) == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("case", BLOCKING_CASES, ids=[case[0] for case in BLOCKING_CASES])
async def test_blocking_command_answers_at_once_when_data_is_there(ar, case):
    method, args, kwargs, feed, feed_args, reply, (check, check_args, state) = case
    await getattr(ar, feed)(*feed_args)
    assert await getattr(ar, method)(*args, **kwargs) == reply
    assert await getattr(ar, check)(*check_args) == state


TIMEOUT_CASES = [
    ("blpop", (["a", "b"], 0.01), {}),
    ("brpop", ("a", 0.01), {}),
    ("blmove", ("src", "dst", 0.01, "RIGHT", "LEFT"), {}),
    ("brpoplpush", ("src", "dst", 0.01), {}),
    ("blmpop", (0.01, 2, "a", "b"), {"direction": "LEFT", "count": 2}),
    ("bzpopmin", (["z", "y"], 0.01), {}),
    ("bzpopmax", ("z", 0.01), {}),
    ("bzmpop", (0.01, 1, ["z"]), {"max": True}),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("case", TIMEOUT_CASES, ids=[case[0] for case in TIMEOUT_CASES])
async def test_blocking_command_times_out(ar, case):
    method, args, kwargs = case
    assert await getattr(ar, method)(*args, **kwargs) is None
    assert await blocked_count(ar) == 0


@pytest.mark.asyncio
async def test_decoded_blocking_replies(ard):
    await ard.rpush("l", "é")
    assert await ard.brpoplpush("l", "m", 1) == "é"
    assert await ard.blmpop(1, 1, "m", direction="RIGHT") == ["m", ["é"]]
    await ard.zadd("z", {"é": 1.5})
    # redis-py decodes the member, not the score
    assert await ard.bzmpop(1, 1, ["z"], min=True) == ["z", [["é", b"1.5"]]]


@pytest.mark.asyncio
async def test_blmove_onto_a_key_of_another_type_gets_wrongtype(ar, another):
    await ar.set("dst", "string")
    task = await start_blocked(another(), ar, "blmove", "src", "dst", 0)
    await ar.rpush("src", "x")
    with raises(ResponseError, WRONGTYPE):
        await asyncio.wait_for(task, 10)
    assert await ar.lrange("src", 0, -1) == [b"x"]  # nothing moved


# -- the event loop is never blocked -------------------------------------------------------
@pytest.mark.asyncio
async def test_the_loop_runs_while_a_call_is_blocked(ar, another):
    task = await start_blocked(another(), ar, "blpop", "k", 0)
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 20 and not task.done()
    await ar.set("other", "works meanwhile")
    assert await ar.get("other") == b"works meanwhile"
    await ar.rpush("k", "v")
    assert await asyncio.wait_for(task, 10) == (b"k", b"v")


@pytest.mark.asyncio
async def test_a_push_from_a_plain_thread_wakes_the_coroutine(ar, another):
    task = await start_blocked(another(), ar, "brpop", "k", 0)
    pusher = sync_twin(ar)
    thread = threading.Thread(target=pusher.rpush, args=("k", "from a thread"))
    thread.start()
    assert await asyncio.wait_for(task, 10) == (b"k", b"from a thread")
    thread.join()
    pusher.close()


@pytest.mark.asyncio
async def test_a_push_from_another_loop_in_another_thread(ar, another, loop_thread):
    task = await start_blocked(another(), ar, "bzpopmin", "z", 0)

    async def push_there():
        if is_minikv(ar):
            client = minikv.asyncio.Redis(store=ar.store)
        else:
            import redis.asyncio
            client = redis.asyncio.Redis(port=ar.connection_pool.connection_kwargs["port"])
        try:
            return await client.zadd("z", {"m": 7})
        finally:
            await client.aclose()

    assert await asyncio.wrap_future(loop_thread.run_coroutine(push_there())) == 1
    assert await asyncio.wait_for(task, 10) == (b"z", b"m", 7.0)


# -- minikv: loops, threads and coroutines on one store ------------------------------------
@pytest.mark.asyncio
async def test_two_loops_in_two_threads_block_on_one_store(loop_thread):
    here = minikv.asyncio.Redis()
    there = minikv.asyncio.Redis(store=here.store)
    sync = minikv.Redis(store=here.store)
    mine = await start_blocked(here, here, "blpop", "k", 0)
    theirs = asyncio.wrap_future(loop_thread.run_coroutine(there.blpop("k", 0)))
    await wait_blocked(here, 2)
    sync.rpush("k", "first", "second")  # FIFO: the first to block is served first
    assert await asyncio.wait_for(mine, 10) == (b"k", b"first")
    assert await asyncio.wait_for(theirs, 10) == (b"k", b"second")
    # and the other way round, the push coming from the other loop
    mine = await start_blocked(here, here, "blpop", "k2", 0)
    await asyncio.wrap_future(loop_thread.run_coroutine(there.rpush("k2", "v")))
    assert await asyncio.wait_for(mine, 10) == (b"k2", b"v")


@pytest.mark.asyncio
async def test_threads_and_coroutines_are_served_in_the_order_they_blocked():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    first = await start_blocked(client, client, "blpop", "k", 0)
    thread = await start_blocked_thread(client, "k")
    third = await start_blocked(client, client, "blpop", "k", 0)
    sync.rpush("k", "1", "2", "3")
    assert await asyncio.wait_for(first, 10) == (b"k", b"1")
    assert await asyncio.wait_for(third, 10) == (b"k", b"3")
    assert thread.outcome() == (b"k", b"2")


@pytest.mark.asyncio
async def test_a_coroutine_is_woken_only_when_served():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    task = await start_blocked(client, client, "blpop", "k", 0)
    sync.rpush("other", "x")  # not the awaited key
    sync.set("k", "wrong type")  # the key, of another type: keeps waiting (Redis 7.0)
    sync.delete("k")
    for _ in range(10):
        await asyncio.sleep(0)
    assert not task.done() and client.store.blocked.wakeups == 0
    sync.rpush("k", "v")
    assert await asyncio.wait_for(task, 10) == (b"k", b"v")
    assert client.store.blocked.wakeups == 1


@pytest.mark.asyncio
async def test_only_a_wake_up_from_another_thread_is_thread_safe(monkeypatch):
    # On the waiter's own loop the wake-up is a plain call_soon (the loop is
    # awake: no self-pipe write); from another thread, call_soon_threadsafe.
    loop = asyncio.get_running_loop()
    thread_safe = loop.call_soon_threadsafe
    wake_ups = []

    def recording(callback, *args, **kwargs):
        if callback.__module__ == "minikv.asyncio.waiting":
            wake_ups.append(threading.current_thread())
        return thread_safe(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", recording)
    client = minikv.asyncio.Redis()
    task = await start_blocked(client, client, "blpop", "k", 0)
    await client.rpush("k", "same loop")
    assert await asyncio.wait_for(task, 10) == (b"k", b"same loop")
    assert wake_ups == []
    task = await start_blocked(client, client, "blpop", "k", 0)
    pusher = minikv.Redis(store=client.store)
    thread = threading.Thread(target=pusher.rpush, args=("k", "from a thread"))
    thread.start()
    assert await asyncio.wait_for(task, 10) == (b"k", b"from a thread")
    thread.join(10)
    assert wake_ups == [thread]


@pytest.mark.asyncio
async def test_manual_clock_timeouts():
    clock = minikv.ManualClock(start=1_700_000_000)
    client = minikv.asyncio.Redis(clock=clock)
    timed = await start_blocked(client, client, "blpop", "k", 5)
    forever = await start_blocked(client, client, "bzpopmin", "z", 0)
    clock.advance(4.999)
    for _ in range(10):
        await asyncio.sleep(0)
    assert not timed.done()
    clock.advance(0.002)  # past the deadline (Redis: timeout < now)
    assert await asyncio.wait_for(timed, 10) is None
    clock.advance(10 ** 6)
    await asyncio.sleep(0)
    assert not forever.done()  # 0 blocks for ever, whatever the clock says
    await client.zadd("z", {"m": 1})
    assert await asyncio.wait_for(forever, 10) == (b"z", b"m", 1.0)
    assert len(client.store.blocked) == 0


@pytest.mark.asyncio
async def test_a_reply_served_at_the_deadline_is_delivered():
    clock = minikv.ManualClock(start=1_700_000_000)
    client = minikv.asyncio.Redis(clock=clock)
    sync = minikv.Redis(store=client.store)
    task = await start_blocked(client, client, "blpop", "k", 1)
    sync.rpush("k", "v")  # served ...
    clock.advance(2)  # ... and the deadline passes before the coroutine resumes
    assert await asyncio.wait_for(task, 10) == (b"k", b"v")
    assert sync.exists("k") == 0


@pytest.mark.asyncio
async def test_a_non_transactional_pipeline_waits_for_its_blocked_command():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    pipe = client.pipeline(transaction=False)
    pipe.set("before", 1).blpop("k", 0).get("after").set("after", 2)
    task = asyncio.create_task(pipe.execute())
    await wait_blocked(client, 1)
    sync.set("after", "set while the pipeline was blocked")
    sync.rpush("k", "v")
    assert await asyncio.wait_for(task, 10) == [
        True, (b"k", b"v"), b"set while the pipeline was blocked", True]


@pytest.mark.asyncio
async def test_blocking_in_watch_mode_of_a_pipeline():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    async with client.pipeline() as pipe:
        await pipe.watch("w")
        task = asyncio.create_task(pipe.blpop("k", 0))  # immediate mode: runs now
        await wait_blocked(client, 1)
        sync.rpush("k", "v")
        assert await asyncio.wait_for(task, 10) == (b"k", b"v")


# -- cancellation ------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_cancelled_while_blocked_leaves_no_waiter():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    task = await start_blocked(client, client, "blpop", "k", 0)
    task.cancel()
    assert await settle(task)
    assert await blocked_count(client) == 0
    assert sync.rpush("k", "kept") == 1
    assert sync.lrange("k", 0, -1) == [b"kept"]  # not swallowed
    assert await client.blpop("k", 0) == (b"k", b"kept")  # the store keeps working


@pytest.mark.asyncio
async def test_wait_for_timeout_leaves_no_waiter():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    for method, args in (("blpop", ("k", 0)), ("blmove", ("k", "d", 0)),
                         ("bzmpop", (0, 1, ["z"]))):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(getattr(client, method)(*args, min=True)
                                   if method == "bzmpop" else getattr(client, method)(*args),
                                   0.01)
        assert len(client.store.blocked) == 0
    sync.rpush("k", "x")
    sync.zadd("z", {"m": 1})
    assert sync.lrange("k", 0, -1) == [b"x"] and sync.zcard("z") == 1


@pytest.mark.asyncio
async def test_cancelled_waiter_is_skipped_and_the_next_one_served():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    first = await start_blocked(client, client, "blpop", "k", 0)
    second = await start_blocked(client, client, "blpop", "k", 0)
    first.cancel()
    assert await settle(first)
    sync.rpush("k", "v")
    assert await asyncio.wait_for(second, 10) == (b"k", b"v")


# Served, then cancelled before the wake-up arrived: (method, args, kwargs,
# the feeding command, the state it leaves with nobody blocked).
GIVE_BACK_CASES = [
    ("blpop", ("k", 0), {}, ("rpush", "k", "a", "b", "c")),
    ("brpop", ("k", 0), {}, ("rpush", "k", "a", "b", "c")),
    ("blmpop", (0, 1, "k"), {"direction": "LEFT", "count": 2}, ("rpush", "k", "a", "b", "c")),
    ("blmpop", (0, 1, "k"), {"direction": "RIGHT", "count": 2}, ("rpush", "k", "a", "b", "c")),
    ("blmpop", (0, 1, "k"), {"direction": "RIGHT", "count": 9}, ("rpush", "k", "a", "b", "c")),
    ("blmove", ("k", "d", 0, "LEFT", "RIGHT"), {}, ("rpush", "k", "a", "b", "c")),
    ("blmove", ("k", "d", 0, "RIGHT", "LEFT"), {}, ("rpush", "k", "a", "b", "c")),
    ("blmove", ("k", "d", 0, "LEFT", "LEFT"), {}, ("rpush", "k", "a", "b", "c")),
    ("blmove", ("k", "k", 0, "LEFT", "RIGHT"), {}, ("rpush", "k", "a", "b", "c")),
    ("brpoplpush", ("k", "d", 0), {}, ("rpush", "k", "a", "b", "c")),
    ("bzpopmin", ("z", 0), {}, ("zadd", "z", {"a": 1, "b": 2.5, "c": float("inf")})),
    ("bzpopmax", ("z", 0), {}, ("zadd", "z", {"a": 1, "b": 2.5, "c": float("inf")})),
    ("bzmpop", (0, 1, ["z"]), {"min": True, "count": 2},
     ("zadd", "z", {"a": -1.25, "b": 2.5, "c": 3})),
    ("bzmpop", (0, 1, ["z"]), {"max": True, "count": 3},
     ("zadd", "z", {"a": -1.25, "b": 2.5, "c": 3})),
]


def _state(sync):
    return {key: (sync.lrange(key, 0, -1) if sync.type(key) == b"list"
                  else sync.zrange(key, 0, -1, withscores=True))
            for key in sorted(sync.keys("*"))}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", GIVE_BACK_CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(GIVE_BACK_CASES)])
async def test_served_then_cancelled_gives_back_what_it_took(case):
    method, args, kwargs, (feed, *feed_args) = case
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    reference = minikv.Redis()  # the same feed with nobody blocked
    getattr(reference, feed)(*feed_args)
    expected = _state(reference)

    task = await start_blocked(client, client, method, *args, **kwargs)
    getattr(sync, feed)(*feed_args)  # serves the waiter under the store lock ...
    assert len(client.store.blocked) == 0 and _state(sync) != expected
    task.cancel()  # ... and the cancellation lands before the wake-up
    assert await settle(task)
    assert _state(sync) == expected
    # What was given back goes to the next caller, first in line.
    assert await getattr(client, method)(*args, **kwargs) == \
        getattr(reference, method)(*args, **kwargs)
    assert _state(sync) == _state(reference)


@pytest.mark.asyncio
async def test_what_is_given_back_goes_to_the_next_blocked_client():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    first = await start_blocked(client, client, "blpop", "k", 0)
    thread = await start_blocked_thread(client, "k")
    sync.rpush("k", "only")  # served to the first, a coroutine ...
    first.cancel()  # ... which is cancelled before it wakes up
    assert await settle(first)
    assert thread.outcome() == (b"k", b"only")
    assert sync.exists("k") == 0 and len(client.store.blocked) == 0


@pytest.mark.asyncio
async def test_give_back_after_other_writes_to_the_key():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    # a list pushed to meanwhile: the element goes back to the end it came from
    task = await start_blocked(client, client, "blpop", "k", 0)
    sync.rpush("k", "a")
    sync.rpush("k", "later")
    task.cancel()
    assert await settle(task)
    assert sync.lrange("k", 0, -1) == [b"a", b"later"]
    # a member re-added meanwhile keeps its newer score
    task = await start_blocked(client, client, "bzpopmin", "z", 0)
    sync.zadd("z", {"m": 1})
    sync.zadd("z", {"m": 9})
    task.cancel()
    assert await settle(task)
    assert sync.zrange("z", 0, -1, withscores=True) == [(b"m", 9.0)]
    # the key overwritten with another type: that write would have dropped it too
    task = await start_blocked(client, client, "blpop", "s", 0)
    sync.rpush("s", "a")
    sync.set("s", "string now")
    task.cancel()
    assert await settle(task)
    assert sync.get("s") == b"string now"
    # BLMOVE's element taken from the destination by someone else: it stays taken
    task = await start_blocked(client, client, "blmove", "src", "dst", 0)
    sync.rpush("src", "x")
    assert sync.rpop("dst") == b"x"
    task.cancel()
    assert await settle(task)
    assert sync.exists("src", "dst") == 0
    assert len(client.store.blocked) == 0


@pytest.mark.asyncio
async def test_served_then_cancelled_through_wait_for():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    task = asyncio.create_task(asyncio.wait_for(client.brpop("k", 0), 1000))
    await wait_blocked(client, 1)
    sync.rpush("k", "a", "b")  # serves "b"
    task.cancel()  # wait_for cancels the call it waits for
    assert await settle(task)
    assert sync.lrange("k", 0, -1) == [b"a", b"b"]
    assert len(client.store.blocked) == 0


@pytest.mark.asyncio
async def test_cancelled_pipeline_gives_back_too():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    pipe = client.pipeline(transaction=False)
    pipe.blpop("k", 0).get("after")
    task = asyncio.create_task(pipe.execute())
    await wait_blocked(client, 1)
    sync.rpush("k", "v")
    task.cancel()
    assert await settle(task)
    assert sync.lrange("k", 0, -1) == [b"v"]
    assert len(pipe) == 0  # reset


def test_a_loop_closed_while_blocked_swallows_nothing():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    loop = asyncio.new_event_loop()
    task = loop.create_task(client.blpop("k", 0))
    loop.run_until_complete(asyncio.sleep(0))  # the task runs first, and blocks
    assert len(client.store.blocked) == 1
    loop.close()  # without cancelling the task
    sync.rpush("k", "v")
    assert sync.lrange("k", 0, -1) == [b"v"]
    assert len(client.store.blocked) == 0
    assert not task.done()
    task._log_destroy_pending = False  # it is pending on purpose: its loop is gone


# -- XREAD BLOCK (streams) ---------------------------------------------------------------------
@pytest.mark.asyncio
async def test_xread_block_is_woken_by_xadd(ar, another):
    task = await start_blocked(another(), ar, "xread", {"s": "$"}, block=0)
    entry_id = await ar.xadd("s", {"f": "v"}, id="1-1")
    assert entry_id == b"1-1"
    assert await asyncio.wait_for(task, 10) == [[b"s", [(b"1-1", {b"f": b"v"})]]]


@pytest.mark.asyncio
async def test_xread_served_then_cancelled_takes_nothing():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    task = await start_blocked(client, client, "xread", {"s": "$"}, block=0)
    sync.xadd("s", {"f": "v"}, id="1-1")
    task.cancel()
    assert await settle(task)
    assert sync.xlen("s") == 1 and len(client.store.blocked) == 0
