"""AsyncBroadcast over minikv.asyncio and redis.asyncio (the ``async_backend``
fixture): wire format, receiver counts, patterns, the ways to consume, the
overflow policies, closing (no task left behind), publishes from other
threads and loops, and python-socketio's async manager on an asyncio client.

Waiting is never a sleep: ``await sub.sync()`` returns once everything
published before it was read by the subscription's reader task (a PING on
its connection, answered behind those messages), and consumers are awaited
with events bounded by ``WAIT``. Each test runs on its own event loop
(pytest-asyncio), with a bound of its own (``bounded``).
"""
import asyncio
import logging
import threading

import pytest
import pytest_asyncio
import redis.asyncio
from asyncio_support import LoopThread, bounded, class_doctests, port_of, sync_twin
from test_broadcast import DROP_POLICIES, TaggedJSON

import minikv.patterns.broadcast as broadcast_module
from minikv.patterns import AsyncBroadcast, Broadcast
from minikv.patterns.broadcast import AsyncSubscription, Message, SubscriptionOverflowError
from tests.patterns.round_trips import RoundTrips

pytest_plugins = ["async_support"]  # the async_backend fixture

WAIT = 10


def broadcast_tasks():
    return [task for task in asyncio.all_tasks()
            if task.get_name().startswith("minikv-broadcast") and not task.done()]


@pytest_asyncio.fixture
async def hub(async_backend):
    hub = AsyncBroadcast(async_backend.client)
    yield hub
    await hub.close()
    assert broadcast_tasks() == []


async def drain(subscription):
    """Everything buffered right now (after a sync()), without waiting."""
    messages = []
    while (message := await subscription.get(timeout=0)) is not None:
        messages.append(message.data)
    return messages


class Recorder:
    """A callback (plain or coroutine) recording messages and the task that delivered them."""

    def __init__(self):
        self.messages = []
        self.tasks = set()
        self._changed = asyncio.Event()

    def __call__(self, message):
        self.messages.append(message.data)
        self.tasks.add(asyncio.current_task().get_name())
        self._changed.set()

    async def wait_count(self, count):
        async def enough():
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(enough(), WAIT)
        return list(self.messages)


def test_docstring_example_runs():
    results = class_doctests(broadcast_module, AsyncBroadcast)
    assert results.attempted > 0 and results.failed == 0


# -- values and the wire format ----------------------------------------------------
@bounded()
async def test_json_values_and_bytes_arrive_as_published(hub):
    values = [{"user": 7, "tags": ["a", "b"], "score": 2.5, "ok": True, "none": None},
              [1, "two", [3]], "plain text", "héllo ✓", 42, -1.5, None, False,
              b"\x00\x01\xffbinary", b"", b"\x01starts with the marker"]
    async with await hub.subscribe("events") as sub:
        assert isinstance(sub, AsyncSubscription)
        for value in values:
            assert await hub.publish("events", value) == 1
        await hub.publish("events", bytearray(b"bytearray"))
        await hub.publish("events", memoryview(b"view"))
        await hub.publish("events", ("tuple", 1))
        await sub.sync(WAIT)
        expected = values + [b"bytearray", b"view", ["tuple", 1]]
        # Compared with their types: 1 == True and 42 == 42.0 would hide a mix-up.
        assert [(type(v), v) for v in await drain(sub)] == [(type(v), v) for v in expected]


@bounded()
async def test_wire_format_is_the_sync_broadcasts(async_backend, hub):
    raw = async_backend.client.pubsub()
    await raw.subscribe("wire")
    assert (await raw.get_message(timeout=WAIT))["type"] == "subscribe"
    values = [{"a": [1, 2]}, "é", b"\x00bytes"]
    for value in values:
        await hub.publish("wire", value)
    payloads = [(await raw.get_message(timeout=WAIT))["data"] for _ in values]
    await raw.aclose()
    assert payloads == [b'{"a":[1,2]}', '"é"'.encode(), b"\x01\x00bytes"]
    sync_hub = Broadcast(sync_twin(async_backend.client))
    assert payloads == [sync_hub.encode(value) for value in values]
    assert [hub.decode(payload) for payload in payloads] == values
    sync_hub.client.close()


@bounded()
async def test_foreign_payloads_arrive_decoded_if_json_else_raw(async_backend, hub):
    async with await hub.subscribe("mixed") as sub:
        for payload in (b'{"from": "redis-cli"}', b"plain words", b"", b"\xff\xfe not utf-8"):
            await async_backend.client.publish("mixed", payload)
        await sub.sync(WAIT)
        assert await drain(sub) == [{"from": "redis-cli"}, b"plain words", b"",
                                    b"\xff\xfe not utf-8"]


@bounded()
async def test_values_json_cannot_carry_are_refused_at_publish(hub):
    with pytest.raises(TypeError):
        await hub.publish("events", {1, 2})
    with pytest.raises(TypeError):
        await hub.publish("events", {"nested": b"bytes"})


@bounded()
async def test_a_json_module_can_be_swapped_in(async_backend):
    async with AsyncBroadcast(async_backend.client, json=TaggedJSON) as hub:
        async with await hub.subscribe("c") as sub:
            assert hub.encode({"k": 1}) == b'[{"k": 1}]'
            await hub.publish("c", {"k": 1})
            await sub.sync(WAIT)
            assert await drain(sub) == [{"k": 1}]


@bounded()
async def test_publish_is_one_round_trip_on_redis(async_backend, hub, monkeypatch):
    if async_backend.embedded:
        pytest.skip("round trips are a real Redis's")
    calls = RoundTrips(async_backend.client, monkeypatch)
    await hub.publish("news", {"n": 1})
    assert calls.take() == ["PUBLISH"]


# -- receivers and patterns --------------------------------------------------------
@bounded()
async def test_publish_returns_the_number_of_receivers(async_backend, hub):
    assert await hub.publish("news", "nobody") == 0
    first = await hub.subscribe("news")
    other_hub = AsyncBroadcast(async_backend.new_client())
    second = await other_hub.subscribe("news", "other")
    assert await hub.publish("news", "both") == 2
    # Reached through its channel and through a pattern: counted and delivered twice.
    both = await hub.subscribe("news", patterns=["n*"])
    assert await hub.publish("news", "three subscriptions") == 4
    await both.sync(WAIT)
    assert [(m.channel, m.pattern, m.data) for m in [await both.get(0), await both.get(0)]] \
        == [("news", None, "three subscriptions"), ("news", "n*", "three subscriptions")]
    for subscription in (first, second, both):
        await subscription.close()
    assert await hub.publish("news", "closed") == 0  # close() waits for the unsubscription
    await other_hub.close()


@bounded()
async def test_patterns_deliver_channel_and_pattern_names(hub):
    async with await hub.subscribe(patterns=["user:*", b"room:?"]) as sub:
        assert sub.patterns == ("user:*", "room:?")
        assert await hub.publish("user:42", {"login": True}) == 1
        assert await hub.publish("room:1", "hi") == 1
        assert await hub.publish("room:12", "no match") == 0
        assert await hub.publish(b"user:\xc3\xa9", 1) == 1
        await sub.sync(WAIT)
        assert [await sub.get(0), await sub.get(0), await sub.get(0)] == [
            Message("user:42", {"login": True}, "user:*"),
            Message("room:1", "hi", "room:?"),
            Message("user:é", 1, "user:*")]
        assert await sub.get(0) is None


@bounded()
async def test_a_single_pattern_string_is_one_pattern(hub):
    async with await hub.subscribe(patterns="a*") as sub:
        assert sub.patterns == ("a*",)


@bounded()
async def test_subscribe_is_live_when_it_returns(async_backend, hub):
    """No race: a publish from another client right after subscribe() is received."""
    other = AsyncBroadcast(async_backend.new_client())
    for attempt in range(20):
        async with await hub.subscribe(f"live:{attempt}", patterns=[f"p{attempt}:*"]) as sub:
            assert await other.publish(f"live:{attempt}", attempt) == 1
            assert await other.publish(f"p{attempt}:x", attempt) == 1
            assert (await sub.get(timeout=WAIT)).data == attempt


# -- consuming -----------------------------------------------------------------------
@bounded()
async def test_async_iteration_waits_without_blocking_the_loop_and_ends_on_close(hub):
    sub = await hub.subscribe("feed")
    got_two = asyncio.Event()
    loop_ran = threading.Event()

    async def consume():
        received = []
        async for message in sub:
            received.append(message.data)
            if len(received) == 2:
                got_two.set()
        return received

    def publisher():
        # Publishes only once the loop ran another coroutine while the
        # consumer awaited: a consumer blocking the loop would make this
        # wait time out and publish False.
        sync_hub = Broadcast(sync_twin(hub.client))
        sync_hub.publish("feed", {"loop ran meanwhile": loop_ran.wait(WAIT)})
        sync_hub.publish("feed", "second")
        sync_hub.client.close()

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)  # the consumer is now awaiting its first message
    loop_ran.set()
    await asyncio.to_thread(publisher)
    await asyncio.wait_for(got_two.wait(), WAIT)
    await sub.close()  # from another task: ends the async for
    assert await asyncio.wait_for(consumer, WAIT) == [{"loop ran meanwhile": True}, "second"]
    assert [message async for message in sub] == [] and await sub.get() is None
    assert sub.closed


@bounded()
async def test_get_times_out_with_none(hub):
    async with await hub.subscribe("quiet") as sub:
        assert await sub.get(timeout=0) is None
        assert await sub.get(timeout=0.01) is None
        assert not sub.closed


@bounded()
async def test_a_waiting_get_receives_the_next_message(hub):
    async with await hub.subscribe("wake") as sub:
        waiting = asyncio.create_task(sub.get(timeout=WAIT))
        await asyncio.sleep(0)
        await hub.publish("wake", "now")
        assert (await waiting).data == "now"


@bounded()
async def test_cancelled_wait_leaves_the_subscription_usable(hub):
    async with await hub.subscribe("cancel") as sub:
        waiting = asyncio.create_task(sub.__anext__())
        other = asyncio.create_task(sub.get(timeout=WAIT))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await hub.publish("cancel", "after cancel")
        assert (await other).data == "after cancel"  # the other waiter was not disturbed
        await hub.publish("cancel", "next")
        assert (await asyncio.wait_for(sub.__anext__(), WAIT)).data == "next"


@bounded()
async def test_messages_of_each_publisher_keep_their_order(async_backend, hub):
    publishers, count = 4, 100
    async with await hub.subscribe("ordered", max_buffer=publishers * count) as sub:
        async def publish(index):
            other = AsyncBroadcast(async_backend.new_client())
            for n in range(count):
                await other.publish("ordered", [index, n])

        await asyncio.gather(*[publish(index) for index in range(publishers)])
        await sub.sync(WAIT)
        messages = await drain(sub)
    assert len(messages) == publishers * count
    for index in range(publishers):
        assert [n for i, n in messages if i == index] == list(range(count))


@bounded()
async def test_plain_and_coroutine_callbacks_run_in_order_in_the_dispatcher_task(hub):
    plain, awaited = Recorder(), Recorder()

    async def coroutine_callback(message):
        await asyncio.sleep(0)  # yields to the loop: the next message still waits for it
        awaited(message)

    async with await hub.subscribe("calls", on_message=plain) as sub:
        assert sub.on_message(coroutine_callback) is coroutine_callback  # a decorator too
        for n in range(5):
            await hub.publish("calls", n)
        assert await plain.wait_count(5) == [0, 1, 2, 3, 4]
        assert await awaited.wait_count(5) == [0, 1, 2, 3, 4]
        assert plain.tasks == awaited.tasks == {"minikv-broadcast-callbacks"}
        with pytest.raises(RuntimeError, match="consumed by callbacks"):
            sub.__aiter__()
        with pytest.raises(RuntimeError, match="consumed by callbacks"):
            await sub.get(0)


@bounded()
async def test_messages_before_the_first_callback_are_handed_to_it(hub):
    async with await hub.subscribe("late") as sub:
        await hub.publish("late", "early")
        await sub.sync(WAIT)
        recorder = sub.on_message(Recorder())
        await hub.publish("late", "later")
        assert await recorder.wait_count(2) == ["early", "later"]


@bounded()
async def test_a_failing_callback_is_logged_and_delivery_goes_on(hub, caplog):
    recorder = Recorder()

    async def fragile(message):
        if message.data == "bad":
            raise ValueError("callback bug")

    async with await hub.subscribe("fragile") as sub:
        sub.on_message(fragile)
        sub.on_message(recorder)
        await hub.publish("fragile", "bad")
        await hub.publish("fragile", "good")
        assert await recorder.wait_count(2) == ["bad", "good"]
    assert any("callback" in record.getMessage() and record.exc_info
               and record.exc_info[0] is ValueError for record in caplog.records)


@bounded()
async def test_iterated_subscription_refuses_callbacks(hub):
    async with await hub.subscribe("iterated") as sub:
        assert await sub.get(0) is None
        with pytest.raises(RuntimeError, match="consumed by iteration"):
            sub.on_message(print)


# -- publishers elsewhere ------------------------------------------------------------
@bounded()
async def test_a_sync_broadcast_in_a_thread_reaches_an_async_subscriber(async_backend, hub):
    """Same store (minikv) or server (redis): thread -> loop, and back."""
    sync_hub = Broadcast(sync_twin(async_backend.client))
    try:
        async with await hub.subscribe("crossing", patterns=["cross*"]) as sub:
            receivers = await asyncio.to_thread(sync_hub.publish, "crossing", {"from": "thread"})
            assert receivers == 2
            assert [await sub.get(WAIT), await sub.get(WAIT)] == [
                Message("crossing", {"from": "thread"}), Message("crossing", {"from": "thread"},
                                                                 "cross*")]
        # and the other way: an async publish reaches a sync Subscription's reader thread
        with sync_hub.subscribe("back") as sync_sub:
            assert await hub.publish("back", b"\x00to the thread") == 1
            message = await asyncio.to_thread(sync_sub.get, WAIT)
            assert message == Message("back", b"\x00to the thread")
    finally:
        sync_hub.client.close()


@bounded()
async def test_a_publish_from_another_event_loop_reaches_the_subscriber(async_backend, hub):
    other_loop = LoopThread()
    try:
        async with await hub.subscribe("loops") as sub:
            if async_backend.embedded:
                client = async_backend.new_client()
            else:  # a redis.asyncio client belongs to the loop that first uses it
                client = redis.asyncio.Redis(port=port_of(async_backend.client))
            elsewhere = AsyncBroadcast(client)
            published = other_loop.run_coroutine(elsewhere.publish("loops", [1, "other loop"]))
            assert await asyncio.wrap_future(published) == 1
            assert (await sub.get(WAIT)).data == [1, "other loop"]
            if not async_backend.embedded:
                await asyncio.wrap_future(other_loop.run_coroutine(client.aclose()))
    finally:
        other_loop.stop()


# -- overflow policies --------------------------------------------------------------
@pytest.mark.parametrize("overflow, kept", DROP_POLICIES, ids=[p for p, _ in DROP_POLICIES])
@bounded()
async def test_a_drop_policy_keeps_its_end_of_the_buffer(hub, overflow, kept):
    async with await hub.subscribe("full", max_buffer=3, overflow=overflow) as sub:
        for n in range(1, 7):
            await hub.publish("full", n)
        await sub.sync(WAIT)
        assert (sub.received, sub.dropped, sub.pending) == (6, 3, 3)
        assert await drain(sub) == kept
        await hub.publish("full", 7)
        await sub.sync(WAIT)
        assert await drain(sub) == [7]


@bounded()
async def test_error_policy_delivers_the_buffer_then_raises_and_unsubscribes(hub):
    sub = await hub.subscribe("full", max_buffer=3)  # overflow="error" is the default
    for n in range(1, 7):
        await hub.publish("full", n)
    with pytest.raises(SubscriptionOverflowError, match="3 messages unread"):
        await sub.sync(WAIT)
    assert [(await sub.get(0)).data for _ in range(3)] == [1, 2, 3]
    with pytest.raises(SubscriptionOverflowError):
        await sub.get(0)
    with pytest.raises(SubscriptionOverflowError):
        await sub.__anext__()
    assert isinstance(sub.error, SubscriptionOverflowError)
    assert await hub.publish("full", "gone") == 0  # the reader unsubscribed
    await sub.close()
    assert broadcast_tasks() == []
    assert [message async for message in sub] == []  # closed by the user: iteration ends


@bounded()
async def test_error_policy_ends_async_iteration_after_the_buffer(hub):
    sub = await hub.subscribe("full", max_buffer=2)
    for n in range(1, 4):
        await hub.publish("full", n)
    with pytest.raises(SubscriptionOverflowError):
        await sub.sync(WAIT)  # all three read before consuming: the third overflowed
    received = []
    with pytest.raises(SubscriptionOverflowError):
        async for message in sub:
            received.append(message.data)
    assert received == [1, 2]
    await sub.close()


def slow_callback(recorder):
    """A coroutine callback that holds message 1 until released: (callback, entered, release)."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(message):
        if message.data == 1:
            entered.set()
            await asyncio.wait_for(release.wait(), WAIT)
        recorder(message)
    return slow, entered, release


@bounded()
async def test_overflow_applies_while_a_coroutine_callback_is_slow(hub):
    recorder = Recorder()
    slow, entered, release = slow_callback(recorder)
    async with await hub.subscribe("slow", max_buffer=2, overflow="drop_oldest",
                                   on_message=slow) as sub:
        await hub.publish("slow", 1)
        await asyncio.wait_for(entered.wait(), WAIT)
        for n in range(2, 7):  # the dispatcher holds 1: the buffer keeps the newest two
            await hub.publish("slow", n)
        await sub.sync(WAIT)
        assert sub.dropped == 3
        release.set()
        assert await recorder.wait_count(3) == [1, 5, 6]


@bounded()
async def test_error_policy_with_callbacks_is_logged_and_kept(hub, caplog):
    recorder = Recorder()
    slow, entered, release = slow_callback(recorder)
    sub = await hub.subscribe("slow", max_buffer=2, on_message=slow)
    await hub.publish("slow", 1)
    await asyncio.wait_for(entered.wait(), WAIT)
    for n in range(2, 5):
        await hub.publish("slow", n)
    with pytest.raises(SubscriptionOverflowError):
        await sub.sync(WAIT)
    release.set()
    assert await recorder.wait_count(3) == [1, 2, 3]
    await asyncio.wait_for(sub._dispatcher, WAIT)  # it ends by itself
    assert isinstance(sub.error, SubscriptionOverflowError)
    assert any(record.levelno == logging.ERROR and "failed" in record.getMessage()
               for record in caplog.records)
    await sub.close()


# -- closing -----------------------------------------------------------------------
@bounded()
async def test_close_leaves_no_task_behind_and_is_idempotent(hub):
    recorder = Recorder()
    async with await hub.subscribe("a", patterns=["b*"], on_message=recorder) as sub:
        assert sorted(task.get_name() for task in broadcast_tasks()) == [
            "minikv-broadcast-callbacks", "minikv-broadcast-reader"]
        assert [thread for thread in threading.enumerate()
                if thread.name.startswith("minikv-broadcast")] == []  # tasks, no threads
        await hub.publish("a", 1)
        await recorder.wait_count(1)
    assert broadcast_tasks() == []
    await sub.close()
    assert sub.closed
    assert await hub.publish("a", 2) == 0 and await hub.publish("bb", 2) == 0
    await sub.sync(WAIT)  # returns at once on a closed subscription


@bounded()
async def test_close_drops_unread_messages(hub):
    sub = await hub.subscribe("unread")
    await hub.publish("unread", 1)
    await sub.sync(WAIT)
    assert sub.pending == 1
    await sub.aclose()  # aclose is close, as on the sync Subscription
    assert sub.pending == 0 and await sub.get(0) is None
    assert [message async for message in sub] == []


@bounded()
async def test_a_callback_may_close_its_own_subscription(hub):
    closed = asyncio.Event()

    async def close_on_first(message):
        await sub.close()
        closed.set()

    sub = await hub.subscribe("self-close", on_message=close_on_first)
    await hub.publish("self-close", "bye")
    await asyncio.wait_for(closed.wait(), WAIT)
    await asyncio.wait_for(sub._dispatcher, WAIT)
    assert broadcast_tasks() == []
    assert await hub.publish("self-close", "again") == 0


@bounded()
async def test_broadcast_close_closes_its_subscriptions_and_own_client():
    hub = AsyncBroadcast()  # a private minikv store, closed with the hub
    subs = [await hub.subscribe("x"), await hub.subscribe(patterns=["y*"], on_message=print)]
    assert len(broadcast_tasks()) == 3
    async with hub:
        pass
    assert all(sub.closed for sub in subs) and broadcast_tasks() == []


@bounded()
async def test_bad_arguments(async_backend, hub):
    with pytest.raises(ValueError, match="at least one channel or pattern"):
        await hub.subscribe()
    with pytest.raises(ValueError, match="overflow must be one of"):
        await hub.subscribe("c", overflow="block")
    for size in (0, -1, 1.5, True, None):
        with pytest.raises(ValueError, match="max_buffer must be a positive int"):
            await hub.subscribe("c", max_buffer=size)
    with pytest.raises(ValueError, match="AsyncBroadcast needs a client with "
                                         "decode_responses=False"):
        AsyncBroadcast(async_backend.new_client(decode_responses=True))
    sync_client = sync_twin(async_backend.client)
    with pytest.raises(TypeError, match="AsyncBroadcast got a sync client .*; use Broadcast"):
        AsyncBroadcast(sync_client)
    with pytest.raises(TypeError, match="Broadcast got an asyncio client .*; use AsyncBroadcast"):
        Broadcast(async_backend.client)
    sync_client.close()
    assert broadcast_tasks() == []
    assert await hub.publish("c", 1) == 0  # no refused subscription was left on the server


# -- python-socketio's async manager on an asyncio client -----------------------------
# The cross-server tests with real servers and clients run in test_socketio.py
# (``async_nodes`` with "asyncio client").
async def until(predicate):
    """Yield to the loop (test side only) until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not predicate():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.001)


@bounded()
async def test_socketio_manager_subscribes_before_a_connection_is_answered(async_backend):
    socketio = pytest.importorskip("socketio")
    from minikv.integrations.socketio import AsyncMinikvManager

    manager = AsyncMinikvManager(async_backend.new_client(), channel="sio")
    assert manager.asyncio_client and isinstance(manager.broadcast, AsyncBroadcast)
    socketio.AsyncServer(client_manager=manager, async_mode="asgi")
    manager.initialize()  # what the server does on its first connection: starts the listener
    hub = AsyncBroadcast(async_backend.new_client())
    try:
        # What the server awaits first for a connection: the listener's first subscription.
        await manager.pre_connect("eio-sid-1", "/")
        assert manager._subscription is not None
        assert await hub.publish("sio", {"method": "test"}) == 1
        assert broadcast_tasks() != []
    finally:
        await manager.aclose()
        await hub.close()
    assert manager.thread.done() and broadcast_tasks() == []
    assert await hub.publish("sio", {"method": "test"}) == 0


@bounded()
async def test_socketio_listener_on_an_asyncio_client_resubscribes_after_an_overflow(
        async_backend, caplog):
    pytest.importorskip("socketio")
    from minikv.integrations.socketio import AsyncMinikvManager

    manager = AsyncMinikvManager(async_backend.new_client(), channel="sio", max_buffer=2)
    listen = manager._listen()
    hub = AsyncBroadcast(async_backend.new_client())
    try:
        assert manager._install(await manager._subscribe_async())
        for n in (1, 2, 3):
            await hub.publish("sio", {"method": "test", "n": n})
        with pytest.raises(SubscriptionOverflowError):
            await manager._subscription.sync(WAIT)  # all three read: the third overflowed
        assert await anext(listen) == {"method": "test", "n": 1}
        assert await anext(listen) == {"method": "test", "n": 2}
        lost = manager._subscription
        following = asyncio.ensure_future(anext(listen))  # logs the loss, subscribes again
        await until(lambda: manager._subscription is not lost)
        assert lost.closed or lost.error is not None
        await hub.publish("sio", {"method": "test", "n": 4})
        assert await following == {"method": "test", "n": 4}
        assert any("lost" in record.getMessage() and record.levelno == logging.ERROR
                   for record in caplog.records)
    finally:
        await manager.aclose()
        await listen.aclose()
        await hub.close()
    assert broadcast_tasks() == []
